"""Nonce keys of workflow steps: 192 bits, deterministic, distinct per step, never key 0."""

from __future__ import annotations

import pytest

from ap_avs.chain import aa


def test_step_nonce_keys_are_192_bit_and_deterministic() -> None:
    steps = [f"01jrun:{node}:{i}" for node in ("pay", "mint") for i in range(50)]
    found = {aa.step_nonce_key(s) for s in steps}
    assert len(found) == len(steps)
    assert all(0 < k < 1 << 192 for k in found)
    assert aa.step_nonce_key("01jrun:pay") == aa.step_nonce_key("01jrun:pay")


def test_keyed_nonce_is_key_then_sequence() -> None:
    assert aa.keyed_nonce(1) == 1 << 64
    assert aa.keyed_nonce(5, 2) == 5 << 64 | 2
    with pytest.raises(ValueError, match="192 bits"):
        aa.keyed_nonce(1 << 192)
