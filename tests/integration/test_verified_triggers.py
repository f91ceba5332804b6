"""The honest path under strict verification, through a reorg inside the confirmation depth: a
real aggregator and a real operator daemon, both with two confirmations, on a devnet of their
own. A transfer is mined and then replaced by a reorg (``anvil_reorg``) with another transfer
before it is two blocks deep; the workflow runs exactly once, on the transfer that stayed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from google.protobuf.json_format import MessageToDict

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.config import OperatorConfig, load_settings
from ap_avs.devnet import DevnetState
from ap_avs.operator import OperatorApp
from ap_avs.testing import RunningAggregator, aggregator_config, running_aggregator, user_key

from .support import Chain, eventually
from .test_operator_e2e import TRANSFER, executions_of, request

pytestmark = pytest.mark.integration
CONFIRMATIONS = 2


@contextlib.asynccontextmanager
async def stack(
    devnet: DevnetState, tmp_path: Path
) -> AsyncIterator[tuple[RunningAggregator, OperatorApp]]:
    operator_account = devnet.test_accounts[-1]
    cfg = aggregator_config(
        tmp_path / "agg",
        smart_wallet={
            "eth_rpc_url": devnet.rpc_url,
            "chain_id": devnet.chain_id,
            "factory_address": devnet.factory,
        },
        approved_operators=[operator_account.address],
        trigger_verification="strict",
        verification={"event_confirmations": CONFIRMATIONS},
    )
    op_cfg = load_settings(
        OperatorConfig,
        {
            "ecdsa_private_key": operator_account.private_key,
            "enable_node_api": False,
            "db_path": str(tmp_path / "op"),
            "target_chain": {"eth_rpc_url": devnet.rpc_url},
        },
        "test",
    )
    async with running_aggregator(cfg) as server:
        op_cfg = op_cfg.model_copy(update={"aggregator_server_ip_port_address": server.target})
        app = OperatorApp(
            op_cfg,
            poll_interval=0.05,
            resync_grace=2.0,
            ping_interval=1.0,
            event_confirmations=CONFIRMATIONS,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop))
        try:
            yield server, app
        finally:
            stop.set()
            await asyncio.wait_for(task, 15)


def mint_call(token: str, to: str, amount: int, sender: str) -> dict[str, Any]:
    data = keccak(text="mint(address,uint256)")[:4] + encode(["address", "uint256"], [to, amount])
    return {"from": sender, "to": token, "data": "0x" + data.hex(), "gas": hex(200_000)}


async def test_a_reorg_inside_the_confirmation_depth_runs_the_surviving_transfer_once(
    reorg_devnet: DevnetState, tmp_path: Path
) -> None:
    devnet = reorg_devnet
    owner = Account.create().address
    auth = (("authkey", user_key(owner)),)
    async with (
        httpx.AsyncClient(timeout=10.0) as http,
        stack(devnet, tmp_path) as (server, operator),
    ):
        chain = Chain(http, devnet.rpc_url)
        async with grpc.aio.insecure_channel(server.target) as channel:
            stub = avs_pb2_grpc.AggregatorStub(channel)
            runner = (await stub.GetWallet(avs_pb2.GetWalletReq(salt="0"), metadata=auth)).address
            token = devnet.tokens[0]
            trigger = avs_pb2.TaskTrigger(id="te", name="received", type=avs_pb2.TRIGGER_TYPE_EVENT)
            query = trigger.event.config.queries.add()
            query.addresses.append(token.address)
            query.topics.extend([TRANSFER, "", runner])
            trigger.event.config.cooldown_seconds = 0
            task = await stub.CreateTask(
                request(trigger, "return received.data", runner), metadata=auth
            )

            # liveness guard: assignment takes well under a second
            await eventually(
                lambda: (
                    operator.roster is not None
                    and operator.roster.watching(task.id)
                    and operator.event_position is not None
                ),
                what="the operator watches the workflow",
            )

            sender = devnet.test_accounts[0].address
            dropped = await chain.call(
                "eth_sendTransaction", mint_call(token.address, runner, 1111, sender)
            )
            # anvil mines at once, but its receipt may follow a moment later (liveness guard 30 s)
            async with asyncio.timeout(30):
                while await chain.call("eth_getTransactionReceipt", dropped) is None:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            kept_call = mint_call(token.address, runner, 2222, sender)
            await chain.call("anvil_reorg", 1, [[kept_call, 0]])  # before 2 confirmations
            assert await chain.call("eth_getTransactionReceipt", dropped) is None
            head = int(await chain.call("eth_blockNumber"), 16)
            block = await chain.call("eth_getBlockByNumber", hex(head), False)
            [kept] = block["transactions"]
            for _ in range(CONFIRMATIONS):
                await chain.call("evm_mine")

            (execution,) = await executions_of(stub, auth, task.id, 1)
            data = MessageToDict(execution.steps[0].event_trigger.data)
            assert data["transactionHash"] == kept
            assert data["value"] == "2222"
            assert data["blockHash"] == block["hash"]
            # more blocks: the dropped transfer never runs, the kept one not twice
            for _ in range(3):
                await chain.call("evm_mine")
            await eventually(
                lambda: (operator.event_position or 0) >= head + 3,
                what="the operator handled the new blocks",
            )
            reply = await stub.ListExecutions(
                avs_pb2.ListExecutionsReq(task_ids=[task.id]), metadata=auth
            )
            assert len(reply.items) == 1
            assert reply.items[0].status == avs_pb2.EXECUTION_STATUS_SUCCESS
        telemetry = await http.get(f"http://127.0.0.1:{server.http_port}/telemetry.json")
        assert telemetry.json()["invalid_reports"] == 0  # the honest operator is clean
