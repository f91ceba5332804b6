"""The whole loop on the devnet: a real aggregator and a real operator daemon. A block trigger
and an ERC-20 transfer event fire, the operator reports them, the executions are stored."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.config import OperatorConfig, load_settings
from ap_avs.devnet import DevnetState
from ap_avs.operator import OperatorApp
from ap_avs.testing import aggregator_config, running_aggregator, user_key

from .support import Chain

pytestmark = pytest.mark.integration
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


@contextlib.asynccontextmanager
async def stack(devnet: DevnetState, tmp_path: Path) -> AsyncIterator[str]:
    operator_account = devnet.test_accounts[-1]
    cfg = aggregator_config(
        tmp_path / "agg",
        smart_wallet={
            "eth_rpc_url": devnet.rpc_url,
            "chain_id": devnet.chain_id,
            "factory_address": devnet.factory,
        },
        approved_operators=[operator_account.address],
    )
    op_cfg = load_settings(
        OperatorConfig,
        {
            "ecdsa_private_key": operator_account.private_key,
            "aggregator_server_ip_port_address": "127.0.0.1:0",
            "enable_node_api": False,
            "db_path": str(tmp_path / "op"),
            "target_chain": {"eth_rpc_url": devnet.rpc_url},
        },
        "test",
    )
    async with running_aggregator(cfg) as server:
        op_cfg = op_cfg.model_copy(update={"aggregator_server_ip_port_address": server.target})
        app = OperatorApp(op_cfg, poll_interval=0.05, resync_grace=2.0, ping_interval=1.0)
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop))
        try:
            yield server.target
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)


def custom_code(source: str) -> avs_pb2.TaskNode:
    return avs_pb2.TaskNode(
        id="n1",
        name="seen",
        type=avs_pb2.NODE_TYPE_CUSTOM_CODE,
        custom_code=avs_pb2.CustomCodeNode(
            config=avs_pb2.CustomCodeNode.Config(lang=avs_pb2.LANG_JAVASCRIPT, source=source)
        ),
    )


def request(trigger: avs_pb2.TaskTrigger, source: str, runner: str) -> avs_pb2.CreateTaskReq:
    req = avs_pb2.CreateTaskReq(
        trigger=trigger,
        nodes=[custom_code(source)],
        edges=[avs_pb2.TaskEdge(id="e1", source=trigger.id, target="n1")],
        max_execution=3,
    )
    settings = struct_pb2.Value()
    settings.struct_value.update({"name": "e2e", "runner": runner})
    req.input_variables["settings"].CopyFrom(settings)
    return req


async def executions_of(stub: Any, auth: Any, task_id: str, at_least: int) -> list[Any]:
    async with asyncio.timeout(30):
        while True:
            reply = await stub.ListExecutions(
                avs_pb2.ListExecutionsReq(task_ids=[task_id]), metadata=auth
            )
            if len(reply.items) >= at_least:
                return list(reply.items)
            await asyncio.sleep(0.1)


async def test_block_and_event_triggers_run_workflows(
    devnet: DevnetState, tmp_path: Path, chain: Chain
) -> None:
    owner = Account.create().address
    auth = (("authkey", user_key(owner)),)
    async with stack(devnet, tmp_path) as target, grpc.aio.insecure_channel(target) as channel:
        stub = avs_pb2_grpc.AggregatorStub(channel)
        runner = (await stub.GetWallet(avs_pb2.GetWalletReq(salt="0"), metadata=auth)).address

        block_trigger = avs_pb2.TaskTrigger(
            id="tb", name="everyBlock", type=avs_pb2.TRIGGER_TYPE_BLOCK
        )
        block_trigger.block.config.interval = 1
        block_task = await stub.CreateTask(
            request(block_trigger, "return everyBlock.data.blockNumber", runner), metadata=auth
        )

        token = devnet.tokens[0]
        event_trigger = avs_pb2.TaskTrigger(
            id="te", name="received", type=avs_pb2.TRIGGER_TYPE_EVENT
        )
        query = event_trigger.event.config.queries.add()
        query.addresses.append(token.address)
        query.topics.extend([TRANSFER, "", runner])
        event_trigger.event.config.cooldown_seconds = 0
        event_task = await stub.CreateTask(
            request(event_trigger, "return received.data", runner), metadata=auth
        )

        for _ in range(3):
            await chain.call("evm_mine")
        blocks = await executions_of(stub, auth, block_task.id, 1)
        seen = MessageToDict(blocks[0].steps[1].custom_code.data)
        assert isinstance(seen, int | float)
        assert blocks[0].steps[0].type == "TRIGGER_TYPE_BLOCK"

        mint = keccak(text="mint(address,uint256)")[:4] + encode(
            ["address", "uint256"], [runner, 5 * 10**token.decimals]
        )
        await chain.send(devnet.test_accounts[0].address, token.address, data=mint)
        (event,) = await executions_of(stub, auth, event_task.id, 1)
        data = MessageToDict(event.steps[0].event_trigger.data)
        assert data["transactionHash"].startswith("0x")
        assert str(data.get("toAddress", data.get("to", ""))).lower() == runner.lower()
