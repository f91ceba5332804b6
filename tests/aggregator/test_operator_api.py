"""The Node service over real gRPC: operator authentication, Ping, NotifyTriggers, overloads.

The harness here (an in-process Node server on 127.0.0.1:0 built by ``build_node_side`` and
real ``NodeStub`` clients signing with ``OperatorSigner``) is also used by test_dispatch.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import grpc
import pytest
from eth_account import Account
from prometheus_client import CollectorRegistry

from ap_avs import wire as convert
from ap_avs._proto import avs_pb2, node_pb2, node_pb2_grpc
from ap_avs.aggregator.app import NODE_SERVICE
from ap_avs.aggregator.dispatch import DispatchSettings
from ap_avs.aggregator.interceptors import ErrorInterceptor, RpcMetrics
from ap_avs.aggregator.operator_api import NodeApi
from ap_avs.aggregator.operator_side import NodeSide, build_node_side
from ap_avs.aggregator.services import service_handler
from ap_avs.auth.operator_requests import HEADER_OPERATOR, OperatorSigner
from ap_avs.auth.trigger_reports import sign_report
from ap_avs.chain import ChainClient
from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import Edge, Node, NodeKind, RestApiConfig
from ap_avs.domain.triggers import (
    BlockTriggerConfig,
    CronTriggerConfig,
    EventQuery,
    EventTriggerConfig,
    FixedTimeTriggerConfig,
    ManualTriggerConfig,
    Trigger,
    TriggerConfig,
    TriggerKind,
)
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.queue import FiredTrigger, JobQueue
from ap_avs.engine.workflow_events import WorkflowEventKind, WorkflowEvents
from ap_avs.store import MemoryKV, codec, keys
from ap_avs.store.keys import QueueState
from ap_avs.store.workflows import WorkflowRepo
from ap_avs.testing import aggregator_config

OWNER = "0x" + "aa" * 20
WALLET = "0x" + "0a" * 20
FAST = DispatchSettings(
    operator_timeout_seconds=60, reconnect_window_seconds=0, send_timeout_seconds=10
)

CONFIGS: dict[TriggerKind, TriggerConfig] = {
    TriggerKind.BLOCK: BlockTriggerConfig(5),
    TriggerKind.EVENT: EventTriggerConfig((EventQuery(addresses=("0x" + "11" * 20,)),)),
    TriggerKind.CRON: CronTriggerConfig(("*/5 * * * *",)),
    TriggerKind.FIXED_TIME: FixedTimeTriggerConfig((4_000_000_000_000,)),
    TriggerKind.MANUAL: ManualTriggerConfig(),
}


def workflow(kind: TriggerKind = TriggerKind.BLOCK, **changes: object) -> Workflow:
    base = Workflow(
        id=new_id(now_ms=1_700_000_000_000),
        owner=OWNER,
        smart_wallet_address=WALLET,
        start_at=0,
        expired_at=0,
        name="w",
        completed_at=0,
        max_execution=100,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "trigger", kind, CONFIGS[kind]),
        nodes=(Node("n", "call", NodeKind.REST_API, RestApiConfig(url="http://127.0.0.1/")),),
        edges=(Edge("e", "t", "n"),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class FakeControl:
    """The lead's WorkflowControl, recorded."""

    def __init__(self, repo: WorkflowRepo, events: WorkflowEvents) -> None:
        self.calls: list[tuple[str, str]] = []
        self.error: Exception | None = None
        self._repo, self._events = repo, events

    async def disable_for_overload(self, workflow_id: str, reason: str) -> bool:
        self.calls.append((workflow_id, reason))
        if self.error is not None:
            raise self.error

        def disable(wf: Workflow) -> Workflow:
            return wf.with_status(TaskStatus.DISABLED)

        change = await self._repo.change(workflow_id, disable)
        if change is None or change.before.status is not TaskStatus.ENABLED:
            return False
        assert change.after is not None
        self._events.publish(WorkflowEventKind.DISABLED, change.after)
        return True


@dataclasses.dataclass
class Harness:
    kv: MemoryKV
    repo: WorkflowRepo
    events: WorkflowEvents
    queue: JobQueue
    node: NodeSide
    control: FakeControl
    target: str

    async def create(self, kind: TriggerKind = TriggerKind.BLOCK, **changes: object) -> Workflow:
        """Store a workflow and publish it, as the CreateTask use case does."""
        wf = workflow(kind, **changes)
        await self.repo.create(wf, max_active_per_owner=None)
        self.events.publish(WorkflowEventKind.CREATED, wf)
        return wf

    async def set_status(self, wf: Workflow, kind: WorkflowEventKind) -> None:
        if kind is WorkflowEventKind.DELETED:
            await self.repo.change(wf.id, lambda current: None)
            self.events.publish(kind, wf)
            return
        status = TaskStatus.ENABLED if kind.starts_watching else TaskStatus.DISABLED
        change = await self.repo.change(wf.id, lambda current: current.with_status(status))
        assert change is not None
        assert change.after is not None
        self.events.publish(kind, change.after)

    async def settled(self, predicate: Callable[[], bool], within: float = 10) -> None:
        await self.node.dispatcher.wait_until(predicate, within)


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path,
    *,
    approved: Sequence[str] = (),
    environment: Literal["development", "production"] = "development",
    settings: DispatchSettings = FAST,
    monotonic: Callable[[], float] = time.monotonic,
    chain: ChainClient | None = None,
    chain_id: int | None = None,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    kv = MemoryKV()
    repo, events = WorkflowRepo(kv), WorkflowEvents()
    queue, control = JobQueue(kv), FakeControl(repo, events)
    # Most tests here are about authentication, assignment and dedup, with no chain: their
    # reports run unverified (tests/aggregator/test_trigger_quorum.py and
    # tests/integration/test_verified_triggers.py pass ``trigger_verification="strict"``).
    if environment == "development":
        overrides.setdefault("trigger_verification", "off")
    config = aggregator_config(
        tmp_path, approved_operators=list(approved), environment=environment, **overrides
    )
    node = build_node_side(
        config,
        kv,
        events,
        queue,
        control,
        settings=settings,
        monotonic=monotonic,
        chain=chain,
        chain_id=chain_id,
    )
    server = grpc.aio.server(
        interceptors=[ErrorInterceptor(RpcMetrics(CollectorRegistry())), node.interceptor]
    )
    server.add_generic_rpc_handlers((service_handler(NODE_SERVICE, node.servicer),))
    port = server.add_insecure_port("127.0.0.1:0")
    await node.start()
    await server.start()
    stop = asyncio.Event()
    dispatch = asyncio.create_task(node.run(stop))
    try:
        yield Harness(kv, repo, events, queue, node, control, f"127.0.0.1:{port}")
    finally:
        stop.set()
        await dispatch
        await server.stop(None)
        await kv.close()


OUTPUT_KINDS = {
    "block_trigger": TriggerKind.BLOCK,
    "fixed_time_trigger": TriggerKind.FIXED_TIME,
    "cron_trigger": TriggerKind.CRON,
    "event_trigger": TriggerKind.EVENT,
    "manual_trigger": TriggerKind.MANUAL,
}
ALL = node_pb2.SyncMessagesReq.Capabilities(
    event_monitoring=True, block_monitoring=True, time_monitoring=True
)


class Signal:
    """Wakes waiters whenever any operator of a group receives something."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def bump(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], within: float = 10) -> None:
        async with asyncio.timeout(within):
            while not predicate():
                await self._changed.wait()


class Operator:
    """A real gRPC operator client; it tracks what it was told to watch."""

    def __init__(self, target: str, key: str | None = None, signal: Signal | None = None) -> None:
        self.signer = OperatorSigner(key or Account.create().key.hex())
        self.address = self.signer.address
        self.channel = grpc.aio.insecure_channel(target)
        self.stub = node_pb2_grpc.NodeStub(self.channel)
        self.watching: set[str] = set()
        self.received: list[node_pb2.SyncMessagesResp] = []
        self.calls: list[Any] = []
        self._readers: list[asyncio.Task[None]] = []
        self.signal = signal or Signal()
        self.errors: list[grpc.aio.AioRpcError] = []

    def md(self, method: str) -> tuple[tuple[str, str], ...]:
        return self.signer.metadata(f"/aggregator.Node/{method}", time.time_ns() // 1_000_000)

    async def ping(self, **fields: Any) -> node_pb2.CheckinResp:
        request = node_pb2.Checkin(address=self.address, **fields)
        return await self.stub.Ping(request, metadata=self.md("Ping"))

    def sync(
        self, capabilities: node_pb2.SyncMessagesReq.Capabilities | None = ALL, read: bool = True
    ) -> Any:
        """Open a SyncMessages stream (without closing earlier ones) and read it."""
        request = node_pb2.SyncMessagesReq(address=self.address)
        if capabilities is not None:
            request.capabilities.CopyFrom(capabilities)
        call = self.stub.SyncMessages(request, metadata=self.md("SyncMessages"))
        self.calls.append(call)
        if read:
            self._readers.append(asyncio.create_task(self._read(call)))
        return call

    async def _read(self, call: Any) -> None:
        try:
            async for message in call:
                if call is not self.calls[-1]:
                    continue  # like a real operator: only its latest stream counts
                self.received.append(message)
                workflow_id = message.task_metadata.task_id or message.id
                if message.op in (node_pb2.MonitorTaskTrigger, node_pb2.ImmediateTrigger):
                    self.watching.add(workflow_id)
                else:
                    self.watching.discard(workflow_id)
                self.signal.bump()
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.CANCELLED:
                self.errors.append(exc)
        self.signal.bump()

    async def wait_until(self, predicate: Callable[[], bool], within: float = 10) -> None:
        """Wait until ``predicate`` holds, re-checked whenever any operator of the group got
        a message."""
        await self.signal.wait_until(predicate, within)

    async def notify(
        self,
        task_id: str,
        request_id: str,
        data: Any = None,
        kind: str = "block_trigger",
        *,
        sign: bool = True,
    ) -> node_pb2.NotifyTriggersResp:
        request = node_pb2.NotifyTriggersReq(
            address=self.address, task_id=task_id, trigger_request_id=request_id
        )
        output = getattr(request, kind)
        output.SetInParent()
        if data is not None:
            output.data.CopyFrom(convert.json_to_value(data))
        if sign:
            request.signature = sign_report(
                self.signer,
                task_id=task_id,
                occurrence=request_id,
                kind=OUTPUT_KINDS[kind],
                data=convert.value_to_json(output.data) if output.HasField("data") else None,
            )
        return await self.stub.NotifyTriggers(request, metadata=self.md("NotifyTriggers"))

    async def close(self) -> None:
        for call in self.calls:
            call.cancel()
        for reader in self._readers:
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self.channel.close()


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with serving(tmp_path) as harness:
        yield harness


@contextlib.asynccontextmanager
async def operators(h: Harness, n: int) -> AsyncIterator[list[Operator]]:
    signal = Signal()
    ops = [Operator(h.target, signal=signal) for _ in range(n)]
    try:
        yield ops
    finally:
        for op in ops:
            await op.close()


async def rpc_error(awaitable: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    return info.value


async def stream_error(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in call:
            pass
    return info.value


# --- authentication -------------------------------------------------------------------------


async def test_health_check_needs_no_credentials(h: Harness) -> None:
    async with grpc.aio.insecure_channel(h.target) as channel:
        resp = await node_pb2_grpc.NodeStub(channel).HealthCheck(node_pb2.HealthCheckRequest())
    assert (resp.status, resp.message) == ("OK", "Aggregator is running")
    assert resp.timestamp > 1_700_000_000_000


async def test_unsigned_forged_replayed_and_misdirected_calls_are_unauthenticated(
    h: Harness,
) -> None:
    async with operators(h, 2) as (a, b):
        checkin = node_pb2.Checkin(address=a.address)
        err = await rpc_error(a.stub.Ping(checkin))
        assert err.code() is grpc.StatusCode.UNAUTHENTICATED
        assert "missing" in (err.details() or "")

        forged = tuple((k, b.address if k == HEADER_OPERATOR else v) for k, v in a.md("Ping"))
        err = await rpc_error(a.stub.Ping(checkin, metadata=forged))
        assert err.code() is grpc.StatusCode.UNAUTHENTICATED

        once = a.md("Ping")
        await a.stub.Ping(checkin, metadata=once)
        err = await rpc_error(a.stub.Ping(checkin, metadata=once))
        assert err.code() is grpc.StatusCode.UNAUTHENTICATED
        assert "replayed" in (err.details() or "")

        wrong_method = a.md("Ping")
        err = await rpc_error(
            a.stub.NotifyTriggers(node_pb2.NotifyTriggersReq(), metadata=wrong_method)
        )
        assert err.code() is grpc.StatusCode.UNAUTHENTICATED

        err = await stream_error(a.stub.SyncMessages(node_pb2.SyncMessagesReq(address=a.address)))
        assert err.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_unknown_operators_are_refused(tmp_path: Path) -> None:
    key = Account.create().key.hex()
    async with serving(tmp_path, approved=[Account.from_key(key).address.lower()]) as h:
        async with operators(h, 1) as (stranger,):
            err = await rpc_error(stranger.ping())
            assert err.code() is grpc.StatusCode.PERMISSION_DENIED
            assert "not approved" in (err.details() or "")
            err = await stream_error(stranger.sync(read=False))
            assert err.code() is grpc.StatusCode.PERMISSION_DENIED
        good = Operator(h.target, key)
        try:
            await good.ping()
        finally:
            await good.close()


async def test_production_with_an_empty_allow_list_refuses_everyone(tmp_path: Path) -> None:
    async with serving(tmp_path, environment="production") as h, operators(h, 1) as (op,):
        assert (await rpc_error(op.ping())).code() is grpc.StatusCode.PERMISSION_DENIED


# --- Ping, Ack, SyncMessages address --------------------------------------------------------


async def test_ping_stores_the_operator_record(h: Harness) -> None:
    async with operators(h, 1) as (op,):
        resp = await op.ping(version="v1.2.3", block_number=42, event_count=7, metricsPort=9090)
        assert resp.updated_at.seconds > 1_700_000_000
        record = codec.loads(await h.kv.get(keys.operator(op.address)) or b"null")
        assert isinstance(record, dict)
        assert record["address"] == op.address
        assert (record["version"], record["block_number"], record["event_count"]) == (
            "v1.2.3",
            42,
            7,
        )
        assert record["metrics_port"] == 9090
        assert record["last_ping"] == resp.updated_at.seconds
        other = Account.create().address
        request = node_pb2.Checkin(address=other)
        err = await rpc_error(op.stub.Ping(request, metadata=op.md("Ping")))
        assert err.code() is grpc.StatusCode.PERMISSION_DENIED
        ack = await op.stub.Ack(node_pb2.AckMessageReq(id="x"), metadata=op.md("Ack"))
        assert ack.value is True


async def test_sync_messages_must_name_the_authenticated_operator(h: Harness) -> None:
    async with operators(h, 1) as (op,):
        request = node_pb2.SyncMessagesReq(address=Account.create().address)
        err = await stream_error(op.stub.SyncMessages(request, metadata=op.md("SyncMessages")))
        assert err.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "not the authenticated operator" in (err.details() or "")


async def test_an_unwired_node_api_answers_only_health(tmp_path: Path) -> None:
    server = grpc.aio.server(interceptors=[ErrorInterceptor(RpcMetrics(CollectorRegistry()))])
    server.add_generic_rpc_handlers((service_handler(NODE_SERVICE, NodeApi()),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = node_pb2_grpc.NodeStub(channel)
            assert (await stub.HealthCheck(node_pb2.HealthCheckRequest())).status == "OK"
            err = await rpc_error(stub.Ping(node_pb2.Checkin()))
            assert err.code() is grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(None)


# --- NotifyTriggers -------------------------------------------------------------------------


async def two_with_one_workflow(
    h: Harness, a: Operator, b: Operator
) -> tuple[Workflow, Operator, Operator]:
    a.sync()
    b.sync()
    await h.settled(lambda: len(h.node.dispatcher.live_operators()) == 2)
    wf = await h.create(max_execution=3)
    await h.settled(lambda: h.node.dispatcher.assignee(wf.id) is not None)
    owner = h.node.dispatcher.assignee(wf.id)
    assigned, other = (a, b) if owner == a.address.lower() else (b, a)
    return wf, assigned, other


async def test_triggers_are_taken_only_from_the_assignee_and_only_once(h: Harness) -> None:
    async with operators(h, 2) as (a, b):
        wf, assigned, other = await two_with_one_workflow(h, a, b)
        data = {"blockNumber": 12345, "blockHash": "0xab", "nested": {"list": [1, 2.5, None]}}

        err = await rpc_error(other.notify(wf.id, f"{wf.id}:12345", data))
        assert err.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "not assigned to workflow" in (err.details() or "")
        assert await h.queue.depth() == 0
        await other.wait_until(  # and it is told, on its stream, to stop watching it
            lambda: (node_pb2.DisableTask, wf.id) in {(m.op, m.id) for m in other.received}
        )

        resp = await assigned.notify(wf.id, f"{wf.id}:12345", data)
        assert (resp.status, resp.message) == ("enabled", "Trigger processed successfully")
        assert (resp.remaining_executions, resp.task_still_enabled) == (2, True)
        again = await assigned.notify(wf.id, f"{wf.id}:12345", data)
        assert (again.status, again.message) == ("deduplicated", "Duplicate trigger suppressed")
        assert (again.remaining_executions, again.task_still_enabled) == (2, True)

        [job] = await h.queue.jobs(QueueState.PENDING)
        assert job.trigger == FiredTrigger(TriggerKind.BLOCK, data)
        assert type(job.trigger.data["blockNumber"]) is int  # type: ignore[index,call-overload]
        assert (job.occurrence, job.operator) == ("12345", assigned.address.lower())


async def test_stopped_or_missing_workflows_tell_the_operator_to_stop(h: Harness) -> None:
    async with operators(h, 2) as (a, b):
        wf, assigned, other = await two_with_one_workflow(h, a, b)
        spent = await h.create(max_execution=2, execution_count=2)
        await h.settled(lambda: h.node.dispatcher.assignee(spent.id) is not None)
        spent_owner = a if h.node.dispatcher.assignee(spent.id) == a.address.lower() else b
        resp = await spent_owner.notify(spent.id, f"{spent.id}:1")
        assert (resp.status, resp.task_still_enabled, resp.remaining_executions) == (
            "exhausted",
            False,
            0,
        )
        assert resp.message == "Task has reached maximum executions (2/2)"

        await h.set_status(wf, WorkflowEventKind.DISABLED)
        await h.settled(lambda: h.node.dispatcher.assignee(wf.id) is None)
        for op in (assigned, other):  # a stale watcher of a stopped workflow is told to stop
            resp = await op.notify(wf.id, f"{wf.id}:2")
            assert (resp.status, resp.task_still_enabled) == ("disabled", False)

        await h.set_status(wf, WorkflowEventKind.DELETED)
        resp = await other.notify(wf.id, f"{wf.id}:3")
        assert (resp.status, resp.task_still_enabled, resp.remaining_executions) == (
            "not_found",
            False,
            0,
        )
        assert resp.message == "Task no longer exists - operator should stop monitoring"
        assert await h.queue.depth() == 0

        bad = await rpc_error(other.notify("not-a-ulid", "x:1"))
        assert (bad.code(), bad.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "invalid task id")


async def test_event_payloads_and_occurrences_without_request_id(h: Harness) -> None:
    async with operators(h, 1) as (op,):
        op.sync()
        wf = await h.create(TriggerKind.EVENT)
        await op.wait_until(lambda: wf.id in op.watching)
        event = {"transactionHash": "0xfeed", "logIndex": 3, "value": "1000", "chainId": 31337}
        first = await op.notify(wf.id, "", event, kind="event_trigger")
        second = await op.notify(wf.id, "", event, kind="event_trigger")
        assert (first.status, second.status) == ("enabled", "deduplicated")
        [job] = await h.queue.jobs(QueueState.PENDING)
        assert (job.occurrence, job.trigger.data) == ("0xfeed:3", event)
        nothing = await rpc_error(op.notify(wf.id, "", {"value": 1}, kind="event_trigger"))
        assert nothing.code() is grpc.StatusCode.INVALID_ARGUMENT


# --- ReportEventOverload --------------------------------------------------------------------


async def test_overload_reports_disable_through_the_control(h: Harness) -> None:
    async with operators(h, 2) as (a, b):
        wf, assigned, other = await two_with_one_workflow(h, a, b)
        alert = node_pb2.EventOverloadAlert(
            task_id=wf.id, block_number=9, events_detected=900, safety_limit=500, query_index="0"
        )
        err = await rpc_error(
            other.stub.ReportEventOverload(alert, metadata=other.md("ReportEventOverload"))
        )
        assert err.code() is grpc.StatusCode.PERMISSION_DENIED
        h.control.error = RuntimeError("secret detail")
        resp = await assigned.stub.ReportEventOverload(
            alert, metadata=assigned.md("ReportEventOverload")
        )
        assert (resp.task_cancelled, resp.message) == (
            False,
            "Failed to disable task: internal error",
        )
        h.control.error = None
        resp = await assigned.stub.ReportEventOverload(
            alert, metadata=assigned.md("ReportEventOverload")
        )
        assert (resp.task_cancelled, resp.message) == (True, "Task disabled due to event overload")
        assert resp.timestamp > 1_700_000_000_000
        workflow_id, reason = h.control.calls[-1]
        assert workflow_id == wf.id
        assert "900 events in block 9 exceed the safety limit 500" in reason
        await assigned.wait_until(lambda: wf.id not in assigned.watching)
        resp = await assigned.stub.ReportEventOverload(
            alert, metadata=assigned.md("ReportEventOverload")
        )
        assert (resp.task_cancelled, resp.message) == (
            False,
            "Task was already disabled or not found",
        )


def test_wire_ops_match_the_proto() -> None:
    assert avs_pb2.TriggerType.Value("TRIGGER_TYPE_BLOCK") == int(TriggerKind.BLOCK)
    assert node_pb2.MessageOp.Value("MonitorTaskTrigger") == 1
    assert node_pb2.MessageOp.Value("DisableTask") == 2
    assert node_pb2.MessageOp.Value("DeleteTask") == 3
    assert node_pb2.MessageOp.Value("ImmediateTrigger") == 5
