"""Smart-wallet rules (pure): salts, factory addresses, the stored record, task counters.

Raises:
    InvalidArgument: a salt or factory that breaks the rules, with the message upstream's
        clients know (PROTOCOL.md §2.4-2.6).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from ap_avs.errors import InvalidArgument

ZERO_ADDRESS: Final = "0x" + "0" * 40
MAX_SALT: Final = 2**256 - 1
_HEX_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")
_DECIMAL: Final = re.compile(r"^[+-]?[0-9]+$")
_HEX: Final = re.compile(r"^[+-]?0[xX][0-9a-fA-F]+$")
MAX_SALT_TEXT: Final = 100


def is_address(text: str) -> bool:
    """``0x`` + 40 hex digits (any case, no checksum check), and nothing else: a full match,
    so a trailing line break or space is not an address."""
    return _HEX_ADDRESS.fullmatch(text) is not None


def parse_salt_number(text: str) -> int | None:
    """The integer a salt string names (decimal or ``0x`` hex; empty is 0), or None."""
    text = text.strip()
    if not text:
        return 0
    if len(text) > MAX_SALT_TEXT:
        return None
    if _DECIMAL.match(text):
        return int(text, 10)
    if _HEX.match(text):
        sign = -1 if text.startswith("-") else 1
        return sign * int(text.lstrip("+-"), 16)
    return None


def salt_for_get_wallet(text: str) -> int:
    """GetWallet's salt: a non-negative integer of at most 256 bits.

    Raises:
        InvalidArgument: ``invalid salt value: <salt>`` or the negative-salt message.
    """
    value = parse_salt_number(text)
    if value is None or value > MAX_SALT:
        raise InvalidArgument(f"invalid salt value: {text}")
    if value < 0:
        raise InvalidArgument(f"invalid salt value: must be a non-negative integer, got {text}")
    return value


def salt_for_set_wallet(text: str) -> int:
    """SetWallet's salt (its own message; negative salts name no wallet either).

    Raises:
        InvalidArgument: ``Invalid salt format: <salt>``.
    """
    value = parse_salt_number(text)
    if value is None or not 0 <= value <= MAX_SALT:
        raise InvalidArgument(f"Invalid salt format: {text}")
    return value


def factory_or_default(text: str, default: str, *, invalid_message: str) -> str:
    """The factory a request names, or ``default`` when it names none.

    Raises:
        InvalidArgument: ``invalid_message`` for a malformed address; the zero address.
    """
    factory = text.strip() or default
    if not is_address(factory):
        raise InvalidArgument(invalid_message)
    if factory.lower() == ZERO_ADDRESS:
        raise InvalidArgument("Factory address cannot be the zero address")
    return factory


@dataclass(frozen=True, slots=True)
class Wallet:
    """A stored smart wallet of an owner (addresses checksummed)."""

    owner: str
    address: str
    factory: str
    salt: int
    is_hidden: bool = False
    stale_derivation: bool = False


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """Workflows of one wallet by status (Running counts only in the total)."""

    total: int = 0
    enabled: int = 0
    completed: int = 0
    failed: int = 0
    disabled: int = 0


_ENABLED, _COMPLETED, _FAILED, _DISABLED = 0, 1, 2, 5


def count_statuses(statuses: Iterable[int]) -> TaskCounts:
    total = enabled = completed = failed = disabled = 0
    for status in statuses:
        total += 1
        enabled += status == _ENABLED
        completed += status == _COMPLETED
        failed += status == _FAILED
        disabled += status == _DISABLED
    return TaskCounts(total, enabled, completed, failed, disabled)
