"""Event and block reports verified against a real chain (a devnet of its own, reorganised with
``anvil_reorg``), over the real Node service.

Each false report is refused with INVALID_ARGUMENT, nothing is queued, and evidence is stored
against the operator. The honest reports (built with the operator's own code) are queued with
the data rebuilt from the chain.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from test_operator_api import CONFIGS, Harness, Operator, Signal, rpc_error, serving

from ap_avs.chain import ChainClient
from ap_avs.chain.reader import ChainReader
from ap_avs.devnet import DevnetState
from ap_avs.domain.events import TRANSFER_TOPIC, EventIndex
from ap_avs.domain.trigger_data import block_data, event_data, parse_log
from ap_avs.domain.triggers import EventQuery, EventTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import Workflow
from ap_avs.engine.queue import FiredTrigger
from ap_avs.store.evidence import EvidenceRepo
from ap_avs.store.keys import QueueState

pytestmark = pytest.mark.integration

NEVER_SUSPEND: dict[str, Any] = {
    "trigger_verification": "strict",
    "verification": {"suspend_after_invalid_reports": 0},
}


class Rpc:
    def __init__(self, client: ChainClient) -> None:
        self.client = client

    async def __call__(self, method: str, *params: Any) -> Any:
        return await self.client.request(method, list(params))

    async def mint(self, devnet: DevnetState, to: str, amount: int) -> str:
        """Mint test tokens to ``to``; the transaction hash, once mined."""
        token = devnet.tokens[0].address
        data = keccak(text="mint(address,uint256)")[:4] + encode(
            ["address", "uint256"], [to, amount]
        )
        tx = {
            "from": devnet.test_accounts[0].address,
            "to": token,
            "data": "0x" + data.hex(),
            "gas": hex(200_000),
        }
        tx_hash: str = await self("eth_sendTransaction", tx)
        # anvil mines at once, but its receipt may follow a moment later (liveness guard 30 s)
        async with asyncio.timeout(30):
            while (receipt := await self("eth_getTransactionReceipt", tx_hash)) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert receipt["status"] == "0x1", receipt
        return tx_hash


@pytest.fixture
async def rpc(reorg_devnet: DevnetState) -> AsyncIterator[Rpc]:
    async with ChainClient(reorg_devnet.rpc_url) as client:
        yield Rpc(client)


async def one_operator(h: Harness, wf: Workflow) -> Operator:
    op = Operator(h.target, signal=Signal())
    op.sync()
    await op.wait_until(lambda: wf.id in op.watching)
    return op


async def honest_event(rpc: Rpc, wf: Workflow, tx: str, chain_id: int) -> tuple[str, JsonValue]:
    """The report an honest operator sends for ``tx``'s first log: the operator's own code."""
    receipt = await rpc("eth_getTransactionReceipt", tx)
    log = parse_log(receipt["logs"][0])
    config = wf.trigger.config
    assert isinstance(config, EventTriggerConfig)
    index = EventIndex()
    index.add(wf.id, config.queries)
    [match] = index.match(log)
    reader = ChainReader(rpc.client)
    header = await reader.header(log.block_number)
    data = event_data(
        match,
        chain_id=await rpc.client.chain_id(),
        block_timestamp=log.block_timestamp or header.timestamp,
        token=await reader.token(log.address),
    )
    assert chain_id == await rpc.client.chain_id()
    return f"{wf.id}:{tx}:{log.log_index}", data


def received_by(token: str, wallet: str) -> Trigger:
    query = EventQuery(addresses=(token,), topics=(TRANSFER_TOPIC, "", wallet))
    return Trigger("t", "received", TriggerKind.EVENT, EventTriggerConfig((query,), 0))


async def test_false_event_reports_are_refused_with_evidence(
    tmp_path: Path, reorg_devnet: DevnetState, rpc: Rpc
) -> None:
    devnet = reorg_devnet
    wallet = Account.create().address
    async with serving(tmp_path, chain=rpc.client, chain_id=devnet.chain_id, **NEVER_SUSPEND) as h:
        wf = await h.create(
            TriggerKind.EVENT, trigger=received_by(devnet.tokens[0].address, wallet)
        )
        op = await one_operator(h, wf)
        evidence = EvidenceRepo(h.kv)
        try:
            tx = await rpc.mint(devnet, wallet, 5 * 10**6)
            key, honest = await honest_event(rpc, wf, tx, devnet.chain_id)
            assert isinstance(honest, dict)
            log_index = honest["logIndex"]
            refusals = queued = 0

            async def refused(request_id: str, data: JsonValue, expected: str) -> None:
                nonlocal refusals
                err = await rpc_error(op.notify(wf.id, request_id, data, "event_trigger"))
                assert err.code() is grpc.StatusCode.INVALID_ARGUMENT, err
                assert expected in (err.details() or ""), err.details()
                assert await h.queue.depth() == queued  # nothing more was queued
                refusals += 1
                assert await evidence.count(op.address) == refusals
                [latest, *_] = await evidence.list(op.address, limit=1)
                assert expected in latest.reason
                assert latest.occurrence == request_id.removeprefix(f"{wf.id}:")

            # the example: a transfer that never happened, far in the future, 10^24
            fake_tx = "0x" + os.urandom(32).hex()
            invented = {**honest, "transactionHash": fake_tx, "blockNumber": 99_999_999}
            invented["value"] = str(10**24)
            await refused(f"{wf.id}:{fake_tx}:0", invented, "block 99999999 is in the future")
            # an unknown transaction in a block that exists
            plausible = {**honest, "transactionHash": fake_tx}
            await refused(f"{wf.id}:{fake_tx}:0", plausible, "is not on the chain")
            # a real transaction, a log index it does not have
            wrong = {**honest, "logIndex": log_index + 5}
            await refused(f"{wf.id}:{tx}:{log_index + 5}", wrong, "has no log at index")
            # a real log with altered value, sender or recipient
            await refused(key, {**honest, "value": str(10**24)}, "value: reported")
            stranger = Account.create().address
            await refused(key, {**honest, "fromAddress": stranger}, "fromAddress: reported")
            await refused(key, {**honest, "toAddress": stranger}, "toAddress: reported")
            # a removed (reorged-out) log never runs
            await refused(key, {**honest, "removed": True}, "reported as removed")
            # a log of the chain that this workflow does not watch
            other_tx = await rpc.mint(devnet, stranger, 7)
            other = {"transactionHash": other_tx, "logIndex": 0}
            await refused(f"{wf.id}:{other_tx}:0", other, "does not match the workflow")

            accepted = await op.notify(wf.id, key, honest, "event_trigger")
            assert accepted.status == "enabled"
            [job] = await h.queue.jobs(QueueState.PENDING)
            assert job.trigger == FiredTrigger(TriggerKind.EVENT, honest)
            assert job.trigger.data["value"] == str(5 * 10**6)  # type: ignore[index,call-overload]
            queued = 1

            # A transaction reorged out of the chain: its (once true) log is refused now.
            gone = await rpc.mint(devnet, wallet, 9)
            _, gone_data = await honest_event(rpc, wf, gone, devnet.chain_id)
            assert await rpc("anvil_reorg", 1, []) is None
            assert await rpc("eth_getTransactionReceipt", gone) is None
            assert isinstance(gone_data, dict)
            await refused(f"{wf.id}:{gone}:{gone_data['logIndex']}", gone_data, "not on the chain")
            assert await h.queue.depth() == 1
        finally:
            await op.close()


async def test_false_block_reports_are_refused_with_evidence(
    tmp_path: Path, reorg_devnet: DevnetState, rpc: Rpc
) -> None:
    devnet = reorg_devnet
    interval = CONFIGS[TriggerKind.BLOCK].interval  # type: ignore[union-attr]
    reader = ChainReader(rpc.client)
    async with serving(tmp_path, chain=rpc.client, chain_id=devnet.chain_id, **NEVER_SUSPEND) as h:
        wf = await h.create(TriggerKind.BLOCK)
        op = await one_operator(h, wf)
        evidence = EvidenceRepo(h.kv)
        try:
            while (head := await reader.head()) % interval != 0:
                await rpc("evm_mine")
            refusals = 0

            async def refused(number: int, data: JsonValue, expected: str) -> None:
                nonlocal refusals
                err = await rpc_error(op.notify(wf.id, f"{wf.id}:{number}", data))
                assert err.code() is grpc.StatusCode.INVALID_ARGUMENT, err
                assert expected in (err.details() or ""), err.details()
                assert await h.queue.depth() == 0
                refusals += 1
                assert await evidence.count(op.address) == refusals

            # a block of another fork: block `head` as it was before a reorg replaced it
            before = await reader.header(head)
            sender = devnet.test_accounts[1].address
            replacement = [{"from": sender, "to": sender, "value": "0x1"}, 0]
            await rpc("anvil_reorg", 1, [replacement])
            after = await reader.header(head)
            assert after.hash != before.hash
            await refused(head, block_data(before), "a block of another fork")
            # a future block
            future = head + 1000 * interval
            lie = {**block_data(after), "blockNumber": future}  # type: ignore[dict-item]
            await refused(future, lie, "in the future")
            # a real block the interval does not fire at
            await rpc("evm_mine")
            off = await reader.header(head + 1)
            await refused(head + 1, block_data(off), "not a multiple of the workflow's interval")

            accepted = await op.notify(wf.id, f"{wf.id}:{head}", block_data(after))
            assert accepted.status == "enabled"
            [job] = await h.queue.jobs(QueueState.PENDING)
            assert job.trigger == FiredTrigger(TriggerKind.BLOCK, block_data(after))
        finally:
            await op.close()
