"""A stored workflow whose contract write reverts: the step carries the revert reason, the other
branch still runs, the execution is PARTIAL_SUCCESS. And 20 concurrent runs writing from one
wallet all land (one nonce lane per wallet)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
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

from .support import Chain

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ABI = json.loads((ROOT / "contracts" / "artifacts" / "TestToken.json").read_text())["abi"]


def abi_values(*names: str) -> list[struct_pb2.Value]:
    values = []
    for entry in ABI:
        if entry.get("type") == "function" and entry.get("name") in names:
            value = struct_pb2.Value()
            value.struct_value.update(entry)
            values.append(value)
    return values


@pytest.fixture
async def client(devnet: DevnetState, tmp_path: Path) -> AsyncIterator[tuple[Any, Any, str]]:
    cfg = aggregator_config(
        tmp_path / "db",
        smart_wallet={
            "eth_rpc_url": devnet.rpc_url,
            "chain_id": devnet.chain_id,
            "factory_address": devnet.factory,
            "entrypoint_address": devnet.entrypoint,
            "bundler_url": devnet.bundler_url or "",
            "paymaster_address": devnet.paymaster,
            "controller_private_key": devnet.controller.private_key,
        },
        engine={"allow_private_urls": True, "workers": 8},
    )
    owner = Account.create().address
    auth = (("authkey", user_key(owner)),)
    async with (
        running_aggregator(cfg) as server,
        grpc.aio.insecure_channel(server.target) as channel,
    ):
        stub = avs_pb2_grpc.AggregatorStub(channel)
        runner = (await stub.GetWallet(avs_pb2.GetWalletReq(salt="0"), metadata=auth)).address
        yield stub, auth, runner


def write_node(node_id: str, method: str, params: list[str]) -> avs_pb2.TaskNode:
    node = avs_pb2.TaskNode(id=node_id, name=node_id, type=avs_pb2.NODE_TYPE_CONTRACT_WRITE)
    config = node.contract_write.config
    config.contract_address = TOKEN_ADDRESS[0]
    config.contract_abi.extend(abi_values(method))
    config.method_calls.add(method_name=method, method_params=params)
    return node


TOKEN_ADDRESS: list[str] = []


def workflow(runner: str, nodes: list[avs_pb2.TaskNode]) -> avs_pb2.CreateTaskReq:
    trigger = avs_pb2.TaskTrigger(id="t", name="go", type=avs_pb2.TRIGGER_TYPE_MANUAL)
    trigger.manual.config.lang = avs_pb2.LANG_JSON
    req = avs_pb2.CreateTaskReq(
        trigger=trigger,
        nodes=nodes,
        edges=[avs_pb2.TaskEdge(id=f"e{i}", source="t", target=n.id) for i, n in enumerate(nodes)],
        max_execution=50,
    )
    req.input_variables["settings"].struct_value.update({"name": "chain", "runner": runner})
    return req


async def test_a_reverting_write_is_a_failed_step_in_a_partial_success(
    client: tuple[Any, Any, str], devnet: DevnetState
) -> None:
    stub, auth, runner = client
    TOKEN_ADDRESS[:] = [devnet.token("TUSD").address]
    nodes = [
        write_node("mintSome", "mint", [runner, "1000"]),
        write_node("sendTooMuch", "transfer", [devnet.test_accounts[0].address, "10" + "0" * 30]),
    ]
    task = await stub.CreateTask(workflow(runner, nodes), metadata=auth)
    done = await stub.TriggerTask(
        avs_pb2.TriggerTaskReq(task_id=task.id, is_blocking=True), metadata=auth
    )
    assert done.status == avs_pb2.EXECUTION_STATUS_PARTIAL_SUCCESS, done.error
    steps = {s.name: s for s in done.steps}
    assert steps["mintSome"].success, steps["mintSome"].error
    assert not steps["sendTooMuch"].success
    assert "exceeds balance" in steps["sendTooMuch"].error
    assert done.error == "1 of 3 steps failed: sendTooMuch"


async def test_twenty_concurrent_runs_writing_from_one_wallet_all_land(
    client: tuple[Any, Any, str], devnet: DevnetState, chain: Chain
) -> None:
    stub, auth, runner = client
    token = devnet.token("TUSD").address
    TOKEN_ADDRESS[:] = [token]
    task = await stub.CreateTask(
        workflow(runner, [write_node("mintOne", "mint", [runner, "1"])]), metadata=auth
    )
    (before,) = await chain.read(token, "balanceOf(address)", ["address"], [runner], ["uint256"])
    results = await asyncio.gather(
        *(
            stub.TriggerTask(
                avs_pb2.TriggerTaskReq(task_id=task.id, is_blocking=True), metadata=auth
            )
            for _ in range(20)
        )
    )
    assert [r.status for r in results] == [avs_pb2.EXECUTION_STATUS_SUCCESS] * 20, [
        r.error for r in results
    ]
    (after,) = await chain.read(token, "balanceOf(address)", ["address"], [runner], ["uint256"])
    assert after - before == 20


async def test_read_the_price_feed(client: tuple[Any, Any, str], devnet: DevnetState) -> None:
    stub, auth, runner = client
    feed_abi = json.loads((ROOT / "contracts" / "artifacts" / "TestPriceFeed.json").read_text())
    node = avs_pb2.TaskNode(id="p", name="price", type=avs_pb2.NODE_TYPE_CONTRACT_READ)
    config = node.contract_read.config
    config.contract_address = devnet.price_feed
    for entry in feed_abi["abi"]:
        if entry.get("name") in ("latestRoundData", "decimals"):
            value = struct_pb2.Value()
            value.struct_value.update(entry)
            config.contract_abi.append(value)
    config.method_calls.add(method_name="latestRoundData", apply_to_fields=["answer"])
    req = avs_pb2.RunNodeWithInputsReq(node=node)
    req.input_variables["settings"].struct_value.update({"name": "p", "runner": runner})
    reply = await stub.RunNodeWithInputs(req, metadata=auth)
    assert reply.success, reply.error
    data = MessageToDict(reply.contract_read.data)
    read = data["latestRoundData"]
    assert read["answer"] == "3000"  # 3000 * 10**8 with the feed's 8 decimals
    assert read["answerRaw"] in (300000000000, "300000000000")
