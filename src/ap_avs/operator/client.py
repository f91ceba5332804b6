"""The operator's side of ``aggregator.Node``: the only operator module that imports protobuf.

:class:`OperatorClient` keeps one ``SyncMessages`` stream open and feeds its messages to a
:class:`StreamHandler` (the roster) as domain values; pings every ``ping_interval`` seconds
while a stream is open; and sends ``NotifyTriggers`` / ``ReportEventOverload`` for the watchers.
Every call carries fresh :class:`~ap_avs.auth.operator_requests.OperatorSigner` headers (one nonce
per
attempt).

Reconnecting (LESSONS.md 2): after a stream ends for any reason (error, throttling with
``RESOURCE_EXHAUSTED``, or the server closing it), wait ``Backoff`` 1 s -> 60 s, doubling, with
jitter (each delay is drawn from [d/2, d]); the count restarts after a stream that stayed open
``healthy_after`` seconds.

Delivery: ``UNAVAILABLE``, ``DEADLINE_EXCEEDED``, ``RESOURCE_EXHAUSTED`` and ``ABORTED`` are
retried until they succeed (a watcher waits, and its cursor stays put, while the aggregator is
away); ``UNKNOWN``, ``INTERNAL``, ``UNAUTHENTICATED`` and ``CANCELLED`` up to five attempts;
anything else gives up at once. ``NOT_FOUND``, ``PERMISSION_DENIED`` and
``FAILED_PRECONDITION`` also mean "stop watching".

Raises: nothing but ``CancelledError``; failures are logged and reported in the outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Protocol, Self

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from ap_avs._proto import node_pb2, node_pb2_grpc
from ap_avs.auth.operator_requests import OperatorSigner
from ap_avs.auth.trigger_reports import sign_report
from ap_avs.clock import now_ms
from ap_avs.domain.triggers import TriggerKind
from ap_avs.errors import InvalidArgument
from ap_avs.operator.model import Assignment, EventOverload, TriggerFired
from ap_avs.tls import ClientTls, client_channel
from ap_avs.wire import TRIGGER_OUTPUT_FIELD, json_to_value, trigger_from_pb, value_to_json

logger = logging.getLogger(__name__)

_SERVICE: Final = "/aggregator.Node/"
_RETRY_ALWAYS: Final = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)
_RETRY_FEW: Final = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.CANCELLED,
    }
)
_STOP_WATCHING: Final = frozenset(
    {
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)
_FEW_ATTEMPTS: Final = 5
_CHANNEL_OPTIONS: Final = (
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    # Find a silently dead connection (the stream would otherwise wait for hours); servers
    # accept one keepalive ping per 5 minutes by default.
    ("grpc.keepalive_time_ms", 300_000),
    ("grpc.keepalive_timeout_ms", 20_000),
)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: attempt ``n`` waits in ``[d/2, d]``,
    ``d = min(maximum, initial * factor**(n-1))``."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        ceiling = min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))
        return ceiling * (0.5 + 0.5 * rng())


@dataclass(frozen=True, slots=True)
class NotifyOutcome:
    """What the aggregator answered to one firing."""

    delivered: bool
    keep_watching: bool
    remaining: int = -1
    status: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class PingStats:
    """What a ``Checkin`` reports."""

    block_number: int = 0
    event_count: int = 0
    queue_depth: int = 0


class StreamHandler(Protocol):
    """Receives the stream's messages as domain values (implemented by the roster)."""

    def connected(self, generation: int) -> None: ...

    def disconnected(self) -> None: ...

    def upsert(self, assignment: Assignment, generation: int) -> None: ...

    def remove(self, workflow_id: str, reason: str) -> None: ...

    def immediate(self, assignment: Assignment) -> None: ...


def assignment_from_pb(message: Any) -> Assignment:
    """The assignment a ``SyncMessagesResp`` carries.

    Raises:
        InvalidArgument: no task metadata or trigger, or a trigger that does not convert.
    """
    meta = message.task_metadata
    workflow_id = meta.task_id or message.id
    if not message.HasField("task_metadata") or not meta.HasField("trigger"):
        raise InvalidArgument(f"message for workflow {workflow_id} has no trigger")
    return Assignment(
        workflow_id=workflow_id,
        trigger=trigger_from_pb(meta.trigger),
        start_at=meta.start_at,
        expired_at=meta.expired_at,
        max_executions=meta.remain,
    )


def notify_request(signer: OperatorSigner, fired: TriggerFired) -> Any:
    """The ``NotifyTriggersReq`` of a firing, its content signed
    (:mod:`ap_avs.auth.trigger_reports`; the digest is of the data as it crosses the wire)."""
    request = node_pb2.NotifyTriggersReq(
        address=signer.address,
        task_id=fired.workflow_id,
        trigger_type=fired.kind.wire_name,
        trigger_request_id=fired.key,
    )
    output = getattr(request, TRIGGER_OUTPUT_FIELD[fired.kind])
    output.data.CopyFrom(json_to_value(fired.data))
    request.signature = sign_report(
        signer,
        task_id=fired.workflow_id,
        occurrence=fired.key,
        kind=fired.kind,
        data=value_to_json(output.data),
    )
    return request


class OperatorClient:
    """One operator's connection to the aggregator. Use as an async context manager.

    Usage::

        async with OperatorClient("127.0.0.1:2206", signer, kinds=roster.kinds) as client:
            await client.run(roster)

    ``target`` is ``host:port``; with ``tls`` the channel is TLS and verifies the server's
    certificate (``ap_avs.tls``).
    """

    def __init__(
        self,
        target: str,
        signer: OperatorSigner,
        *,
        kinds: frozenset[TriggerKind],
        instance_id: str = "",
        version: str = "",
        stats: Callable[[], PingStats] = PingStats,
        ping_interval: float = 5.0,
        backoff: Backoff = Backoff(),
        retry_backoff: Backoff = Backoff(initial=0.5, maximum=10.0),
        healthy_after: float = 10.0,
        settle: float = 1.0,
        call_timeout: float = 10.0,
        clock_ms: Callable[[], int] = now_ms,
        tls: ClientTls | None = None,
    ) -> None:
        self.target = target
        self._tls = tls
        self._signer = signer
        self._kinds = kinds
        self._instance_id = instance_id or signer.address
        self._version = version
        self._stats = stats
        self._ping_interval = ping_interval
        self._backoff = backoff
        self._retry_backoff = retry_backoff
        self._healthy_after = healthy_after
        self._settle = settle
        self._timeout = call_timeout
        self._clock_ms = clock_ms
        self._started = time.monotonic()
        self._channel: grpc.aio.Channel | None = None
        self._stub: Any = None
        self._open = False
        self._poke = asyncio.Event()
        self.generation = 0
        self.last_ping_ms = 0

    async def __aenter__(self) -> Self:
        self._channel = client_channel(
            self.target, self._tls, options=_CHANNEL_OPTIONS, key_prefix="aggregator_tls"
        )
        self._stub = node_pb2_grpc.NodeStub(self._channel)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._channel is not None:
            await self._channel.close()

    @property
    def connected(self) -> bool:
        """Whether the task stream is open."""
        return self._open

    def _metadata(self, method: str) -> tuple[tuple[str, str], ...]:
        return self._signer.metadata(_SERVICE + method, self._clock_ms())

    async def run(self, handler: StreamHandler) -> None:
        """Keep the task stream open (reconnecting with backoff) and ping, until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._ping_loop(), name="operator-ping")
            failures = 0
            while True:
                started = time.monotonic()
                reason = await self._stream_once(handler)
                if time.monotonic() - started >= self._healthy_after:
                    failures = 0
                failures += 1
                delay = self._backoff.delay(failures)
                logger.warning(
                    "task stream to %s ended (%s); reconnecting in %.1f s",
                    self.target,
                    reason,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _stream_once(self, handler: StreamHandler) -> str:
        self.generation += 1
        generation = self.generation
        request = node_pb2.SyncMessagesReq(
            id=self._instance_id,
            address=self._signer.address,
            monotonic_clock=time.time_ns(),
            capabilities=node_pb2.SyncMessagesReq.Capabilities(
                event_monitoring=TriggerKind.EVENT in self._kinds,
                block_monitoring=TriggerKind.BLOCK in self._kinds,
                time_monitoring=bool(self._kinds & {TriggerKind.CRON, TriggerKind.FIXED_TIME}),
            ),
        )
        call = self._stub.SyncMessages(request, metadata=self._metadata("SyncMessages"))
        try:
            await self._opened(call)
            self._open = True
            handler.connected(generation)
            logger.info("task stream to %s open (generation %s)", self.target, generation)
            self._poke.set()
            async for message in call:
                self._dispatch(message, handler, generation)
            return "closed by the aggregator"
        except grpc.aio.AioRpcError as exc:
            return f"{exc.code().name}: {exc.details()}"
        finally:
            if self._open:
                self._open = False
                handler.disconnected()
            call.cancel()

    async def _opened(self, call: Any) -> None:
        """Return once the stream counts as open: the server sent its headers, or the call is
        still alive after ``settle`` seconds (a server may send nothing until it has work).

        Raises:
            grpc.aio.AioRpcError: the call failed first (refused, throttled, unreachable).
        """
        waiter = asyncio.ensure_future(call.wait_for_connection())
        waiter.add_done_callback(lambda f: f.cancelled() or f.exception())
        done, _ = await asyncio.wait({waiter}, timeout=self._settle)
        if waiter in done:
            waiter.result()
        elif call.done():
            await call.wait_for_connection()

    def _dispatch(self, message: Any, handler: StreamHandler, generation: int) -> None:
        op = message.op
        if op in (node_pb2.MonitorTaskTrigger, node_pb2.ImmediateTrigger):
            try:
                assignment = assignment_from_pb(message)
            except InvalidArgument as exc:
                logger.warning("ignoring a task message: %s", exc.message)
                return
            if op == node_pb2.MonitorTaskTrigger:
                handler.upsert(assignment, generation)
            else:
                handler.immediate(assignment)
        elif op in (node_pb2.DisableTask, node_pb2.DeleteTask, node_pb2.CompletedTask):
            workflow_id = message.id or message.task_metadata.task_id
            handler.remove(workflow_id, f"{node_pb2.MessageOp.Name(op)} from the aggregator")
        else:
            logger.debug("ignoring task message op %s", op)

    async def _ping_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(
                    self._ping_interval
                ):  # (wait_for can swallow a cancel on 3.11)
                    await self._poke.wait()
            self._poke.clear()
            if self._open:
                await self.ping()

    async def ping(self) -> bool:
        """Send one ``Checkin``; whether it was accepted."""
        stats = self._stats()
        heartbeat = Timestamp()
        heartbeat.FromMilliseconds(self._clock_ms())
        checkin = node_pb2.Checkin(
            id=self._instance_id,
            address=self._signer.address,
            version=self._version,
            block_number=stats.block_number,
            event_count=stats.event_count,
            status=node_pb2.Checkin.Status(
                uptime=int(time.monotonic() - self._started),
                queueDepth=stats.queue_depth,
                last_heartbeat=heartbeat,
            ),
        )
        try:
            await self._stub.Ping(checkin, metadata=self._metadata("Ping"), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            logger.warning("ping failed: %s: %s", exc.code().name, exc.details())
            return False
        self.last_ping_ms = self._clock_ms()
        return True

    async def _call(self, method: str, request: Any, what: str) -> tuple[Any, Any]:
        """``(response, None)`` or ``(None, status code)`` after the retry policy."""
        attempt = 0
        while True:
            attempt += 1
            try:
                stub_method = getattr(self._stub, method)
                reply = await stub_method(
                    request, metadata=self._metadata(method), timeout=self._timeout
                )
                return reply, None
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                retry = code in _RETRY_ALWAYS or (code in _RETRY_FEW and attempt < _FEW_ATTEMPTS)
                if not retry:
                    logger.warning("%s failed: %s: %s", what, code.name, exc.details())
                    return None, code
                delay = self._retry_backoff.delay(attempt)
                logger.info("%s: %s; retrying in %.1f s", what, code.name, delay)
                await asyncio.sleep(delay)

    async def notify(self, fired: TriggerFired) -> NotifyOutcome:
        """Report one firing (``NotifyTriggers``), retrying per the module policy."""
        request = notify_request(self._signer, fired)
        reply, code = await self._call("NotifyTriggers", request, f"trigger {fired.key}")
        if reply is None:
            return NotifyOutcome(delivered=False, keep_watching=code not in _STOP_WATCHING)
        remaining = int(reply.remaining_executions)
        return NotifyOutcome(
            delivered=True,
            keep_watching=bool(reply.task_still_enabled) and remaining != 0,
            remaining=remaining,
            status=reply.status,
            message=reply.message,
        )

    async def report_overload(self, overload: EventOverload) -> bool:
        """Report an overload (``ReportEventOverload``); whether the workflow was disabled."""
        request = node_pb2.EventOverloadAlert(
            task_id=overload.workflow_id,
            operator_address=self._signer.address,
            block_number=overload.block_number,
            events_detected=overload.events_detected,
            safety_limit=overload.safety_limit,
            query_index=str(overload.query_index),
            timestamp=self._clock_ms(),
            details=overload.details,
        )
        what = f"overload report for {overload.workflow_id}"
        reply, _ = await self._call("ReportEventOverload", request, what)
        return bool(reply is not None and reply.task_cancelled)
