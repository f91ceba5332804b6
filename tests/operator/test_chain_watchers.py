"""Block and event watchers over a scripted chain: due blocks, catch-up, cursors, cooldowns."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from chain_fakes import FakeReader, Recorder, assignment, data, wait_for
from event_samples import ALICE, BOB, TOKEN, TRANSFER_TOPIC, transfer_log

from ap_avs.domain.triggers import BlockTriggerConfig, EventQuery, EventTriggerConfig, TriggerKind
from ap_avs.errors import InvalidArgument
from ap_avs.operator.checkpoint import CheckpointStore
from ap_avs.operator.model import EventOverload, Watcher
from ap_avs.operator.watchers import BlockWatcher, ChainFollower, EventWatcher


def store_at(path: Path) -> CheckpointStore:
    store = CheckpointStore(path)
    store.load()
    return store


def follower(name: str, reader: FakeReader, store: CheckpointStore, **kw: Any) -> ChainFollower:
    options: dict[str, Any] = {"poll_interval": 0.002, "max_range": 4} | kw
    return ChainFollower(name, reader, store, **options)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running(watcher: Watcher, sink: Recorder) -> AsyncIterator[None]:
    task = asyncio.create_task(watcher.run(sink))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def every(workflow_id: str, interval: int, **window: int) -> Any:
    return assignment(workflow_id, TriggerKind.BLOCK, BlockTriggerConfig(interval), **window)


async def test_block_watcher_fires_each_boundary_once_and_catches_up(tmp_path: Path) -> None:
    reader, sink, store = FakeReader(head=10), Recorder(), store_at(tmp_path)
    blocks = follower("block", reader, store)
    watcher = BlockWatcher(reader, blocks)  # type: ignore[arg-type]
    watcher.watch(every("five", 5))
    async with running(watcher, sink):
        await wait_for(lambda: blocks.position == 10)
        reader.head_number = 27  # the watcher fell behind: 15, 20 and 25 were skipped
        await wait_for(lambda: blocks.position == 27)
        assert sink.keys("five") == ["five:15", "five:20", "five:25"]
        assert watcher.next_due("five") == 30
        assert store.cursor("block") == 27

        watcher.watch(every("five", 5))  # identical upsert: nothing changes
        watcher.watch(every("three", 3))  # added at 27: first due 30
        reader.head_number = 31
        await wait_for(lambda: blocks.position == 31)
        assert sink.keys("five")[3:] == ["five:30"]
        assert sink.keys("three") == ["three:30"]

        watcher.unwatch("five")
        reader.head_number = 36
        await wait_for(lambda: blocks.position == 36)
        assert sink.keys("five") == ["five:15", "five:20", "five:25", "five:30"]
        assert sink.keys("three") == ["three:30", "three:33", "three:36"]
    first = next(s for s in sink.fired if s.key == "five:15")
    assert first.data == {
        "blockNumber": 15,
        "blockHash": "0x" + f"{15:064x}",
        "timestamp": 1_180,
        "parentHash": "0x" + f"{14:064x}",
        "difficulty": "0",
        "gasLimit": 30_000_000,
        "gasUsed": 21_000,
    }


async def test_block_watcher_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    reader, sink = FakeReader(head=40), Recorder()
    store = store_at(tmp_path)
    await store.save_cursor("block", 33)
    restarted = store_at(tmp_path)
    blocks = follower("block", reader, restarted)
    watcher = BlockWatcher(reader, blocks)  # type: ignore[arg-type]
    watcher.watch(every("five", 5))
    async with running(watcher, sink):
        await wait_for(lambda: blocks.position == 40)
    assert sink.keys() == ["five:35", "five:40"]


async def test_block_watcher_respects_the_time_window(tmp_path: Path) -> None:
    reader, sink = FakeReader(head=1), Recorder()
    blocks = follower("block", reader, store_at(tmp_path))
    watcher = BlockWatcher(reader, blocks, clock=lambda: 5_000)  # type: ignore[arg-type]
    watcher.watch(every("expired", 1, expired_at=4_000))
    watcher.watch(every("later", 1, start_at=6_000))
    watcher.watch(every("now", 1, start_at=5_000, expired_at=5_000))
    with pytest.raises(InvalidArgument):
        watcher.watch(every("zero", 0))
    async with running(watcher, sink):
        await wait_for(lambda: blocks.position == 1)
        reader.head_number = 3
        await wait_for(lambda: blocks.position == 3)
    assert sink.keys() == ["now:2", "now:3"]


async def test_follower_limits_catch_up_and_survives_a_reset_chain(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    await store.save_cursor("block", 10)
    reader = FakeReader(head=5_000)
    blocks = follower("block", reader, store, max_catch_up=100, max_range=1_000)
    assert await blocks.next_range() == (4_901, 5_000)
    await blocks.commit(5_000)
    reader.head_number = 7  # a fresh devnet: the cursor is ahead of the chain
    reader_task = asyncio.create_task(blocks.next_range())
    await wait_for(lambda: blocks.position == 7)
    reader.head_number = 9
    assert await reader_task == (8, 9)


async def test_a_reorg_while_a_range_is_handled_is_not_missed(tmp_path: Path) -> None:
    """The hash kept for a handled block is the one read before its logs were handled: a block
    replaced between handling and commit is noticed on the next round and handled again."""
    reader = FakeReader(head=5)
    blocks = follower("event", reader, store_at(tmp_path), max_range=10)
    await blocks.commit(4)  # handled up to 4 (its hash unknown: handled once more first)
    assert await blocks.next_range() == (4, 5)
    reader.forks[5] = 1  # block 5 is replaced while the range is being handled
    await blocks.commit(5)
    reader.head_number = 6
    assert await blocks.next_range() == (5, 6)  # the replaced block 5 is handled again


async def test_a_block_whose_hash_cannot_be_read_is_handled_again(tmp_path: Path) -> None:
    reader = FakeReader(head=3)
    blocks = follower("event", reader, store_at(tmp_path), max_range=10)
    await blocks.commit(2)
    assert await blocks.next_range() == (2, 3)
    await blocks.commit(3)
    reader.headers_down = True  # the range of 4 is handed out while headers cannot be read
    reader.head_number = 4
    assert await blocks.next_range() == (4, 4)
    await blocks.commit(4)
    reader.headers_down = False
    reader.forks[4] = 1  # and block 4 was replaced meanwhile
    reader.head_number = 5
    assert await blocks.next_range() == (4, 5)  # never assumed canonical: handled again


async def test_follower_waits_until_ready(tmp_path: Path) -> None:
    ready = asyncio.Event()
    blocks = follower("block", FakeReader(head=5), store_at(tmp_path), ready=ready)
    waiting = asyncio.create_task(blocks.next_range())
    await asyncio.sleep(0.02)
    assert blocks.position is None
    ready.set()
    await wait_for(lambda: blocks.position == 5)
    waiting.cancel()


# --- events -------------------------------------------------------------------------------------


def at_block(log: Any, number: int, index: int = 0, **changes: Any) -> Any:
    return dataclasses.replace(
        log,
        block_number=number,
        log_index=index,
        transaction_hash="0x" + f"{number:032x}{index:032x}",
        **changes,
    )


def watching(workflow_id: str, cooldown: int | None = None, **query: Any) -> Any:
    spec: dict[str, Any] = {"addresses": (TOKEN,), "topics": (TRANSFER_TOPIC, "", ALICE)}
    config = EventTriggerConfig(queries=(EventQuery(**(spec | query)),), cooldown_seconds=cooldown)
    return assignment(workflow_id, TriggerKind.EVENT, config)


def event_watcher(reader: FakeReader, store: CheckpointStore, **kw: Any) -> EventWatcher:
    follow = follower("event", reader, store, **kw)
    return EventWatcher(reader, follow, chain_id=31337, last_fired=store.state.cooldowns)  # type: ignore[arg-type]


async def test_event_watcher_fires_matches_with_cooldown(tmp_path: Path) -> None:
    reader, sink, store = FakeReader(head=10), Recorder(), store_at(tmp_path)
    watcher = event_watcher(reader, store)
    watcher.watch(watching("default"))  # 300 s cooldown
    watcher.watch(watching("eager", cooldown=0))
    log = transfer_log(TOKEN, BOB, ALICE, 1_000_000)
    reader.logs_by_block = {
        11: [at_block(log, 11, 0), at_block(log, 11, 1)],
        12: [at_block(log, 12, 0, removed=True)],  # reorged out: never fires
        13: [at_block(transfer_log(TOKEN, BOB, BOB, 1), 13)],  # not to Alice
    }
    async with running(watcher, sink):
        await wait_for(lambda: watcher.position == 10)
        reader.head_number = 13
        await wait_for(lambda: watcher.position == 13)
    tx = "0x" + f"{11:032x}"
    assert sink.keys("default") == [f"default:{tx}{0:032x}:0"]
    assert sink.keys("eager") == [f"eager:{tx}{0:032x}:0", f"eager:{tx}{1:032x}:1"]
    fired = data(sink.fired[0])
    assert fired["tokenSymbol"] == "TUSD"
    assert fired["blockTimestamp"] == (1_000 + 12 * 11) * 1000
    assert store.cursor("event") == 13
    assert store.state.cooldowns == {"default": 1_000 + 12 * 11}


async def test_event_cooldown_survives_a_restart(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    await store.save_cursor("event", 20, {"w": 1_000 + 12 * 20})
    reader, sink = FakeReader(head=22), Recorder()
    log = transfer_log(TOKEN, BOB, ALICE, 5)
    reader.logs_by_block = {21: [at_block(log, 21)], 22: [at_block(log, 22)]}
    watcher = event_watcher(reader, store_at(tmp_path))
    watcher.watch(watching("w", cooldown=60))
    async with running(watcher, sink):
        await wait_for(lambda: watcher.position == 22)
    assert sink.keys() == []  # 12 and 24 s after the last firing, inside the 60 s cooldown


async def test_event_overload_is_reported_instead_of_fired(tmp_path: Path) -> None:
    reader, sink, store = FakeReader(head=1), Recorder(), store_at(tmp_path)
    watcher = event_watcher(reader, store)
    watcher.watch(watching("busy", cooldown=0, max_events_per_block=2))
    log = transfer_log(TOKEN, BOB, ALICE, 5)
    reader.logs_by_block = {2: [at_block(log, 2, i) for i in range(3)]}
    async with running(watcher, sink):
        await wait_for(lambda: watcher.position == 1)
        reader.head_number = 2
        await wait_for(lambda: watcher.position == 2)
    (overload,) = sink.signals
    assert isinstance(overload, EventOverload)
    assert (overload.block_number, overload.events_detected, overload.safety_limit) == (2, 3, 2)


async def test_event_watcher_retries_a_failed_range_without_losing_it(tmp_path: Path) -> None:
    reader, sink, store = FakeReader(head=1), Recorder(), store_at(tmp_path)
    watcher = event_watcher(reader, store)
    watcher.watch(watching("w", cooldown=0))
    reader.logs_by_block = {2: [at_block(transfer_log(TOKEN, BOB, ALICE, 5), 2)]}
    reader.fail_logs = 2
    async with running(watcher, sink):
        await wait_for(lambda: watcher.position == 1)
        reader.head_number = 2
        await wait_for(lambda: watcher.position == 2)
    assert len(sink.keys("w")) == 1
    assert reader.log_calls == [(2, 2)] * 3


async def test_event_confirmations_hold_back_recent_blocks(tmp_path: Path) -> None:
    reader, sink, store = FakeReader(head=10), Recorder(), store_at(tmp_path)
    watcher = event_watcher(reader, store, lag=3)
    watcher.watch(watching("w", cooldown=0))
    reader.logs_by_block = {9: [at_block(transfer_log(TOKEN, BOB, ALICE, 5), 9)]}
    async with running(watcher, sink):
        await wait_for(lambda: watcher.position == 7)
        reader.head_number = 11
        await wait_for(lambda: watcher.position == 8)
        assert sink.keys() == []
        reader.head_number = 12
        await wait_for(lambda: watcher.position == 9)
    assert len(sink.keys("w")) == 1


def test_event_watcher_refuses_a_malformed_topic(tmp_path: Path) -> None:
    watcher = event_watcher(FakeReader(), store_at(tmp_path))
    with pytest.raises(InvalidArgument):
        watcher.watch(watching("w", topics=("0x1234",)))
    assert len(watcher) == 0
