"""Retention: which executions go, counts and stats that do not change when they go, the
"expired" answer, idempotency marks, per-workflow overrides, and deleted workflows' records.

Runs on both engines (MemoryKV, LmdbKV) with a fake clock passed in.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ap_avs.domain.execution import Execution, ExecutionStatus
from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import Edge, Node, NodeKind, RestApiConfig
from ap_avs.domain.triggers import BlockTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.executions import (
    EXECUTION_EXPIRED,
    EXECUTION_NOT_FOUND,
    ExecutionService,
    Stats,
)
from ap_avs.engine.queue import FiredTrigger, JobQueue
from ap_avs.engine.retention import Retention
from ap_avs.engine.retention_policy import DAY_MS, Policy, RetentionSettings, removable
from ap_avs.engine.workflow_events import WorkflowEvents
from ap_avs.engine.workflows import WorkflowService
from ap_avs.errors import NotFound
from ap_avs.ops.integrity import check_store
from ap_avs.store import KV, LmdbKV, MemoryKV, codec, keys
from ap_avs.store.evidence import Evidence, EvidenceRepo
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.retired import HOUR_MS
from ap_avs.store.workflows import WorkflowRepo

NOW = 1_800_000_000_000
OWNER = "0x" + "aa" * 20
WALLET = "0x" + "0a" * 20
BLOCK = FiredTrigger(TriggerKind.BLOCK, {"blockNumber": 10})


def workflow(index: int = 0) -> Workflow:
    return Workflow(
        id=new_id(now_ms=NOW - 400 * DAY_MS + index),
        owner=OWNER,
        smart_wallet_address=WALLET,
        start_at=0,
        expired_at=0,
        name=f"w{index}",
        completed_at=0,
        max_execution=0,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "trigger", TriggerKind.BLOCK, BlockTriggerConfig(5)),
        nodes=(Node("n", "call", NodeKind.REST_API, RestApiConfig(url="http://127.0.0.1/")),),
        edges=(Edge("e", "t", "n"),),
    )


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture(params=["memory", "lmdb"])
async def kv(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KV]:
    store: KV = MemoryKV() if request.param == "memory" else LmdbKV(tmp_path / "db")
    yield store
    await store.close()


async def stored(kv: KV, index: int = 0) -> Workflow:
    wf = workflow(index)
    await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
    return wf


async def run_at(kv: KV, wf: Workflow, at_ms: int, *, ok: bool = True, took: int = 7) -> str:
    """One real run through ExecutionRepo.begin and finish, made at ``at_ms``."""
    repo = ExecutionRepo(kv)
    execution_id = new_id(now_ms=at_ms)
    begun = await repo.begin(wf.id, execution_id, at_ms)
    assert begun is not None
    status = ExecutionStatus.SUCCESS if ok else ExecutionStatus.FAILED
    execution = Execution(execution_id, wf.id, begun.index, status, at_ms, at_ms + took)
    await repo.finish(execution, at_ms + took)
    return execution_id


def service(kv: KV) -> ExecutionService:
    queue = JobQueue(kv)
    return ExecutionService(WorkflowRepo(kv), ExecutionRepo(kv), None, queue)  # type: ignore[arg-type]


def settings(**changes: object) -> RetentionSettings:
    base = RetentionSettings(
        default=Policy(30 * DAY_MS, 100),
        batch=7,  # small batches: every trim spans several transactions
        pause_seconds=0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def figures(kv: KV, wf_ids: list[str], now: int) -> tuple[int, list[Stats]]:
    svc = service(kv)
    count = await svc.count(OWNER, wf_ids)
    stats = [await svc.stats(OWNER, wf_ids, days, now) for days in (1, 7, 30, 90, 365)]
    return count, stats


@pytest.mark.parametrize(
    ("ages_days", "excess", "cutoff_days", "expected"),
    [
        ([50, 40, 20, 10], 0, 30, 2),  # the two older than 30 days
        ([50, 40, 20, 10], 3, 30, 3),  # the count limit asks for more
        ([20, 10], 0, 30, 0),
        ([50, 40], 5, None, 2),  # never more than the page
        ([50, 10, 40], 0, 30, 1),  # stops at the first young one (ids are in time order)
        ([], 4, 30, 0),
    ],
)
def test_removable(
    ages_days: list[int], excess: int, cutoff_days: int | None, expected: int
) -> None:
    page = [new_id(now_ms=NOW - d * DAY_MS) for d in ages_days]
    cutoff = None if cutoff_days is None else NOW - cutoff_days * DAY_MS
    assert removable(page, excess, cutoff) == expected


def test_policy_overrides_fall_back_field_by_field() -> None:
    s = settings(overrides={"w1": Policy(None, 5), "w2": Policy(DAY_MS, None)})
    assert s.policy_for("w0") == Policy(30 * DAY_MS, 100)
    assert s.policy_for("w1") == Policy(30 * DAY_MS, 5)
    assert s.policy_for("w2") == Policy(DAY_MS, 100)


async def test_old_and_excess_executions_go_and_counts_and_stats_stay(kv: KV) -> None:
    aged, counted = await stored(kv, 0), await stored(kv, 1)
    clock = Clock(NOW)
    made: dict[str, list[str]] = {aged.id: [], counted.id: []}
    for day in range(60, 0, -1):  # one run a day for 60 days; every third one fails
        for wf in (aged, counted):
            at = NOW - day * DAY_MS + 11 * 60_000
            made[wf.id].append(await run_at(kv, wf, at, ok=day % 3 != 0, took=day))
    retention = Retention(kv, settings(overrides={counted.id: Policy(None, 12)}), now_ms=clock)
    ids = [aged.id, counted.id]
    before = await figures(kv, ids, NOW)
    report = await retention.run_once()
    assert await figures(kv, ids, NOW) == before
    assert report.removed["history"] == 30 + 48
    assert await kv.count(keys.history_prefix(aged.id)) == 30  # age: 30 days kept
    assert await kv.count(keys.history_prefix(counted.id)) == 12  # override: newest 12 kept
    kept = await kv.scan_keys(keys.history_prefix(counted.id))
    assert [keys.parse_history(k).execution_id for k in kept] == made[counted.id][-12:]
    assert report.oldest_execution_ms == NOW - 30 * DAY_MS + 11 * 60_000
    assert (await check_store(kv)).ok  # executionCount = stored + removed + running
    again = await retention.run_once()
    assert again.removed.get("history", 0) == 0
    clock.now += 5 * DAY_MS  # five more days: five more of `aged` are too old
    assert (await retention.run_once()).removed["history"] == 5
    assert await figures(kv, ids, NOW) == before  # same moment, same figures


async def test_stats_windows_start_at_a_whole_hour(kv: KV) -> None:
    wf = await stored(kv)
    svc = service(kv)
    now = NOW + 40 * 60_000  # 40 minutes past an hour
    await run_at(kv, wf, now - DAY_MS - 30 * 60_000)  # 10 minutes past the hour, a day back
    await run_at(kv, wf, now - DAY_MS - 50 * 60_000)  # in the hour before: out of the window
    assert (await svc.stats(OWNER, [wf.id], 1, now)).total == 1
    await Retention(kv, settings(default=Policy(None, 0)), now_ms=Clock(now)).run_once()
    assert await kv.count(keys.history_prefix(wf.id)) == 0
    assert (await svc.stats(OWNER, [wf.id], 1, now)).total == 1
    assert (await svc.count(OWNER, [wf.id])) == 2


async def test_a_removed_execution_is_not_found_with_an_expired_message(kv: KV) -> None:
    wf = await stored(kv)
    old = await run_at(kv, wf, NOW - 40 * DAY_MS)
    young = await run_at(kv, wf, NOW - DAY_MS)
    await Retention(kv, settings(), now_ms=Clock(NOW)).run_once()
    svc = service(kv)
    with pytest.raises(NotFound) as info:
        await svc.get(OWNER, wf.id, old, NOW)
    assert info.value.message == EXECUTION_EXPIRED
    assert "expired" in EXECUTION_EXPIRED
    assert (await svc.get(OWNER, wf.id, young, NOW)).id == young
    with pytest.raises(NotFound) as info:  # newer than anything removed: plainly not found
        await svc.get(OWNER, wf.id, new_id(now_ms=NOW), NOW)
    assert info.value.message == EXECUTION_NOT_FOUND


async def test_idempotency_marks_expire_after_their_window(kv: KV) -> None:
    wf = await stored(kv)
    queue = JobQueue(kv)
    window = 3 * DAY_MS
    for hours_ago in (100, 80, 71, 2):
        await queue.accept_trigger(
            wf.id, f"occ-{hours_ago}", BLOCK, now_ms=NOW - hours_ago * HOUR_MS
        )
    await kv.put(keys.idem(wf.id, "legacy"), b"")  # no time recorded: kept
    retention = Retention(kv, settings(idempotency_window_ms=window), now_ms=Clock(NOW))
    report = await retention.run_once()
    assert report.removed["idem"] == 2
    left = {k.decode().rsplit(":", 1)[1] for k in await kv.scan_keys(keys.idem_prefix(wf.id))}
    assert left == {"occ-71", "occ-2", "legacy"}
    assert report.oldest_idempotency_mark_ms == NOW - 71 * HOUR_MS
    assert await queue.is_duplicate(wf.id, "occ-71")
    assert not await queue.is_duplicate(wf.id, "occ-100")


async def test_evidence_expires_after_its_window_and_the_counts_stay(kv: KV) -> None:
    repo = EvidenceRepo(kv)
    operator = "0x" + "ab" * 20
    for days_ago in (200, 181, 179, 1):
        at = NOW - days_ago * DAY_MS
        report = Evidence(operator, "01" + "a" * 24, f"occ-{days_ago}", "cron", "why", b"", "", at)
        await repo.record(report, suspend_after=0)
    retention = Retention(kv, settings(evidence_ms=180 * DAY_MS), now_ms=Clock(NOW))
    report = await retention.run_once()
    assert report.removed["evidence"] == 2
    assert sorted(e.occurrence for e in await repo.list(operator)) == ["occ-1", "occ-179"]
    assert await repo.count(operator) == 4  # the count of refused reports is kept


async def test_deleting_a_workflow_removes_its_records_and_reports_them(kv: KV) -> None:
    gone, kept = await stored(kv, 0), await stored(kv, 1)
    queue = JobQueue(kv)
    for wf in (gone, kept):
        for n in range(9):
            await run_at(kv, wf, NOW - (n + 1) * HOUR_MS)
        await queue.accept_trigger(wf.id, "occ", BLOCK, now_ms=NOW)
        await kv.put(keys.secret(OWNER, "token", workflow_id=wf.id), b"sealed")
        await kv.put(keys.assign(wf.id), b"0x" + b"11" * 20)
    await kv.put(keys.secret(OWNER, "token"), b"user-scoped")
    clock = Clock(NOW)
    retention = Retention(kv, settings(default=Policy(None, 5)), now_ms=clock)
    await retention.run_once()  # 4 of each removed: a retired tally and hourly stats exist
    everything_before = set(await kv.scan_keys(b""))
    events = WorkflowEvents()
    events.subscribe(retention)
    workflows = WorkflowService(WorkflowRepo(kv), None, events, None, max_active_per_owner=None)  # type: ignore[arg-type]
    outcome = await workflows.delete(OWNER, gone.id, NOW)
    assert outcome.success
    clock.now += 1000
    report = await retention.run_once()
    (purged,) = report.purges
    assert purged.workflow_id == gone.id
    assert purged.removed["history"] == 5
    assert purged.removed["idem"] == 1
    assert purged.removed["secret"] == 1
    assert purged.removed["retired"] == 1
    assert purged.removed["retired_hour"] == 4
    assert purged.removed["execution_index_counter"] == 1
    assert purged.removed["trigger"] == 1  # the queued run's marker
    left = set(await kv.scan_keys(b""))
    mine = {k for k in everything_before if gone.id.encode() in k}
    assert purged.total == len(mine) - 2  # all but its t: and u: keys (the delete took those)
    assert not {k for k in left if gone.id.encode() in k} - {keys.purge(gone.id)}
    assert {k for k in everything_before if gone.id.encode() not in k} <= left  # others kept
    stored_report = codec.loads(await kv.get(keys.purge(gone.id)) or b"{}")
    assert isinstance(stored_report, dict)
    assert stored_report["done_at"] == NOW + 1000
    assert stored_report["removed"] == dict(purged.removed)
    clock.now += 31 * DAY_MS  # the report itself goes after deletion_report_days
    await retention.run_once()
    assert await kv.get(keys.purge(gone.id)) is None


async def test_history_of_a_missing_workflow_is_purged(kv: KV) -> None:
    wf = await stored(kv)
    orphan = workflow(9).id
    await run_at(kv, wf, NOW - HOUR_MS)
    await kv.put(keys.history(orphan, new_id(now_ms=NOW - HOUR_MS)), b"{}")
    await kv.put(keys.failure_streak(orphan), b"2")
    report = await Retention(kv, settings(), now_ms=Clock(NOW)).run_once()
    assert report.removed["orphan"] == 2
    assert await kv.count(keys.history_prefix(orphan)) == 0
    assert await kv.count(keys.history_prefix(wf.id)) == 1


async def test_hourly_stats_of_removed_runs_go_after_the_stats_horizon(kv: KV) -> None:
    wf = await stored(kv)
    for days in (50, 20, 10):
        await run_at(kv, wf, NOW - days * DAY_MS)
    clock = Clock(NOW)
    retention = Retention(
        kv, settings(default=Policy(DAY_MS, None), stats_ms=30 * DAY_MS), now_ms=clock
    )
    report = await retention.run_once()
    assert report.removed["history"] == 3
    assert report.removed["retired_hour"] == 1  # the one of 50 days ago
    assert await kv.count(keys.retired_hour_prefix(wf.id)) == 2
    assert await service(kv).count(OWNER, [wf.id]) == 3  # the count itself is kept


async def test_a_deleted_workflow_wakes_the_loop(kv: KV) -> None:
    wf = await stored(kv)
    await run_at(kv, wf, NOW - HOUR_MS)
    retention = Retention(kv, settings(interval_seconds=3600.0), now_ms=Clock(NOW))
    events = WorkflowEvents()
    events.subscribe(retention)
    stop = asyncio.Event()
    loop = asyncio.create_task(retention.run(stop))
    try:
        async with asyncio.timeout(30):  # liveness guard, far above the few ms it takes
            while retention.last_pass is None:  # noqa: ASYNC110 - polls what the loop did
                await asyncio.sleep(0.01)
        workflows = WorkflowService(WorkflowRepo(kv), None, events, None, max_active_per_owner=None)  # type: ignore[arg-type]
        await workflows.delete(OWNER, wf.id, NOW)
        async with asyncio.timeout(30):  # the interval is an hour: only the wake-up explains it
            while await kv.count(keys.history_prefix(wf.id)):  # noqa: ASYNC110 - polls the store
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await loop
    assert retention.census is not None  # the first census ran with the first pass
    assert retention.census.records["history"] == 1
    census = await retention.take_census()
    assert census.records == {"purge": 1}  # the delete took t: and u:, retention the rest
    assert census.size is not None
    assert census.size.entries == 1
