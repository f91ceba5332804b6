"""A census of the store: how many records of each kind (key family), and how big it is.

:func:`take_census` walks every key in pages of 1024 (keys only, no values), giving the event
loop a turn between pages, so it costs O(keys) reads spread over time and never stalls serving
for long. Run it now and then (retention does, every ``census_interval_seconds``), not per
request: ``/telemetry`` and ``/metrics`` show the last census and when it was taken.

Raises: ``StoreError`` from the store.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

from ap_avs.domain.values import JsonValue
from ap_avs.store.kv import KV, StoreSize

_PAGE: Final = 1024


def kind_of(key: bytes) -> str:
    """The kind of a record: its key's family, the text before the first ``:``."""
    head, _, _ = key.partition(b":")
    return head.decode(errors="backslashreplace")


@dataclass(frozen=True, slots=True)
class Census:
    """Records by kind and the store's size at ``taken_at_ms``."""

    taken_at_ms: int
    records: dict[str, int] = field(default_factory=dict)
    size: StoreSize | None = None

    @property
    def total(self) -> int:
        return sum(self.records.values())

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "taken_at_ms": self.taken_at_ms,
            "records": dict(self.records),
            "total": self.total,
            "size": None if self.size is None else dict(self.size.to_json()),
        }


async def take_census(kv: KV, now_ms: int, *, pause: float = 0.0) -> Census:
    """Count every key by kind (a paced walk) and read the store's size."""
    counts: Counter[str] = Counter()
    start: bytes | None = None
    while True:
        page = await kv.scan_keys(b"", start=start, include_start=start is None, limit=_PAGE)
        counts.update(kind_of(key) for key in page)
        if len(page) < _PAGE:
            break
        start = page[-1]
        await asyncio.sleep(pause)
    return Census(now_ms, dict(sorted(counts.items())), await kv.size())
