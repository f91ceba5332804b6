"""The one address parser: whole-text matches only."""

from __future__ import annotations

import pytest

from ap_avs.domain.addresses import address_bytes, is_address, is_hex_address, parse_address
from ap_avs.errors import InvalidArgument

ADDRESS = "0x" + "aB" * 20


@pytest.mark.parametrize(
    ("text", "strict", "geth"),
    [
        (ADDRESS, True, True),
        (ADDRESS[2:], False, True),
        ("0X" + ADDRESS[2:], False, True),
        (ADDRESS + "\n", False, False),
        (" " + ADDRESS, False, False),
        (ADDRESS + "00", False, False),
        (ADDRESS[:-1], False, False),
        ("0x" + "g" * 40, False, False),
        ("", False, False),
    ],
)
def test_whole_text_must_be_an_address(text: str, strict: bool, geth: bool) -> None:
    assert is_address(text) is strict
    assert is_hex_address(text) is geth


def test_parse_lowers_and_names_the_field() -> None:
    assert parse_address(f" {ADDRESS} ") == ADDRESS.lower()
    assert address_bytes(ADDRESS) == bytes.fromhex("ab" * 20)
    with pytest.raises(InvalidArgument) as info:
        parse_address("0x12", what="recipient")
    assert info.value.message == "recipient '0x12' is not a 20-byte hex address"
