"""Keyset pagination shared by ListTasks, ListExecutions and ListSecrets (pure).

A cursor is standard base64 (with padding) of ``{"d":"next"|"prev","p":"<position>"}``; the
position is an item id (task or execution ULID) or, for secrets, the storage key. Responses
carry ``start_cursor``/``end_cursor`` for the first and last item, both with ``"d":"next"``.
``after`` wins over ``before``. Lists of ids are newest first (descending); secrets ascending.

Raises:
    InvalidArgument: an undecodable cursor or a bad ``limit``, with the literal messages clients
        match on.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Final, Literal

from ap_avs.errors import InvalidArgument

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 1000
MAX_CURSOR_LENGTH: Final = 2048
CURSOR_MESSAGE: Final = (
    "Invalid pagination cursor. Please retry without pagination parameters or use a fresh "
    "cursor from a recent response."
)
LIMIT_MESSAGE: Final = "item per page is not valid"

Direction = Literal["next", "prev"]


def encode_cursor(position: str, direction: Direction = "next") -> str:
    raw = json.dumps({"d": direction, "p": position}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> str:
    """The position inside ``cursor``.

    Raises:
        InvalidArgument: not base64 of a JSON object with a non-empty string ``p``.
    """
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidArgument(CURSOR_MESSAGE)
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidArgument(CURSOR_MESSAGE) from None
    position = data.get("p") if isinstance(data, dict) else None
    if not isinstance(position, str) or not position:
        raise InvalidArgument(CURSOR_MESSAGE)
    return position


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated page request: where to start, which way, and how many."""

    limit: int
    position: str | None = None
    direction: Direction = "next"

    @classmethod
    def from_wire(cls, *, before: str, after: str, limit: int) -> PageRequest:
        """Validate the wire fields (``after`` wins over ``before``; 0 means the default).

        Raises:
            InvalidArgument: a negative or too large limit, or a bad cursor.
        """
        if limit < 0:
            raise InvalidArgument(LIMIT_MESSAGE)
        if limit > MAX_LIMIT:
            raise InvalidArgument(f"{LIMIT_MESSAGE}: limit must be at most {MAX_LIMIT}")
        size = limit or DEFAULT_LIMIT
        if after:
            return cls(size, decode_cursor(after), "next")
        if before:
            return cls(size, decode_cursor(before), "prev")
        return cls(size)


@dataclass(frozen=True, slots=True)
class PageInfo:
    start_cursor: str = ""
    end_cursor: str = ""
    has_previous_page: bool = False
    has_next_page: bool = False


def page_info(request: PageRequest, positions: list[str], more: bool) -> PageInfo:
    """PageInfo for a page whose items sit at ``positions``; ``more`` = items beyond the page
    in the direction of travel exist."""
    if not positions:
        return PageInfo()
    first, last = encode_cursor(positions[0]), encode_cursor(positions[-1])
    if request.direction == "prev":
        return PageInfo(first, last, has_previous_page=more, has_next_page=True)
    return PageInfo(first, last, has_previous_page=request.position is not None, has_next_page=more)
