"""The time watcher: fixed epochs and cron on a shifted clock (LESSONS 10)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from chain_fakes import Recorder, assignment, data, wait_for

from ap_avs.domain.triggers import CronTriggerConfig, FixedTimeTriggerConfig, TriggerKind
from ap_avs.errors import InvalidArgument
from ap_avs.operator.model import Assignment
from ap_avs.operator.watchers import TimeWatcher

MINUTE = 60_000


def real_ms() -> int:
    return time.time_ns() // 1_000_000


class ShiftedClock:
    """Wall-clock time moved so that ``now()`` reads ``at`` right now; it keeps ticking."""

    def __init__(self, at: int) -> None:
        self.offset = at - real_ms()

    def __call__(self) -> int:
        return real_ms() + self.offset


@contextlib.asynccontextmanager
async def running(watcher: TimeWatcher, sink: Recorder) -> AsyncIterator[None]:
    task = asyncio.create_task(watcher.run(sink))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def at(workflow_id: str, *epochs: int, **window: int) -> Assignment:
    return assignment(
        workflow_id, TriggerKind.FIXED_TIME, FixedTimeTriggerConfig(epochs=epochs), **window
    )


def cron(workflow_id: str, *schedules: str, **window: int) -> Assignment:
    return assignment(
        workflow_id, TriggerKind.CRON, CronTriggerConfig(schedules=schedules), **window
    )


async def test_fixed_epochs_fire_once_each_within_the_catch_up_window() -> None:
    now = real_ms()
    sink, watcher = Recorder(), TimeWatcher(catch_up_seconds=3600)
    old, recent, soon = now - 2 * 3_600_000, now - 10_000, now + 150
    watcher.watch(at("w", old, recent, soon))
    async with running(watcher, sink):
        await wait_for(lambda: len(sink.signals) == 2)
        watcher.watch(at("w", old, recent, soon))  # identical: no-op
        await asyncio.sleep(0.05)
    assert sink.keys() == [f"w:{recent}", f"w:{soon}"]
    assert real_ms() >= soon
    fired = sink.fired[1]
    assert fired.kind is TriggerKind.FIXED_TIME
    assert data(fired)["timestamp"] == soon
    assert data(fired)["timestampIso"].endswith("Z")
    assert watcher.next_due("w") is None


async def test_fixed_epochs_outside_the_window_never_fire() -> None:
    now = real_ms()
    watcher = TimeWatcher()
    watcher.watch(at("early", now + 100, start_at=now + 1_000))
    watcher.watch(at("late", now + 100, expired_at=now + 50))
    assert watcher.next_due("early") is None
    assert watcher.next_due("late") is None


async def test_cron_fires_at_the_next_match_not_on_registration() -> None:
    minute = (real_ms() // MINUTE + 10) * MINUTE
    clock = ShiftedClock(minute - 100)  # 100 ms before a minute boundary
    sink, watcher = Recorder(), TimeWatcher(clock=clock)
    watcher.watch(cron("c", "* * * * *"))
    assert watcher.next_due("c") == minute
    async with running(watcher, sink):
        await wait_for(lambda: sink.signals)
    assert sink.keys() == [f"c:{minute}"]
    assert sink.fired[0].kind is TriggerKind.CRON
    assert watcher.next_due("c") == minute + MINUTE


async def test_cron_registered_exactly_on_a_match_waits_for_the_next_one() -> None:
    """Registration, re-enabling and restarts at a matching instant do not fire it."""
    minute = (real_ms() // MINUTE + 10) * MINUTE
    watcher = TimeWatcher(clock=lambda: minute)
    watcher.watch(cron("c", "* * * * *"))
    assert watcher.next_due("c") == minute + MINUTE
    watcher.unwatch("c")
    watcher.watch(cron("c", "* * * * *", start_at=minute - 5 * MINUTE))
    assert watcher.next_due("c") == minute + MINUTE  # a past start_at changes nothing


async def test_unwatch_stops_a_pending_fire() -> None:
    sink, watcher = Recorder(), TimeWatcher()
    watcher.watch(at("w", real_ms() + 100))
    watcher.watch(at("other", real_ms() + 150))
    async with running(watcher, sink):
        watcher.unwatch("w")
        await wait_for(lambda: sink.signals)
    assert sink.keys() == [f"other:{data(sink.fired[0])['timestamp']}"]


def test_invalid_cron_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        TimeWatcher().watch(cron("c", "* * * *"))
