"""The roster: idempotent upserts, routing by kind, resync generations, start-up readiness."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from chain_fakes import assignment, wait_for

from ap_avs.domain.triggers import (
    BlockTriggerConfig,
    CronTriggerConfig,
    ManualTriggerConfig,
    TriggerKind,
)
from ap_avs.errors import InvalidArgument
from ap_avs.operator.checkpoint import CheckpointStore
from ap_avs.operator.model import Assignment, Sink
from ap_avs.operator.roster import Roster


class FakeWatcher:
    def __init__(self, *kinds: TriggerKind) -> None:
        self.kinds = frozenset(kinds)
        self.watched: dict[str, Assignment] = {}
        self.calls: list[str] = []

    def watch(self, a: Assignment) -> None:
        if a.workflow_id.startswith("bad"):
            raise InvalidArgument("bad config")
        self.calls.append(f"watch {a.workflow_id}")
        self.watched[a.workflow_id] = a

    def unwatch(self, workflow_id: str) -> None:
        self.calls.append(f"unwatch {workflow_id}")
        self.watched.pop(workflow_id, None)

    async def run(self, sink: Sink) -> None:
        await asyncio.Event().wait()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def block(workflow_id: str, interval: int = 1) -> Assignment:
    return assignment(workflow_id, TriggerKind.BLOCK, BlockTriggerConfig(interval))


def cron(workflow_id: str) -> Assignment:
    return assignment(workflow_id, TriggerKind.CRON, CronTriggerConfig(("0 * * * *",)))


def setup() -> tuple[Roster, FakeWatcher, FakeWatcher, Clock]:
    chain, time_ = FakeWatcher(TriggerKind.BLOCK), FakeWatcher(TriggerKind.CRON)
    clock = Clock()
    return Roster([chain, time_], resync_grace=30, clock=clock), chain, time_, clock


def test_routes_by_kind_and_ignores_unwatched_kinds() -> None:
    roster, chain, time_, _ = setup()
    assert roster.kinds == {TriggerKind.BLOCK, TriggerKind.CRON}
    roster.upsert(block("b"), 1)
    roster.upsert(cron("c"), 1)
    roster.upsert(assignment("m", TriggerKind.MANUAL, ManualTriggerConfig()), 1)
    roster.upsert(block("bad"), 1)
    assert set(chain.watched) == {"b"}
    assert set(time_.watched) == {"c"}
    assert not roster.watching("m")
    assert not roster.watching("bad")
    assert len(roster) == 2


def test_a_changed_kind_moves_the_workflow() -> None:
    roster, chain, time_, _ = setup()
    roster.upsert(block("w"), 1)
    roster.upsert(cron("w"), 1)
    assert chain.calls == ["watch w", "unwatch w"]
    assert set(time_.watched) == {"w"}
    roster.remove("w", "test")
    roster.remove("w", "test")  # unknown now: no-op
    assert time_.calls == ["watch w", "unwatch w"]


def test_workflows_not_resent_after_reconnecting_are_dropped_after_the_grace() -> None:
    roster, chain, _, clock = setup()
    roster.connected(1)
    roster.upsert(block("kept"), 1)
    roster.upsert(block("gone"), 1)
    roster.disconnected()
    roster.connected(2)
    roster.upsert(block("kept"), 2)
    clock.now += 29
    assert roster.sweep() == 0
    clock.now += 2
    assert roster.sweep() == 1
    assert set(chain.watched) == {"kept"}
    assert roster.sweep() == 0


def test_a_stream_that_closes_within_the_grace_drops_nothing() -> None:
    roster, chain, _, clock = setup()
    roster.connected(1)
    roster.upsert(block("a"), 1)
    roster.connected(2)
    roster.disconnected()
    clock.now += 60
    assert roster.sweep() == 0
    assert set(chain.watched) == {"a"}


async def test_ready_waits_for_the_previous_runs_workflows(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.load()
    await store.save_workflows(["a", "b"])
    store = CheckpointStore(tmp_path)
    store.load()
    clock = Clock()
    roster = Roster([FakeWatcher(TriggerKind.BLOCK)], store, resync_grace=30, clock=clock)
    assert not roster.ready.is_set()
    roster.upsert(block("a"), 1)
    assert not roster.ready.is_set()
    roster.remove("b", "deleted meanwhile")
    assert roster.ready.is_set()


async def test_ready_after_the_grace_when_some_never_come_back(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.load()
    await store.save_workflows(["a", "b"])
    store.load()
    clock = Clock()
    roster = Roster([FakeWatcher(TriggerKind.BLOCK)], store, resync_grace=30, clock=clock)
    roster.connected(1)
    roster.upsert(block("a"), 1)
    clock.now += 31
    roster.sweep()
    assert roster.ready.is_set()
    assert roster.watching("a")


def test_a_first_start_is_ready_at_once() -> None:
    roster, *_ = setup()
    assert roster.ready.is_set()


async def test_run_persists_the_chain_watched_ids(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.load()
    roster = Roster([FakeWatcher(TriggerKind.BLOCK, TriggerKind.CRON)], store)
    task = asyncio.create_task(roster.run(save_every=0.01))
    roster.upsert(block("b"), 1)
    roster.upsert(cron("c"), 1)
    saved = tmp_path / "workflows.json"
    await wait_for(lambda: saved.exists() and json.loads(saved.read_text())["workflows"] == ["b"])
    roster.remove("b", "test")
    await wait_for(lambda: json.loads(saved.read_text())["workflows"] == [])
    task.cancel()
