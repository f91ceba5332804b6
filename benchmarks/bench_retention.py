"""Serving latency while retention removes records: GetTask p99 during retention passes.

An aggregator runs in its own process (:class:`~benchmarks.bench_rpc.ServerProcess`) with its
retention loop off: a pass runs only when this process asks through the admin socket
(``admin retention --run``). The store is seeded with rounds of executions of about 2 KB,
back-dated so that round ``k`` passes the default 30-day age at ``T0 + k * ROUND_SECONDS``
(the server's own clock). Each round waits for its moment, probes ``GetTask`` every 5 ms with
no pass running (the baseline), then asks for a pass, which removes that round's executions in
batches of 256 while the same probe runs. Rounds alternate, so a busy neighbour on the machine
weighs on both figures alike; the p99 of all samples of each kind is reported.

Figure: GetTask p99 in ms during passes, against idle; target within 20 %.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

from ap_avs._proto import avs_pb2
from ap_avs.domain.execution import Execution, ExecutionStatus, Step
from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import Edge, Node, NodeKind, RestApiConfig
from ap_avs.domain.triggers import ManualTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.ops.admin_socket import admin_call
from ap_avs.store import LmdbKV, Txn, codec, keys
from ap_avs.store.executions import execution_json
from ap_avs.store.workflows import WorkflowRepo
from benchmarks.bench_rpc import ServerProcess, clients, open_channels
from benchmarks.report import Result

ROUNDS = 12
PER_ROUND = 4_000
ROUND_SECONDS = 5.0
START_MARGIN = 20.0
"""Seconds from seeding to the first round's moment (seeding and server start-up fit in it;
rounds already due when the server is up are removed unmeasured and skipped)."""
PROBE_EVERY = 0.005
DAY_MS = 86_400_000


def _workflow(owner: str, wallet: str, now: int, index: int) -> Workflow:
    return Workflow(
        id=new_id(now_ms=now - 50 * DAY_MS + index),
        owner=owner,
        smart_wallet_address=wallet,
        start_at=0,
        expired_at=0,
        name=f"retention{index}",
        completed_at=0,
        max_execution=0,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "start", TriggerKind.MANUAL, ManualTriggerConfig()),
        nodes=(Node("n", "call", NodeKind.REST_API, RestApiConfig(url="http://127.0.0.1/")),),
        edges=(Edge("e", "t", "n"),),
    )


def _records(workflow_id: str, at: int, count: int) -> list[tuple[bytes, bytes]]:
    """``count`` executions made within 100 ms before ``at`` (one record encoded, then copied
    with each id: building each afresh costs more than the whole pass removing it)."""
    body = {"status": 200, "data": [{"n": i, "text": "x" * 40} for i in range(25)]}
    steps = (
        Step("t", "start", "TRIGGER_TYPE_MANUAL", True, at, at, {"n": 1}),
        Step("n", "call", "NODE_TYPE_REST_API", True, at, at + 40, body),
    )
    marker = "0" * 26
    execution = Execution(marker, workflow_id, 0, ExecutionStatus.SUCCESS, at, at + 40, steps=steps)
    template = codec.dumps(execution_json(execution))
    rows = []
    for n in range(count):
        execution_id = new_id(now_ms=at - 1 - n % 100)
        rows.append(
            (
                keys.history(workflow_id, execution_id),
                template.replace(marker.encode(), execution_id.encode()),
            )
        )
    return rows


async def _seed(
    db: Path, owner: str, wallet: str, rounds: int, per_round: int, t0: float, spacing: float
) -> str:
    """A probe workflow, and a heavy one whose round ``k`` of executions turns 30 days old at
    ``t0 + k * spacing``; the probe's id."""
    now = time.time_ns() // 1_000_000
    probe, heavy = _workflow(owner, wallet, now, 0), _workflow(owner, wallet, now, 1)
    async with LmdbKV(db) as kv:
        for wf in (probe, heavy):
            await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
        for k in range(rounds):
            moment = int((t0 + k * spacing) * 1000) - 30 * DAY_MS
            made = _records(heavy.id, moment, per_round)
            for first in range(0, per_round, 500):

                def put(
                    txn: Txn, rows: list[tuple[bytes, bytes]] = made[first : first + 500]
                ) -> None:
                    for key, value in rows:
                        txn.put(key, value)

                await kv.update(put)
    return probe.id


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000


async def _probe(
    channel: grpc.aio.Channel, auth: tuple[tuple[str, str], ...], task_id: str, until: asyncio.Event
) -> list[float]:
    get = channel.unary_unary(
        "/aggregator.Aggregator/GetTask",
        request_serializer=avs_pb2.IdReq.SerializeToString,
        response_deserializer=avs_pb2.Task.FromString,
    )
    latencies: list[float] = []
    while not until.is_set():
        began = time.perf_counter()
        await get(avs_pb2.IdReq(id=task_id), metadata=auth, timeout=60)
        latencies.append(time.perf_counter() - began)
        await asyncio.sleep(PROBE_EVERY)
    return latencies


async def run(quick: bool) -> list[Result]:
    rounds, per_round, spacing = (2, 500, 4.0) if quick else (ROUNDS, PER_ROUND, ROUND_SECONDS)
    (user,) = clients(1)
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as tmp:
        db, socket = Path(tmp) / "db", Path(tmp) / "admin.sock"
        t0 = time.time() + (8.0 if quick else START_MARGIN)
        spare = math.ceil(30 / spacing)  # a start-up slower than the margin by 30 s is absorbed
        probe_id = await _seed(db, user.owner, user.wallet, rounds + spare, per_round, t0, spacing)
        retention = {"enabled": False, "executions_per_workflow": 0}  # by age only
        config = {"socket_path": str(socket), "retention": retention}
        spec = {"kind": "aggregator", "db": str(db), "config": config}
        idle: list[float] = []
        busy: list[float] = []
        removed: list[int] = []
        took = 0.0
        async with (
            ServerProcess.start(spec) as server,
            open_channels(server.target, 1) as (channel,),
        ):
            await _probed(channel, user.auth, probe_id, asyncio.sleep(0.5))  # warm-up
            before = time.time()
            first = max(0, math.ceil((before - t0) / spacing))
            if t0 + first * spacing - before < 1.0:
                first += 1  # too close: the next pass might catch it early
            await admin_call(socket, "retention", {"run": True})  # rounds already due: unmeasured
            last = 1.0
            for k in range(first, first + rounds):
                await asyncio.sleep(max(0.0, t0 + k * spacing + 0.2 - time.time()))
                idle += await _probed(channel, user.auth, probe_id, asyncio.sleep(last))
                began = time.perf_counter()
                result = await _probed_call(channel, user.auth, probe_id, socket, busy)
                last = time.perf_counter() - began
                took += last
                removed.append(result)
    assert removed == [per_round] * rounds, f"a round slipped past its moment: {removed}"
    total = per_round * rounds
    return [
        Result(
            f"GetTask p99 while retention passes remove {total:,} executions of ~2 KB in "
            f"{rounds} rounds ({total / took:,.0f} records/s; median "
            f"{statistics.median(busy) * 1000:.1f} ms; baseline: idle, the same rounds)",
            _p99(busy),
            "ms",
            _p99(idle),
            "≤ 1.2 x idle",
        )
    ]


async def _probed(
    channel: grpc.aio.Channel, auth: tuple[tuple[str, str], ...], task_id: str, work: Any
) -> list[float]:
    """GetTask latencies while ``work`` is awaited."""
    done = asyncio.Event()
    probing = asyncio.create_task(_probe(channel, auth, task_id, done))
    try:
        await work
    finally:
        done.set()
    return await probing


async def _probed_call(
    channel: grpc.aio.Channel,
    auth: tuple[tuple[str, str], ...],
    task_id: str,
    socket: Path,
    into: list[float],
) -> int:
    """Run one retention pass beside the probe; how many executions it removed."""
    outcome: dict[str, Any] = {}

    async def one_pass() -> None:
        outcome.update(await admin_call(socket, "retention", {"run": True}))  # type: ignore[arg-type]

    into += await _probed(channel, auth, task_id, one_pass())
    return int(outcome["pass"]["removed"].get("history", 0))
