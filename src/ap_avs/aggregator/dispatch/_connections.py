"""`Connections`: the live SyncMessages streams of operators, and what each operator was told.

Per operator (``_Operator``) it remembers what the operator may be watching (``told``: every
workflow it was sent a monitor for, until that workflow is stopped for good) and its current
connection; every full set stops what is in ``told`` but not assigned, so an operator converges
even when messages were lost with a connection; each connection
(``_Connection``) has a generation number and its own outbox. A new SyncMessages for the same
operator replaces the old connection, and the old stream's clean-up acts only if its connection
is still the current one (LESSONS 2). Putting a message never waits: an outbox that reaches
``outbox_size`` is emptied and replaced by one full resync (LESSONS 3). A send blocked for
``send_timeout_seconds`` drops the stream and aborts the call with UNAVAILABLE, so the operator
reconnects.

Raises:
    QuotaExceeded: :meth:`Connections.connect` inside the reconnect window (§11 literal).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from ap_avs.aggregator.dispatch._model import (
    Capabilities,
    DispatchSettings,
    MessageOp,
    OperatorMessage,
    Watched,
)
from ap_avs.errors import QuotaExceeded

logger = logging.getLogger(__name__)

Abort = Callable[[str], Awaitable[None]]
"""Ends a stream's call with an error (the servicer's ``context.abort``)."""


def go_duration(seconds: float) -> str:
    """``seconds`` the way Go prints a ``time.Duration`` (``1.5s``, ``350ms``, ``2m3s``)."""
    ns = round(seconds * 1e9)

    def trim(value: float) -> str:
        return f"{value:.9f}".rstrip("0").rstrip(".")

    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return trim(ns / 1e3) + "µs"
    if ns < 1_000_000_000:
        return trim(ns / 1e6) + "ms"
    minutes, rest = divmod(ns, 60 * 1_000_000_000)
    hours, minutes = divmod(minutes, 60)
    text = trim(rest / 1e9) + "s"
    if minutes or hours:
        text = f"{minutes}m{text}"
    return f"{hours}h{text}" if hours else text


async def no_abort(reason: str) -> None:
    """An :data:`Abort` that does nothing (streams built without a gRPC context)."""
    return None


class Connection:
    """One SyncMessages stream of an operator (opaque to callers)."""

    __slots__ = (
        "abort",
        "address",
        "capabilities",
        "closing",
        "generation",
        "last_seen",
        "outbox",
        "resync",
    )

    def __init__(
        self, address: str, generation: int, capabilities: Capabilities, now: float, abort: Abort
    ) -> None:
        self.address = address
        self.generation = generation
        self.capabilities = capabilities
        self.last_seen = now
        self.abort = abort
        self.outbox: asyncio.Queue[OperatorMessage | None] = asyncio.Queue()  # None: wake up
        self.resync = False
        self.closing = False


class _Operator:
    __slots__ = ("address", "conn", "generation", "grace_until", "last_connect", "told")

    def __init__(self, address: str) -> None:
        self.address = address
        self.told: set[str] = set()
        self.conn: Connection | None = None
        self.generation = 0
        self.last_connect: float | None = None
        self.grace_until: float | None = None


class Connections:
    """Operator streams. ``assigned(address)`` gives what the operator should watch now;
    ``joined``/``left`` are called (synchronously) when an operator's current stream starts or
    goes away."""

    def __init__(
        self,
        settings: DispatchSettings,
        clock: Callable[[], float],
        *,
        assigned: Callable[[str], list[Watched]],
        is_watched: Callable[[str], bool],
        joined: Callable[[Connection], None],
        left: Callable[[Connection], None],
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._assigned = assigned
        self._is_watched = is_watched
        self._joined = joined
        self._left = left
        self._ops: dict[str, _Operator] = {}
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- state ------------------------------------------------------------------------------

    def live(self) -> dict[str, Capabilities]:
        """Operators with a current stream, and their capabilities."""
        return {a: op.conn.capabilities for a, op in self._ops.items() if op.conn is not None}

    def is_current(self, conn: Connection) -> bool:
        op = self._ops.get(conn.address)
        return op is not None and op.conn is conn and not conn.closing

    def holders(self, workflow_id: str) -> set[str]:
        """Operators that may still be watching ``workflow_id`` (see ``told``)."""
        return {a for a, op in self._ops.items() if workflow_id in op.told}

    def generation(self, address: str) -> int:
        """How many streams the operator opened (0: never connected)."""
        op = self._ops.get(address.lower())
        return 0 if op is None else op.generation

    def backlog(self, address: str) -> int:
        op = self._ops.get(address.lower())
        return 0 if op is None or op.conn is None else op.conn.outbox.qsize()

    def hold(self, addresses: set[str], until: float) -> None:
        """Keep the assignments of these (not yet connected) operators until ``until``."""
        for address in addresses:
            op = self._operator(address)
            if op.conn is None:
                op.grace_until = until

    def held(self) -> set[str]:
        now = self._clock()
        return {
            a
            for a, op in self._ops.items()
            if op.conn is None and op.grace_until is not None and op.grace_until > now
        }

    def changed(self) -> None:
        """Wake every :meth:`wait_until`."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> None:
        """Return once ``predicate()`` holds, re-checked after every state change.

        Raises:
            TimeoutError: it did not hold within ``within`` seconds.
        """
        async with asyncio.timeout(within):
            while not predicate():
                await self._changed.wait()

    # --- operators come and go ----------------------------------------------------------------

    def connect(
        self, address: str, capabilities: Capabilities, abort: Abort = no_abort
    ) -> Connection:
        """Register a new stream of ``address``, replacing its previous one.

        Raises:
            QuotaExceeded: the operator's previous connect was less than the reconnect window
                ago (the refused attempt does not count as a connect).
        """
        now = self._clock()
        op = self._operator(address.lower())
        window = self.settings.reconnect_window_seconds
        if op.last_connect is not None and now - op.last_connect < window:
            raise QuotaExceeded(
                f"reconnecting too fast, wait {window:g}s "
                f"(last connect was {go_duration(now - op.last_connect)} ago)"
            )
        op.last_connect = now
        op.generation += 1
        previous = op.conn
        conn = op.conn = Connection(op.address, op.generation, capabilities, now, abort)
        op.grace_until = None
        if previous is not None:
            logger.info(
                "operator %s reconnected: closing stream #%s", op.address, previous.generation
            )
            self._close(previous)
        self._joined(conn)
        self.changed()
        return conn

    def touch(self, address: str) -> None:
        """The operator made an authenticated call: it is alive."""
        op = self._ops.get(address.lower())
        if op is not None and op.conn is not None:
            op.conn.last_seen = self._clock()

    def expire(self) -> bool:
        """Drop streams of operators silent for ``operator_timeout_seconds`` and end start-up
        graces; True if anything changed."""
        now, timeout = self._clock(), self.settings.operator_timeout_seconds
        changed = False
        for op in list(self._ops.values()):
            if op.conn is not None and now - op.conn.last_seen > timeout:
                self.drop(op.conn, f"silent for more than {timeout:g}s")
                changed = True
            if op.conn is None and op.grace_until is not None and now >= op.grace_until:
                op.grace_until = None
                changed = True
        return changed

    def drop(self, conn: Connection, reason: str) -> None:
        """End ``conn``; if it is still its operator's current one, the operator is gone."""
        self._close(conn)
        op = self._ops.get(conn.address)
        if op is not None and op.conn is conn:
            logger.info("operator %s left (%s)", conn.address, reason)
            op.conn = None
            self._left(conn)
        self.changed()

    def drop_operator(self, address: str, reason: str) -> bool:
        """End the operator's current stream, if it has one (see :meth:`drop`)."""
        op = self._ops.get(address.lower())
        if op is None or op.conn is None:
            return False
        self.drop(op.conn, reason)
        return True

    def evict(self, address: str, reason: str) -> bool:
        """The operator may no longer operate: end its stream (the call ends UNAVAILABLE with
        ``reason``) and any start-up grace, so its workflows go to others; False if it had no
        stream."""
        op = self._ops.get(address.lower())
        if op is None:
            return False
        op.grace_until = None
        conn = op.conn
        if conn is None:
            self.changed()
            return False
        logger.info("operator %s evicted: %s", op.address, reason)
        self.drop(conn, reason)
        self._spawn(self._abort(conn, reason))
        return True

    def close_all(self) -> None:
        for op in self._ops.values():
            if op.conn is not None:
                self._close(op.conn)
        for task in list(self._tasks):
            task.cancel()

    # --- messages ---------------------------------------------------------------------------

    def send(self, address: str, message: OperatorMessage) -> bool:
        """Queue ``message`` for the operator's current stream without waiting; False when it
        has none (it learns at its next connect: full set, and stops from ``told``)."""
        op = self._ops.get(address)
        conn = op.conn if op is not None else None
        if conn is None or conn.closing:
            return False
        if conn.resync:
            return True  # the pending full set covers it
        if conn.outbox.qsize() >= self.settings.outbox_size:
            logger.warning("operator %s is not keeping up: full resync instead", address)
            self.resync(conn)
            return True
        conn.outbox.put_nowait(message)
        return True

    def resync(self, conn: Connection) -> None:
        """Replace whatever waits in the outbox by the operator's full set."""
        while not conn.outbox.empty():
            conn.outbox.get_nowait()
        conn.resync = True
        conn.outbox.put_nowait(None)
        self.changed()

    async def messages(self, conn: Connection) -> AsyncIterator[OperatorMessage]:
        """The messages of one stream: nothing until its first resync (the full set), then
        live changes. Ends when the connection is replaced or dropped."""
        loop = asyncio.get_running_loop()
        try:
            while not conn.closing:
                if conn.resync:
                    conn.resync = False
                    batch = self._full_set(conn.address)
                else:
                    item = await conn.outbox.get()
                    if item is None:
                        continue
                    batch = [item]
                for message in batch:
                    if conn.closing:
                        return
                    timer = loop.call_later(self.settings.send_timeout_seconds, self._stalled, conn)
                    try:
                        yield message
                    finally:
                        timer.cancel()
                    self._delivered(conn.address, message)
        finally:
            self.drop(conn, "stream ended")

    def _full_set(self, address: str) -> list[OperatorMessage]:
        """Stops for everything the operator may still watch but should not, then a monitor
        for each assigned workflow. Workflows no longer watched at all leave ``told`` here
        (should the operator miss the stop, its next trigger report is answered "stop")."""
        op = self._operator(address)
        watched = self._assigned(address)
        keep = {w.workflow_id for w in watched}
        stops = [OperatorMessage(MessageOp.DISABLE, wf) for wf in sorted(op.told - keep)]
        op.told = {wf for wf in op.told if self._is_watched(wf)}
        return stops + [OperatorMessage.monitor(w) for w in watched]

    def _delivered(self, address: str, message: OperatorMessage) -> None:
        """Book a message handed to gRPC. A stop only clears ``told`` when nobody watches the
        workflow any more: a handed-over message may still be lost with its connection, and a
        workflow that moved to another operator must then be stopped again at the next full
        set, or this operator would keep watching it."""
        told = self._operator(address).told
        if message.op in (MessageOp.MONITOR, MessageOp.IMMEDIATE):
            told.add(message.workflow_id)
        elif not self._is_watched(message.workflow_id):
            told.discard(message.workflow_id)
        self.changed()

    def _close(self, conn: Connection) -> None:
        conn.closing = True
        conn.outbox.put_nowait(None)

    def _stalled(self, conn: Connection) -> None:
        reason = f"send blocked for {self.settings.send_timeout_seconds:g}s; reconnect"
        logger.warning("operator %s stream #%s: %s", conn.address, conn.generation, reason)
        self.drop(conn, reason)
        self._spawn(self._abort(conn, reason))

    async def _abort(self, conn: Connection, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.abort(reason), self.settings.send_timeout_seconds)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _operator(self, address: str) -> _Operator:
        op = self._ops.get(address)
        if op is None:
            op = self._ops[address] = _Operator(address)
        return op
