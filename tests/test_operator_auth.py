"""Operator request signing: good requests pass; forged, stale, replayed ones do not."""

from __future__ import annotations

import pytest
from eth_account import Account

from ap_avs.auth.operator_requests import (
    HEADER_NONCE,
    HEADER_OPERATOR,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    MAX_SKEW_MS,
    OperatorSigner,
    ReplayGuard,
    verify,
)
from ap_avs.errors import Unauthenticated

KEY = Account.create().key.hex()
METHOD = "/aggregator.Node/Ping"
NOW = 1_800_000_000_000


def test_a_signed_request_verifies_once() -> None:
    signer = OperatorSigner(KEY)
    guard = ReplayGuard()
    headers = signer.metadata(METHOD, NOW)
    assert verify(headers, METHOD, NOW + 10, guard) == signer.address
    with pytest.raises(Unauthenticated, match="replayed"):
        verify(headers, METHOD, NOW + 20, guard)
    assert KEY not in repr(signer)


def test_signature_is_bound_to_the_method() -> None:
    headers = OperatorSigner(KEY).metadata(METHOD, NOW)
    with pytest.raises(Unauthenticated, match=r"not from that operator|does not verify"):
        verify(headers, "/aggregator.Node/NotifyTriggers", NOW, ReplayGuard())


@pytest.mark.parametrize("skew", [MAX_SKEW_MS + 1, -MAX_SKEW_MS - 1])
def test_stale_or_future_timestamps_are_refused(skew: int) -> None:
    headers = OperatorSigner(KEY).metadata(METHOD, NOW)
    with pytest.raises(Unauthenticated, match="timestamp too far"):
        verify(headers, METHOD, NOW + skew, ReplayGuard())


def test_claiming_another_address_fails() -> None:
    headers = dict(OperatorSigner(KEY).metadata(METHOD, NOW))
    headers[HEADER_OPERATOR] = Account.create().address
    with pytest.raises(Unauthenticated, match="not from that operator"):
        verify(headers.items(), METHOD, NOW, ReplayGuard())


@pytest.mark.parametrize(
    ("header", "value", "fragment"),
    [
        (HEADER_TIMESTAMP, "soon", "not an integer"),
        (HEADER_NONCE, "xyz", "32 hex digits"),
        (HEADER_SIGNATURE, "0x1234", "65 bytes"),
        (HEADER_SIGNATURE, "zz", "not hex"),
        (HEADER_OPERATOR, "bob", "not an address"),
    ],
)
def test_malformed_headers(header: str, value: str, fragment: str) -> None:
    headers = dict(OperatorSigner(KEY).metadata(METHOD, NOW))
    headers[header] = value
    with pytest.raises(Unauthenticated, match=fragment):
        verify(headers.items(), METHOD, NOW, ReplayGuard())


def test_missing_headers_are_named() -> None:
    with pytest.raises(Unauthenticated, match="missing x-ap-operator"):
        verify([], METHOD, NOW, ReplayGuard())


def test_replay_guard_forgets_only_outside_the_window() -> None:
    guard = ReplayGuard(capacity=10)
    assert guard.check_and_remember("a" * 32, NOW, NOW)
    assert not guard.check_and_remember("a" * 32, NOW, NOW + MAX_SKEW_MS)
    assert guard.check_and_remember("a" * 32, NOW, NOW + 3 * MAX_SKEW_MS)


def test_requests_signed_before_the_server_started_are_refused() -> None:
    headers = OperatorSigner(KEY).metadata(METHOD, NOW)
    guard = ReplayGuard(not_before_ms=NOW + 1)
    with pytest.raises(Unauthenticated, match="before this server started"):
        verify(headers, METHOD, NOW + 5, guard)
