"""Removal in bounded batches, by key prefix and age, through the `KV` seam only.

The mechanisms every retention rule uses; they know no key family (the callers pass prefixes
and say how old an item is), so an engine behind the same seam runs them unchanged:

* :func:`sweep` walks every item under a prefix in pages of ``batch`` and removes the items
  older than a moment. Each page is one short read, then one short write transaction that
  deletes only the items whose value is still the one read (an item rewritten in between is
  kept), then a pause (a page with nothing to delete only yields a turn of the loop), so a
  sweep never holds a long transaction and serving goes on.
  How old an item is comes from an `AgeOf` function: :func:`age_from_json_field` reads a
  millisecond field of a JSON value (``idem:`` marks: ``at``), :func:`age_from_ulid_segment`
  the time of a ULID in the key (records keyed by their id), :func:`age_from_hour_segment` an
  hour number. An item whose age is unknown (None) is kept.
* :func:`purge_prefix` removes everything under a prefix, ``batch`` keys per transaction;
  :func:`trim_ordered` the keys below a bound, for families whose keys are in time order.
* :func:`segments` yields each distinct key segment after a prefix (the workflow ids having
  ``history:`` records) with one seek per segment: a skip scan, not a walk of every key.

Usage (evidence records keyed ``evidence:<workflowId>:<ulid>``, kept 90 days)::

    result = await sweep(kv, b"evidence:", age_of=age_from_ulid_segment(2),
                         older_than_ms=now - 90 * DAY_MS, batch=256, pause=0.01)

Raises: ``StoreError`` from the store. A value that does not decode has no age (kept).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final

from ulid import ULID

from ap_avs.domain import ids
from ap_avs.store.kv import KV, Txn

AgeOf = Callable[[bytes, bytes], int | None]
"""``age_of(key, value)``: when the item was made (ms since the epoch); None: unknown, keep."""

HOUR_MS: Final = 3_600_000


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one :func:`sweep` saw and did."""

    scanned: int
    removed: int
    oldest_kept_ms: int | None
    """The oldest age among the items kept (None when no kept item had a known age)."""


def age_from_json_field(name: str) -> AgeOf:
    """The age in the integer field `name` of a JSON object value."""

    def age(key: bytes, value: bytes) -> int | None:
        try:
            data = json.loads(value)
        except ValueError:
            return None
        found = data.get(name) if isinstance(data, dict) else None
        return found if isinstance(found, int) and not isinstance(found, bool) else None

    return age


def age_from_ulid_segment(index: int) -> AgeOf:
    """The time of the ULID in ``:``-separated segment `index` of the key (0 is the family)."""

    def age(key: bytes, value: bytes) -> int | None:
        parts = key.split(b":")
        if len(parts) <= index:
            return None
        text = parts[index].decode(errors="replace")
        return ULID.from_str(text.upper()).milliseconds if ids.is_ulid(text) else None

    return age


def age_from_hour_segment(index: int) -> AgeOf:
    """The start of the hour numbered in ``:``-separated segment `index` of the key."""

    def age(key: bytes, value: bytes) -> int | None:
        parts = key.split(b":")
        if len(parts) <= index or not parts[index].isdigit():
            return None
        return int(parts[index]) * HOUR_MS

    return age


def _delete_unchanged(txn: Txn, items: Sequence[tuple[bytes, bytes]]) -> int:
    removed = 0
    for key, value in items:
        if txn.get(key) == value:
            txn.delete(key)
            removed += 1
    return removed


async def sweep(
    kv: KV,
    prefix: bytes,
    *,
    age_of: AgeOf,
    older_than_ms: int,
    batch: int = 256,
    pause: float = 0.0,
) -> SweepResult:
    """Remove every item under `prefix` whose age is below `older_than_ms`, page by page.

    Raises:
        ValueError: `batch` is not positive.
    """
    if batch <= 0:
        raise ValueError(f"batch must be > 0, got {batch}")
    scanned = removed = 0
    oldest: int | None = None
    start: bytes | None = None
    while True:
        page = await kv.scan(prefix, start=start, include_start=start is None, limit=batch)
        scanned += len(page)
        doomed = []
        for key, value in page:
            made = age_of(key, value)
            if made is not None and made < older_than_ms:
                doomed.append((key, value))
            elif made is not None and (oldest is None or made < oldest):
                oldest = made
        if doomed:
            removed += await kv.update(partial(_delete_unchanged, items=doomed))
        if len(page) < batch:
            return SweepResult(scanned, removed, oldest)
        start = page[-1][0]
        await asyncio.sleep(pause if doomed else 0)  # a page only read needs just a turn


def _delete_keys(txn: Txn, found: Sequence[bytes]) -> int:
    return sum(1 for key in found if txn.delete(key))


async def purge_prefix(kv: KV, prefix: bytes, *, batch: int = 256, pause: float = 0.0) -> int:
    """Remove every key under `prefix`, `batch` keys per transaction; returns how many.

    Raises:
        ValueError: `batch` is not positive, or `prefix` is empty (that would be every key).
    """
    if batch <= 0:
        raise ValueError(f"batch must be > 0, got {batch}")
    if not prefix:
        raise ValueError("refusing to purge the empty prefix (every key)")
    removed = 0
    while True:
        found = await kv.scan_keys(prefix, limit=batch)
        if not found:
            return removed
        removed += await kv.update(partial(_delete_keys, found=found))
        if len(found) < batch:
            return removed
        await asyncio.sleep(pause)


async def trim_ordered(
    kv: KV, prefix: bytes, below: bytes, *, batch: int = 256, pause: float = 0.0
) -> int:
    """Remove the keys under `prefix` that sort below `below`, oldest first, `batch` keys per
    transaction; returns how many. For families whose keys are in time order after the prefix
    (a ULID, a zero-padded hour), ``below = prefix + <first time kept>`` removes by age
    without reading what is kept.

    Raises:
        ValueError: `batch` is not positive, or `prefix` is empty.
    """
    if batch <= 0:
        raise ValueError(f"batch must be > 0, got {batch}")
    if not prefix:
        raise ValueError("refusing to trim the empty prefix (every key)")
    removed = 0
    while True:
        found = [k for k in await kv.scan_keys(prefix, limit=batch) if k < below]
        if not found:
            return removed
        removed += await kv.update(partial(_delete_keys, found=found))
        if len(found) < batch:
            return removed
        await asyncio.sleep(pause)


async def segments(kv: KV, prefix: bytes) -> AsyncIterator[str]:
    """Each distinct segment that follows `prefix` (up to the next ``:``), in byte order.

    One seek per segment: after a segment ``s`` the next seek starts at ``prefix + s + ";"``
    (``;`` is the byte after ``:``), past every key of ``s``. Keys with no ``:`` after the
    segment are stepped over.
    """
    start: bytes | None = None
    after = False
    walked = 0
    while True:
        head = await kv.scan_keys(prefix, start=start, include_start=not after, limit=1)
        if not head:
            return
        segment, sep, _ = head[0][len(prefix) :].partition(b":")
        if not sep:
            start, after = head[0], True
            continue
        yield segment.decode(errors="replace")
        start, after = prefix + segment + b";", False
        walked += 1
        if walked % 256 == 0:
            await asyncio.sleep(0)  # inline reads never suspend: let the loop breathe
