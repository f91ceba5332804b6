"""The operator's gRPC client against an in-process Node server: signing, backoff, retries."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from chain_fakes import wait_for
from eth_account import Account

from ap_avs._proto import avs_pb2, node_pb2, node_pb2_grpc
from ap_avs.auth.operator_requests import OperatorSigner, ReplayGuard, verify
from ap_avs.auth.trigger_reports import data_digest, report_signer
from ap_avs.domain.triggers import BlockTriggerConfig, Trigger, TriggerKind
from ap_avs.errors import InvalidArgument, Unauthenticated
from ap_avs.operator.client import (
    Backoff,
    OperatorClient,
    assignment_from_pb,
    notify_request,
)
from ap_avs.operator.model import Assignment, EventOverload, TriggerFired
from ap_avs.wire import trigger_to_pb

SIGNER = OperatorSigner(Account.create().key)
BLOCK = Trigger(id="t1", name="every", kind=TriggerKind.BLOCK, config=BlockTriggerConfig(5))


def monitor(task_id: str) -> Any:
    return node_pb2.SyncMessagesResp(
        id=task_id,
        op=node_pb2.MonitorTaskTrigger,
        task_metadata=node_pb2.SyncMessagesResp.TaskMetadata(
            task_id=task_id, remain=3, start_at=10, expired_at=20, trigger=trigger_to_pb(BLOCK)
        ),
    )


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(initial=1, maximum=60)
    assert [backoff.delay(n, rng=lambda: 1.0) for n in range(1, 9)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
    ]
    assert backoff.delay(3, rng=lambda: 0.0) == 2.0  # jitter draws from [d/2, d]


def test_assignment_from_a_monitor_message() -> None:
    assignment = assignment_from_pb(monitor("wf"))
    assert assignment == Assignment("wf", BLOCK, start_at=10, expired_at=20, max_executions=3)
    with pytest.raises(InvalidArgument, match="no trigger"):
        assignment_from_pb(node_pb2.SyncMessagesResp(id="wf", op=node_pb2.MonitorTaskTrigger))


def test_notify_request_puts_data_in_the_kinds_output() -> None:
    fired = TriggerFired("wf", TriggerKind.EVENT, "wf:0xab:3", {"value": "12", "logIndex": 3})
    request = notify_request(SIGNER, fired)
    assert request.trigger_type == avs_pb2.TRIGGER_TYPE_EVENT
    assert request.WhichOneof("trigger_output") == "event_trigger"
    assert request.trigger_request_id == "wf:0xab:3"
    fields = request.event_trigger.data.struct_value.fields
    assert fields["value"].string_value == "12"
    assert fields["logIndex"].number_value == 3
    cron = notify_request(SIGNER, TriggerFired("wf", TriggerKind.CRON, "k", {}))
    assert cron.WhichOneof("trigger_output") == "cron_trigger"
    signer = report_signer(
        request.signature,
        operator=SIGNER.address,
        task_id="wf",
        occurrence="wf:0xab:3",
        kind=TriggerKind.EVENT,
        digest=data_digest({"value": "12", "logIndex": 3}),
    )
    assert signer == SIGNER.address
    other = data_digest({"value": "13", "logIndex": 3})
    forged = report_signer(
        request.signature,
        operator=SIGNER.address,
        task_id="wf",
        occurrence="wf:0xab:3",
        kind=TriggerKind.EVENT,
        digest=other,
    )
    assert forged != SIGNER.address


class Handler:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def connected(self, generation: int) -> None:
        self.events.append(("connected", generation))

    def disconnected(self) -> None:
        self.events.append(("disconnected", None))

    def upsert(self, assignment: Assignment, generation: int) -> None:
        self.events.append(("upsert", (assignment.workflow_id, generation)))

    def remove(self, workflow_id: str, reason: str) -> None:
        self.events.append(("remove", workflow_id))

    def immediate(self, assignment: Assignment) -> None:
        self.events.append(("immediate", assignment.workflow_id))


class Node(node_pb2_grpc.NodeServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.guard = ReplayGuard()
        self.stream_attempts: list[float] = []
        self.throttle = 0
        self.notify_failures: list[grpc.StatusCode] = []
        self.notify_reply = node_pb2.NotifyTriggersResp(
            remaining_executions=-1, task_still_enabled=True, status="enabled"
        )
        self.calls: list[str] = []

    async def _auth(self, context: Any, method: str) -> None:
        try:
            verify(
                context.invocation_metadata(),
                f"/aggregator.Node/{method}",
                time.time_ns() // 1_000_000,
                self.guard,
            )
        except Unauthenticated as exc:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, exc.message)
        self.calls.append(method)

    async def SyncMessages(self, request: Any, context: Any) -> AsyncIterator[Any]:
        await self._auth(context, "SyncMessages")
        self.stream_attempts.append(time.monotonic())
        if self.throttle:
            self.throttle -= 1
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "reconnecting too fast")
        assert request.address == SIGNER.address
        assert request.capabilities.block_monitoring
        assert not request.capabilities.event_monitoring
        yield monitor("wf")
        yield node_pb2.SyncMessagesResp(id="old", op=node_pb2.DeleteTask)
        yield node_pb2.SyncMessagesResp(
            id="now", op=node_pb2.ImmediateTrigger, task_metadata=monitor("now").task_metadata
        )
        await asyncio.Event().wait()

    async def Ping(self, request: Any, context: Any) -> Any:
        await self._auth(context, "Ping")
        assert request.address == SIGNER.address
        return node_pb2.CheckinResp()

    async def NotifyTriggers(self, request: Any, context: Any) -> Any:
        await self._auth(context, "NotifyTriggers")
        if self.notify_failures:
            await context.abort(self.notify_failures.pop(0), "try again")
        return self.notify_reply

    async def ReportEventOverload(self, request: Any, context: Any) -> Any:
        await self._auth(context, "ReportEventOverload")
        return node_pb2.EventOverloadResponse(task_cancelled=request.events_detected > 5)


@pytest.fixture
async def node() -> AsyncIterator[tuple[Node, str]]:
    servicer = Node()
    server = grpc.aio.server()
    node_pb2_grpc.add_NodeServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield servicer, f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


def client_for(target: str) -> OperatorClient:
    return OperatorClient(
        target,
        SIGNER,
        kinds=frozenset({TriggerKind.BLOCK, TriggerKind.CRON}),
        ping_interval=0.05,
        backoff=Backoff(initial=0.1, maximum=0.4),
        retry_backoff=Backoff(initial=0.01, maximum=0.02),
    )


async def test_stream_throttled_then_delivered(node: tuple[Node, str]) -> None:
    servicer, target = node
    servicer.throttle = 2
    handler = Handler()
    async with client_for(target) as client:
        task = asyncio.create_task(client.run(handler))
        await wait_for(lambda: ("immediate", "now") in handler.events)
        assert client.connected
        await wait_for(lambda: "Ping" in servicer.calls)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    first, second, third = servicer.stream_attempts[:3]
    assert second - first >= 0.05  # backoff after RESOURCE_EXHAUSTED: [0.05, 0.1] s
    assert third - second >= 0.1  # then [0.1, 0.2] s
    generation = client.generation
    assert generation == 3
    last = handler.events.index(("connected", generation))
    assert handler.events[last:] == [
        ("connected", generation),
        ("upsert", ("wf", generation)),
        ("remove", "old"),
        ("immediate", "now"),
        ("disconnected", None),  # cancelled
    ]
    before = [kind for kind, _ in handler.events[:last]]
    assert before.count("connected") == before.count("disconnected")  # throttled: closed again


async def test_notify_retries_unavailable_with_fresh_signatures(node: tuple[Node, str]) -> None:
    servicer, target = node
    servicer.notify_failures = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL]
    fired = TriggerFired("wf", TriggerKind.BLOCK, "wf:10", {"blockNumber": 10})
    async with client_for(target) as client:
        outcome = await client.notify(fired)
    assert outcome.delivered
    assert outcome.keep_watching
    assert servicer.calls.count("NotifyTriggers") == 3


@pytest.mark.parametrize(
    ("reply", "keep"),
    [
        (node_pb2.NotifyTriggersResp(remaining_executions=0, task_still_enabled=True), False),
        (node_pb2.NotifyTriggersResp(remaining_executions=4, task_still_enabled=False), False),
        (node_pb2.NotifyTriggersResp(remaining_executions=-1, task_still_enabled=True), True),
    ],
)
async def test_notify_reply_decides_whether_to_keep_watching(
    node: tuple[Node, str], reply: Any, keep: bool
) -> None:
    servicer, target = node
    servicer.notify_reply = reply
    async with client_for(target) as client:
        outcome = await client.notify(TriggerFired("wf", TriggerKind.BLOCK, "wf:1", {}))
    assert outcome.delivered
    assert outcome.keep_watching is keep


async def test_notify_gives_up_on_permanent_errors(node: tuple[Node, str]) -> None:
    servicer, target = node
    servicer.notify_failures = [grpc.StatusCode.NOT_FOUND]
    async with client_for(target) as client:
        outcome = await client.notify(TriggerFired("wf", TriggerKind.BLOCK, "wf:1", {}))
        assert not outcome.delivered
        assert not outcome.keep_watching
        servicer.notify_failures = [grpc.StatusCode.INVALID_ARGUMENT]
        outcome = await client.notify(TriggerFired("wf", TriggerKind.BLOCK, "wf:2", {}))
        assert not outcome.delivered
        assert outcome.keep_watching


async def test_report_overload(node: tuple[Node, str]) -> None:
    _, target = node
    async with client_for(target) as client:
        assert await client.report_overload(EventOverload("wf", 7, 9, 5, 0))
        assert not await client.report_overload(EventOverload("wf", 7, 3, 2, 0))
