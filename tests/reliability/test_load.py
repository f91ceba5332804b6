"""Load: a real aggregator process under an open-loop mix of client RPCs plus queued triggers.

Scaled for a 2-core test machine (the issue asks for 30 s at 500 RPC/s plus 50 triggers/s):
:data:`SECONDS` at :data:`RPC_RATE` mixed calls per second and :data:`TRIGGER_RATE` queued
``TriggerTask`` calls per second, issued on a fixed schedule whatever the latency. Checked: no
call fails, every accepted trigger ends as a stored, successful execution (none lost), the
achieved rates. Latencies are printed for the reader and never asserted: the figure lives in
``benchmarks/bench_load.py``, measured against a baseline from the same run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from eth_account import Account

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.devnet import DevnetState

from .support import (
    AggregatorProcess,
    User,
    channel,
    code_node,
    eventually,
    manual_run,
    percentile,
    workflow,
)

pytestmark = pytest.mark.integration

SECONDS = 10
RPC_RATE = 500
TRIGGER_RATE = 50
USERS = 4
IN_FLIGHT = 200
DEADLINE = 120  # a liveness guard per call; with IN_FLIGHT calls queued, answers take seconds


@dataclass
class Tenant:
    user: User
    tasks: list[str]
    executions: list[tuple[str, str]]


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    triggered: dict[str, str] = field(default_factory=dict)  # execution id -> task id


async def setup(stub: avs_pb2_grpc.AggregatorStub) -> list[Tenant]:
    tenants = []
    for _ in range(USERS):
        user = await User(stub, Account.create().address).with_wallet()
        tasks = [
            (
                await user.call(
                    "CreateTask",
                    workflow(user.runner, nodes=[code_node("return start.data.n * 2")]),
                )
            ).id
            for _ in range(3)
        ]
        await user.call(
            "CreateSecret", avs_pb2.CreateOrUpdateSecretReq(name="token", secret="value-123")
        )
        runs = [
            (
                task,
                (
                    await user.call("TriggerTask", manual_run(task, {"n": 1}, blocking=True))
                ).execution_id,
            )
            for task in tasks
        ]
        tenants.append(Tenant(user, tasks, runs))
    return tenants


def mixed_calls(t: Tenant, rng: random.Random) -> tuple[str, Any]:
    task = rng.choice(t.tasks)
    run_task, run = rng.choice(t.executions)
    menu: list[tuple[int, str, Any]] = [
        (25, "GetTask", avs_pb2.IdReq(id=task)),
        (15, "ListTasks", avs_pb2.ListTasksReq(smart_wallet_address=[t.user.runner], limit=10)),
        (15, "ListExecutions", avs_pb2.ListExecutionsReq(task_ids=[task], limit=10)),
        (10, "GetExecution", avs_pb2.ExecutionReq(task_id=run_task, execution_id=run)),
        (10, "GetExecutionStatus", avs_pb2.ExecutionReq(task_id=run_task, execution_id=run)),
        (5, "GetWorkflowCount", avs_pb2.GetWorkflowCountReq()),
        (5, "GetExecutionCount", avs_pb2.GetExecutionCountReq(workflow_ids=[task])),
        (5, "ListSecrets", avs_pb2.ListSecretsReq()),
        (5, "GetWallet", avs_pb2.GetWalletReq(salt="0")),
        (5, "RunNodeWithInputs", avs_pb2.RunNodeWithInputsReq(node=code_node("return 1 + 1"))),
    ]
    weights = [w for w, _, _ in menu]
    _, method, request = rng.choices(menu, weights)[0]
    return method, request


async def open_loop(rate: int, seconds: float, fire: Callable[[int], Awaitable[None]]) -> int:
    """Start ``fire(i)`` at ``rate`` per second for ``seconds``, without waiting for answers.

    At most :data:`IN_FLIGHT` calls are outstanding: on a machine too busy to serve the rate,
    the schedule slips instead of piling up calls until they pass their deadline. The test is
    about losing nothing; how fast is the benchmark's question (``benchmarks/bench_load.py``).
    """
    started, tasks = time.monotonic(), []
    room = asyncio.Semaphore(IN_FLIGHT)
    total = int(rate * seconds)

    async def bounded(i: int) -> None:
        try:
            await fire(i)
        finally:
            room.release()

    for i in range(total):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await room.acquire()
        tasks.append(asyncio.create_task(bounded(i)))
    await asyncio.gather(*tasks)
    return total


@pytest.mark.timeout(600)  # a slow machine slips the schedule; see open_loop
async def test_mixed_load_with_triggers_loses_nothing(devnet: DevnetState, tmp_path: Path) -> None:
    proc = AggregatorProcess(tmp_path, devnet, {"log_level": "warning"})
    proc.start()
    try:
        await proc.wait_serving()
        async with channel(proc.target) as ch:
            stub = avs_pb2_grpc.AggregatorStub(ch)
            tenants = await setup(stub)
            results = await drive(tenants)
            await drain(tenants, results)
            stored = await stored_executions(tenants)
    finally:
        proc.ensure_stopped()

    assert not results.errors, results.errors[:10]
    missing = set(results.triggered) - set(stored)
    assert not missing, f"{len(missing)} accepted triggers never stored"
    failed = {e: s for e, s in stored.items() if e in results.triggered and s != "SUCCESS"}
    assert not failed, list(failed.items())[:5]
    report(results)


async def drive(tenants: list[Tenant]) -> Results:
    results = Results()
    rng = random.Random(11)

    async def timed(method: str, user: User, request: Any) -> Any:
        started = time.perf_counter()
        try:
            reply = await user.call(method, request, deadline=DEADLINE)
        except grpc.aio.AioRpcError as exc:
            results.errors.append(f"{method}: {exc.code().name} {exc.details()}")
            return None
        results.latencies[method].append(time.perf_counter() - started)
        return reply

    async def rpc(i: int) -> None:
        tenant = tenants[i % len(tenants)]
        method, request = mixed_calls(tenant, rng)
        await timed(method, tenant.user, request)

    async def trigger(i: int) -> None:
        tenant = tenants[i % len(tenants)]
        task = tenant.tasks[i % len(tenant.tasks)]
        reply = await timed("TriggerTask", tenant.user, manual_run(task, {"n": i}))
        if reply is not None:
            results.triggered[reply.execution_id] = task

    started = time.monotonic()
    sent = await asyncio.gather(
        open_loop(RPC_RATE, SECONDS, rpc), open_loop(TRIGGER_RATE, SECONDS, trigger)
    )
    elapsed = time.monotonic() - started
    results.latencies["_elapsed"] = [elapsed]
    assert sum(sent) == (RPC_RATE + TRIGGER_RATE) * SECONDS
    return results


async def drain(tenants: list[Tenant], results: Results) -> None:
    by_task: dict[str, int] = defaultdict(int)
    for task in results.triggered.values():
        by_task[task] += 1
    owner = {task: t.user for t in tenants for task in t.tasks}

    async def done() -> bool:
        for task, n in by_task.items():
            reply = await owner[task].call(
                "GetExecutionCount", avs_pb2.GetExecutionCountReq(workflow_ids=[task])
            )
            if reply.total < n + 1:  # plus the blocking run of the setup
                return False
        return True

    # A liveness guard: 500 small runs take a few seconds; a loaded machine may need minutes.
    await eventually(done, within=300, every=0.2, what="every queued run finished")


async def stored_executions(tenants: list[Tenant]) -> dict[str, str]:
    stored: dict[str, str] = {}
    for tenant in tenants:
        for task in tenant.tasks:
            request = avs_pb2.ListExecutionsReq(task_ids=[task], limit=100)
            while True:
                reply = await tenant.user.call("ListExecutions", request)
                for item in reply.items:
                    stored[item.id] = avs_pb2.ExecutionStatus.Name(item.status).removeprefix(
                        "EXECUTION_STATUS_"
                    )
                if not reply.page_info.has_next_page:
                    break
                request.after = reply.page_info.end_cursor
    return stored


def report(results: Results) -> None:
    elapsed = results.latencies.pop("_elapsed")[0]
    every = [x for values in results.latencies.values() for x in values]
    lines = [
        f"\nload: {len(every)} calls in {elapsed:.1f} s ({len(every) / elapsed:.0f}/s; target "
        f"{RPC_RATE}+{TRIGGER_RATE}/s), {len(results.triggered)} triggers, all executed; "
        f"p50 {percentile(every, 0.5) * 1000:.1f} ms, p99 {percentile(every, 0.99) * 1000:.1f} ms"
    ]
    for method, values in sorted(results.latencies.items()):
        lines.append(
            f"  {method:20} n={len(values):5} p50 {percentile(values, 0.5) * 1000:6.1f} ms"
            f"  p99 {percentile(values, 0.99) * 1000:6.1f} ms  max {max(values) * 1000:6.1f} ms"
        )
    print("\n".join(lines))
