"""Latency under load: the figures the reliability tests print but do not assert.

An aggregator runs in its own process (:class:`~benchmarks.bench_rpc.ServerProcess`); this
process sends an open-loop schedule of client calls (a call starts on time whether or not the
earlier ones answered), four users on their own channels:

- **Mixed load with triggers**: 500 calls/s of a read-heavy mix (``GetTask``, ``ListTasks``,
  ``ListExecutions``, ``GetExecutionCount``, ``ListSecrets``, a small ``RunNodeWithInputs``)
  plus 50 queued ``TriggerTask`` calls/s whose runs execute custom code. The baseline is the
  same read mix at the same rate without the triggers, measured in the same run: the ratio is
  what the queued runs cost the readers. ``tests/reliability/test_load.py`` checks the same load
  loses nothing.
- **GetTask while sandbox bombs run**: a ``GetTask`` every 20 ms while 20 memory, stack and CPU
  bombs run through ``RunNodeWithInputs`` on 4 sandbox workers, beside the same probe on a quiet
  server. ``tests/reliability/test_sandbox_abuse.py`` checks the bombs fail on their limits.

Both report p99 in milliseconds.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from ap_avs import wire as convert
from ap_avs._proto import avs_pb2
from ap_avs.domain.nodes import CustomCodeConfig, Edge, Lang, Node, NodeKind
from ap_avs.domain.triggers import ManualTriggerConfig, Trigger, TriggerKind
from benchmarks.bench_rpc import Client, ServerProcess, clients, open_channels, store_wallets
from benchmarks.report import Result

USERS = 4
RPC_RATE = 500
TRIGGER_RATE = 50
BOMBS = (
    ["const a = []; while (true) a.push(new Array(1e6).fill(1));"] * 7
    + ["let s = 'x'; while (true) s = s + s;"] * 5
    + ["function f(n) { return f(n + 1) + 1 } return f(0)"] * 4
    + ["while (true) {}"] * 4
)


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000


def _manual_workflow(wallet: str) -> avs_pb2.CreateTaskReq:
    trigger = Trigger("t", "start", TriggerKind.MANUAL, ManualTriggerConfig(lang=Lang.JSON))
    source = "return [1, 2, 3].map(x => x * start.data.n)"
    node = Node("c", "code", NodeKind.CUSTOM_CODE, CustomCodeConfig(Lang.JAVASCRIPT, source))
    req = avs_pb2.CreateTaskReq(
        trigger=convert.trigger_to_pb(trigger),
        nodes=[convert.node_to_pb(node)],
        edges=[convert.edge_to_pb(Edge("e", "t", "c"))],
        max_execution=0,
    )
    req.input_variables["settings"].CopyFrom(
        convert.json_to_value({"name": "load", "runner": wallet})
    )
    return req


def _code(source: str) -> avs_pb2.RunNodeWithInputsReq:
    node = Node("n", "code", NodeKind.CUSTOM_CODE, CustomCodeConfig(Lang.JAVASCRIPT, source))
    return avs_pb2.RunNodeWithInputsReq(node=convert.node_to_pb(node))


@dataclass
class _User:
    client: Client
    channel: grpc.aio.Channel
    task_id: str = ""

    async def call(self, method: str, request: Any, response: type) -> Any:
        stub = self.channel.unary_unary(
            f"/aggregator.Aggregator/{method}",
            request_serializer=type(request).SerializeToString,
            response_deserializer=response.FromString,  # type: ignore[attr-defined]
        )
        return await stub(request, metadata=self.client.auth, timeout=60)


def _reads(user: _User, rng: random.Random) -> tuple[str, Any, type]:
    menu: list[tuple[int, str, Any, type]] = [
        (30, "GetTask", avs_pb2.IdReq(id=user.task_id), avs_pb2.Task),
        (
            20,
            "ListTasks",
            avs_pb2.ListTasksReq(smart_wallet_address=[user.client.wallet], limit=10),
            avs_pb2.ListTasksResp,
        ),
        (
            20,
            "ListExecutions",
            avs_pb2.ListExecutionsReq(task_ids=[user.task_id], limit=10),
            avs_pb2.ListExecutionsResp,
        ),
        (
            10,
            "GetExecutionCount",
            avs_pb2.GetExecutionCountReq(workflow_ids=[user.task_id]),
            avs_pb2.GetExecutionCountResp,
        ),
        (10, "ListSecrets", avs_pb2.ListSecretsReq(), avs_pb2.ListSecretsResp),
        (10, "RunNodeWithInputs", _code("return 1 + 1"), avs_pb2.RunNodeWithInputsResp),
    ]
    _, method, request, response = rng.choices(menu, [w for w, *_ in menu])[0]
    return method, request, response


async def _open_loop(rate: float, seconds: float, fire: Callable[[int], Awaitable[None]]) -> None:
    began, tasks = time.monotonic(), []
    for i in range(int(rate * seconds)):
        delay = began + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(fire(i)))
    await asyncio.gather(*tasks)


async def _mixed(users: list[_User], seconds: float, triggers: bool, scale: float) -> list[float]:
    """Latencies of the read mix; the queued triggers (when on) run beside it, unmeasured."""
    rng = random.Random(7)
    latencies: list[float] = []

    async def read(i: int) -> None:
        user = users[i % len(users)]
        method, request, response = _reads(user, rng)
        began = time.perf_counter()
        await user.call(method, request, response)
        latencies.append(time.perf_counter() - began)

    async def trigger(i: int) -> None:
        user = users[i % len(users)]
        request = avs_pb2.TriggerTaskReq(
            task_id=user.task_id,
            trigger_type=avs_pb2.TRIGGER_TYPE_MANUAL,
            manual_trigger=avs_pb2.ManualTrigger.Output(data=convert.json_to_value({"n": i})),
        )
        await user.call("TriggerTask", request, avs_pb2.TriggerTaskResp)

    loads = [_open_loop(RPC_RATE * scale, seconds, read)]
    if triggers:
        loads.append(_open_loop(TRIGGER_RATE * scale, seconds, trigger))
    await asyncio.gather(*loads)
    return latencies


async def _probe_during(user: _User, work: Awaitable[object] | None, seconds: float) -> list[float]:
    """GetTask every 20 ms while ``work`` runs (or for ``seconds`` when there is none)."""
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            began = time.perf_counter()
            await user.call("GetTask", avs_pb2.IdReq(id=user.task_id), avs_pb2.Task)
            latencies.append(time.perf_counter() - began)
            await asyncio.sleep(0.02)

    prober = asyncio.create_task(probe())
    try:
        if work is None:
            await asyncio.sleep(seconds)
        else:
            await work
    finally:
        done.set()
        await prober
    return latencies


async def run(quick: bool) -> list[Result]:
    seconds = 0.5 if quick else 10.0
    scale = 0.1 if quick else 1.0
    bombs = BOMBS[:2] + BOMBS[-1:] if quick else BOMBS
    owners = clients(USERS)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        db = Path(tmp) / "db"
        await store_wallets(db, owners)
        spec = {"kind": "aggregator", "db": str(db), "config": {"engine": {"sandbox_workers": 4}}}
        async with (
            ServerProcess.start(spec) as server,
            open_channels(server.target, USERS) as channels,
        ):
            users = [_User(c, ch) for c, ch in zip(owners, channels, strict=True)]
            for user in users:
                created = await user.call(
                    "CreateTask", _manual_workflow(user.client.wallet), avs_pb2.CreateTaskResp
                )
                user.task_id = created.id
            await _mixed(users, min(seconds, 1.0), triggers=False, scale=scale)  # warm-up
            quiet_mix = await _mixed(users, seconds, triggers=False, scale=scale)
            loaded_mix = await _mixed(users, seconds, triggers=True, scale=scale)
            quiet_probe = await _probe_during(users[0], None, min(seconds, 5.0))
            storm = asyncio.gather(
                *(
                    users[1].call("RunNodeWithInputs", _code(b), avs_pb2.RunNodeWithInputsResp)
                    for b in bombs
                )
            )
            bombed_probe = await _probe_during(users[0], storm, seconds)
    mixed_label = (
        f"mixed load p99, {RPC_RATE * scale:.0f} calls/s + {TRIGGER_RATE * scale:.0f} queued runs/s"
    )
    return [
        Result(
            f"{mixed_label} (baseline: the same calls without the runs)",
            _p99(loaded_mix),
            "ms",
            _p99(quiet_mix),
            "p99 < 1,000 ms",
        ),
        Result(
            f"GetTask p99 while {len(bombs)} sandbox bombs run "
            f"(baseline: quiet; median {statistics.median(bombed_probe) * 1000:.1f} ms)",
            _p99(bombed_probe),
            "ms",
            _p99(quiet_probe),
            "p99 < 100 ms",
        ),
    ]
