"""The durable job queue: one transaction per trigger, persistent dedup, FIFO, at-least-once."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import Edge, Node, NodeKind, RestApiConfig
from ap_avs.domain.triggers import BlockTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.queue import (
    FiredTrigger,
    JobQueue,
    JobSource,
    TriggerVerdict,
    assess,
    derive_occurrence,
    occurrence_of,
)
from ap_avs.store import KV, LmdbKV, MemoryKV, Txn, codec, keys
from ap_avs.store.keys import QueueState
from ap_avs.store.workflows import WorkflowRepo

MIB = 1 << 20
NOW = 1_800_000_000_000
OWNER = "0x" + "aa" * 20
WALLET = "0x" + "0a" * 20
BLOCK = FiredTrigger(TriggerKind.BLOCK, {"blockNumber": 10, "blockHash": "0xab"})


def workflow(index: int = 0, **changes: object) -> Workflow:
    base = Workflow(
        id=new_id(now_ms=NOW - 1000 + index),
        owner=OWNER,
        smart_wallet_address=WALLET,
        start_at=0,
        expired_at=0,
        name=f"w{index}",
        completed_at=0,
        max_execution=1000,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "trigger", TriggerKind.BLOCK, BlockTriggerConfig(5)),
        nodes=(Node("n", "call", NodeKind.REST_API, RestApiConfig(url="http://127.0.0.1/")),),
        edges=(Edge("e", "t", "n"),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "lmdb"])
async def kv(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KV]:
    store: KV = MemoryKV() if request.param == "memory" else LmdbKV(tmp_path / "db", map_size=MIB)
    yield store
    await store.close()


async def stored(kv: KV, **changes: object) -> Workflow:
    wf = workflow(**changes)
    await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
    return wf


def queue_of(kv: KV, **options: int) -> JobQueue:
    return JobQueue(kv, clock=lambda: NOW, **options)


async def everything(kv: KV) -> list[tuple[bytes, bytes]]:
    return await kv.scan(b"")


# --- accepting triggers ---------------------------------------------------------------------


async def test_an_accepted_trigger_writes_job_marker_sequence_and_mark_at_once(kv: KV) -> None:
    wf = await stored(kv, max_execution=3)
    queue = queue_of(kv)
    outcome = await queue.accept_trigger(wf.id, "10", BLOCK, operator="0xop")
    assert outcome.verdict is TriggerVerdict.ACCEPTED
    assert (outcome.remaining_executions, outcome.still_enabled, outcome.job_id) == (2, True, 1)
    assert outcome.execution_id is not None
    assert outcome.execution_id == outcome.execution_id.lower()
    assert await kv.get(keys.trigger(wf.id, outcome.execution_id)) == b"1"
    assert await kv.get(keys.queue_seq("default")) == b"1"
    assert await kv.get(keys.idem(wf.id, "10")) is not None
    [job] = await queue.jobs(QueueState.PENDING)
    assert (job.workflow_id, job.execution_id, job.trigger) == (wf.id, outcome.execution_id, BLOCK)
    assert (job.source, job.occurrence, job.operator) == (JobSource.OPERATOR, "10", "0xop")
    [(_, raw)] = await kv.scan(keys.queue_prefix("default", QueueState.PENDING))
    record = codec.loads(raw)  # plain JSON, the trigger output kept whole (not base64)
    assert isinstance(record, dict)
    assert record["t"] == "execute_task"
    assert record["d"] == {
        "execution_id": outcome.execution_id,
        "execution_index": None,
        "trigger_type": 4,
        "trigger_output": {"blockNumber": 10, "blockHash": "0xab"},
        "input_variables": {},
        "source": "operator",
        "occurrence": "10",
        "operator": "0xop",
    }


async def test_trigger_data_round_trips_exactly(kv: KV) -> None:
    wf = await stored(kv)
    data: JsonValue = {
        "blockNumber": 12345678901234,
        "gasUsed": 0,
        "ratio": 0.5,
        "big": 1.5e300,
        "ok": True,
        "none": None,
        "nested": {"list": [1, "two", {"three": 3}], "empty": {}, "é": "ü"},
    }
    fired = FiredTrigger(TriggerKind.EVENT, data)
    queue = queue_of(kv)
    await queue.accept_trigger(wf.id, "0xabc:1", fired)
    job = await queue.claim()
    assert job is not None
    assert job.trigger == fired
    got = job.trigger.data
    assert isinstance(got, dict)
    assert type(got["blockNumber"]) is int
    assert type(got["gasUsed"]) is int
    assert type(got["ratio"]) is float


async def test_duplicates_are_refused_and_report_the_budget(kv: KV) -> None:
    wf = await stored(kv, max_execution=5, execution_count=1)
    queue = queue_of(kv)
    first = await queue.accept_trigger(wf.id, "10", BLOCK)
    again = await queue.accept_trigger(wf.id, "10", BLOCK)
    assert first.remaining_executions == 3
    assert again.verdict is TriggerVerdict.DEDUPLICATED
    assert (again.remaining_executions, again.still_enabled, again.job_id) == (3, True, None)
    assert await queue.depth() == 1


async def test_dedup_survives_a_restart(tmp_path: Path) -> None:
    kv = LmdbKV(tmp_path / "db", map_size=MIB)
    wf = await stored(kv)
    assert (await queue_of(kv).accept_trigger(wf.id, "7", BLOCK)).verdict is TriggerVerdict.ACCEPTED
    await kv.close()
    reopened = LmdbKV(tmp_path / "db", map_size=MIB)
    try:
        outcome = await queue_of(reopened).accept_trigger(wf.id, "7", BLOCK)
        assert outcome.verdict is TriggerVerdict.DEDUPLICATED
        assert await queue_of(reopened).depth() == 1
    finally:
        await reopened.close()


async def test_100_concurrent_reports_of_10_occurrences_make_exactly_10_jobs(kv: KV) -> None:
    wf = await stored(kv)
    queue = queue_of(kv)
    outcomes = await asyncio.gather(
        *(queue.accept_trigger(wf.id, str(n % 10), BLOCK) for n in range(100))
    )
    verdicts = [o.verdict for o in outcomes]
    assert verdicts.count(TriggerVerdict.ACCEPTED) == 10
    assert verdicts.count(TriggerVerdict.DEDUPLICATED) == 90
    assert await queue.depth() == 10
    assert await kv.count(keys.trigger_prefix(wf.id)) == 10
    assert await kv.count(keys.idem_prefix(wf.id)) == 10
    assert len({o.execution_id for o in outcomes if o.execution_id}) == 10


@pytest.mark.parametrize(
    ("changes", "verdict"),
    [
        ({"status": TaskStatus.DISABLED}, TriggerVerdict.DISABLED),
        ({"status": TaskStatus.FAILED}, TriggerVerdict.DISABLED),
        ({"status": TaskStatus.COMPLETED, "execution_count": 3}, TriggerVerdict.EXHAUSTED),
        ({"execution_count": 3}, TriggerVerdict.EXHAUSTED),
        ({"expired_at": NOW - 1000}, TriggerVerdict.EXPIRED),
        ({"start_at": NOW + 1}, TriggerVerdict.NOT_STARTED),
    ],
)
async def test_a_workflow_that_may_not_run_is_refused_with_nothing_written(
    kv: KV, changes: dict[str, object], verdict: TriggerVerdict
) -> None:
    wf = await stored(kv, max_execution=3, **changes)
    before = await everything(kv)
    outcome = await queue_of(kv).accept_trigger(wf.id, "10", BLOCK)
    assert outcome.verdict is verdict
    assert (outcome.remaining_executions, outcome.still_enabled) == (0, False)
    assert outcome.execution_id is None
    assert await everything(kv) == before


async def test_a_deleted_workflow_is_refused_and_its_marks_purged(kv: KV) -> None:
    wf = await stored(kv)
    queue = queue_of(kv)
    await queue.accept_trigger(wf.id, "10", BLOCK)
    await WorkflowRepo(kv).change(wf.id, lambda current: None)
    before = {k for k, _ in await everything(kv)}
    outcome = await queue.accept_trigger(wf.id, "11", BLOCK)
    assert outcome.verdict is TriggerVerdict.NOT_FOUND
    assert not outcome.still_enabled
    after = {k for k, _ in await everything(kv)}
    assert after == before - {keys.idem(wf.id, "10")}
    assert await queue.depth() == 1  # the job queued before the delete stays; the run drops it


async def test_queued_runs_reserve_the_budget(kv: KV) -> None:
    wf = await stored(kv, max_execution=3)
    queue = queue_of(kv)
    made = [await queue.accept_trigger(wf.id, str(n), BLOCK) for n in range(3)]
    assert [o.remaining_executions for o in made] == [2, 1, 0]
    assert await kv.get(keys.queued(wf.id)) == b"3"
    refused = await queue.accept_trigger(wf.id, "3", BLOCK)
    assert refused.verdict is TriggerVerdict.EXHAUSTED
    assert (refused.remaining_executions, refused.still_enabled, refused.queued_runs) == (
        0,
        False,
        3,
    )
    assert (await queue.enqueue_run(wf.id, BLOCK)).verdict is TriggerVerdict.EXHAUSTED
    job = await queue.claim()  # the executor takes one and counts it
    assert job is not None
    await WorkflowRepo(kv).change(wf.id, lambda current: current.with_run_recorded(NOW))
    assert (await queue.accept_trigger(wf.id, "3", BLOCK)).verdict is TriggerVerdict.EXHAUSTED
    assert await queue.fail(job, "transient", retry=True)
    assert await kv.get(keys.queued(wf.id)) == b"3"
    for _ in range(3):
        assert await queue.claim() is not None
    assert await kv.get(keys.queued(wf.id)) is None
    assert await queue_of(kv).recover() == 3
    assert await kv.get(keys.queued(wf.id)) == b"3"


async def test_unlimited_budget_reports_minus_one() -> None:
    wf = workflow(max_execution=0, execution_count=10**6)
    assert assess(wf, NOW).remaining_executions == -1


async def test_a_pre_allocated_id_is_taken_by_exactly_one_trigger(kv: KV) -> None:
    wf = await stored(kv)
    reserved = new_id(now_ms=NOW - 5)

    def reserve(txn: Txn) -> None:
        txn.put(keys.pending(wf.id, reserved), b"4")
        txn.put(keys.trigger(wf.id, reserved), b"1")

    await kv.update(reserve)
    queue = queue_of(kv)
    first = await queue.accept_trigger(wf.id, "1", BLOCK)
    second = await queue.accept_trigger(wf.id, "2", BLOCK)
    assert first.execution_id == reserved
    assert second.execution_id not in (None, reserved)
    job = await queue.claim()
    assert job is not None
    assert job.execution_index == 4
    assert await kv.get(keys.pending(wf.id, reserved)) == b"4"  # the executor reads and drops it
    await queue.complete(job)
    assert await kv.get(keys.pending_bound(wf.id, reserved)) is None


# --- user runs ------------------------------------------------------------------------------


async def test_a_user_run_uses_the_same_path_without_a_mark(kv: KV) -> None:
    wf = await stored(kv, status=TaskStatus.DISABLED)
    queue = queue_of(kv)
    fired = FiredTrigger(TriggerKind.MANUAL, {"x": [1, 2]})
    outcome = await queue.enqueue_run(wf.id, fired, input_variables={"settings": {"a": 1}})
    assert outcome.verdict is TriggerVerdict.ACCEPTED
    assert await kv.count(keys.idem_prefix(wf.id)) == 0
    job = await queue.claim()
    assert job is not None
    assert (job.source, job.trigger, job.input_variables) == (
        JobSource.USER,
        fired,
        {"settings": {"a": 1}},
    )
    completed = await stored(kv, status=TaskStatus.COMPLETED)
    refused = await queue.enqueue_run(completed.id, fired)
    assert refused.verdict is TriggerVerdict.DISABLED


# --- workers --------------------------------------------------------------------------------


async def test_claims_are_fifo_past_9_and_10(kv: KV) -> None:
    wf = await stored(kv)
    queue = queue_of(kv)
    made = [await queue.enqueue_run(wf.id, BLOCK) for _ in range(12)]
    claimed = [await queue.claim() for _ in range(12)]
    assert [j.id for j in claimed if j] == list(range(1, 13))
    assert [j.execution_id for j in claimed if j] == [o.execution_id for o in made]
    assert await queue.claim() is None


async def test_complete_fail_retry_and_recover(kv: KV) -> None:
    wf = await stored(kv)
    queue = queue_of(kv)
    for n in range(4):
        await queue.accept_trigger(wf.id, str(n), BLOCK)
    a, b, c, d = [await queue.claim() for _ in range(4)]
    assert a is not None
    assert b is not None
    assert c is not None
    assert d is not None
    assert a.attempts == 1
    assert await queue.complete(a)
    assert not await queue.complete(a)  # only once
    assert await kv.get(keys.trigger(wf.id, a.execution_id)) is None
    assert await queue.fail(b, "boom")
    [failed] = await queue.jobs(QueueState.FAILED)
    assert (failed.id, failed.last_error) == (b.id, "boom")
    assert await kv.get(keys.trigger(wf.id, b.execution_id)) is None
    assert await queue.fail(c, "try later", retry=True)
    assert await kv.get(keys.trigger(wf.id, c.execution_id)) == b"1"
    # d is in progress when the process dies: recover puts it back, behind nothing older
    assert await queue.depth(QueueState.IN_PROGRESS) == 1
    assert await queue_of(kv).recover() == 1
    again = [await queue.claim(), await queue.claim()]
    assert [(j.id, j.attempts) for j in again if j] == [(c.id, 2), (d.id, 2)]
    assert (await queue.jobs(QueueState.IN_PROGRESS))[0].last_error == "try later"


async def test_history_is_bounded(kv: KV) -> None:
    wf = await stored(kv)
    queue = queue_of(kv, history_limit=5)
    for _ in range(70):
        await queue.enqueue_run(wf.id, BLOCK)
        job = await queue.claim()
        assert job is not None
        await queue.complete(job)
    assert 5 <= await queue.depth(QueueState.COMPLETE) <= 5 + 32


async def test_workers_wait_without_polling_and_all_jobs_get_taken(kv: KV) -> None:
    wf = await stored(kv)
    queue = queue_of(kv)
    workers = [asyncio.create_task(queue.next_job()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in workers)
    for n in range(3):
        await queue.accept_trigger(wf.id, str(n), BLOCK)
    jobs = await asyncio.wait_for(asyncio.gather(*workers), timeout=10)
    assert sorted(j.id for j in jobs) == [1, 2, 3]


# --- occurrences ----------------------------------------------------------------------------


def test_occurrence_is_the_tail_of_the_request_id() -> None:
    assert occurrence_of("wf", "wf:123") == "123"
    assert occurrence_of("wf", "wf:0xab:3") == "0xab:3"
    assert occurrence_of("wf", "other") == "other"
    assert occurrence_of("wf", "") is None
    assert occurrence_of("wf", "wf:") is None


def test_occurrence_derived_from_the_data() -> None:
    assert derive_occurrence(BLOCK) == "10"
    event = FiredTrigger(TriggerKind.EVENT, {"transactionHash": "0xab", "logIndex": 0})
    assert derive_occurrence(event) == "0xab:0"
    cron = FiredTrigger(TriggerKind.CRON, {"timestamp": 1_800_000_000_000})
    assert derive_occurrence(cron) == "1800000000000"
    assert derive_occurrence(FiredTrigger(TriggerKind.MANUAL, {"timestamp": 1})) is None
    assert derive_occurrence(FiredTrigger(TriggerKind.EVENT, {"logIndex": 0})) is None
