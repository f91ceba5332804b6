"""A time-accelerated soak of retention on LMDB: days of steady runs under a fake clock.

Two workflows run every 10 simulated minutes through the real write path (an idempotency mark
per trigger, ``ExecutionRepo.begin`` and ``finish`` with a ~2 KB record); retention passes every
simulated hour. One workflow keeps 2 days of executions, the other (a per-workflow override)
its newest 150; marks are kept 1 day.

Shown: the store's size in use levels off below what the settings predict and stays there, the
file's high-water mark stops growing (LMDB reuses the freed pages), counts and stats read at
the same moment are the same before and after each pass, and a compacted copy (what
``ap-avs backup`` writes) is no bigger than the pages in use.

``AP_AVS_SOAK_DAYS`` (default 7) sets the simulated days.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from ap_avs.domain.execution import Execution, ExecutionStatus, Step
from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import Edge, Node, NodeKind, RestApiConfig
from ap_avs.domain.triggers import BlockTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.executions import ExecutionService
from ap_avs.engine.queue import FiredTrigger, JobQueue
from ap_avs.engine.retention import Retention
from ap_avs.engine.retention_policy import DAY_MS, Policy, RetentionSettings
from ap_avs.ops.integrity import check_store
from ap_avs.store import LmdbKV, keys
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.lmdb_copy import hot_copy
from ap_avs.store.workflows import WorkflowRepo

START = 1_800_000_000_000
OWNER = "0x" + "aa" * 20
WALLET = "0x" + "0a" * 20
TICK_MS = 10 * 60_000
TALLY_BYTES = 128
"""Room for one hourly tally: a 48-byte key, a value under 40 bytes, node header, slack."""
HOUR_MS = 3_600_000
DAYS = int(os.environ.get("AP_AVS_SOAK_DAYS", "7"))
KEEP_DAYS, KEEP_LAST, MARK_DAYS, STATS_DAYS = 2, 150, 1, 3


def workflow(index: int) -> Workflow:
    return Workflow(
        id=new_id(now_ms=START - DAY_MS + index),
        owner=OWNER,
        smart_wallet_address=WALLET,
        start_at=0,
        expired_at=0,
        name=f"soak{index}",
        completed_at=0,
        max_execution=0,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "trigger", TriggerKind.BLOCK, BlockTriggerConfig(5)),
        nodes=(Node("n", "call", NodeKind.REST_API, RestApiConfig(url="http://127.0.0.1/")),),
        edges=(Edge("e", "t", "n"),),
    )


async def one_run(kv: LmdbKV, queue: JobQueue, wf: Workflow, at: int, n: int) -> None:
    """A trigger accepted at ``at`` (mark and job) and a run recorded, as a worker does (the
    job claimed may be another of the same hour: they run concurrently, so commits group)."""
    fired = FiredTrigger(TriggerKind.BLOCK, {"blockNumber": n})
    outcome = await queue.accept_trigger(wf.id, str(n), fired, now_ms=at)
    assert outcome.execution_id is not None
    job = await queue.claim()
    assert job is not None
    now = job.enqueued_at
    repo = ExecutionRepo(kv)
    begun = await repo.begin(job.workflow_id, job.execution_id, now)
    assert begun is not None
    body = {"status": 200, "data": [{"n": i, "text": "x" * 40} for i in range(25)]}
    steps = (
        Step("t", "trigger", "TRIGGER_TYPE_BLOCK", True, now, now, {"blockNumber": n}),
        Step("n", "call", "NODE_TYPE_REST_API", True, now, now + 40, body),
    )
    status = ExecutionStatus.SUCCESS if n % 4 else ExecutionStatus.PARTIAL_SUCCESS
    execution = Execution(
        job.execution_id, job.workflow_id, begun.index, status, now, now + 40, steps=steps
    )
    await repo.finish(execution, now + 40)
    await queue.complete(job)


async def test_store_size_levels_off_and_figures_hold(tmp_path: Path) -> None:
    kv = LmdbKV(tmp_path / "db")
    clock = [START]
    aged, counted = workflow(0), workflow(1)
    for wf in (aged, counted):
        await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
    settings = RetentionSettings(
        default=Policy(KEEP_DAYS * DAY_MS, None),
        overrides={counted.id: Policy(None, KEEP_LAST)},
        idempotency_window_ms=MARK_DAYS * DAY_MS,
        stats_ms=STATS_DAYS * DAY_MS,
        batch=64,
        pause_seconds=0,
    )
    retention = Retention(kv, settings, now_ms=lambda: clock[0])
    queue = JobQueue(kv, clock=lambda: clock[0], history_limit=50)
    service = ExecutionService(WorkflowRepo(kv), ExecutionRepo(kv), None, queue)  # type: ignore[arg-type]
    ids = [aged.id, counted.id]

    async def figures() -> tuple[object, ...]:
        stats = [await service.stats(OWNER, ids, d, clock[0]) for d in (1, 2, STATS_DAYS)]
        return (await service.count(OWNER, ids), *stats)

    used: list[int] = []
    high_water: list[int] = []
    per_run = 0.0
    runs = 0
    try:
        for tick in range(5, DAYS * 144, 6):  # a pass every simulated hour, after its runs
            clock[0] = START + tick * TICK_MS
            hour = [(wf, t) for t in range(tick - 5, tick + 1) for wf in (aged, counted)]
            await asyncio.gather(
                *(one_run(kv, queue, wf, START + t * TICK_MS, t) for wf, t in hour)
            )
            runs += len(hour)
            daily = tick % 144 == 143
            before = await figures() if daily else await service.count(OWNER, ids)
            await retention.run_once()
            after = await figures() if daily else await service.count(OWNER, ids)
            assert after == before, f"figures changed at tick {tick}"
            if daily:
                size = await kv.size()
                used.append(size.used_bytes)
                high_water.append(size.high_water_bytes)
                if tick == 143:  # after day 1, before anything could be removed
                    per_run = size.used_bytes / runs
        assert await service.count(OWNER, ids) == runs
        # kept: 2 days of `aged`, 150 of `counted` (each record with its mark and its share of
        # counters and queue history: the bytes per run of day 1, when nothing was removed),
        # and per workflow an hourly tally for each hour of the stats horizon
        kept_runs = (KEEP_DAYS * 144 + 6) + (KEEP_LAST + 6)
        tallies = 2 * (STATS_DAYS * 24 + 1)
        predicted = per_run * kept_runs + tallies * TALLY_BYTES
        print(f"\nused bytes per day: {used}\nhigh water: {high_water}\npredicted {predicted:,.0f}")
        steady = used[STATS_DAYS:]
        assert max(steady) <= predicted
        # the file stopped growing: over the steady days it grew by less than 2 % of what one
        # day of runs added at the start (the freed pages are reused)
        assert high_water[-1] - high_water[STATS_DAYS] <= 0.02 * high_water[0]
        assert await kv.count(keys.history_prefix(aged.id)) <= KEEP_DAYS * 144 + 6
        assert await kv.count(keys.history_prefix(counted.id)) == KEEP_LAST
        assert await kv.count(keys.IDEMPOTENCY) <= 2 * (MARK_DAYS * 144 + 6)
        assert (await check_store(kv)).ok
        copy = tmp_path / "copy"
        copy.mkdir()
        await hot_copy(kv, copy)
        final = await kv.size()
        assert (copy / "data.mdb").stat().st_size <= final.used_bytes + 4 * 4096
    finally:
        await kv.close()
