"""Executions end to end on the devnet: TriggerTask blocking and queued, reads, pages, counts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from eth_account import Account
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.devnet import DevnetState
from ap_avs.testing import aggregator_config, running_aggregator, user_key

pytestmark = pytest.mark.integration


@dataclass
class User:
    stub: avs_pb2_grpc.AggregatorStub
    address: str
    runner: str = ""

    async def call(self, method: str, request: Any) -> Any:
        metadata = (("authkey", user_key(self.address)),)
        return await getattr(self.stub, method)(request, metadata=metadata)


@pytest.fixture
async def http_server() -> AsyncIterator[str]:
    """A real HTTP server on 127.0.0.1 answering JSON that echoes the request."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        length = next(
            (int(h.split(":")[1]) for h in lines if h.lower().startswith("content-length")), 0
        )
        body = await reader.readexactly(length) if length else b""
        payload = json.dumps({"path": lines[0].split()[1], "body": body.decode(), "n": 42})
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload.encode()
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
async def user(devnet: DevnetState, tmp_path: Path) -> AsyncIterator[User]:
    cfg = aggregator_config(
        tmp_path / "db",
        smart_wallet={
            "eth_rpc_url": devnet.rpc_url,
            "chain_id": devnet.chain_id,
            "factory_address": devnet.factory,
        },
    )
    async with (
        running_aggregator(cfg) as server,
        grpc.aio.insecure_channel(server.target) as channel,
    ):
        me = User(avs_pb2_grpc.AggregatorStub(channel), Account.create().address)
        me.runner = (await me.call("GetWallet", avs_pb2.GetWalletReq(salt="0"))).address
        yield me


def workflow(user: User, url: str) -> avs_pb2.CreateTaskReq:
    req = avs_pb2.CreateTaskReq(
        trigger=avs_pb2.TaskTrigger(
            id="t1",
            name="start",
            type=avs_pb2.TRIGGER_TYPE_MANUAL,
            manual=avs_pb2.ManualTrigger(
                config=avs_pb2.ManualTrigger.Config(lang=avs_pb2.LANG_JSON)
            ),
        ),
        nodes=[
            avs_pb2.TaskNode(
                id="n1",
                name="double",
                type=avs_pb2.NODE_TYPE_CUSTOM_CODE,
                custom_code=avs_pb2.CustomCodeNode(
                    config=avs_pb2.CustomCodeNode.Config(
                        lang=avs_pb2.LANG_JAVASCRIPT, source="return start.data.amount * 2"
                    )
                ),
            ),
            avs_pb2.TaskNode(
                id="n2",
                name="post",
                type=avs_pb2.NODE_TYPE_REST_API,
                rest_api=avs_pb2.RestAPINode(
                    config=avs_pb2.RestAPINode.Config(
                        url=url + "/hook/{{double.data}}",
                        method="POST",
                        body='{"value": "{{double.data}}"}',
                        headers={"Content-Type": "application/json"},
                    )
                ),
            ),
            avs_pb2.TaskNode(
                id="n3",
                name="broken",
                type=avs_pb2.NODE_TYPE_CUSTOM_CODE,
                custom_code=avs_pb2.CustomCodeNode(
                    config=avs_pb2.CustomCodeNode.Config(
                        lang=avs_pb2.LANG_JAVASCRIPT, source="throw new Error('nope')"
                    )
                ),
            ),
        ],
        edges=[
            avs_pb2.TaskEdge(id="e1", source="t1", target="n1"),
            avs_pb2.TaskEdge(id="e2", source="n1", target="n2"),
            avs_pb2.TaskEdge(id="e3", source="t1", target="n3"),
        ],
        max_execution=10,
    )
    settings = struct_pb2.Value()
    settings.struct_value.update({"name": "flow", "runner": user.runner})
    req.input_variables["settings"].CopyFrom(settings)
    return req


def manual(amount: int, blocking: bool, task_id: str) -> avs_pb2.TriggerTaskReq:
    data = struct_pb2.Value()
    data.struct_value.update({"amount": amount})
    return avs_pb2.TriggerTaskReq(
        task_id=task_id,
        trigger_type=avs_pb2.TRIGGER_TYPE_MANUAL,
        manual_trigger=avs_pb2.ManualTrigger.Output(data=data),
        is_blocking=blocking,
    )


async def wait_done(user: User, task_id: str, execution_id: str) -> int:
    async with asyncio.timeout(20):
        while True:
            reply = await user.call(
                "GetExecutionStatus",
                avs_pb2.ExecutionReq(task_id=task_id, execution_id=execution_id),
            )
            if reply.status != avs_pb2.EXECUTION_STATUS_PENDING:
                return int(reply.status)
            await asyncio.sleep(0.05)


async def test_blocking_run_records_every_step(user: User, http_server: str) -> None:
    task_id = (await user.call("CreateTask", workflow(user, http_server))).id
    done = await user.call("TriggerTask", manual(21, True, task_id))
    assert done.status == avs_pb2.EXECUTION_STATUS_PARTIAL_SUCCESS
    assert done.error == "1 of 4 steps failed: broken"
    steps = {s.name: s for s in done.steps}
    assert done.steps[0].name == "start"
    assert done.steps[0].type == "TRIGGER_TYPE_MANUAL"
    assert MessageToDict(steps["double"].custom_code.data) == 42
    rest = MessageToDict(steps["post"].rest_api.data)
    assert rest["status"] == 200
    assert rest["data"] == {"path": "/hook/42", "body": '{"value": "42"}', "n": 42}
    assert "nope" in steps["broken"].error

    stored = await user.call(
        "GetExecution", avs_pb2.ExecutionReq(task_id=task_id, execution_id=done.execution_id)
    )
    assert stored.index == 0
    assert [s.name for s in stored.steps] == [s.name for s in done.steps]
    task = await user.call("GetTask", avs_pb2.IdReq(id=task_id))
    assert task.execution_count == 1
    assert task.last_ran_at > 0


async def test_queued_run_sees_the_same_trigger_data(user: User, http_server: str) -> None:
    task_id = (await user.call("CreateTask", workflow(user, http_server))).id
    queued = await user.call("TriggerTask", manual(5, False, task_id))
    assert queued.status == avs_pb2.EXECUTION_STATUS_PENDING
    assert await wait_done(user, task_id, queued.execution_id) == (
        avs_pb2.EXECUTION_STATUS_PARTIAL_SUCCESS
    )
    stored = await user.call(
        "GetExecution", avs_pb2.ExecutionReq(task_id=task_id, execution_id=queued.execution_id)
    )
    steps = {s.name: s for s in stored.steps}
    assert MessageToDict(steps["start"].manual_trigger.data) == {"amount": 5}
    assert MessageToDict(steps["double"].custom_code.data) == 10


async def test_pages_counts_and_stats(user: User, http_server: str) -> None:
    task_id = (await user.call("CreateTask", workflow(user, http_server))).id
    ids = [
        (await user.call("TriggerTask", manual(i, True, task_id))).execution_id for i in range(5)
    ]
    first = await user.call(
        "ListExecutions", avs_pb2.ListExecutionsReq(task_ids=[task_id], limit=2)
    )
    assert [e.id for e in first.items] == ids[::-1][:2]
    assert [e.index for e in first.items] == [4, 3]
    rest = await user.call(
        "ListExecutions",
        avs_pb2.ListExecutionsReq(task_ids=[task_id], limit=10, after=first.page_info.end_cursor),
    )
    assert [e.id for e in rest.items] == ids[::-1][2:]
    count = await user.call(
        "GetExecutionCount", avs_pb2.GetExecutionCountReq(workflow_ids=[task_id])
    )
    assert count.total == 5
    stats = await user.call(
        "GetExecutionStats", avs_pb2.GetExecutionStatsReq(workflow_ids=[task_id])
    )
    assert (stats.total, stats.succeeded, stats.failed) == (5, 0, 5)
    assert stats.avg_execution_time > 0


async def test_errors_and_other_users(user: User, http_server: str, devnet: DevnetState) -> None:
    task_id = (await user.call("CreateTask", workflow(user, http_server))).id
    for req, code, message in (
        (avs_pb2.TriggerTaskReq(), grpc.StatusCode.INVALID_ARGUMENT, "Missing task id in request"),
        (
            avs_pb2.TriggerTaskReq(task_id="abc"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid task id",
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await user.call("TriggerTask", req)
        assert (info.value.code(), info.value.details()) == (code, message)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await user.call(
            "GetExecution", avs_pb2.ExecutionReq(task_id=task_id, execution_id="0" * 26)
        )
    assert info.value.details() == "execution not found"

    stranger = User(user.stub, Account.create().address)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stranger.call("TriggerTask", manual(1, True, task_id))
    assert info.value.details() == "task not found"
    with pytest.raises(grpc.aio.AioRpcError):
        await stranger.call("ListExecutions", avs_pb2.ListExecutionsReq(task_ids=[task_id]))
    count = await stranger.call(
        "GetExecutionCount", avs_pb2.GetExecutionCountReq(workflow_ids=[task_id])
    )
    assert count.total == 0


async def test_budget_spent_completes_the_workflow(user: User, http_server: str) -> None:
    req = workflow(user, http_server)
    req.max_execution = 2
    task_id = (await user.call("CreateTask", req)).id
    for amount in (1, 2):
        await user.call("TriggerTask", manual(amount, True, task_id))
    task = await user.call("GetTask", avs_pb2.IdReq(id=task_id))
    assert task.status == avs_pb2.Completed
    assert task.execution_count == 2
    assert task.completed_at > 0
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await user.call("TriggerTask", manual(3, True, task_id))
    assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == (
        "task cannot be executed: either reached max execution, expired, or not yet started"
    )
    wallet = await user.call("GetWallet", avs_pb2.GetWalletReq(salt="0"))
    assert wallet.completed_task_count == 1
