"""EVM addresses written as text: the one parser every layer uses. Pure.

Two spellings are accepted, each matched against the whole text (``fullmatch``: a trailing
newline is not an address):

* :func:`is_address`: ``0x`` and 40 hex digits of any case (the checksum is not enforced). This
  is what requests, configuration, workflows, store keys and operator headers carry.
* :func:`is_hex_address`: go-ethereum's ``IsHexAddress``: an optional ``0x``/``0X`` prefix and 40
  hex digits (the sign-in message and JWT subjects, as upstream reads them).

Raises:
    InvalidArgument: from :func:`parse_address`, naming what was expected.
"""

from __future__ import annotations

import re
from typing import Final

from ap_avs.errors import InvalidArgument

ZERO_ADDRESS: Final = "0x" + "0" * 40
_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX_ADDRESS: Final = re.compile(r"(?:0[xX])?([0-9a-fA-F]{40})")


def is_address(text: str) -> bool:
    """Whether ``text`` is exactly ``0x`` and 40 hex digits (any case)."""
    return _ADDRESS.fullmatch(text) is not None


def is_hex_address(text: str) -> bool:
    """Whether ``text`` is a hex address as go-ethereum's ``IsHexAddress`` reads one: an
    optional ``0x``/``0X`` prefix followed by exactly 40 hex digits of any case."""
    return _HEX_ADDRESS.fullmatch(text) is not None


def address_bytes(text: str) -> bytes:
    """The 20 bytes of a hex address accepted by :func:`is_hex_address`.

    Raises:
        ValueError: ``text`` is not such an address.
    """
    match = _HEX_ADDRESS.fullmatch(text)
    if match is None:
        raise ValueError("not a hex address")
    return bytes.fromhex(match.group(1))


def parse_address(text: str, *, what: str = "address") -> str:
    """``text`` (surrounding spaces removed) as a lower-case ``0x`` address.

    Raises:
        InvalidArgument: ``{what} '{text}' is not a 20-byte hex address``.
    """
    stripped = text.strip()
    if not is_address(stripped):
        raise InvalidArgument(f"{what} '{text}' is not a 20-byte hex address")
    return stripped.lower()
