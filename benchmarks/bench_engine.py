"""Workflow executions per second against the raw work they contain.

Figure: a stored 3-node workflow (custom code → branch → filter) run end to end through
``RunService`` (run counted, graph executed in the sandbox pool, execution stored in LMDB), with
as many concurrent runs as sandbox workers. Baseline, same run and same machine: the raw work of
one execution, i.e. three sandbox evaluations and one durable KV commit, done back to back.
Target (issue 10): at least 0.25 x the baseline.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from ap_avs.cipher import SecretCipher
from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import (
    BranchCondition,
    BranchConfig,
    CustomCodeConfig,
    Edge,
    FilterConfig,
    Lang,
    Node,
    NodeKind,
)
from ap_avs.domain.triggers import ManualTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.executor import Executor
from ap_avs.engine.queue import FiredTrigger
from ap_avs.engine.registry import default_runners
from ap_avs.engine.runs import RunService
from ap_avs.engine.secrets import RunSecrets
from ap_avs.engine.templates import TemplateEngine
from ap_avs.engine.workflow_events import WorkflowEvents
from ap_avs.runners.base import EngineOptions
from ap_avs.sandbox import Limits, Mode, SandboxPool
from ap_avs.store import LmdbKV
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.secrets import SecretRepo
from ap_avs.store.workflows import WorkflowRepo
from benchmarks.report import Result

WORKERS = 2


def workflow() -> Workflow:
    nodes = (
        Node(
            "c",
            "numbers",
            NodeKind.CUSTOM_CODE,
            CustomCodeConfig(Lang.JAVASCRIPT, "return start.data.items.map(x => x * 2)"),
        ),
        Node(
            "b",
            "check",
            NodeKind.BRANCH,
            BranchConfig(
                (
                    BranchCondition("many", "if", "{{ numbers.data.length > 2 }}"),
                    BranchCondition("few", "else", ""),
                )
            ),
        ),
        Node("f", "big", NodeKind.FILTER, FilterConfig("value > 5", "{{numbers.data}}")),
    )
    return Workflow(
        id=new_id(now_ms=1_700_000_000_000),
        owner="0x" + "11" * 20,
        smart_wallet_address="0x" + "22" * 20,
        start_at=0,
        expired_at=0,
        name="bench",
        completed_at=0,
        max_execution=1_000_000,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "start", TriggerKind.MANUAL, ManualTriggerConfig()),
        nodes=nodes,
        edges=(Edge("e1", "t", "c"), Edge("e2", "c", "b"), Edge("e3", "b.many", "f")),
    )


async def _engine_rate(pool: SandboxPool, kv: LmdbKV, runs: int) -> float:
    wf = workflow()
    await WorkflowRepo(kv).create(wf, max_active_per_owner=None)

    async def owned(owner: str, wallet: str) -> bool:
        return True

    async with httpx.AsyncClient() as http:
        service = RunService(
            ExecutionRepo(kv),
            Executor(default_runners(), TemplateEngine(pool), pool, http, EngineOptions()),
            RunSecrets(SecretRepo(kv, SecretCipher(b"b" * 32)), {}),
            WorkflowEvents(),
            owned,
        )
        fired = FiredTrigger(TriggerKind.MANUAL, {"items": [1, 2, 3, 4, 5]})
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(runs):
            queue.put_nowait(n)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                execution = await service.run(wf.id, new_id(now_ms=1), fired)
                if execution is None or execution.error:
                    raise RuntimeError(f"benchmark run failed: {execution}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(WORKERS)))
        return runs / (time.perf_counter() - start)


async def _raw_rate(pool: SandboxPool, kv: LmdbKV, runs: int) -> float:
    variables = {"items": [1, 2, 3, 4, 5]}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(runs):
        queue.put_nowait(n)

    async def worker() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            doubled = await pool.evaluate(
                "return items.map(x => x * 2)", variables, mode=Mode.FUNCTION_BODY
            )
            await pool.evaluate("numbers.length > 2", {"numbers": doubled.value})
            await pool.evaluate(
                "return numbers.filter(value => value > 5)",
                {"numbers": doubled.value},
                mode=Mode.FUNCTION_BODY,
            )
            await kv.put(f"raw:{n:08d}".encode(), b"x" * 2000)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return runs / (time.perf_counter() - start)


async def run(quick: bool) -> list[Result]:
    runs = 20 if quick else 300
    rounds = 1 if quick else 3
    engine: list[float] = []
    raw: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with SandboxPool(size=WORKERS, limits=Limits()) as pool:
            for i in range(rounds):
                kv = LmdbKV(Path(tmp) / f"db{i}")
                try:
                    raw.append(await _raw_rate(pool, kv, runs))
                    engine.append(await _engine_rate(pool, kv, runs))
                finally:
                    await kv.close()
    return [
        Result(
            "executions/s, custom code → branch → filter",
            statistics.median(engine),
            "runs/s",
            statistics.median(raw),
            ">= 0.25 x raw (3 evaluations + 1 commit)",
        )
    ]
