"""domain/ids.py: lower-case ULIDs made from a given time, and the ULID check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ap_avs.domain.ids import ULID_LENGTH, is_ulid, new_id, ulid_time_ms

NOW = 1_800_000_000_123


def test_new_id_is_a_lower_case_ulid_carrying_the_time() -> None:
    made = new_id(now_ms=NOW)
    assert len(made) == ULID_LENGTH
    assert made == made.lower()
    assert is_ulid(made)
    assert ulid_time_ms(made) == NOW


def test_ids_sort_by_time_and_are_unique_within_a_millisecond() -> None:
    first = [new_id(now_ms=NOW) for _ in range(50)]
    later = new_id(now_ms=NOW + 1)
    assert len(set(first)) == 50
    assert first == sorted(first)
    assert later > max(first)


def test_negative_time_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        new_id(now_ms=-1)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("01hzzzzzzzzzzzzzzzzzzzzzzz", True),
        ("01HZZZZZZZZZZZZZZZZZZZZZZZ", True),
        ("7zzzzzzzzzzzzzzzzzzzzzzzzz", True),
        ("8zzzzzzzzzzzzzzzzzzzzzzzzz", False),  # overflows 128 bits
        ("01hzzzzzzzzzzzzzzzzzzzzzz", False),  # 25 characters
        ("01hzzzzzzzzzzzzzzzzzzzzzzzz", False),  # 27 characters
        ("01hzzzzzzzzzzzzzzzzzzzzzzu", False),  # U is not Crockford
        ("01hzzzzzzzzzzzzzzzzzzzzzzi", False),
        ("", False),
        ("01hzzzzzzzzzzzzzzzzzzzzzz\n", False),
    ],
)
def test_is_ulid(text: str, ok: bool) -> None:
    assert is_ulid(text) is ok


def test_ulid_time_of_garbage_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a ULID"):
        ulid_time_ms("nope")


@given(st.integers(min_value=0, max_value=2**48 - 1))
def test_any_time_round_trips(ms: int) -> None:
    assert ulid_time_ms(new_id(now_ms=ms)) == ms
