"""The event watcher: contract logs matched against every watched event query.

For each range from the follower (``confirmations`` blocks behind the head): fetch logs with
the index's filters (``eth_getLogs``, bounded ranges; LESSONS.md 6), match each log through the
:class:`~ap_avs.domain.events.EventIndex` (removed logs never match), apply overload limits and
cooldowns (:mod:`ap_avs.operator.event_policy`), build the event data (ERC-20 metadata read
once per token), deliver, and only then advance the cursor and the cooldown state together.

Raises (from ``watch``):
    InvalidArgument: a malformed address or topic in a query.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from itertools import groupby

from ap_avs.chain.reader import ChainReader
from ap_avs.clock import now_ms
from ap_avs.domain.erc20 import Erc20Metadata
from ap_avs.domain.events import EventIndex, Log, Match
from ap_avs.domain.trigger_data import event_data, is_erc20_transfer
from ap_avs.domain.triggers import EventTriggerConfig, TriggerKind
from ap_avs.errors import Unavailable
from ap_avs.operator.event_policy import BlockMatches, decide
from ap_avs.operator.model import Assignment, Signal, Sink, TriggerFired, event_key
from ap_avs.operator.watchers._follow import ChainFollower

logger = logging.getLogger(__name__)


class EventWatcher:
    """Fires event triggers. Usage: ``watcher.watch(a); await watcher.run(sink)``."""

    kinds: frozenset[TriggerKind] = frozenset({TriggerKind.EVENT})

    def __init__(
        self,
        reader: ChainReader,
        follower: ChainFollower,
        *,
        chain_id: int,
        last_fired: dict[str, int] | None = None,
        max_events_per_query: int = 500,
        max_events_per_workflow: int = 1000,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._reader = reader
        self._follower = follower
        self._chain_id = chain_id
        self._last_fired = dict(last_fired or {})
        self._max_per_query = max_events_per_query
        self._max_per_workflow = max_events_per_workflow
        self._clock = clock
        self.index = EventIndex()
        self._assignments: dict[str, Assignment] = {}
        self.fired_count = 0

    def __len__(self) -> int:
        return len(self._assignments)

    @property
    def position(self) -> int | None:
        return self._follower.position

    def watch(self, assignment: Assignment) -> None:
        known = self._assignments.get(assignment.workflow_id)
        if known is not None and known == assignment:
            return
        config = assignment.trigger.config
        if not isinstance(config, EventTriggerConfig):
            return
        self.index.add(assignment.workflow_id, config.queries)
        self._assignments[assignment.workflow_id] = assignment

    def unwatch(self, workflow_id: str) -> None:
        if self._assignments.pop(workflow_id, None) is not None:
            self.index.remove(workflow_id)
            self._last_fired.pop(workflow_id, None)

    async def _fetch(self, first: int, last: int) -> list[Log]:
        filters = self.index.log_filters()
        batches = await asyncio.gather(*(self._reader.logs(f, first, last) for f in filters))
        unique = {(log.block_number, log.log_index): log for batch in batches for log in batch}
        return [unique[key] for key in sorted(unique)]

    async def _timestamps(self, logs: list[Log]) -> dict[int, int]:
        known = {
            log.block_number: log.block_timestamp for log in logs if log.block_timestamp is not None
        }
        missing = sorted({log.block_number for log in logs} - known.keys())
        headers = await self._reader.headers(missing) if missing else {}
        known.update({number: header.timestamp for number, header in headers.items()})
        return known

    async def _signal(self, match: Match, timestamps: dict[int, int]) -> TriggerFired:
        log = match.log
        token: Erc20Metadata | None = None
        if is_erc20_transfer(log):
            token = await self._reader.token(log.address)
        data = event_data(
            match,
            chain_id=self._chain_id,
            block_timestamp=timestamps.get(log.block_number),
            token=token,
        )
        workflow_id = match.query.workflow_id
        return TriggerFired(
            workflow_id,
            TriggerKind.EVENT,
            event_key(workflow_id, log.transaction_hash, log.log_index),
            data,
        )

    async def _handle(self, first: int, last: int, sink: Sink) -> None:
        logs = await self._fetch(first, last) if len(self.index) else []
        matches = [match for log in logs for match in self.index.match(log)]
        timestamps = await self._timestamps([m.log for m in matches]) if matches else {}
        blocks = [
            BlockMatches(number, timestamps.get(number, 0), tuple(group))
            for number, group in groupby(matches, key=lambda m: m.log.block_number)
        ]
        cooldowns = {
            workflow_id: a.trigger.config.cooldown_seconds
            for workflow_id, a in self._assignments.items()
            if isinstance(a.trigger.config, EventTriggerConfig)
        }
        decision = decide(
            blocks,
            cooldowns=cooldowns,
            last_fired=self._last_fired,
            max_per_query=self._max_per_query,
            max_per_workflow=self._max_per_workflow,
        )
        now = self._clock()
        signals: list[Signal] = list(decision.overloads)
        for match in decision.fire:
            assignment = self._assignments.get(match.query.workflow_id)
            if assignment is not None and assignment.active_at(now):
                signals.append(await self._signal(match, timestamps))
        if signals:
            await sink(signals)
        self.fired_count += len(signals) - len(decision.overloads)
        self._last_fired = {
            workflow_id: ts
            for workflow_id, ts in decision.last_fired.items()
            if workflow_id in self._assignments
        }

    async def run(self, sink: Sink) -> None:
        """Follow the chain and fire matching workflows until cancelled."""
        failures = 0
        while True:
            first, last = await self._follower.next_range()
            try:
                await self._handle(first, last, sink)
            except Unavailable as exc:
                failures += 1
                logger.warning("event watcher: blocks %s-%s: %s", first, last, exc.message)
                await self._follower.pause_after_error(failures)
                continue
            failures = 0
            await self._follower.commit(last, self._cooldown_state())

    def _cooldown_state(self) -> dict[str, int]:
        """The cooldown entries worth persisting: watched workflows with a cooldown."""
        return {
            workflow_id: fired_at
            for workflow_id, fired_at in self._last_fired.items()
            if (a := self._assignments.get(workflow_id)) is not None
            and isinstance(a.trigger.config, EventTriggerConfig)
            and a.trigger.config.cooldown_seconds != 0
        }
