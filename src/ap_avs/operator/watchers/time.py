"""The time watcher: cron schedules and fixed-time epochs, on the operator's clock.

It keeps each workflow's next due instant in a heap and sleeps until the earliest one (at
most ``max_sleep`` seconds, so a stepped wall clock is noticed) or until the set changes. When
and whether a workflow fires is decided by :mod:`ap_avs.domain.schedule`; the occurrence key
and ``timestamp`` are the *scheduled* instant, so re-sends and several operators watching the
same workflow produce the same key (the aggregator keeps one).

Raises (from ``watch``):
    InvalidArgument: a cron schedule validation would refuse.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ap_avs.clock import now_ms
from ap_avs.domain.schedule import check_schedules, next_cron_fire, pending_epochs
from ap_avs.domain.trigger_data import time_data
from ap_avs.domain.triggers import CronTriggerConfig, FixedTimeTriggerConfig, TriggerKind
from ap_avs.operator.model import Assignment, Sink, TriggerFired, time_key

logger = logging.getLogger(__name__)

DEFAULT_CATCH_UP_SECONDS: Final = 3600.0


@dataclass(slots=True)
class _Entry:
    assignment: Assignment
    version: int
    due: int | None
    epochs: tuple[int, ...] = ()
    """Fixed-time epochs still to fire, ascending (``due`` is the first)."""


class TimeWatcher:
    """Fires cron and fixed-time triggers.

    Usage::

        watcher = TimeWatcher()
        watcher.watch(assignment)
        await watcher.run(sink)
    """

    kinds: frozenset[TriggerKind] = frozenset({TriggerKind.CRON, TriggerKind.FIXED_TIME})

    def __init__(
        self,
        *,
        clock: Callable[[], int] = now_ms,
        catch_up_seconds: float = DEFAULT_CATCH_UP_SECONDS,
        max_sleep: float = 30.0,
    ) -> None:
        self._clock = clock
        self._catch_up_ms = int(catch_up_seconds * 1000)
        self._max_sleep = max_sleep
        self._entries: dict[str, _Entry] = {}
        self._heap: list[tuple[int, int, str]] = []
        self._versions = 0
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._entries)

    def watch(self, assignment: Assignment) -> None:
        known = self._entries.get(assignment.workflow_id)
        if known is not None and known.assignment == assignment:
            return
        now = self._clock()
        config = assignment.trigger.config
        self._versions += 1
        entry = _Entry(assignment, self._versions, None)
        if isinstance(config, CronTriggerConfig):
            check_schedules(config.schedules, now)
            entry.due = next_cron_fire(
                config.schedules,
                after_ms=now,
                start_at_ms=assignment.start_at,
                expired_at_ms=assignment.expired_at,
            )
        elif isinstance(config, FixedTimeTriggerConfig):
            entry.epochs = pending_epochs(
                config.epochs,
                now_ms=now,
                catch_up_ms=self._catch_up_ms,
                start_at_ms=assignment.start_at,
                expired_at_ms=assignment.expired_at,
            )
            entry.due = entry.epochs[0] if entry.epochs else None
        else:
            return
        self._entries[assignment.workflow_id] = entry
        if len(self._heap) > 2 * len(self._entries) + 64:  # drop superseded heap entries
            self._heap = [item for item in self._heap if self._is_current(*item)]
            heapq.heapify(self._heap)
        if entry.due is not None:
            heapq.heappush(self._heap, (entry.due, entry.version, assignment.workflow_id))
        else:
            logger.info("workflow %s has no time left to fire", assignment.workflow_id)
        self._changed.set()

    def unwatch(self, workflow_id: str) -> None:
        if self._entries.pop(workflow_id, None) is not None:
            self._changed.set()

    def next_due(self, workflow_id: str) -> int | None:
        """When ``workflow_id`` fires next (ms), if it is watched and has a next time."""
        entry = self._entries.get(workflow_id)
        return entry.due if entry else None

    def _is_current(self, due: int, version: int, workflow_id: str) -> bool:
        entry = self._entries.get(workflow_id)
        return entry is not None and entry.version == version and entry.due == due

    def _take_due(self, now: int) -> list[TriggerFired]:
        fired: list[TriggerFired] = []
        while self._heap and self._heap[0][0] <= now:
            due, version, workflow_id = heapq.heappop(self._heap)
            entry = self._entries.get(workflow_id)
            if entry is None or not self._is_current(due, version, workflow_id):
                continue  # superseded or removed
            assignment = entry.assignment
            fired.append(
                TriggerFired(
                    workflow_id, assignment.kind, time_key(workflow_id, due), time_data(due)
                )
            )
            config = assignment.trigger.config
            if isinstance(config, CronTriggerConfig):
                entry.due = next_cron_fire(
                    config.schedules,
                    after_ms=due,
                    start_at_ms=assignment.start_at,
                    expired_at_ms=assignment.expired_at,
                )
            else:
                entry.epochs = entry.epochs[1:]
                entry.due = entry.epochs[0] if entry.epochs else None
            if entry.due is not None:
                heapq.heappush(self._heap, (entry.due, version, workflow_id))
        return fired

    async def run(self, sink: Sink) -> None:
        """Fire due triggers until cancelled."""
        while True:
            self._changed.clear()
            fired = self._take_due(self._clock())
            if fired:
                await sink(fired)
                continue
            sleep = self._max_sleep
            if self._heap:
                sleep = min(sleep, max(0.0, (self._heap[0][0] - self._clock()) / 1000))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(sleep):  # (wait_for can swallow a cancel on 3.11)
                    await self._changed.wait()
