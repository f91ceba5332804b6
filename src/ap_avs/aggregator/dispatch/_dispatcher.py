"""`Dispatcher`: durable assignment of enabled workflows to live operators, kept up to date.

One task (:meth:`Dispatcher.run`) owns the assignment state: it loads it at start, applies
workflow events, re-plans when operators come and go (:func:`plan`), writes the
``assign:<workflowId>`` keys and then updates its in-memory mirror, and queues the resulting
messages on the operators' streams (:class:`Connections`). Everything else only reads the
mirror or puts work on the control queue without waiting, so a user RPC that publishes a
workflow event never waits on operator I/O (LESSONS 3). A dropped operator's workflows go to
the others at once; after an aggregator restart, operators holding assignments get
``operator_timeout_seconds`` to come back before theirs are moved.

Quorum mode (``replicas`` = n > 1): besides its durable primary, each workflow is watched by
up to ``n - 1`` more capable live operators (:func:`plan_replicas`, kept in memory and
recomputed whenever the primaries are planned). Suspended operators (:meth:`suspend`) are
dropped, refused at connect, and never planned.

Raises:
    QuotaExceeded: :meth:`Dispatcher.connect` within the reconnect window.
    PermissionDenied: :meth:`Dispatcher.connect` of a suspended operator.
    StoreError: :meth:`Dispatcher.load`; inside :meth:`Dispatcher.run` a failing step is
        logged and retried at the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Literal

from ap_avs.aggregator.dispatch._connections import Abort, Connection, Connections, no_abort
from ap_avs.aggregator.dispatch._model import (
    Capabilities,
    DispatchSettings,
    MessageOp,
    OperatorMessage,
    Watched,
    capability_for,
)
from ap_avs.aggregator.dispatch._plan import Plan, choose, plan, plan_replicas
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.workflow_events import WorkflowEvent, WorkflowEventKind
from ap_avs.errors import PermissionDenied
from ap_avs.store import keys
from ap_avs.store.kv import KV, Txn
from ap_avs.store.workflows import WorkflowRepo

logger = logging.getLogger(__name__)

_Control = (
    tuple[Literal["event"], WorkflowEvent]
    | tuple[Literal["joined"], Connection]
    | tuple[Literal["left"], Connection]
)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while start-up decodes every enabled workflow.

    The decoded records hold no reference cycles, but each allocation burst triggers
    collections that walk the whole growing heap: with 100,000 enabled workflows they took
    over half of the load (benchmarks/bench_scale.py, docs/decisions/20261128-performance.md).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Dispatcher:
    """Assigns enabled workflows to live operators and streams their messages.

    Usage::

        dispatcher = Dispatcher(kv, WorkflowRepo(kv), DispatchSettings())
        events.subscribe(dispatcher)
        tasks.create_task(dispatcher.run(stop))
        conn = dispatcher.connect(address, capabilities, abort)   # in SyncMessages
        async for message in dispatcher.messages(conn): ...
    """

    def __init__(
        self,
        kv: KV,
        workflows: WorkflowRepo,
        settings: DispatchSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        replicas: int = 1,
    ) -> None:
        self._kv = kv
        self._extra = max(0, replicas - 1)
        self._replicas: dict[str, tuple[str, ...]] = {}
        self._replica_of: dict[str, set[str]] = {}
        self._suspended: set[str] = set()
        self._workflows = workflows
        self.settings = settings or DispatchSettings()
        self._assign: dict[str, str] = {}
        self._by_op: dict[str, set[str]] = {}
        self._watched: dict[str, Watched] = {}
        self._control: asyncio.Queue[_Control] = asyncio.Queue()
        self._loaded = False
        self._dirty = False
        self._clock = clock
        self.connections = Connections(
            self.settings,
            clock,
            assigned=self._assigned_watched,
            is_watched=lambda workflow_id: workflow_id in self._watched,
            joined=lambda conn: self._control.put_nowait(("joined", conn)),
            left=lambda conn: self._control.put_nowait(("left", conn)),
        )

    # --- reading the state (any task) ---------------------------------------------------------

    def assignee(self, workflow_id: str) -> str | None:
        """The (lower-case) primary operator assigned to a workflow, if any."""
        return self._assign.get(workflow_id)

    def assignees(self, workflow_id: str) -> tuple[str, ...]:
        """Every (lower-case) operator watching a workflow: the primary, then the replicas."""
        primary = self._assign.get(workflow_id)
        if primary is None:
            return ()
        return (primary, *self._replicas.get(workflow_id, ()))

    def assigned_to(self, address: str) -> set[str]:
        address = address.lower()
        return set(self._by_op.get(address, ())) | self._replica_of.get(address, set())

    def is_suspended(self, address: str) -> bool:
        return address.lower() in self._suspended

    def suspended(self) -> set[str]:
        return set(self._suspended)

    def suspend(self, address: str, reason: str = "suspended") -> None:
        """Stop serving an operator: its stream ends, its workflows go to others, and it cannot
        connect again until :meth:`lift`."""
        address = address.lower()
        self._suspended.add(address)
        self.connections.drop_operator(address, reason)

    def lift(self, address: str) -> None:
        """Serve a suspended operator again (from its next connect)."""
        self._suspended.discard(address.lower())

    def assignments(self) -> dict[str, str]:
        return dict(self._assign)

    def live_operators(self) -> dict[str, Capabilities]:
        return self.connections.live()

    def watched(self) -> set[str]:
        """Workflows that need an operator (enabled, trigger not manual)."""
        return set(self._watched)

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> None:
        """Return once ``predicate()`` holds (see :meth:`Connections.wait_until`).

        Raises:
            TimeoutError: not within ``within`` seconds.
        """
        await self.connections.wait_until(predicate, within)

    def _assigned_watched(self, address: str) -> list[Watched]:
        mine = self._by_op.get(address, set()) | self._replica_of.get(address, set())
        ids = mine & self._watched.keys()
        return [self._watched[wf] for wf in sorted(ids)]

    # --- inputs that never wait ---------------------------------------------------------------

    def workflow_changed(self, event: WorkflowEvent) -> None:
        """WorkflowEvents listener: queue the event for the dispatch task; returns at once."""
        self._control.put_nowait(("event", event))

    def touch(self, address: str) -> None:
        """The operator made an authenticated call: it is alive."""
        self.connections.touch(address)

    def connect(
        self, address: str, capabilities: Capabilities, abort: Abort = no_abort
    ) -> Connection:
        """Register a new SyncMessages stream (see :meth:`Connections.connect`).

        Raises:
            QuotaExceeded: within the reconnect window.
            PermissionDenied: the operator is suspended.
        """
        if address.lower() in self._suspended:
            raise PermissionDenied(
                f"operator {address} is suspended after invalid trigger reports; "
                "ask the aggregator's operators to review the evidence"
            )
        return self.connections.connect(address, capabilities, abort)

    def messages(self, conn: Connection) -> AsyncIterator[OperatorMessage]:
        """The stream's messages: the full set once planned, then live changes."""
        return self.connections.messages(conn)

    def disown(self, address: str, workflow_id: str) -> bool:
        """Tell an operator that is not the assignee to stop watching ``workflow_id`` (it
        reported a trigger for it); False if it is the assignee or has no stream."""
        address = address.lower()
        if address in self.assignees(workflow_id):
            return False
        return self.connections.send(address, OperatorMessage(MessageOp.DISABLE, workflow_id))

    def evict(self, address: str, reason: str) -> None:
        """The operator lost its admission: end its stream now and move its workflows to
        other operators at the next dispatch step."""
        self.connections.evict(address, f"operator {address} is no longer admitted: {reason}")
        self._dirty = True

    def send_immediate(self, wf: Workflow) -> bool:
        """Ask the assigned operator to fire ``wf`` now (ImmediateTrigger); False if none."""
        assignee = self._assign.get(wf.id)
        if assignee is None:
            return False
        message = OperatorMessage(MessageOp.IMMEDIATE, wf.id, Watched.of(wf))
        return self.connections.send(assignee, message)

    # --- the dispatch task --------------------------------------------------------------------

    async def load(self) -> None:
        """Read the enabled workflows and the stored assignments; drop stale assignments."""
        enabled = await self._workflows.enabled()  # decoded one by one as we go
        with _collector_paused():
            self._watched = {
                wf.id: Watched.of(wf)
                for wf in enabled
                if capability_for(wf.trigger.kind) is not None
            }
        stale: list[bytes] = []
        for key, value in await self._kv.scan(keys.ASSIGNMENTS):
            workflow_id, address = keys.parse_assign(key), value.decode(errors="replace")
            if workflow_id in self._watched and address:
                self._assign[workflow_id] = address
                self._by_op.setdefault(address, set()).add(workflow_id)
            else:
                stale.append(key)
        if stale:
            await self._kv.update(lambda txn: [txn.delete(key) for key in stale])
        grace = self._clock() + self.settings.operator_timeout_seconds
        self.connections.hold(set(self._by_op), grace)
        self._loaded = True
        self._dirty = True
        self.connections.changed()
        logger.info(
            "dispatch: %s workflows to watch, %s assigned", len(self._watched), len(self._assign)
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set: apply events, plan assignments, watch liveness."""
        if not self._loaded:
            await self.load()
        tick = max(0.02, min(1.0, self.settings.operator_timeout_seconds / 4))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                getter = asyncio.ensure_future(self._control.get())
                done, _ = await asyncio.wait(
                    {getter, stopping}, timeout=tick, return_when=asyncio.FIRST_COMPLETED
                )
                items = [getter.result()] if getter in done else []
                if getter not in done:
                    getter.cancel()
                while not self._control.empty():
                    items.append(self._control.get_nowait())
                await self._step(items)
        finally:
            stopping.cancel()
            self.connections.close_all()

    async def _step(self, items: list[_Control]) -> None:
        joined: list[Connection] = []
        try:
            for item in items:
                if item[0] == "event":
                    await self._on_event(item[1])
                else:
                    if item[0] == "joined":
                        joined.append(item[1])
                    self._dirty = True
            if self.connections.expire():
                self._dirty = True
            if self._dirty:
                self._dirty = False
                await self._replan()
        except Exception:
            self._dirty = True  # retried at the next tick
            logger.exception("dispatch step failed; retrying")
        for conn in joined:
            if self.connections.is_current(conn):
                self.connections.resync(conn)  # the full set, after the plan above

    def _live(self) -> dict[str, Capabilities]:
        live = self.connections.live()
        return {a: c for a, c in live.items() if a not in self._suspended}

    async def _replan(self) -> None:
        needs = {wf: w.capability for wf, w in self._watched.items() if w.capability is not None}
        live, held = self._live(), self.connections.held() - self._suspended
        await self._apply(plan(self._assign, needs, live, held, balance=self.settings.rebalance))
        self._replan_replicas()

    def _replan_replicas(self) -> None:
        """Recompute the replicas (quorum mode) and tell the operators that gain or lose one."""
        if not self._extra and not self._replicas:
            return
        needs = {wf: w.capability for wf, w in self._watched.items() if w.capability is not None}
        new = plan_replicas(self._assign, needs, self._replicas, self._live(), self._extra)
        if new == self._replicas:
            return
        old = self._replicas
        self._replicas = new
        self._replica_of = {}
        for wf, members in new.items():
            for op in members:
                self._replica_of.setdefault(op, set()).add(wf)
        send = self.connections.send
        for wf in sorted(set(old) | set(new)):
            before, after = set(old.get(wf, ())), set(new.get(wf, ()))
            keep = after | ({self._assign[wf]} if wf in self._assign else set())
            for op in sorted(before - keep):
                send(op, OperatorMessage(MessageOp.DISABLE, wf))
            watched = self._watched.get(wf)
            for op in sorted(after - before):
                if watched is not None:
                    send(op, OperatorMessage.monitor(watched))
        self.connections.changed()

    async def _apply(self, changes: Plan, stop_op: MessageOp = MessageOp.DISABLE) -> None:
        if not changes:
            return

        def write(txn: Txn) -> None:
            for workflow_id, address in changes.items():
                if address is None:
                    txn.delete(keys.assign(workflow_id))
                else:
                    txn.put(keys.assign(workflow_id), address.encode())

        await self._kv.update(write)
        send = self.connections.send
        for workflow_id, new in changes.items():
            old = self._assign.pop(workflow_id, None)
            if old is not None:
                self._by_op.get(old, set()).discard(workflow_id)
                if old != new:
                    send(old, OperatorMessage(stop_op, workflow_id))
            if new is not None:
                self._assign[workflow_id] = new
                self._by_op.setdefault(new, set()).add(workflow_id)
                watched = self._watched.get(workflow_id)
                if new != old and watched is not None:
                    send(new, OperatorMessage.monitor(watched))
        logger.info("dispatch: %s assignments changed", len(changes))
        self.connections.changed()

    async def _on_event(self, event: WorkflowEvent) -> None:
        wf = event.workflow
        needed = capability_for(wf.trigger.kind)
        if event.kind.starts_watching and wf.status is TaskStatus.ENABLED and needed is not None:
            watched = self._watched[wf.id] = Watched.of(wf)
            current = self._assign.get(wf.id)
            load = {a: len(s) for a, s in self._by_op.items()}
            live, held = self._live(), self.connections.held() - self._suspended
            new = choose(needed, current, live, load, held)
            if new != current:
                await self._apply({wf.id: new})
            elif new is not None:
                self.connections.send(new, OperatorMessage.monitor(watched))  # idempotent upsert
            for op in self._replicas.get(wf.id, ()):
                self.connections.send(op, OperatorMessage.monitor(watched))
            self._replan_replicas()
            return
        self._watched.pop(wf.id, None)
        stop_op = MessageOp.DELETE if event.kind is WorkflowEventKind.DELETED else MessageOp.DISABLE
        holders = self.connections.holders(wf.id)
        current = self._assign.get(wf.id)
        if current is not None:
            await self._apply({wf.id: None}, stop_op)
            holders.discard(current)
        if self._replicas.pop(wf.id, None) is not None:
            for members in self._replica_of.values():
                members.discard(wf.id)
        for address in sorted(holders):
            self.connections.send(address, OperatorMessage(stop_op, wf.id))
