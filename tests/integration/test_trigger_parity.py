"""RunTrigger and SimulateTask report the same trigger data as a real run.

A real aggregator and a real operator daemon on the devnet: a block trigger and an ERC-20
transfer event fire for real, and the stored executions' trigger outputs are compared, field by
field, with what RunTrigger and SimulateTask answer for the same block and the same log (one
builder, ``ap_avs.domain.trigger_data``, makes all of them).
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from google.protobuf.json_format import MessageToDict

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.devnet import DevnetState
from ap_avs.testing import user_key

from .support import Chain
from .test_operator_e2e import TRANSFER, executions_of, request, stack

pytestmark = pytest.mark.integration


def simulate_req(trigger: avs_pb2.TaskTrigger, runner: str) -> avs_pb2.SimulateTaskReq:
    created = request(trigger, "return 1", runner)
    req = avs_pb2.SimulateTaskReq(trigger=trigger, nodes=created.nodes, edges=created.edges)
    req.input_variables["settings"].CopyFrom(created.input_variables["settings"])
    return req


async def outputs(stub: Any, auth: Any, trigger: avs_pb2.TaskTrigger, runner: str) -> tuple:
    field = trigger.WhichOneof("trigger_type") + "_trigger"
    ran = await stub.RunTrigger(avs_pb2.RunTriggerReq(trigger=trigger), metadata=auth)
    assert ran.success, ran.error
    simulated = await stub.SimulateTask(simulate_req(trigger, runner), metadata=auth)
    assert simulated.steps[0].success, simulated.steps[0].error
    return (
        MessageToDict(getattr(ran, field).data),
        MessageToDict(getattr(simulated.steps[0], field).data),
    )


async def test_run_trigger_and_simulate_equal_a_real_run(
    devnet: DevnetState, tmp_path: Any, chain: Chain
) -> None:
    owner = Account.create().address
    auth = (("authkey", user_key(owner)),)
    async with stack(devnet, tmp_path) as target, grpc.aio.insecure_channel(target) as channel:
        stub = avs_pb2_grpc.AggregatorStub(channel)
        runner = (await stub.GetWallet(avs_pb2.GetWalletReq(salt="0"), metadata=auth)).address

        # an event: an ERC-20 mint to the runner, reported by the operator
        token = devnet.tokens[0]
        event = avs_pb2.TaskTrigger(id="te", name="received", type=avs_pb2.TRIGGER_TYPE_EVENT)
        query = event.event.config.queries.add()
        query.addresses.append(token.address)
        query.topics.extend([TRANSFER, "", runner])
        event.event.config.cooldown_seconds = 0
        event_task = await stub.CreateTask(request(event, "return 1", runner), metadata=auth)
        mint = keccak(text="mint(address,uint256)")[:4] + encode(
            ["address", "uint256"], [runner, 7 * 10**token.decimals]
        )
        await chain.send(devnet.test_accounts[0].address, token.address, data=mint)
        (fired,) = await executions_of(stub, auth, event_task.id, 1)
        real = MessageToDict(fired.steps[0].event_trigger.data)
        assert real["toAddress"] == runner
        assert {"blockTimestamp", "chainId", "removed", "tokenSymbol", "valueFormatted"} <= set(
            real
        )
        assert real["address"] != real["address"].lower()  # checksummed
        ran, simulated = await outputs(stub, auth, event, runner)
        assert ran == real
        assert simulated == real

        # a block: the head block, reported by the operator
        block = avs_pb2.TaskTrigger(id="tb", name="everyBlock", type=avs_pb2.TRIGGER_TYPE_BLOCK)
        block.block.config.interval = 1
        create = request(block, "return 1", runner)
        create.max_execution = 50
        block_task = await stub.CreateTask(create, metadata=auth)
        await chain.call("evm_mine")
        head = int(await chain.call("eth_blockNumber"), 16)
        async with asyncio.timeout(30):  # liveness guard, 100x the usual
            while True:
                runs = await executions_of(stub, auth, block_task.id, 1)
                by_number = {
                    MessageToDict(r.steps[0].block_trigger.data)["blockNumber"]: r for r in runs
                }
                if head in by_number:
                    break
                await asyncio.sleep(0.1)
        real_block = MessageToDict(by_number[head].steps[0].block_trigger.data)
        assert int(await chain.call("eth_blockNumber"), 16) == head  # nothing mined since
        ran_block, simulated_block = await outputs(stub, auth, block, runner)
        assert ran_block == real_block
        assert simulated_block == real_block
