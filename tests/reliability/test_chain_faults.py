"""Chain faults under a real operator and aggregator: a reorg on anvil (``evm_snapshot`` /
``evm_revert`` then new blocks) and the chain RPC going down and coming back.

The chain is a private devnet (anvil and our contracts, no bundler) so reverting it cannot
disturb other tests. The operator reaches it through a loopback relay the test can cut. Event
firings are counted per transaction hash, block firings per block number, from the stored
executions (ListExecutions).

The operator uses no WebSocket (polling ``eth_getLogs`` from a persisted cursor is its source of
truth), so "WebSocket drops" has nothing to act on; the HTTP RPC outage covers that path.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from google.protobuf.json_format import MessageToDict

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.config import OperatorConfig, load_settings
from ap_avs.devnet import DevnetOptions, DevnetState
from ap_avs.domain.events import TRANSFER_TOPIC
from ap_avs.operator import OperatorApp
from ap_avs.operator.client import Backoff
from ap_avs.testing import DevnetThread, aggregator_config, running_aggregator

from .support import (
    TcpProxy,
    User,
    block_trigger,
    chain_settings,
    channel,
    code_node,
    event_trigger,
    eventually,
    stop_operator,
    workflow,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chain_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetState]:
    """A devnet of this module's own: reverting it must not disturb other tests."""
    state_file = tmp_path_factory.mktemp("chain-faults") / "state.json"
    runner = DevnetThread(DevnetOptions(state_file=state_file, bundler=False))
    state = runner.start()
    try:
        yield state
    finally:
        runner.stop()


class Rpc:
    """JSON-RPC to anvil, and raw transactions signed here (so one can be broadcast twice)."""

    def __init__(self, client: httpx.AsyncClient, url: str, devnet: DevnetState) -> None:
        self._client, self._url, self._devnet = client, url, devnet
        self.sender = devnet.test_accounts[0]

    async def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        reply = (await self._client.post(self._url, json=body)).json()
        if reply.get("error"):
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    async def head(self) -> int:
        return int(await self.call("eth_blockNumber"), 16)

    async def signed_mint(self, token: str, to: str, amount: int) -> bytes:
        nonce = int(await self.call("eth_getTransactionCount", self.sender.address, "pending"), 16)
        data = keccak(text="mint(address,uint256)")[:4] + encode(
            ["address", "uint256"], [to, amount]
        )
        tx = {
            "type": 2,
            "chainId": self._devnet.chain_id,
            "nonce": nonce,
            "to": token,
            "value": 0,
            "data": data,
            "gas": 200_000,
            "maxFeePerGas": 100 * 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
        signed = Account.sign_transaction(tx, self.sender.private_key)
        return bytes(signed.raw_transaction)

    async def broadcast(self, raw: bytes) -> str:
        tx_hash = str(await self.call("eth_sendRawTransaction", "0x" + raw.hex()))
        receipt = await eventually(
            lambda: self.call("eth_getTransactionReceipt", tx_hash), within=10, what=tx_hash
        )
        assert receipt["status"] == "0x1", receipt
        return tx_hash

    async def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            await self.call("evm_mine")


@dataclass
class Stack:
    user: User
    rpc: Rpc
    proxy: TcpProxy
    operator: OperatorApp


@contextlib.asynccontextmanager
async def stack(devnet: DevnetState, tmp_path: Path, *, confirmations: int) -> AsyncIterator[Stack]:
    """Aggregator + one operator whose chain RPC goes through a relay."""
    config = aggregator_config(tmp_path / "agg", smart_wallet=chain_settings(devnet))
    host, port = devnet.rpc_url.removeprefix("http://").split(":")
    async with (
        httpx.AsyncClient(timeout=10) as http,
        TcpProxy(host, int(port)) as proxy,
        running_aggregator(config) as server,
        channel(server.target) as ch,
    ):
        op_config = load_settings(
            OperatorConfig,
            {
                "ecdsa_private_key": Account.create().key.hex(),
                "aggregator_server_ip_port_address": server.target,
                "enable_node_api": False,
                "db_path": str(tmp_path / "op"),
                "target_chain": {"eth_rpc_url": proxy.url},
            },
            "test",
        )
        operator = OperatorApp(
            op_config,
            poll_interval=0.05,
            resync_grace=1.0,
            ping_interval=0.5,
            event_confirmations=confirmations,
            backoff=Backoff(initial=0.2, maximum=1.0),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(operator.run(stop))
        try:
            user = await User(
                avs_pb2_grpc.AggregatorStub(ch), Account.create().address
            ).with_wallet()
            yield Stack(user, Rpc(http, devnet.rpc_url, devnet), proxy, operator)
        finally:
            await stop_operator(task, stop)


async def watched_workflow(s: Stack, request: avs_pb2.CreateTaskReq) -> str:
    request.max_execution = 1000
    task_id = str((await s.user.call("CreateTask", request)).id)
    roster = s.operator

    def watching() -> bool:
        return roster.roster is not None and roster.roster.watching(task_id)

    await eventually(watching, what="the operator watches the workflow")
    return task_id


async def executions(user: User, task_id: str) -> list[Any]:
    reply = await user.call("ListExecutions", avs_pb2.ListExecutionsReq(task_ids=[task_id]))
    items = list(reply.items)
    while reply.page_info.has_next_page:
        reply = await user.call(
            "ListExecutions",
            avs_pb2.ListExecutionsReq(task_ids=[task_id], after=reply.page_info.end_cursor),
        )
        items += reply.items
    return items


async def fired_tx_hashes(user: User, task_id: str) -> Counter[str]:
    return Counter(
        MessageToDict(e.steps[0].event_trigger.data)["transactionHash"]
        for e in await executions(user, task_id)
    )


async def event_workflow(s: Stack, devnet: DevnetState) -> tuple[str, str]:
    token = devnet.tokens[0].address
    trigger = event_trigger(token, [TRANSFER_TOPIC, "", s.user.runner], name="received")
    task_id = await watched_workflow(
        s, workflow(s.user.runner, trigger, [code_node("return received.data.value")])
    )
    await s.rpc.mine(2)  # the event watcher has started from the head
    return task_id, token


async def settle_quietly(s: Stack, blocks: int = 4) -> None:
    """Mine a few blocks slowly so late (duplicate) firings get their chance to show."""
    for _ in range(blocks):
        await s.rpc.mine()
        await asyncio.sleep(0.15)


async def test_a_reorg_within_the_confirmation_depth_neither_misses_nor_double_fires(
    chain_devnet: DevnetState, tmp_path: Path
) -> None:
    async with stack(chain_devnet, tmp_path, confirmations=2) as s:
        task_id, token = await event_workflow(s, chain_devnet)
        snapshot = await s.rpc.call("evm_snapshot")
        orphan = await s.rpc.broadcast(await s.rpc.signed_mint(token, s.user.runner, 1))
        await s.rpc.call("evm_revert", snapshot)  # the block holding `orphan` is gone
        kept = await s.rpc.broadcast(await s.rpc.signed_mint(token, s.user.runner, 2))
        await s.rpc.mine(3)
        await eventually(
            lambda: _has(s.user, task_id, kept), what="the transfer of the new chain fired"
        )
        await settle_quietly(s)
        fired = await fired_tx_hashes(s.user, task_id)
    assert fired == Counter({kept: 1}), (orphan, fired)


async def test_a_reorg_replaying_a_fired_log_does_not_fire_it_again(
    chain_devnet: DevnetState, tmp_path: Path
) -> None:
    """No confirmations: a log fires at once; the reorg re-includes the same transaction in a
    new block (same hash and log index, new block hash) next to a new one."""
    async with stack(chain_devnet, tmp_path, confirmations=0) as s:
        task_id, token = await event_workflow(s, chain_devnet)
        snapshot = await s.rpc.call("evm_snapshot")
        raw = await s.rpc.signed_mint(token, s.user.runner, 1)
        first = await s.rpc.broadcast(raw)
        await eventually(lambda: _has(s.user, task_id, first), what="the first transfer fired")
        await s.rpc.call("evm_revert", snapshot)
        await s.rpc.mine()  # the operator sees the shorter chain
        await asyncio.sleep(0.3)
        assert await s.rpc.broadcast(raw) == first  # re-included in the new chain
        second = await s.rpc.broadcast(await s.rpc.signed_mint(token, s.user.runner, 2))
        await eventually(lambda: _has(s.user, task_id, second), what="the second transfer fired")
        await settle_quietly(s)
        fired = await fired_tx_hashes(s.user, task_id)
    assert fired == Counter({first: 1, second: 1})


async def test_a_reorg_between_two_polls_does_not_miss_the_replacing_block(
    chain_devnet: DevnetState, tmp_path: Path
) -> None:
    async with stack(chain_devnet, tmp_path, confirmations=0) as s:
        task_id, token = await event_workflow(s, chain_devnet)
        snapshot = await s.rpc.call("evm_snapshot")
        orphan = await s.rpc.broadcast(await s.rpc.signed_mint(token, s.user.runner, 1))
        await eventually(lambda: _has(s.user, task_id, orphan), what="the first transfer fired")
        s.proxy.refuse()  # the operator cannot poll while the chain reorganises
        await s.rpc.call("evm_revert", snapshot)
        replacing = await s.rpc.broadcast(await s.rpc.signed_mint(token, s.user.runner, 2))
        s.proxy.restore()
        later = await s.rpc.broadcast(await s.rpc.signed_mint(token, s.user.runner, 3))
        await eventually(lambda: _has(s.user, task_id, later), what="the operator is back")
        await settle_quietly(s)
        fired = await fired_tx_hashes(s.user, task_id)
    assert fired == Counter({orphan: 1, replacing: 1, later: 1}), replacing


async def test_the_rpc_going_down_and_back_loses_no_block(
    chain_devnet: DevnetState, tmp_path: Path
) -> None:
    async with stack(chain_devnet, tmp_path, confirmations=0) as s:
        task_id = await watched_workflow(
            s, workflow(s.user.runner, block_trigger(1, name="tick"), [code_node("return 1")])
        )
        await s.rpc.mine(3)
        await eventually(lambda: _count(s.user, task_id, 2), what="blocks fire")
        s.proxy.refuse()  # the chain RPC is down: connections reset, new ones refused
        await s.rpc.mine(5)
        await asyncio.sleep(1.0)
        s.proxy.restore()
        await s.rpc.mine(2)
        last = await s.rpc.head()

        async def caught_up() -> bool:
            numbers = await _block_numbers(s.user, task_id)
            return bool(numbers) and max(numbers) >= last

        await eventually(caught_up, what="the operator caught up after the outage")
        numbers = await _block_numbers(s.user, task_id)
    counts = Counter(numbers)
    assert set(counts.values()) == {1}, "a block fired twice"
    assert sorted(counts) == list(range(min(counts), last + 1)), "a block was missed"


async def _has(user: User, task_id: str, tx_hash: str) -> bool:
    return tx_hash in await fired_tx_hashes(user, task_id)


async def _count(user: User, task_id: str, n: int) -> bool:
    return len(await executions(user, task_id)) >= n


async def _block_numbers(user: User, task_id: str) -> list[int]:
    return [
        int(MessageToDict(e.steps[0].block_trigger.data)["blockNumber"])
        for e in await executions(user, task_id)
    ]
