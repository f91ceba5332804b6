"""Operator trigger to stored execution: ``NotifyTriggers`` latency at a steady 200 reports/s.

An aggregator runs in its own process on uvloop (:class:`~benchmarks.bench_rpc.ServerProcess`)
with one stored block-triggered workflow whose only node is custom code. An approved operator
in this process opens its ``SyncMessages`` stream, waits for the workflow's ``MonitorTaskTrigger``
and then reports one block every 5 ms (open loop: a report is sent on schedule whether or not the
previous one answered). Each report is signed as real operators sign. Reports run unverified
here (``trigger_verification: off``, no chain): bench_verify.py measures verification.

Latency: from just before the operator signs a report to the moment the aggregator has stored
the execution (``RunService`` logs "execution … finished" right after the transaction that stores
it commits; the server process notes the monotonic clock there, which is system-wide on Linux).
Executions are matched to reports by the block number in their trigger output. Target (issue
10): p99 under 25 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import grpc
from eth_account import Account

from ap_avs import wire as convert
from ap_avs._proto import node_pb2, node_pb2_grpc
from ap_avs.auth.operator_requests import OperatorSigner
from ap_avs.auth.trigger_reports import sign_report
from ap_avs.domain.ids import new_id
from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.store import LmdbKV, codec
from ap_avs.store.workflows import WorkflowRepo
from benchmarks.bench_rpc import ServerProcess, address, block_workflow_parts
from benchmarks.report import Result

RATE = 200
SOURCE = (
    "return { block: blockTrigger.data.blockNumber, even: blockTrigger.data.blockNumber % 2 == 0 }"
)


def _workflow() -> Workflow:
    trigger, nodes, edges = block_workflow_parts(SOURCE)
    return Workflow(
        id=new_id(now_ms=int(time.time() * 1000)),
        owner=address(1, 0xA0),
        smart_wallet_address=address(1, 0xB0),
        start_at=0,
        expired_at=0,
        name="notify",
        completed_at=0,
        max_execution=10_000_000,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=trigger,
        nodes=nodes,
        edges=edges,
    )


async def _seed(db: Path, wf: Workflow) -> None:
    kv = LmdbKV(db)
    try:
        await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
    finally:
        await kv.close()


async def _blocks_by_execution(db: Path, workflow_id: str) -> dict[str, int]:
    kv = LmdbKV(db)
    try:
        rows = await kv.scan(f"history:{workflow_id}:".encode())
    finally:
        await kv.close()
    found = {}
    for _, raw in rows:
        record = codec.loads(raw)
        assert isinstance(record, dict)
        steps = record["steps"]
        assert isinstance(steps, list)
        assert isinstance(steps[0], dict)
        output = steps[0]["output"]
        assert isinstance(output, dict), record
        if record.get("error"):
            raise RuntimeError(f"a benchmark execution failed: {record['error']}")
        found[str(record["id"])] = int(output["blockNumber"])  # type: ignore[arg-type]
    return found


class _Operator:
    def __init__(self, target: str) -> None:
        self.signer = OperatorSigner(Account.create().key.hex())
        self.channel = grpc.aio.insecure_channel(target)
        self.stub = node_pb2_grpc.NodeStub(self.channel)
        self.monitoring: asyncio.Event = asyncio.Event()
        self._stream: grpc.aio.UnaryStreamCall | None = None

    def md(self, method: str) -> tuple[tuple[str, str], ...]:
        return self.signer.metadata(f"/aggregator.Node/{method}", time.time_ns() // 1_000_000)

    async def follow(self, workflow_id: str, *, event: bool = False) -> None:
        """Read the SyncMessages stream (as a real operator must) and note the assignment."""
        request = node_pb2.SyncMessagesReq(address=self.signer.address)
        request.capabilities.block_monitoring = True
        request.capabilities.event_monitoring = event
        self._stream = self.stub.SyncMessages(request, metadata=self.md("SyncMessages"))
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.CancelledError):
            async for message in self._stream:
                if message.op == node_pb2.MonitorTaskTrigger and message.id == workflow_id:
                    self.monitoring.set()

    async def notify(self, workflow_id: str, block: int) -> None:
        request = node_pb2.NotifyTriggersReq(
            address=self.signer.address,
            task_id=workflow_id,
            trigger_request_id=f"{workflow_id}:{block}",
        )
        request.block_trigger.data.CopyFrom(convert.json_to_value({"blockNumber": block}))
        request.signature = sign_report(
            self.signer,
            task_id=workflow_id,
            occurrence=request.trigger_request_id,
            kind=TriggerKind.BLOCK,
            data={"blockNumber": block},
        )
        resp = await self.stub.NotifyTriggers(request, metadata=self.md("NotifyTriggers"))
        if resp.status != "enabled":
            raise RuntimeError(f"NotifyTriggers refused: {resp.status} {resp.message}")

    async def close(self) -> None:
        if self._stream is not None:
            self._stream.cancel()
        await self.channel.close()


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def commit_ms(directory: Path, count: int = 50) -> float:
    """Median latency of a lone durable commit (one fsync) in ``directory``, right now."""
    kv = LmdbKV(directory / "fsync")
    samples = []
    try:
        for n in range(count):
            began = time.perf_counter()
            await kv.put(b"probe:%d" % n, b"x" * 2000)
            samples.append((time.perf_counter() - began) * 1000)
    finally:
        await kv.close()
    return statistics.median(samples)


async def _round(
    seconds: float, warmup: int, config: dict[str, object] | None = None
) -> tuple[list[float], float]:
    """One aggregator, ``seconds`` of reports at RATE/s: latencies in ms (warm-up left out) and
    the lone durable-commit latency measured just before, in ms."""
    wf = _workflow()
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        fsync_ms = await commit_ms(Path(tmp))
        db = Path(tmp) / "db"
        await _seed(db, wf)
        operator_key = Account.create().key.hex()
        approved = OperatorSigner(operator_key).address
        spec = {
            "kind": "aggregator",
            "db": str(db),
            "report_runs": True,
            "config": {
                "approved_operators": [approved],
                "trigger_verification": "off",
                **(config or {}),
            },
        }
        sent: dict[int, int] = {}
        stored: dict[str, int] = {}
        async with ServerProcess.start(spec) as server:
            op = _Operator(server.target)
            op.signer = OperatorSigner(operator_key)
            follower = asyncio.create_task(op.follow(wf.id))
            try:
                await asyncio.wait_for(op.monitoring.wait(), 30)
                count = int(seconds * RATE)
                period = 1 / RATE
                tasks = []
                began = time.perf_counter()
                for block in range(1, count + 1):
                    delay = began + block * period - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    sent[block] = time.monotonic_ns()
                    tasks.append(asyncio.create_task(op.notify(wf.id, block)))
                await asyncio.gather(*tasks)
                while len(stored) < count:
                    execution, at = (await server.next_line(30))["stored"]
                    stored[execution] = at
            finally:
                follower.cancel()
                await op.close()
        blocks = await _blocks_by_execution(db, wf.id)
    latencies = [
        (stored[execution] - sent[block]) / 1e6
        for execution, block in blocks.items()
        if execution in stored and block > warmup
    ]
    if len(latencies) < len(sent) - warmup:
        raise RuntimeError(f"only {len(latencies)} of {len(sent) - warmup} executions were stored")
    return latencies, fsync_ms


async def run(quick: bool) -> list[Result]:
    seconds, rounds, warmup = (0.5, 1, 10) if quick else (10.0, 3, 200)
    p50s, p99s, commits = [], [], []
    for _ in range(rounds):
        latencies, fsync_ms = await _round(seconds, warmup)
        p50s.append(statistics.median(latencies))
        p99s.append(_percentile(latencies, 0.99))
        commits.append(fsync_ms)
    return [
        Result(
            f"NotifyTriggers → execution stored, p99, {RATE}/s, one custom-code node",
            statistics.median(p99s),
            "ms",
            None,
            "p99 < 25 ms",
        ),
        Result(
            f"NotifyTriggers → execution stored, p50, {RATE}/s, one custom-code node",
            statistics.median(p50s),
            "ms",
            None,
            "information",
        ),
        Result(
            "lone durable commit (fsync) on this disk during those rounds, p50",
            statistics.median(commits),
            "ms",
            None,
            "information (DESIGN: 0.19-0.3 ms)",
        ),
    ]
