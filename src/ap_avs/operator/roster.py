"""The workflows this operator watches, routed to the watcher of each trigger kind.

Every ``MonitorTaskTrigger`` is an idempotent upsert and every removal a no-op when unknown
(LESSONS.md 1). The aggregator sends no "end of set" marker, so resynchronisation works by
**generations**: each stream the client opens is a new generation; an upsert stamps the
workflow with it; ``resync_grace`` seconds after a stream opened (and while it is still
open), workflows not re-sent on it are dropped. A stream that closes before the grace ends
drops nothing. Upstream's aggregator waits 10 s before its first pass, hence the 30 s default.

**Start-up**: the checkpoint lists the chain-watched workflows of the previous run. Until they
have all been re-sent (or removed), or the grace after the first stream has passed, ``ready``
stays clear and chain watchers hold their cursors, so the blocks passed while the operator was
down are caught up for them instead of being skipped. A first start (nothing listed) is ready
at once.

Nothing here raises: an assignment a watcher refuses (``InvalidArgument``) is logged and
dropped, and a kind no watcher handles (manual triggers, disabled features) is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Final

from ap_avs.domain.triggers import TriggerKind
from ap_avs.errors import InvalidArgument
from ap_avs.operator.checkpoint import CheckpointStore
from ap_avs.operator.model import Assignment, Watcher

logger = logging.getLogger(__name__)

CHAIN_KINDS: Final = frozenset({TriggerKind.BLOCK, TriggerKind.EVENT})
DEFAULT_RESYNC_GRACE: Final = 30.0


class Roster:
    """Assignments in, watcher calls out. Also the client's stream handler.

    Usage::

        roster = Roster([time_watcher, block_watcher], store)
        roster.connected(generation=1)
        roster.upsert(assignment, generation=1)
    """

    def __init__(
        self,
        watchers: Sequence[Watcher],
        store: CheckpointStore | None = None,
        *,
        resync_grace: float = DEFAULT_RESYNC_GRACE,
        immediate: Callable[[Assignment], None] | None = None,
        ready: asyncio.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._route: dict[TriggerKind, Watcher] = {k: w for w in watchers for k in w.kinds}
        self._store = store
        self._grace = resync_grace
        self._immediate = immediate
        self._clock = clock
        self._entries: dict[str, tuple[Assignment, int]] = {}
        self._generation = 0
        self._deadline: float | None = None
        self._awaited = set(store.state.workflows) if store is not None else set()
        self._saved_ids = frozenset(self._awaited)
        self._wake = asyncio.Event()
        self.ready = ready if ready is not None else asyncio.Event()
        """Set once chain watchers may move their cursors (see the module docstring)."""
        if not self._awaited:
            self.ready.set()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def kinds(self) -> frozenset[TriggerKind]:
        """The trigger kinds some watcher handles (the capabilities to announce)."""
        return frozenset(self._route)

    def watching(self, workflow_id: str) -> bool:
        return workflow_id in self._entries

    def assignment(self, workflow_id: str) -> Assignment | None:
        entry = self._entries.get(workflow_id)
        return entry[0] if entry else None

    def connected(self, generation: int) -> None:
        """A stream of ``generation`` opened: start its grace period."""
        self._generation = generation
        self._deadline = self._clock() + self._grace
        self._wake.set()

    def disconnected(self) -> None:
        """The stream closed: nothing is dropped for it."""
        self._deadline = None

    def upsert(self, assignment: Assignment, generation: int) -> None:
        """Watch ``assignment`` (an identical one is a no-op besides the generation stamp)."""
        workflow_id = assignment.workflow_id
        self._seen(workflow_id)
        watcher = self._route.get(assignment.kind)
        if watcher is None:
            logger.debug(
                "ignoring workflow %s: no watcher for %s", workflow_id, assignment.kind.name
            )
            self.remove(workflow_id, "its trigger kind is not watched here")
            return
        previous = self._entries.get(workflow_id)
        if previous is not None and previous[0].kind != assignment.kind:
            self._route[previous[0].kind].unwatch(workflow_id)
        try:
            watcher.watch(assignment)
        except InvalidArgument as exc:
            logger.warning("cannot watch workflow %s: %s", workflow_id, exc.message)
            self.remove(workflow_id, "its trigger cannot be watched")
            return
        if previous is None:
            logger.info(
                "watching workflow %s (%s trigger)", workflow_id, assignment.kind.name.lower()
            )
        self._entries[workflow_id] = (assignment, generation)

    def remove(self, workflow_id: str, reason: str) -> None:
        """Stop watching ``workflow_id`` (no-op when unknown)."""
        self._seen(workflow_id)
        entry = self._entries.pop(workflow_id, None)
        if entry is None:
            return
        self._route[entry[0].kind].unwatch(workflow_id)
        logger.info("stopped watching workflow %s: %s", workflow_id, reason)

    def immediate(self, assignment: Assignment) -> None:
        """Fire ``assignment`` once now (``ImmediateTrigger``), if the app supports it."""
        if self._immediate is not None:
            self._immediate(assignment)

    def _seen(self, workflow_id: str) -> None:
        if self._awaited:
            self._awaited.discard(workflow_id)
            if not self._awaited:
                logger.info("every workflow of the previous run was re-sent")
                self.ready.set()

    def sweep(self) -> int:
        """Drop what the current stream did not re-send once its grace is over; the count."""
        if self._deadline is None or self._clock() < self._deadline:
            return 0
        self._deadline = None
        stale = [wid for wid, (_, gen) in self._entries.items() if gen < self._generation]
        for workflow_id in stale:
            self.remove(workflow_id, "not re-sent by the aggregator after reconnecting")
        if not self.ready.is_set():
            if self._awaited:
                logger.info("%s workflows of the previous run were not re-sent", len(self._awaited))
            self._awaited.clear()
            self.ready.set()
        return len(stale)

    def chain_ids(self) -> frozenset[str]:
        """Ids of the workflows watched on chain (what the checkpoint keeps)."""
        return frozenset(w for w, (a, _) in self._entries.items() if a.kind in CHAIN_KINDS)

    async def save(self) -> None:
        """Persist the chain-watched ids if they changed (and the set is complete)."""
        ids = self.chain_ids()
        if self._store is not None and ids != self._saved_ids and self.ready.is_set():
            await self._store.save_workflows(ids)
            self._saved_ids = ids

    async def run(self, save_every: float = 1.0) -> None:
        """Apply grace deadlines and persist the chain-watched ids (at most once per
        ``save_every`` seconds) until cancelled; the app calls :meth:`save` once more at stop."""
        while True:
            self._wake.clear()
            self.sweep()
            await self.save()
            timeout = save_every
            if self._deadline is not None:
                timeout = min(timeout, max(0.0, self._deadline - self._clock()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):  # (wait_for can swallow a cancel on 3.11)
                    await self._wake.wait()
