"""The operator daemon against the devnet and a fake aggregator speaking the real Node API.

The fake aggregator is a real ``grpc.aio`` server on loopback: it checks the operator's request
signatures (``operator_auth.verify``) on every call, streams the ``MonitorTaskTrigger`` set the
test chooses on each connection, and records ``NotifyTriggers``. Tests wait on conditions with
deadlines, never on bare sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs._proto import avs_pb2, node_pb2, node_pb2_grpc
from ap_avs.auth.operator_requests import ReplayGuard, verify
from ap_avs.config import OperatorConfig, load_settings
from ap_avs.devnet import DevnetState
from ap_avs.domain.events import TRANSFER_TOPIC
from ap_avs.domain.triggers import (
    BlockTriggerConfig,
    EventQuery,
    EventTriggerConfig,
    FixedTimeTriggerConfig,
    Trigger,
    TriggerConfig,
    TriggerKind,
)
from ap_avs.errors import Unauthenticated
from ap_avs.operator import OperatorApp
from ap_avs.operator.client import Backoff
from ap_avs.wire import trigger_to_pb

from .support import Chain

pytestmark = pytest.mark.integration

OPERATOR_KEY = Account.create().key.hex()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def monitor(workflow_id: str, kind: TriggerKind, config: TriggerConfig) -> Any:
    trigger = Trigger(id=f"trg-{workflow_id}", name="trigger", kind=kind, config=config)
    return node_pb2.SyncMessagesResp(
        id=workflow_id,
        op=node_pb2.MonitorTaskTrigger,
        task_metadata=node_pb2.SyncMessagesResp.TaskMetadata(
            task_id=workflow_id, remain=0, trigger=trigger_to_pb(trigger)
        ),
    )


class FakeNode(node_pb2_grpc.NodeServicer):  # type: ignore[misc]
    """The operator API as a test double: authenticated, scripted, recording."""

    def __init__(self, tasks: dict[str, Any] | None = None) -> None:
        self.tasks: dict[str, Any] = dict(tasks or {})
        self.guard = ReplayGuard()
        self.queues: list[asyncio.Queue[Any]] = []
        self.notified: list[Any] = []
        self.overloads: list[Any] = []
        self.connects: list[float] = []
        self.pings = 0
        self.last_run: set[str] = set()

    async def _auth(self, context: Any, method: str) -> None:
        try:
            verify(
                context.invocation_metadata(), f"/aggregator.Node/{method}", now_ms(), self.guard
            )
        except Unauthenticated as exc:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, exc.message)

    async def SyncMessages(self, request: Any, context: Any) -> AsyncIterator[Any]:
        await self._auth(context, "SyncMessages")
        assert request.capabilities.block_monitoring
        self.connects.append(time.monotonic())
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queues.append(queue)
        for message in list(self.tasks.values()):
            yield message
        while True:
            yield await queue.get()

    async def Ping(self, request: Any, context: Any) -> Any:
        await self._auth(context, "Ping")
        self.pings += 1
        return node_pb2.CheckinResp()

    async def NotifyTriggers(self, request: Any, context: Any) -> Any:
        await self._auth(context, "NotifyTriggers")
        self.notified.append(request)
        if request.task_id in self.last_run:  # its final execution: the operator must stop
            return node_pb2.NotifyTriggersResp(
                remaining_executions=0, task_still_enabled=False, status="exhausted"
            )
        return node_pb2.NotifyTriggersResp(
            remaining_executions=-1, task_still_enabled=True, status="enabled"
        )

    async def ReportEventOverload(self, request: Any, context: Any) -> Any:
        await self._auth(context, "ReportEventOverload")
        self.overloads.append(request)
        return node_pb2.EventOverloadResponse(task_cancelled=True)

    def push(self, message: Any) -> None:
        for queue in self.queues:
            queue.put_nowait(message)

    def keys(self, workflow_id: str) -> list[str]:
        return [n.trigger_request_id for n in self.notified if n.task_id == workflow_id]


class FakeAggregator:
    """Runs a :class:`FakeNode` on a fixed loopback port; can be stopped and started again."""

    def __init__(self, node: FakeNode) -> None:
        self.node = node
        self.port = 0
        self._server: grpc.aio.Server | None = None

    async def start(self) -> None:
        server = grpc.aio.server()
        node_pb2_grpc.add_NodeServicer_to_server(self.node, server)
        self.port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        await server.start()
        self._server = server

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(0)
            self._server = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


async def wait_for(condition: Callable[[], object], within: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def operator(
    devnet: DevnetState, target: str, db: Path, **options: Any
) -> AsyncIterator[OperatorApp]:
    config = load_settings(
        OperatorConfig,
        {
            "ecdsa_private_key": OPERATOR_KEY,
            "aggregator_server_ip_port_address": target,
            "node_api_ip_port_address": "127.0.0.1:0",
            "db_path": str(db),
            "target_chain": {"eth_rpc_url": devnet.rpc_url},
        },
        "test",
    )
    defaults: dict[str, Any] = {
        "poll_interval": 0.05,
        "resync_grace": 1.0,
        "ping_interval": 1.0,
        "backoff": Backoff(initial=0.5, maximum=2.0),
    }
    app = OperatorApp(config, **(defaults | options))
    stop = asyncio.Event()
    task = asyncio.create_task(app.run(stop))
    started = asyncio.create_task(app.wait_started())
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED, timeout=20)
    if task.done():
        started.cancel()
        task.result()
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def aggregator() -> AsyncIterator[FakeAggregator]:
    fake = FakeAggregator(FakeNode())
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def head(chain: Chain) -> int:
    return int(await chain.call("eth_blockNumber"), 16)


async def mine(chain: Chain, blocks: int = 1) -> None:
    await chain.call("anvil_mine", hex(blocks))


def padded(address: str) -> str:
    return "0x" + address[2:].lower().rjust(64, "0")


async def test_block_and_fixed_time_triggers_fire(
    devnet: DevnetState, chain: Chain, aggregator: FakeAggregator, tmp_path: Path
) -> None:
    epoch = now_ms() + 1000
    node = aggregator.node
    node.tasks["blocks"] = monitor("blocks", TriggerKind.BLOCK, BlockTriggerConfig(interval=2))
    node.tasks["at"] = monitor(
        "at", TriggerKind.FIXED_TIME, FixedTimeTriggerConfig(epochs=(epoch,))
    )
    node.tasks["once"] = monitor("once", TriggerKind.BLOCK, BlockTriggerConfig(interval=1))
    node.last_run.add("once")
    async with operator(devnet, aggregator.target, tmp_path / "op") as app:
        assert app.roster is not None
        roster = app.roster
        await wait_for(lambda: app.connected, what="the stream")
        await wait_for(lambda: len(roster) == 3, what="the set")
        await mine(chain, 6)
        top = await head(chain)
        await wait_for(lambda: any(k.endswith(f":{top - top % 2}") for k in node.keys("blocks")))
        assert not roster.watching("once")  # the aggregator answered "exhausted"
        assert len(node.keys("once")) == 1
        later = monitor("later", TriggerKind.FIXED_TIME, FixedTimeTriggerConfig(epochs=(1,)))
        node.push(
            node_pb2.SyncMessagesResp(
                id="later", op=node_pb2.ImmediateTrigger, task_metadata=later.task_metadata
            )
        )
        await wait_for(lambda: node.keys("later"), what="the immediate trigger")
        await wait_for(lambda: node.keys("at") == [f"at:{epoch}"], what="the fixed time")
        assert now_ms() >= epoch
        async with httpx.AsyncClient() as http:
            reply = await http.get(f"http://127.0.0.1:{app.http_port}/up")
            assert reply.status_code == 200
    blocks = [int(k.split(":")[1]) for k in node.keys("blocks")]
    assert blocks == sorted(set(blocks))
    assert all(b % 2 == 0 for b in blocks)
    assert len(blocks) >= 3
    fired = next(n for n in node.notified if n.task_id == "blocks")
    assert fired.trigger_type == avs_pb2.TRIGGER_TYPE_BLOCK
    data = fired.block_trigger.data.struct_value.fields
    assert data["blockHash"].string_value.startswith("0x")
    assert set(data) >= {"blockNumber", "timestamp", "parentHash", "gasLimit", "gasUsed"}
    timed = next(n for n in node.notified if n.task_id == "at")
    assert timed.fixed_time_trigger.data.struct_value.fields["timestamp"].number_value == epoch
    immediate = next(n for n in node.notified if n.task_id == "later")
    nanos = immediate.fixed_time_trigger.data.struct_value.fields["timestamp"].number_value
    key_nanos = int(immediate.trigger_request_id.removeprefix("later:"))
    assert abs(key_nanos - nanos) < 1024  # upstream sends ns here; a double keeps ~16 digits
    assert key_nanos >= (epoch - 1000) * 10**6  # nanoseconds since the test began
    assert node.pings >= 1


async def test_erc20_transfers_fire_once_with_token_data(
    devnet: DevnetState, chain: Chain, aggregator: FakeAggregator, tmp_path: Path
) -> None:
    token = devnet.token("TUSD")
    wallet = Account.create().address
    other = Account.create().address
    node = aggregator.node
    received = EventQuery(addresses=(token.address,), topics=(TRANSFER_TOPIC, "", wallet))
    sent = EventQuery(addresses=(token.address,), topics=(TRANSFER_TOPIC, padded(wallet)))
    node.tasks["in"] = monitor("in", TriggerKind.EVENT, EventTriggerConfig(queries=(received,)))
    node.tasks["out"] = monitor("out", TriggerKind.EVENT, EventTriggerConfig(queries=(sent,)))
    sender = devnet.test_accounts[0].address
    await chain.call("anvil_impersonateAccount", wallet)
    await chain.call("anvil_setBalance", wallet, hex(10**18))
    async with operator(devnet, aggregator.target, tmp_path / "op") as app:
        await wait_for(lambda: app.roster is not None and len(app.roster) == 2, what="the set")
        mint = keccak(text="mint(address,uint256)")[:4] + encode(
            ["address", "uint256"], [wallet, 5_000_000]
        )
        await chain.send(sender, token.address, data=mint)
        transfer = keccak(text="transfer(address,uint256)")[:4] + encode(
            ["address", "uint256"], [other, 1_250_000]
        )
        await chain.send(wallet, token.address, data=transfer)
        await wait_for(lambda: node.keys("in") and node.keys("out"), what="both transfers")
        top = await head(chain)
        await wait_for(lambda: app._event is not None and (app._event.position or 0) >= top)
    assert len(node.keys("in")) == 1
    assert len(node.keys("out")) == 1
    incoming = next(n for n in node.notified if n.task_id == "in")
    assert incoming.trigger_type == avs_pb2.TRIGGER_TYPE_EVENT
    data = incoming.event_trigger.data.struct_value.fields
    assert data["eventName"].string_value == "Transfer"
    assert data["tokenSymbol"].string_value == "TUSD"
    assert data["tokenName"].string_value == token.name
    assert data["tokenDecimals"].number_value == 6
    assert data["value"].string_value == "5000000"
    assert data["valueFormatted"].string_value == "5"
    assert data["fromAddress"].string_value == to_checksum_address("0x" + "0" * 40)
    assert data["toAddress"].string_value == to_checksum_address(wallet)
    assert data["direction"].string_value == "received"
    assert data["chainId"].number_value == devnet.chain_id
    assert data["contractAddress"].string_value == to_checksum_address(token.address)
    tx, index = data["transactionHash"].string_value, int(data["logIndex"].number_value)
    assert incoming.trigger_request_id == f"in:{tx}:{index}"
    outgoing = next(n for n in node.notified if n.task_id == "out")
    out = outgoing.event_trigger.data.struct_value.fields
    assert out["direction"].string_value == "sent"
    assert out["valueFormatted"].string_value == "1.25"
    assert out["toAddress"].string_value == to_checksum_address(other)


async def test_removal_and_aggregator_restart(
    devnet: DevnetState, chain: Chain, aggregator: FakeAggregator, tmp_path: Path
) -> None:
    token = devnet.token("TEST")
    wallet = Account.create().address
    node = aggregator.node
    watch = EventQuery(addresses=(token.address,), topics=(TRANSFER_TOPIC, "", wallet))
    events = EventTriggerConfig(queries=(watch,), cooldown_seconds=0)
    node.tasks["ev"] = monitor("ev", TriggerKind.EVENT, events)
    node.tasks["blk"] = monitor("blk", TriggerKind.BLOCK, BlockTriggerConfig(interval=1))
    node.tasks["gone"] = monitor("gone", TriggerKind.BLOCK, BlockTriggerConfig(interval=1))
    sender = devnet.test_accounts[1].address
    mint = keccak(text="mint(address,uint256)")[:4] + encode(["address", "uint256"], [wallet, 7])

    async with operator(devnet, aggregator.target, tmp_path / "op") as app:
        assert app.roster is not None
        roster = app.roster
        await wait_for(lambda: len(roster) == 3, what="the set")
        node.push(node.tasks["ev"])  # a duplicate upsert changes nothing
        await mine(chain, 2)
        await wait_for(lambda: len(node.keys("blk")) >= 2, what="block firings")

        node.push(node_pb2.SyncMessagesResp(id="blk", op=node_pb2.DisableTask))
        await wait_for(lambda: not roster.watching("blk"), what="the removal")
        stopped_at = len(node.keys("blk"))
        await mine(chain, 3)
        top = await head(chain)
        await wait_for(lambda: app._block is not None and (app._block.position or 0) >= top)
        assert len(node.keys("blk")) == stopped_at
        await chain.send(sender, token.address, data=mint)
        await wait_for(lambda: len(node.keys("ev")) == 1, what="the first transfer")

        # The aggregator restarts and comes back without "gone" and "blk".
        await aggregator.stop()
        await wait_for(lambda: not app.connected, what="the disconnect")
        async with httpx.AsyncClient() as http:
            reply = await http.get(f"http://127.0.0.1:{app.http_port}/up")
            assert reply.status_code == 503
        connects_before = len(node.connects)
        del node.tasks["blk"], node.tasks["gone"]
        node.queues.clear()
        await asyncio.sleep(1.2)  # the aggregator stays away for a while
        await aggregator.start()
        await wait_for(lambda: app.connected, within=10, what="the reconnect")
        assert len(node.connects) == connects_before + 1
        await wait_for(lambda: not roster.watching("gone"), what="dropping what was not re-sent")
        assert roster.watching("ev")
        await chain.send(sender, token.address, data=mint)
        await wait_for(lambda: len(node.keys("ev")) == 2, what="the second transfer")
        top = await head(chain)
        await wait_for(lambda: app._event is not None and (app._event.position or 0) >= top)
    keys = node.keys("ev")
    assert len(keys) == len(set(keys)) == 2


async def test_operator_restart_catches_up_what_it_missed(
    devnet: DevnetState, chain: Chain, aggregator: FakeAggregator, tmp_path: Path
) -> None:
    """LESSONS 6: the cursor is persisted; logs mined while the operator was down still fire,
    and logs handled before the restart are not sent again."""
    token = devnet.token("TUSD")
    wallet = Account.create().address
    node = aggregator.node
    watch = EventQuery(addresses=(token.address,), topics=(TRANSFER_TOPIC, "", wallet))
    config = EventTriggerConfig(queries=(watch,), cooldown_seconds=0)
    node.tasks["ev"] = monitor("ev", TriggerKind.EVENT, config)
    sender = devnet.test_accounts[2].address
    mint = keccak(text="mint(address,uint256)")[:4] + encode(["address", "uint256"], [wallet, 1])
    db = tmp_path / "op"

    async with operator(devnet, aggregator.target, db) as app:
        await wait_for(lambda: app.roster is not None and app.roster.watching("ev"))
        await chain.send(sender, token.address, data=mint)
        await wait_for(lambda: len(node.keys("ev")) == 1, what="the first transfer")
        top = await head(chain)
        await wait_for(lambda: app._event is not None and (app._event.position or 0) >= top)

    await chain.send(sender, token.address, data=mint)  # while the operator is down
    await mine(chain, 3)

    node.tasks.clear()  # the aggregator re-sends the workflow only after a moment
    async with operator(devnet, aggregator.target, db, resync_grace=10.0) as app:
        assert app.roster is not None
        roster = app.roster
        await wait_for(lambda: app.connected, what="the stream")
        assert not roster.ready.is_set()  # cursors wait for the previous run's workflows
        node.push(monitor("ev", TriggerKind.EVENT, config))
        await wait_for(lambda: roster.ready.is_set(), what="the re-sent set")
        await wait_for(lambda: len(node.keys("ev")) == 2, what="the missed transfer")
        top = await head(chain)
        await wait_for(lambda: app._event is not None and (app._event.position or 0) >= top)
    keys = node.keys("ev")
    assert len(set(keys)) == 2


async def test_event_overload_is_reported_and_stops_the_workflow(
    devnet: DevnetState, chain: Chain, aggregator: FakeAggregator, tmp_path: Path
) -> None:
    token = devnet.token("TEST")
    wallet = Account.create().address
    node = aggregator.node
    burst = EventQuery(
        addresses=(token.address,), topics=(TRANSFER_TOPIC, "", wallet), max_events_per_block=1
    )
    config = EventTriggerConfig(queries=(burst,), cooldown_seconds=0)
    node.tasks["burst"] = monitor("burst", TriggerKind.EVENT, config)
    sender = devnet.test_accounts[3].address
    mint = keccak(text="mint(address,uint256)")[:4] + encode(["address", "uint256"], [wallet, 1])
    tx = {"from": sender, "to": token.address, "data": "0x" + mint.hex(), "gas": hex(200_000)}
    async with operator(devnet, aggregator.target, tmp_path / "op") as app:
        assert app.roster is not None
        roster = app.roster
        await wait_for(lambda: roster.watching("burst"), what="the set")
        await chain.call("evm_setAutomine", False)
        try:
            await chain.call("eth_sendTransaction", tx)
            await chain.call("eth_sendTransaction", tx)
            await chain.call("evm_mine")
        finally:
            await chain.call("evm_setAutomine", True)
        await wait_for(lambda: node.overloads, what="the overload report")
        await wait_for(lambda: not roster.watching("burst"), what="the workflow to stop")
    (report,) = node.overloads
    assert (report.task_id, report.events_detected, report.safety_limit) == ("burst", 2, 1)
    assert report.block_number == int((await chain.call("eth_blockNumber")), 16)
    assert node.keys("burst") == []
