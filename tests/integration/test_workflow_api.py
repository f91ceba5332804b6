"""Workflow RPCs on the devnet: create, read, list, enable/disable, cancel, delete, counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from eth_account import Account
from google.protobuf import struct_pb2

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.devnet import DevnetState
from ap_avs.testing import aggregator_config, running_aggregator, user_key

pytestmark = pytest.mark.integration


@dataclass
class User:
    stub: avs_pb2_grpc.AggregatorStub
    address: str
    runner: str

    @property
    def auth(self) -> tuple[tuple[str, str]]:
        return (("authkey", user_key(self.address)),)

    async def call(self, method: str, request: Any) -> Any:
        return await getattr(self.stub, method)(request, metadata=self.auth)


@pytest.fixture
async def stub(devnet: DevnetState, tmp_path: Path) -> AsyncIterator[avs_pb2_grpc.AggregatorStub]:
    cfg = aggregator_config(
        tmp_path / "db",
        smart_wallet={
            "eth_rpc_url": devnet.rpc_url,
            "chain_id": devnet.chain_id,
            "factory_address": devnet.factory,
        },
        limits={"max_active_workflows_per_owner": 6},
    )
    async with (
        running_aggregator(cfg) as server,
        grpc.aio.insecure_channel(server.target) as channel,
    ):
        yield avs_pb2_grpc.AggregatorStub(channel)


async def new_user(stub: avs_pb2_grpc.AggregatorStub) -> User:
    address = Account.create().address
    user = User(stub, address, "")
    wallet = await user.call("GetWallet", avs_pb2.GetWalletReq(salt="0"))
    user.runner = wallet.address
    return user


def settings(name: str, runner: str) -> struct_pb2.Value:
    value = struct_pb2.Value()
    value.struct_value.update({"name": name, "runner": runner})
    return value


def create_request(runner: str, name: str = "flow", **overrides: Any) -> avs_pb2.CreateTaskReq:
    fields: dict[str, Any] = dict(
        trigger=avs_pb2.TaskTrigger(
            id="t1",
            name="trigger",
            type=avs_pb2.TRIGGER_TYPE_MANUAL,
            manual=avs_pb2.ManualTrigger(
                config=avs_pb2.ManualTrigger.Config(lang=avs_pb2.LANG_JSON)
            ),
        ),
        nodes=[
            avs_pb2.TaskNode(
                id="n1",
                name="callApi",
                type=avs_pb2.NODE_TYPE_REST_API,
                rest_api=avs_pb2.RestAPINode(
                    config=avs_pb2.RestAPINode.Config(url="http://127.0.0.1:9/x", method="GET")
                ),
            )
        ],
        edges=[avs_pb2.TaskEdge(id="e1", source="t1", target="n1")],
    )
    req = avs_pb2.CreateTaskReq(**(fields | overrides))
    req.input_variables["settings"].CopyFrom(settings(name, runner))
    return req


async def test_create_then_get_returns_the_full_record(stub: avs_pb2_grpc.AggregatorStub) -> None:
    user = await new_user(stub)
    created = await user.call("CreateTask", create_request(user.runner, "first"))
    assert len(created.id) == 26
    assert created.id == created.id.lower()
    task = await user.call("GetTask", avs_pb2.IdReq(id=created.id))
    assert task.id == created.id
    assert task.owner == user.address
    assert task.smart_wallet_address == user.runner
    assert task.name == "first"
    assert task.status == avs_pb2.Enabled
    assert task.max_execution == 1000
    assert [n.name for n in task.nodes] == ["callApi"]
    stored = task.input_variables["settings"].struct_value
    assert stored["id"] == created.id
    assert stored["owner"] == user.address


async def test_create_rejects_what_is_wrong_and_stores_nothing(
    stub: avs_pb2_grpc.AggregatorStub,
) -> None:
    user = await new_user(stub)
    stranger = Account.create().address
    cases = [
        (create_request(stranger), "invalid smart account address"),
        (create_request(user.runner, edges=[]), "edges field cannot be an empty array"),
    ]
    no_settings = create_request(user.runner)
    del no_settings.input_variables["settings"]
    cases.append((no_settings, "inputVariables is required"))
    for request, fragment in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await user.call("CreateTask", request)
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert fragment in (info.value.details() or "")
    count = await user.call("GetWorkflowCount", avs_pb2.GetWorkflowCountReq())
    assert count.total == 0


async def test_list_pages_both_ways_newest_first(stub: avs_pb2_grpc.AggregatorStub) -> None:
    user = await new_user(stub)
    ids = [
        (await user.call("CreateTask", create_request(user.runner, f"w{i}"))).id for i in range(5)
    ]
    newest_first = list(reversed(ids))
    req = avs_pb2.ListTasksReq(smart_wallet_address=[user.runner], limit=2)
    first = await user.call("ListTasks", req)
    assert [t.id for t in first.items] == newest_first[:2]
    assert first.page_info.has_next_page
    assert not first.page_info.has_previous_page
    assert list(first.items[0].nodes) == []
    assert len(first.items[0].input_variables) == 0
    second = await user.call(
        "ListTasks",
        avs_pb2.ListTasksReq(
            smart_wallet_address=[user.runner], limit=2, after=first.page_info.end_cursor
        ),
    )
    assert [t.id for t in second.items] == newest_first[2:4]
    back = await user.call(
        "ListTasks",
        avs_pb2.ListTasksReq(
            smart_wallet_address=[user.runner], limit=2, before=second.page_info.start_cursor
        ),
    )
    assert [t.id for t in back.items] == newest_first[:2]
    assert back.page_info.has_next_page
    last = await user.call(
        "ListTasks",
        avs_pb2.ListTasksReq(
            smart_wallet_address=[user.runner],
            limit=2,
            after=second.page_info.end_cursor,
            include_nodes=True,
            include_edges=True,
        ),
    )
    assert [t.id for t in last.items] == newest_first[4:]
    assert not last.page_info.has_next_page
    assert [n.name for n in last.items[0].nodes] == ["callApi"]
    assert len(last.items[0].edges) == 1


async def test_list_checks_wallets_and_cursors(stub: avs_pb2_grpc.AggregatorStub) -> None:
    user = await new_user(stub)
    other = await new_user(stub)
    for wallets, message in (
        ([], "Missing smart_wallet_address"),
        ([""], "Missing smart_wallet_address"),
        (["nope"], "invalid smart account address"),
        ([other.runner], "invalid smart account address"),
        # a trailing newline is not an address (it once reached the store and answered INTERNAL)
        ([user.runner + "\n"], "invalid smart account address"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await user.call("ListTasks", avs_pb2.ListTasksReq(smart_wallet_address=wallets))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert info.value.details() == message
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await user.call(
            "ListTasks", avs_pb2.ListTasksReq(smart_wallet_address=[user.runner], after="@@")
        )
    assert (info.value.details() or "").startswith("Invalid pagination cursor.")


async def test_enable_disable_and_wallet_counters(stub: avs_pb2_grpc.AggregatorStub) -> None:
    user = await new_user(stub)
    wf = (await user.call("CreateTask", create_request(user.runner))).id
    off = await user.call("SetTaskEnabled", avs_pb2.SetTaskEnabledReq(id=wf, enabled=False))
    assert (off.success, off.status, off.message, off.previous_status) == (
        True,
        "disabled",
        "Task disabled successfully",
        "Enabled",
    )
    again = await user.call("SetTaskEnabled", avs_pb2.SetTaskEnabledReq(id=wf, enabled=False))
    assert (again.status, again.message) == ("disabled", "Task is already disabled")
    wallet = await user.call("GetWallet", avs_pb2.GetWalletReq(salt="0"))
    assert (wallet.total_task_count, wallet.disabled_task_count, wallet.enabled_task_count) == (
        1,
        1,
        0,
    )
    on = await user.call("SetTaskEnabled", avs_pb2.SetTaskEnabledReq(id=wf, enabled=True))
    assert (on.status, on.previous_status) == ("enabled", "Disabled")
    assert (await user.call("GetTask", avs_pb2.IdReq(id=wf))).status == avs_pb2.Enabled


async def test_cancel_is_terminal(stub: avs_pb2_grpc.AggregatorStub) -> None:
    user = await new_user(stub)
    wf = (await user.call("CreateTask", create_request(user.runner))).id
    assert (await user.call("CancelTask", avs_pb2.IdReq(id=wf))).value is True
    assert (await user.call("CancelTask", avs_pb2.IdReq(id=wf))).value is False
    task = await user.call("GetTask", avs_pb2.IdReq(id=wf))
    assert task.status == avs_pb2.Completed
    assert task.completed_at > 0
    refused = await user.call("SetTaskEnabled", avs_pb2.SetTaskEnabledReq(id=wf, enabled=True))
    assert (refused.success, refused.message) == (
        False,
        "Cannot toggle task from terminal status: Completed",
    )
    wallet = await user.call("GetWallet", avs_pb2.GetWalletReq(salt="0"))
    assert wallet.completed_task_count == 1


async def test_delete_then_gone(stub: avs_pb2_grpc.AggregatorStub) -> None:
    user = await new_user(stub)
    wf = (await user.call("CreateTask", create_request(user.runner))).id
    deleted = await user.call("DeleteTask", avs_pb2.IdReq(id=wf))
    assert (deleted.success, deleted.status, deleted.previous_status) == (
        True,
        "deleted",
        "Enabled",
    )
    assert deleted.deleted_at > 0
    gone = await user.call("DeleteTask", avs_pb2.IdReq(id=wf))
    assert (gone.success, gone.status, gone.message) == (False, "not_found", "Task not found")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await user.call("GetTask", avs_pb2.IdReq(id=wf))
    assert (info.value.code(), info.value.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "task not found",
    )
    assert (await user.call("GetWorkflowCount", avs_pb2.GetWorkflowCountReq())).total == 0


async def test_another_user_sees_and_changes_nothing(stub: avs_pb2_grpc.AggregatorStub) -> None:
    alice, bob = await new_user(stub), await new_user(stub)
    wf = (await alice.call("CreateTask", create_request(alice.runner))).id
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await bob.call("GetTask", avs_pb2.IdReq(id=wf))
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    toggled = await bob.call("SetTaskEnabled", avs_pb2.SetTaskEnabledReq(id=wf, enabled=False))
    assert toggled.status == "not_found"
    assert (await bob.call("DeleteTask", avs_pb2.IdReq(id=wf))).status == "not_found"
    with pytest.raises(grpc.aio.AioRpcError):
        await bob.call("CancelTask", avs_pb2.IdReq(id=wf))
    counted = await bob.call(
        "GetWorkflowCount", avs_pb2.GetWorkflowCountReq(addresses=[alice.runner])
    )
    assert counted.total == 0
    task = await alice.call("GetTask", avs_pb2.IdReq(id=wf))
    assert task.status == avs_pb2.Enabled
    assert (
        await alice.call("GetWorkflowCount", avs_pb2.GetWorkflowCountReq(addresses=[alice.runner]))
    ).total == 1


async def test_active_workflow_cap(stub: avs_pb2_grpc.AggregatorStub) -> None:
    user = await new_user(stub)
    for _ in range(6):
        await user.call("CreateTask", create_request(user.runner))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await user.call("CreateTask", create_request(user.runner))
    assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "active workflow limit" in (info.value.details() or "")
    assert (await user.call("GetWorkflowCount", avs_pb2.GetWorkflowCountReq())).total == 6
