"""Runs through the durable queue: a crash between claim and ack runs the job once after a
restart; 1,000 concurrent triggers give 1,000 executions, none duplicated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ap_avs.cipher import SecretCipher
from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import CustomCodeConfig, Edge, Lang, Node, NodeKind
from ap_avs.domain.triggers import ManualTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.executor import Executor
from ap_avs.engine.queue import FiredTrigger, JobQueue, TriggerVerdict
from ap_avs.engine.runs import RunService
from ap_avs.engine.secrets import RunSecrets
from ap_avs.engine.templates import TemplateEngine
from ap_avs.engine.worker import Workers
from ap_avs.engine.workflow_events import WorkflowEvents
from ap_avs.errors import Unavailable
from ap_avs.runners.base import EngineOptions, NodeResult, RunContext
from ap_avs.store import LmdbKV, keys
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.keys import QueueState
from ap_avs.store.secrets import SecretRepo
from ap_avs.store.workflows import WorkflowRepo

OWNER = "0x" + "11" * 20
RUNNER = "0x" + "22" * 20


async def echo(node: Node, ctx: RunContext) -> NodeResult:
    trigger = ctx.variables["go"]
    assert isinstance(trigger, dict)
    return NodeResult(True, output=trigger["data"])


def workflow(max_execution: int) -> Workflow:
    return Workflow(
        id=new_id(now_ms=1_700_000_000_000),
        owner=OWNER,
        smart_wallet_address=RUNNER,
        start_at=0,
        expired_at=0,
        name="w",
        completed_at=0,
        max_execution=max_execution,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "go", TriggerKind.MANUAL, ManualTriggerConfig()),
        nodes=(Node("n", "echo", NodeKind.CUSTOM_CODE, CustomCodeConfig(Lang.JAVASCRIPT, "x")),),
        edges=(Edge("e", "t", "n"),),
    )


class Stack:
    """The engine parts of an aggregator over one LMDB directory."""

    def __init__(self, kv: LmdbKV, http: httpx.AsyncClient) -> None:
        self.kv = kv
        self.queue = JobQueue(kv)
        self.executions = ExecutionRepo(kv)
        executor = Executor(
            {NodeKind.CUSTOM_CODE: echo},
            TemplateEngine(evaluator=None),  # type: ignore[arg-type]  # paths only
            None,  # type: ignore[arg-type]
            http,
            EngineOptions(),
        )

        async def owned(owner: str, wallet: str) -> bool:
            return True

        self.runs = RunService(
            self.executions,
            executor,
            RunSecrets(SecretRepo(kv, SecretCipher(b"k" * 32)), {}),
            WorkflowEvents(),
            owned,
        )
        self.workers = Workers(self.queue, self.runs, count=4)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def wait_for(condition: object, within: float = 30.0) -> None:
    async with asyncio.timeout(within):
        while not await condition():  # type: ignore[operator]  # noqa: ASYNC110 - polls the store
            await asyncio.sleep(0.02)


async def test_crash_between_claim_and_ack_runs_the_job_once(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    wf = workflow(10)
    kv = LmdbKV(tmp_path)
    stack = Stack(kv, http)
    await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
    outcome = await stack.queue.accept_trigger(
        wf.id, "occ-1", FiredTrigger(TriggerKind.MANUAL, {"n": 1})
    )
    assert outcome.verdict is TriggerVerdict.ACCEPTED
    job = await stack.queue.claim()
    assert job is not None
    begun = await stack.executions.begin(wf.id, job.execution_id, 1)  # ... then the crash
    assert begun is not None
    await kv.close()

    kv = LmdbKV(tmp_path)
    stack = Stack(kv, http)
    worker = asyncio.create_task(stack.workers.run())
    try:

        async def one_execution() -> bool:
            return await stack.executions.count([wf.id]) == 1 and await stack.queue.depth() == 0

        await wait_for(one_execution)
        again = await stack.queue.accept_trigger(
            wf.id, "occ-1", FiredTrigger(TriggerKind.MANUAL, {"n": 1})
        )
        assert again.verdict is TriggerVerdict.DEDUPLICATED
    finally:
        worker.cancel()
    stored = await WorkflowRepo(kv).get(wf.id)
    assert stored is not None
    assert stored.execution_count == 1
    (execution,) = await stack.executions.all([wf.id])
    assert execution.id == job.execution_id
    assert execution.index == 0
    assert execution.steps[1].output == {"n": 1}
    assert await kv.get(keys.running(wf.id, job.execution_id)) is None
    await kv.close()


async def test_a_thousand_concurrent_triggers(tmp_path: Path, http: httpx.AsyncClient) -> None:
    wf = workflow(5000)
    kv = LmdbKV(tmp_path)
    stack = Stack(kv, http)
    await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
    fired = [FiredTrigger(TriggerKind.MANUAL, {"n": i}) for i in range(1000)]
    outcomes = await asyncio.gather(
        *(stack.queue.accept_trigger(wf.id, f"occ-{i}", f) for i, f in enumerate(fired)),
        *(stack.queue.accept_trigger(wf.id, f"occ-{i}", f) for i, f in enumerate(fired)),
    )
    accepted = [o for o in outcomes if o.verdict is TriggerVerdict.ACCEPTED]
    assert len(accepted) == 1000
    worker = asyncio.create_task(stack.workers.run())
    try:

        async def all_ran() -> bool:
            return await stack.executions.count([wf.id]) == 1000

        await wait_for(all_ran, within=90)
    finally:
        worker.cancel()
    executions = await stack.executions.all([wf.id])
    assert sorted(e.index for e in executions) == list(range(1000))
    assert sorted(e.steps[1].output["n"] for e in executions) == list(range(1000))  # type: ignore[index]
    stored = await WorkflowRepo(kv).get(wf.id)
    assert stored is not None
    assert stored.execution_count == 1000
    await kv.close()


class FlakyRuns:
    """Raises ``errors`` one after the other, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def run(self, *args: object) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


@pytest.mark.parametrize(
    ("error", "calls", "state"),
    [
        (Unavailable("chain RPC is unavailable"), 2, QueueState.COMPLETE),
        (RuntimeError("a bug"), 1, QueueState.FAILED),
    ],
)
async def test_transient_failures_retry_permanent_ones_do_not(
    tmp_path: Path, error: Exception, calls: int, state: QueueState
) -> None:
    kv = LmdbKV(tmp_path)
    wf = workflow(10)
    await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
    queue = JobQueue(kv)
    await queue.accept_trigger(wf.id, "occ", FiredTrigger(TriggerKind.MANUAL, None))
    runs = FlakyRuns(error)
    workers = Workers(queue, runs, count=1)  # type: ignore[arg-type]
    task = asyncio.create_task(workers.run())
    try:

        async def settled() -> bool:
            return await queue.depth(state) == 1

        await wait_for(settled)
    finally:
        task.cancel()
    assert runs.calls == calls
    await kv.close()


async def always_fails(node: Node, ctx: RunContext) -> NodeResult:
    return NodeResult(False, error="the endpoint is gone")


async def test_a_workflow_that_keeps_failing_is_disabled_with_the_reason(
    tmp_path: Path, http: httpx.AsyncClient
) -> None:
    kv = LmdbKV(tmp_path)
    wf = workflow(50)
    await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
    events = WorkflowEvents()
    seen: list[str] = []

    class Listener:
        def workflow_changed(self, event: object) -> None:
            seen.append(str(getattr(event, "kind", "")))

    events.subscribe(Listener())

    async def owned(owner: str, wallet: str) -> bool:
        return True

    def service(runner: object) -> RunService:
        return RunService(
            ExecutionRepo(kv),
            Executor(
                {NodeKind.CUSTOM_CODE: runner},  # type: ignore[dict-item]
                TemplateEngine(evaluator=None),  # type: ignore[arg-type]
                None,  # type: ignore[arg-type]
                http,
                EngineOptions(),
            ),
            RunSecrets(SecretRepo(kv, SecretCipher(b"k" * 32)), {}),
            events,
            owned,
            disable_after=3,
        )

    failing, working = service(always_fails), service(echo)
    fired = FiredTrigger(TriggerKind.MANUAL, {"n": 1})
    for n in range(2):
        await failing.run(wf.id, new_id(now_ms=n + 1), fired)
    await working.run(wf.id, new_id(now_ms=3), fired)  # a good run resets the streak
    for n in range(2):
        await failing.run(wf.id, new_id(now_ms=n + 4), fired)
    stored = await WorkflowRepo(kv).get(wf.id)
    assert stored is not None
    assert stored.status is TaskStatus.ENABLED
    last = await failing.run(wf.id, new_id(now_ms=9), fired)
    assert last is not None
    assert last.error.endswith("workflow disabled after 3 failed runs in a row")
    stored = await WorkflowRepo(kv).get(wf.id)
    assert stored is not None
    assert stored.status is TaskStatus.DISABLED
    assert seen == ["disabled"]
    await kv.close()
