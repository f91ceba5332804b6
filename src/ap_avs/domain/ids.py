"""Identifiers the server creates: lower-case ULIDs (26 Crockford base-32 characters).

Workflow and execution ids sort by creation time, which pagination and the history key space
rely on. The caller passes the time in (the domain never reads a clock); the 80 random bits come
from ``os.urandom`` through ``python-ulid``, whose generator keeps ids made in the same
millisecond increasing. Nothing here raises except on a timestamp outside the ULID range.

Usage::

    workflow_id = new_id(now_ms=clock.now_ms())
    if not is_ulid(request.task_id): ...
"""

from __future__ import annotations

import re
from typing import Final

from ulid import ULID

ULID_LENGTH: Final = 26

_ULID: Final = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", re.IGNORECASE)


def new_id(*, now_ms: int) -> str:
    """A new lower-case ULID whose time part is ``now_ms`` (milliseconds since the epoch).

    Raises:
        ValueError: ``now_ms`` is negative or beyond the year 10889.
    """
    if now_ms < 0:
        raise ValueError("a ULID timestamp cannot be negative")
    return str(ULID.from_timestamp(int(now_ms))).lower()


def is_ulid(text: str) -> bool:
    """Whether ``text`` is a ULID: 26 Crockford base-32 characters (either case), first ≤ ``7``.

    ``I``, ``L``, ``O`` and ``U`` are not in the alphabet; a first character above ``7`` would
    overflow the 128 bits.
    """
    return _ULID.fullmatch(text) is not None


def ulid_time_ms(text: str) -> int:
    """The millisecond timestamp encoded in a ULID.

    Raises:
        ValueError: ``text`` is not a ULID.
    """
    if not is_ulid(text):
        raise ValueError(f"not a ULID: {text!r}")
    return ULID.from_str(text.upper()).milliseconds


def floor_id(now_ms: int) -> str:
    """The smallest lower-case ULID of millisecond ``now_ms``: ids made at ``now_ms`` or later
    sort at or after it, earlier ones before it (compare ids as text, no parsing).

    Raises:
        ValueError: ``now_ms`` is negative or beyond the year 10889.
    """
    return new_id(now_ms=now_ms)[:10] + "0" * 16
