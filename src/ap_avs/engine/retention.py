"""Retention: old records leave the store in the background, so it stays bounded.

Each pass (every ``interval_seconds``, and soon after a workflow is deleted) does, in bounded
batches with a pause between them (``store/retention.py``; no long transaction, no pause in
serving), through the `KV` seam only:

1. **Deleted workflows.** Each pending ``purge:<workflowId>`` record (written in the delete
   transaction) has the workflow's records removed, kind by kind (``keys.workflow_records``:
   executions, markers, idempotency marks, counters, retired tallies, assignment and the
   secrets scoped to it); the record then keeps how many of each went (``done_at``), that is
   logged, and the admin console's ``retention`` command lists it until it is
   ``deletion_report_days`` old. History left by a workflow that no longer exists (a run that
   finished after the delete) is purged the same way.
2. **Executions.** Per workflow with ``history:`` records, the oldest go while they are older
   than the policy's age (the time in the execution id) or beyond its newest-N count.
   Removal folds each record into the workflow's counters (``store/retired.py``), so
   GetExecutionCount, GetExecutionStats and ``execution_count`` do not change, and GetExecution
   of a removed id says it expired.
3. **Idempotency marks** older than ``idempotency_window_ms`` (their ``at``).
4. **Hourly stats of removed executions** older than ``stats_ms``, and purge reports older than
   ``report_ms``.

A census (records by kind, store size) is taken every ``census_interval_seconds``. LMDB reuses
the pages deletions free, so the file stops growing once removal keeps pace; ``ap-avs backup``
writes compacted copies.

Usage (composition root)::

    retention = Retention(store, settings)
    events.subscribe(retention)
    tasks.create_task(retention.run(stop))

Raises: nothing from ``run`` (a failed pass is logged and retried next interval);
``run_once`` and ``take_census`` raise ``StoreError`` from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from ap_avs.clock import now_ms
from ap_avs.domain import ids
from ap_avs.domain.values import JsonValue
from ap_avs.engine.retention_policy import (
    PassReport,
    PurgeReport,
    RetentionSettings,
    policy_json,
    read_purge,
    removable,
)
from ap_avs.engine.workflow_events import WorkflowEvent, WorkflowEventKind
from ap_avs.errors import CorruptDataError, StoreClosedError, StoreError
from ap_avs.store import codec, keys
from ap_avs.store.census import Census, take_census
from ap_avs.store.kv import KV, ReadTxn, StoreSize
from ap_avs.store.retention import (
    age_from_json_field,
    age_from_ulid_segment,
    purge_prefix,
    segments,
    sweep,
    trim_ordered,
)
from ap_avs.store.retired import HOUR_MS, read_tally, retire
from ap_avs.store.workflows import find_workflow

logger = logging.getLogger(__name__)


# --- the service ------------------------------------------------------------------------------


class Retention:
    """Runs retention passes on one store (see the module docstring)."""

    def __init__(
        self, kv: KV, settings: RetentionSettings, *, now_ms: Callable[[], int] = now_ms
    ) -> None:
        self._kv = kv
        self.settings = settings
        self._now_ms = now_ms
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self.last_pass: PassReport | None = None
        self.census: Census | None = None
        self.size: StoreSize | None = None
        self.removed_total: Counter[str] = Counter()

    def workflow_changed(self, event: WorkflowEvent) -> None:
        """A deleted workflow wakes the loop, so its records go soon."""
        if event.kind is WorkflowEventKind.DELETED:
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Pass and census on their intervals until ``stop`` is set."""
        next_census = 0.0
        while not stop.is_set():
            self._wake.clear()
            try:
                if self.settings.enabled:
                    await self.run_once()
                if time.monotonic() >= next_census:
                    await self.take_census()
                    next_census = time.monotonic() + self.settings.census_interval_seconds
            except StoreClosedError:
                return
            except StoreError as exc:
                logger.warning("retention pass failed, retrying next interval: %s", exc)
            except Exception:  # a bug here must not stop the server; it is logged loudly
                logger.exception("retention pass failed, retrying next interval")
            waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.interval_seconds):
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def take_census(self) -> Census:
        self.census = await take_census(self._kv, self._now_ms(), pause=self.settings.pause_seconds)
        self.size = self.census.size
        return self.census

    async def run_once(self) -> PassReport:
        """One full pass (passes never overlap)."""
        async with self._lock:
            s = self.settings
            started = now = self._now_ms()
            removed: Counter[str] = Counter()
            purges = await self._purge_deleted(removed)
            oldest_execution = await self._executions(now, removed)
            marks = await sweep(
                self._kv,
                keys.IDEMPOTENCY,
                age_of=age_from_json_field("at"),
                older_than_ms=now - s.idempotency_window_ms,
                batch=s.batch,
                pause=s.pause_seconds,
            )
            removed["idem"] += marks.removed
            removed["retired_hour"] += await self._old_hours(now - s.stats_ms)
            reports = await sweep(
                self._kv,
                keys.PURGES,
                age_of=age_from_json_field("done_at"),
                older_than_ms=now - s.report_ms,
                batch=s.batch,
                pause=s.pause_seconds,
            )
            removed["purge"] += reports.removed
            evidence = await sweep(
                self._kv,
                keys.EVIDENCE,
                age_of=age_from_ulid_segment(2),  # evidence:<address>:<evidenceId ULID>
                older_than_ms=now - s.evidence_ms,
                batch=s.batch,
                pause=s.pause_seconds,
            )
            removed["evidence"] += evidence.removed
            found = +removed
            report = PassReport(
                started, self._now_ms(), dict(found), purges, oldest_execution, marks.oldest_kept_ms
            )
            self.removed_total.update(found)
            self.last_pass = report
            self.size = await self._kv.size()
            if found:
                logger.info("retention removed %s", ", ".join(f"{k} {n}" for k, n in found.items()))
            return report

    # deleted workflows

    async def _purge_deleted(self, removed: Counter[str]) -> tuple[PurgeReport, ...]:
        done = []
        for key, raw in await self._kv.scan(keys.PURGES):
            try:
                report, owner = read_purge(key, raw)
            except (CorruptDataError, ValueError) as exc:
                logger.warning("skipping a bad purge record %r: %s", key, exc)
                continue
            if report.done_at_ms is not None:
                continue
            counts = await self.purge_workflow(report.workflow_id, owner)
            finished = replace(report, done_at_ms=self._now_ms(), removed=counts)
            record = codec.loads(raw)
            assert isinstance(record, dict)
            record.update(done_at=finished.done_at_ms, removed=dict(counts))
            await self._kv.put(key, codec.dumps(record))
            logger.info(
                "deleted workflow %s: %d records removed (%s)",
                report.workflow_id,
                finished.total,
                ", ".join(f"{k} {n}" for k, n in counts.items() if n) or "none",
            )
            removed.update({f"deleted_workflow.{k}": n for k, n in counts.items()})
            done.append(finished)
        return tuple(done)

    async def purge_workflow(self, workflow_id: str, owner: str | None) -> dict[str, int]:
        """Remove every record of a deleted workflow, kind by kind, in batches; how many of each
        went (secrets only when the owner is known)."""
        s = self.settings
        counts: dict[str, int] = {}
        for kind, key, is_prefix in keys.workflow_records(workflow_id, owner):
            if is_prefix:
                n = await purge_prefix(self._kv, key, batch=s.batch, pause=s.pause_seconds)
            else:
                n = int(await self._kv.delete(key))
            counts[kind] = counts.get(kind, 0) + n
        return counts

    # executions

    async def _exists_or_pending(self, workflow_id: str) -> bool:
        """Whether the workflow exists, or its purge is still to run (then it owns them)."""

        def read(txn: ReadTxn) -> bool:
            if find_workflow(txn, workflow_id) is not None:
                return True
            key = keys.purge(workflow_id)
            raw = txn.get(key)
            if raw is None:
                return False
            try:
                return read_purge(key, raw)[0].done_at_ms is None
            except (CorruptDataError, ValueError):
                return True  # unreadable: leave the records alone

        return await self._kv.view(read)

    async def _executions(self, now: int, removed: Counter[str]) -> int | None:
        oldest: int | None = None
        async for workflow_id in segments(self._kv, keys.HISTORY):
            if not ids.is_ulid(workflow_id):
                continue
            if not await self._exists_or_pending(workflow_id):
                counts = await self.purge_workflow(workflow_id, None)
                logger.info(
                    "purged %d records of missing workflow %s", sum(counts.values()), workflow_id
                )
                removed["orphan"] += sum(counts.values())
                continue
            removed["history"] += await self.trim_executions(workflow_id, now)
            first = await self._kv.scan_keys(keys.history_prefix(workflow_id), limit=1)
            if first:
                execution_id = keys.parse_history(first[0]).execution_id
                if ids.is_ulid(execution_id):
                    made = ids.ulid_time_ms(execution_id)
                    oldest = made if oldest is None else min(oldest, made)
        return oldest

    async def trim_executions(self, workflow_id: str, now: int) -> int:
        """Apply the workflow's policy to its executions; returns how many were removed."""
        policy, s = self.settings.policy_for(workflow_id), self.settings
        prefix = keys.history_prefix(workflow_id)
        excess = 0
        if policy.keep_last is not None and await self._may_exceed(workflow_id, policy.keep_last):
            excess = max(0, await self._kv.count(prefix) - policy.keep_last)
        cutoff = None if policy.max_age_ms is None else now - policy.max_age_ms
        removed = 0
        while True:
            page = await self._kv.scan_keys(prefix, limit=s.batch)
            page_ids = [keys.parse_history(k).execution_id for k in page]
            take = removable(page_ids, excess - removed, cutoff)
            if take == 0:
                return removed
            gone = await retire(self._kv, workflow_id, page[:take])
            removed += gone
            if gone == 0:
                return removed
            await asyncio.sleep(s.pause_seconds)

    async def _may_exceed(self, workflow_id: str, keep_last: int) -> bool:
        """Whether the workflow may hold more than ``keep_last`` records, without counting them:
        its stored records are at most ``execution_count`` less those removed (every stored
        record was counted when its run began), so most workflows need no count walk."""

        def read(txn: ReadTxn) -> bool:
            wf = find_workflow(txn, workflow_id)
            if wf is None:
                return True
            return wf.execution_count - read_tally(txn, workflow_id).count > keep_last

        try:
            return await self._kv.view(read)
        except CorruptDataError:
            return True

    async def _old_hours(self, before_ms: int) -> int:
        s = self.settings
        hour = max(0, before_ms) // HOUR_MS
        total = 0
        async for workflow_id in segments(self._kv, keys.RETIRED_HOURS):
            with contextlib.suppress(ValueError):
                below = keys.retired_hour(workflow_id, hour)
                prefix = keys.retired_hour_prefix(workflow_id)
                total += await trim_ordered(
                    self._kv, prefix, below, batch=s.batch, pause=s.pause_seconds
                )
        return total

    # status

    def status_json(self) -> dict[str, JsonValue]:
        """Policy, last pass, totals since start and the last census (admin console)."""
        s = self.settings
        return {
            "enabled": s.enabled,
            "default_policy": policy_json(s.default),
            "overrides": {wf: policy_json(s.policy_for(wf)) for wf in sorted(s.overrides)},
            "idempotency_window_ms": s.idempotency_window_ms,
            "stats_ms": s.stats_ms,
            "last_pass": None if self.last_pass is None else self.last_pass.to_json(),
            "removed_since_start": dict(self.removed_total),
            "census": None if self.census is None else self.census.to_json(),
        }
