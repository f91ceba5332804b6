"""ERC-20 token facts as values: the metadata a contract reports, how its answers decode, and
amounts in units. Pure; the reads themselves are :func:`ap_avs.chain.tokens.read_erc20_metadata`.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError

MAX_DECIMALS = 255


@dataclass(frozen=True, slots=True)
class Erc20Metadata:
    """What a token contract answered to ``name()``, ``symbol()`` and ``decimals()``; ``None``
    where it did not answer (the call reverted or the answer does not decode)."""

    name: str | None
    symbol: str | None
    decimals: int | None


def decode_text(raw: bytes | None) -> str | None:
    """An ABI ``string`` answer, or a ``bytes32`` one (old tokens such as MKR); None when empty
    or not decodable."""
    if not raw:
        return None
    if len(raw) == 32:
        return raw.rstrip(b"\0").decode("utf-8", "replace") or None
    try:
        (value,) = decode(["string"], raw)
    except (DecodingError, ValueError, TypeError, OverflowError):
        return None
    return str(value) or None


def decode_decimals(raw: bytes | None) -> int | None:
    """A ``decimals()`` answer; None when missing, short or above :data:`MAX_DECIMALS`."""
    if raw is None or len(raw) < 32:
        return None
    number = int.from_bytes(raw[:32], "big")
    return number if number <= MAX_DECIMALS else None


def format_units(raw: int, decimals: int | None) -> str:
    """``raw`` base units as an exact decimal string with ``decimals`` places (no exponent, no
    trailing zeros); ``None`` or 0 decimals print the integer."""
    sign = "-" if raw < 0 else ""
    places = decimals or 0
    whole, fraction = divmod(abs(raw), 10**places)
    digits = str(fraction).rjust(places, "0").rstrip("0") if places else ""
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"
