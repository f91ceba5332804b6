"""Executions removed by retention, kept as counters: ``retired:`` tallies and hourly stats.

When retention removes ``history:`` records, the same transaction folds each one into

* ``retired:<taskId>``: how many of the task's executions were removed, and the newest removed
  execution id (records go oldest first, so every id at or below it has gone: GetExecution can
  say "expired" instead of "not found");
* ``retired_hour:<taskId>:<hour>``: per hour of ``start_at``, how many were removed, how many
  of those succeeded, and the sum of their positive durations (ms).

So GetExecutionCount is the live records plus the tally, and GetExecutionStats the live records
plus the hours in its window; both read in one snapshot, they do not change when records go.
The stats window starts at a whole hour (see `stats_since`), which is what makes them exact.

Raises: ``StoreError`` from the store; ``CorruptDataError`` for a tally that does not decode.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from ap_avs.domain import ids
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec, keys
from ap_avs.store.kv import KV, ReadTxn, Txn

HOUR_MS: Final = 3_600_000
_SUCCESS: Final = "SUCCESS"
_HEAD: Final = re.compile(rb'"status":"([A-Z_]+)","start_at":(-?[0-9]+),"end_at":(-?[0-9]+)[,}]')


@dataclass(frozen=True, slots=True)
class Tally:
    """The executions of one task removed so far."""

    count: int = 0
    upto: str = ""
    """The newest removed execution id ("" when none was removed)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for GetExecutionStats: runs, successful runs, sum of positive durations (ms)."""

    total: int = 0
    succeeded: int = 0
    duration_ms: int = 0

    def __add__(self, other: Summary) -> Summary:
        return Summary(
            self.total + other.total,
            self.succeeded + other.succeeded,
            self.duration_ms + other.duration_ms,
        )


@dataclass(frozen=True, slots=True)
class Facts:
    """What the counters need of one execution record."""

    execution_id: str
    start_at: int
    succeeded: bool
    duration_ms: int


def stats_since(now_ms: int, days: int) -> int:
    """The start of a stats window of `days` ending now, rounded down to a whole hour.

    Rounding to the hour lets the hourly tallies of removed executions count exactly as their
    records did: an execution counts when its ``start_at`` is at or after this moment.
    """
    since = max(0, now_ms - days * 86_400_000)
    return since - since % HOUR_MS


def facts(key: bytes, raw: bytes) -> Facts:
    """The counters' view of a stored execution; a record that does not decode counts as a
    failed run at the time of its id.

    Records are written with their fields in a fixed order (``store/executions.py``), so the
    three needed ones are read from the head of the record without decoding all of it (the
    steps can be kilobytes); anything else is decoded whole.
    """
    execution_id = keys.parse_history(key).execution_id
    head = _HEAD.search(raw, 0, 512)
    if head is not None:
        start, end = int(head[2]), int(head[3])
        return Facts(execution_id, start, head[1] == b"SUCCESS", end - start if end > start else 0)
    try:
        data: Any = codec.loads(raw)
        start, end = int(data["start_at"]), int(data.get("end_at", 0))
        ok = data.get("status") == _SUCCESS
    except (CorruptDataError, KeyError, TypeError, ValueError, AttributeError):
        start = ids.ulid_time_ms(execution_id) if ids.is_ulid(execution_id) else 0
        return Facts(execution_id, start, False, 0)
    return Facts(execution_id, start, ok, end - start if end > start else 0)


def read_tally(txn: ReadTxn, task_id: str) -> Tally:
    raw = txn.get(keys.retired(task_id))
    if raw is None:
        return Tally()
    data: Any = codec.loads(raw)
    try:
        return Tally(int(data["count"]), str(data["upto"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptDataError(f"retired tally of {task_id} is malformed: {exc}") from None


def _read_hour(raw: bytes | None) -> Summary:
    if raw is None:
        return Summary()
    data: Any = codec.loads(raw)
    try:
        return Summary(int(data["n"]), int(data["ok"]), int(data["ms"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptDataError(f"retired hour tally is malformed: {exc}") from None


def retired_since(txn: ReadTxn, task_id: str, since_ms: int) -> Summary:
    """The removed executions of a task that started at or after `since_ms` (a whole hour)."""
    prefix = keys.retired_hour_prefix(task_id)
    start = keys.retired_hour(task_id, max(0, since_ms) // HOUR_MS)
    total = Summary()
    for _, raw in txn.scan(prefix, start=start):
        total = total + _read_hour(raw)
    return total


def live_since(txn: ReadTxn, task_id: str, since_ms: int) -> Summary:
    """The stored executions of a task that started at or after `since_ms`."""
    total = Summary()
    for key, raw in txn.scan(keys.history_prefix(task_id)):
        found = facts(key, raw)
        if found.start_at >= since_ms:
            total = total + Summary(1, int(found.succeeded), found.duration_ms)
    return total


def _fold(txn: Txn, task_id: str, gone: Sequence[Facts]) -> None:
    tally = read_tally(txn, task_id)
    upto = max([tally.upto, *(f.execution_id for f in gone)])
    txn.put(keys.retired(task_id), codec.dumps({"count": tally.count + len(gone), "upto": upto}))
    by_hour: dict[int, Summary] = {}
    for f in gone:
        hour = max(0, f.start_at) // HOUR_MS
        by_hour[hour] = by_hour.get(hour, Summary()) + Summary(1, int(f.succeeded), f.duration_ms)
    for hour, add in by_hour.items():
        key = keys.retired_hour(task_id, hour)
        now = _read_hour(txn.get(key)) + add
        txn.put(key, codec.dumps({"n": now.total, "ok": now.succeeded, "ms": now.duration_ms}))


def _retire(txn: Txn, task_id: str, found: Sequence[bytes]) -> int:
    gone = []
    for key in found:
        raw = txn.get(key)
        if raw is not None:
            txn.delete(key)
            gone.append(facts(key, raw))
    if gone:
        _fold(txn, task_id, gone)
    return len(gone)


async def retire(kv: KV, task_id: str, found: Sequence[bytes]) -> int:
    """Remove these ``history:`` records of one task and fold each into its counters, in one
    transaction (the records are read there, not before); returns how many went."""
    return await kv.update(partial(_retire, task_id=task_id, found=found))


def count_with_retired(txn: ReadTxn, task_ids: Iterable[str]) -> int:
    """Executions of the tasks ever recorded: stored ones plus removed ones."""
    total = 0
    for task_id in set(task_ids):
        total += txn.count(keys.history_prefix(task_id)) + read_tally(txn, task_id).count
    return total


def summary_with_retired(txn: ReadTxn, task_ids: Iterable[str], since_ms: int) -> Summary:
    """Stats of the tasks' executions since `since_ms` (a whole hour), stored and removed."""
    total = Summary()
    for task_id in set(task_ids):
        total = total + live_since(txn, task_id, since_ms) + retired_since(txn, task_id, since_ms)
    return total
