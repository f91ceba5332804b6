"""The block watcher: block-interval triggers from the chain cursor.

Each workflow keeps ``next_due``, the first block number divisible by its interval above the
cursor when it was added (LESSONS.md 9). For each range the follower hands out, every workflow
fires at each of its boundaries in the range, oldest first, with the header of that block
(``timestamp`` in seconds, as upstream); then the cursor advances. A watcher that fell behind
therefore catches up the skipped boundaries, each at most once, within the follower's catch-up
limit.

Raises (from ``watch``):
    InvalidArgument: an interval below 1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ap_avs.chain.reader import ChainReader
from ap_avs.clock import now_ms
from ap_avs.domain.schedule import due_boundaries, first_boundary_after
from ap_avs.domain.trigger_data import block_data
from ap_avs.domain.triggers import BlockTriggerConfig, TriggerKind
from ap_avs.errors import Unavailable
from ap_avs.operator.model import Assignment, Sink, TriggerFired, block_key
from ap_avs.operator.watchers._follow import ChainFollower

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Entry:
    assignment: Assignment
    interval: int
    next_due: int | None
    """``None`` until the follower knows its starting block."""


class BlockWatcher:
    """Fires block-interval triggers. Usage: ``watcher.watch(a); await watcher.run(sink)``."""

    kinds: frozenset[TriggerKind] = frozenset({TriggerKind.BLOCK})

    def __init__(
        self,
        reader: ChainReader,
        follower: ChainFollower,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._reader = reader
        self._follower = follower
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def position(self) -> int | None:
        """The last block handled."""
        return self._follower.position

    def watch(self, assignment: Assignment) -> None:
        known = self._entries.get(assignment.workflow_id)
        if known is not None and known.assignment == assignment:
            return
        config = assignment.trigger.config
        if not isinstance(config, BlockTriggerConfig):
            return
        position = self._follower.position
        due = None if position is None else first_boundary_after(position, config.interval)
        if due is None:
            first_boundary_after(0, config.interval)  # validates the interval
        self._entries[assignment.workflow_id] = _Entry(assignment, config.interval, due)

    def unwatch(self, workflow_id: str) -> None:
        self._entries.pop(workflow_id, None)

    def next_due(self, workflow_id: str) -> int | None:
        entry = self._entries.get(workflow_id)
        return entry.next_due if entry else None

    def _plan(self, first: int, last: int) -> list[tuple[int, str]]:
        plan: list[tuple[int, str]] = []
        for workflow_id, entry in self._entries.items():
            if entry.next_due is None:
                entry.next_due = first_boundary_after(first - 1, entry.interval)
            for block in due_boundaries(entry.next_due, entry.interval, first, last):
                plan.append((block, workflow_id))
        plan.sort()
        return plan

    async def run(self, sink: Sink) -> None:
        """Follow the chain and fire due workflows until cancelled."""
        failures = 0
        expected: int | None = None
        while True:
            first, last = await self._follower.next_range()
            if expected is not None and first < expected:  # the chain went back: start over
                for entry in self._entries.values():
                    entry.next_due = None
            plan = self._plan(first, last)
            try:
                headers = await self._reader.headers(sorted({block for block, _ in plan}))
            except Unavailable as exc:
                failures += 1
                logger.warning("block watcher: blocks %s-%s: %s", first, last, exc.message)
                await self._follower.pause_after_error(failures)
                continue
            failures = 0
            now = self._clock()
            fired = [
                TriggerFired(
                    workflow_id,
                    TriggerKind.BLOCK,
                    block_key(workflow_id, block),
                    block_data(headers[block]),
                )
                for block, workflow_id in plan
                if workflow_id in self._entries
                and self._entries[workflow_id].assignment.active_at(now)
            ]
            if fired:
                await sink(fired)
            for entry in self._entries.values():
                if entry.next_due is not None and entry.next_due <= last:
                    entry.next_due = first_boundary_after(last, entry.interval)
            await self._follower.commit(last)
            expected = last + 1
