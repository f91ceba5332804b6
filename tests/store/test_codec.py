"""The value codec: compact JSON and decimal counters, and clear errors on corrupt bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ap_avs.store import CodecError, StoreError, codec

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_json_round_trip(value: codec.JsonValue) -> None:
    assert codec.loads(codec.dumps(value)) == value


def test_json_is_compact_utf8() -> None:
    assert codec.dumps({"a": [1, 2.5, None, True], "é": "日本"}) == (
        '{"a":[1,2.5,null,true],"é":"日本"}'.encode()
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1, 2}, b"bytes", {"k": object()}])
def test_unencodable_values_raise_codec_error(value: object) -> None:
    with pytest.raises(CodecError, match="cannot encode"):
        codec.dumps(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("data", [b"", b"{", b"\xff\xfe", b"NaN", b"[Infinity]", b"{'a': 1}"])
def test_corrupt_json_raises_codec_error(data: bytes) -> None:
    with pytest.raises(CodecError, match="not valid JSON") as info:
        codec.loads(data)
    assert isinstance(info.value, StoreError)


@given(st.integers())
def test_int_round_trip(value: int) -> None:
    assert codec.decode_int(codec.encode_int(value)) == value


def test_ints_are_ascii_decimal() -> None:
    assert codec.encode_int(0) == b"0"
    assert codec.encode_int(-12) == b"-12"
    with pytest.raises(CodecError, match="bool"):
        codec.encode_int(True)


@pytest.mark.parametrize("data", [b"", b" 1", b"1 ", b"+1", b"1_000", b"01", b"-0", b"1.0", b"x"])
def test_non_canonical_ints_raise_codec_error(data: bytes) -> None:
    with pytest.raises(CodecError, match="not a decimal"):
        codec.decode_int(data)
