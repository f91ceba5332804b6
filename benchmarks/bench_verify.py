"""What verifying an event report costs: ``NotifyTriggers`` → execution stored, p99, with
``trigger_verification: strict`` beside ``off``, in the same run, on the same devnet.

A devnet of its own (anvil, no bundler) holds real ERC-20 transfers to one wallet; one stored
workflow watches them (``Transfer`` to the wallet, one custom-code node). An aggregator in its
own process (:class:`~benchmarks.bench_rpc.ServerProcess`, its chain RPC the devnet) gets one
signed report per transfer, built with the operator's own code, at a steady rate (open loop).
Latency runs from just before the report is sent to the moment the execution is stored; rounds
alternate off / strict. Strict reads the receipt, the head, the header and (once) the token's
metadata from anvil before queueing. Target (issue 17): strict adds at most 5 ms at p99.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak

from ap_avs import wire as convert
from ap_avs._proto import node_pb2
from ap_avs.auth.operator_requests import OperatorSigner
from ap_avs.auth.trigger_reports import sign_report
from ap_avs.chain import ChainClient
from ap_avs.chain.reader import ChainReader
from ap_avs.devnet import DevnetOptions, DevnetState, start_devnet
from ap_avs.domain.events import TRANSFER_TOPIC, EventIndex
from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import CustomCodeConfig, Edge, Lang, Node, NodeKind
from ap_avs.domain.trigger_data import event_data, parse_log
from ap_avs.domain.triggers import EventQuery, EventTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.store import LmdbKV, codec
from benchmarks.bench_notify import _Operator, _percentile, _seed
from benchmarks.bench_rpc import ServerProcess, address
from benchmarks.report import Result

RATE = int(os.environ.get("AP_AVS_BENCH_VERIFY_RATE", "50"))
"""Reports per second (open loop); the env knob lets a loaded machine measure latency, not
saturation."""


def _workflow(token: str, wallet: str) -> Workflow:
    query = EventQuery(addresses=(token,), topics=(TRANSFER_TOPIC, "", wallet))
    trigger = Trigger("t", "received", TriggerKind.EVENT, EventTriggerConfig((query,), 0))
    source = "return received.data.value"
    node = Node("c", "code", NodeKind.CUSTOM_CODE, CustomCodeConfig(Lang.JAVASCRIPT, source))
    return Workflow(
        id=new_id(now_ms=int(time.time() * 1000)),
        owner=address(1, 0xA0),
        smart_wallet_address=address(1, 0xB0),
        start_at=0,
        expired_at=0,
        name="verify",
        completed_at=0,
        max_execution=10_000_000,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=trigger,
        nodes=(node,),
        edges=(Edge("e", "t", "c"),),
    )


async def _transfers(devnet: DevnetState, wallet: str, count: int) -> list[str]:
    """Mint ``count`` transfers to ``wallet``; their transaction hashes."""
    token = devnet.tokens[0].address
    hashes = []
    async with ChainClient(devnet.rpc_url) as client:
        for n in range(count):
            data = keccak(text="mint(address,uint256)")[:4] + encode(
                ["address", "uint256"], [wallet, n + 1]
            )
            tx = {
                "from": devnet.test_accounts[0].address,
                "to": token,
                "data": "0x" + data.hex(),
                "gas": hex(200_000),
            }
            hashes.append(await client.request("eth_sendTransaction", [tx]))
    return hashes


async def _reports(
    devnet: DevnetState, wf: Workflow, hashes: list[str]
) -> list[tuple[str, JsonValue]]:
    """The honest report of each transfer, built as the operator builds it."""
    config = wf.trigger.config
    assert isinstance(config, EventTriggerConfig)
    index = EventIndex()
    index.add(wf.id, config.queries)
    found = []
    async with ChainClient(devnet.rpc_url) as client:
        reader = ChainReader(client)
        for tx in hashes:
            receipt = await client.request("eth_getTransactionReceipt", [tx])
            log = parse_log(receipt["logs"][0])
            [match] = index.match(log)
            stamp = log.block_timestamp
            if stamp is None:
                stamp = (await reader.header(log.block_number)).timestamp
            data = event_data(
                match,
                chain_id=devnet.chain_id,
                block_timestamp=stamp,
                token=await reader.token(log.address),
            )
            found.append((f"{wf.id}:{tx}:{log.log_index}", data))
    return found


async def _notify(op: _Operator, wf: Workflow, request_id: str, data: JsonValue) -> None:
    request = node_pb2.NotifyTriggersReq(
        address=op.signer.address, task_id=wf.id, trigger_request_id=request_id
    )
    request.event_trigger.data.CopyFrom(convert.json_to_value(data))
    request.signature = sign_report(
        op.signer,
        task_id=wf.id,
        occurrence=request_id,
        kind=TriggerKind.EVENT,
        data=convert.value_to_json(request.event_trigger.data),
    )
    resp = await op.stub.NotifyTriggers(request, metadata=op.md("NotifyTriggers"))
    if resp.status != "enabled":
        raise RuntimeError(f"NotifyTriggers refused: {resp.status} {resp.message}")


async def _txs_by_execution(db: Path, workflow_id: str) -> dict[str, str]:
    kv = LmdbKV(db)
    try:
        rows = await kv.scan(f"history:{workflow_id}:".encode())
    finally:
        await kv.close()
    found = {}
    for _, raw in rows:
        record: Any = codec.loads(raw)
        if record.get("error"):
            raise RuntimeError(f"a benchmark execution failed: {record['error']}")
        found[str(record["id"])] = str(record["steps"][0]["output"]["transactionHash"])
    return found


async def _round(
    devnet: DevnetState, wf: Workflow, reports: list[tuple[str, JsonValue]], mode: str, warmup: int
) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        db = Path(tmp) / "db"
        await _seed(db, wf)
        operator_key = Account.create().key.hex()
        spec = {
            "kind": "aggregator",
            "db": str(db),
            "report_runs": True,
            "config": {
                "approved_operators": [OperatorSigner(operator_key).address],
                "trigger_verification": mode,
                "smart_wallet": {"eth_rpc_url": devnet.rpc_url, "chain_id": devnet.chain_id},
            },
        }
        sent: dict[str, int] = {}
        stored: dict[str, int] = {}
        async with ServerProcess.start(spec) as server:
            op = _Operator(server.target)
            op.signer = OperatorSigner(operator_key)
            follower = asyncio.create_task(op.follow(wf.id, event=True))
            try:
                await asyncio.wait_for(op.monitoring.wait(), 30)
                period = 1 / RATE
                tasks = []
                began = time.perf_counter()
                for n, (request_id, data) in enumerate(reports, start=1):
                    delay = began + n * period - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    sent[request_id.split(":")[1]] = time.monotonic_ns()
                    tasks.append(asyncio.create_task(_notify(op, wf, request_id, data)))
                await asyncio.gather(*tasks)
                while len(stored) < len(reports):
                    execution, at = (await server.next_line(30))["stored"]
                    stored[execution] = at
            finally:
                follower.cancel()
                await op.close()
        by_execution = await _txs_by_execution(db, wf.id)
    order = {request_id.split(":")[1]: n for n, (request_id, _) in enumerate(reports)}
    return [
        (stored[execution] - sent[tx]) / 1e6
        for execution, tx in by_execution.items()
        if execution in stored and order[tx] >= warmup
    ]


async def run(quick: bool) -> list[Result]:
    count, rounds, warmup = (20, 1, 5) if quick else (RATE * 10, 3, RATE)
    with tempfile.TemporaryDirectory(prefix="bench-verify-chain-") as tmp:
        options = DevnetOptions(state_file=Path(tmp) / "state.json", bundler=False)
        async with start_devnet(options) as devnet:
            wallet = Account.create().address
            wf = _workflow(devnet.tokens[0].address, wallet)
            reports = await _reports(devnet, wf, await _transfers(devnet, wallet, count))
            p99: dict[str, list[float]] = {"off": [], "strict": []}
            p50: dict[str, list[float]] = {"off": [], "strict": []}
            for _ in range(rounds):
                for mode in ("off", "strict"):
                    latencies = await _round(devnet, wf, reports, mode, warmup)
                    p99[mode].append(_percentile(latencies, 0.99))
                    p50[mode].append(statistics.median(latencies))
    off, strict = statistics.median(p99["off"]), statistics.median(p99["strict"])
    return [
        Result(
            f"event NotifyTriggers → execution stored, p99, {RATE}/s, verification strict "
            f"(strict minus off: {strict - off:+.1f} ms)",
            strict,
            "ms",
            off,
            "at most +5 ms over off",
        ),
        Result(
            f"event NotifyTriggers → execution stored, p99, {RATE}/s, verification off",
            off,
            "ms",
            None,
            "baseline (same run)",
        ),
        Result(
            f"event NotifyTriggers → execution stored, p50, {RATE}/s, strict / off",
            statistics.median(p50["strict"]),
            "ms",
            statistics.median(p50["off"]),
            "information",
        ),
    ]
