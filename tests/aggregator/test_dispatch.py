"""Operator dispatch: pure planning rules, and over real gRPC: full sets, capability splits,
failover, throttling, connection generations, reconnect storms, backpressure, restarts."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from test_operator_api import (
    ALL,
    FAST,
    Harness,
    operators,
    serving,
    stream_error,
    workflow,
)

from ap_avs._proto import node_pb2
from ap_avs.aggregator.dispatch import (
    Capabilities,
    Capability,
    Dispatcher,
    DispatchSettings,
    MessageOp,
    go_duration,
    plan,
)
from ap_avs.aggregator.operator_side import dispatch_settings
from ap_avs.domain.triggers import EventQuery, EventTriggerConfig, Trigger, TriggerKind
from ap_avs.engine.workflow_events import WorkflowEventKind, WorkflowEvents
from ap_avs.store import LmdbKV, keys
from ap_avs.store.workflows import WorkflowRepo
from ap_avs.testing import aggregator_config

EVENT_ONLY = node_pb2.SyncMessagesReq.Capabilities(event_monitoring=True)
BLOCK_TIME = node_pb2.SyncMessagesReq.Capabilities(block_monitoring=True, time_monitoring=True)
EVERYTHING = Capabilities()
E, B, T = Capability.EVENT, Capability.BLOCK, Capability.TIME


# --- planning (pure) ------------------------------------------------------------------------


def test_plan_gives_each_workflow_to_one_capable_operator_least_loaded_first() -> None:
    live = {"a": Capabilities(True, False, False), "b": Capabilities(False, True, True)}
    needs = {"w1": E, "w2": B, "w3": T, "w4": E}
    assert plan({}, needs, live) == {"w1": "a", "w2": "b", "w3": "b", "w4": "a"}
    assert plan({}, needs, {}) == {}
    both = {"a": EVERYTHING, "b": EVERYTHING}
    assert Counter(plan({}, {f"w{i}": B for i in range(9)}, both).values()) == {"a": 5, "b": 4}


def test_plan_keeps_live_assignments_and_moves_the_rest() -> None:
    live = {"a": EVERYTHING, "b": EVERYTHING}
    current = {"w1": "b", "w2": "gone", "w3": "a"}
    assert plan(current, {"w1": B, "w2": B, "w3": B}, live) == {"w2": "a"}
    # not needed any more -> unassigned; unable operator -> moved
    incapable = {"a": Capabilities(False, True, True), "b": EVERYTHING}
    assert plan({"w1": "a", "w9": "a"}, {"w1": E}, incapable) == {"w1": "b", "w9": None}


def test_plan_holds_the_assignments_of_operators_in_grace() -> None:
    changes = plan({"w1": "away"}, {"w1": B, "w2": B}, {"a": EVERYTHING}, held={"away"})
    assert changes == {"w2": "a"}


def test_plan_balances_a_newcomer_but_only_with_what_it_can_watch() -> None:
    current = {f"w{i}": "a" for i in range(10)}
    needs = {f"w{i}": B for i in range(10)}
    changes = plan(current, needs, {"a": EVERYTHING, "b": EVERYTHING})
    assert Counter(changes.values()) == {"b": 5}
    assert plan(current, needs, {"a": EVERYTHING, "b": EVERYTHING}, balance=False) == {}
    assert plan(current, needs, {"a": EVERYTHING, "b": Capabilities(True, False, False)}) == {}


def test_go_duration_reads_like_go() -> None:
    assert go_duration(1.5) == "1.5s"
    assert go_duration(0.35) == "350ms"
    assert go_duration(0.000_002) == "2µs"
    assert go_duration(123) == "2m3s"
    assert go_duration(0) == "0s"


# --- over gRPC ------------------------------------------------------------------------------


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with serving(tmp_path) as harness:
        yield harness


def owners(h: Harness) -> dict[str, str]:
    return h.node.dispatcher.assignments()


async def test_an_operator_gets_its_full_set_at_connect(h: Harness) -> None:
    made = [
        await h.create(kind) for kind in (TriggerKind.BLOCK, TriggerKind.CRON, TriggerKind.EVENT)
    ]
    manual = await h.create(TriggerKind.MANUAL)
    async with operators(h, 1) as (op,):
        op.sync()
        await op.wait_until(lambda: len(op.received) >= 3)
        first = op.received[:3]
        assert {m.id for m in first} == {wf.id for wf in made}
        assert {m.op for m in first} == {node_pb2.MonitorTaskTrigger}
        meta = {m.id: m.task_metadata for m in first}
        block = made[0]
        assert meta[block.id].task_id == block.id
        assert meta[block.id].remain == block.max_execution
        assert meta[block.id].trigger.block.config.interval == 5
        assert meta[made[2].id].trigger.event.config.queries[0].addresses == ["0x" + "11" * 20]
        assert manual.id not in owners(h)


async def test_operators_with_different_capabilities_split_the_work(h: Harness) -> None:
    kinds = (
        [TriggerKind.EVENT] * 3
        + [TriggerKind.BLOCK] * 3
        + [TriggerKind.CRON, TriggerKind.FIXED_TIME]
    )
    made = {wf.id: wf.trigger.kind for wf in [await h.create(k) for k in kinds]}
    async with operators(h, 2) as (events, others):
        events.sync(EVENT_ONLY)
        others.sync(BLOCK_TIME)
        want_events = {i for i, k in made.items() if k is TriggerKind.EVENT}
        await events.wait_until(lambda: events.watching == want_events)
        await others.wait_until(lambda: others.watching == set(made) - want_events)
        late = await h.create(TriggerKind.EVENT)
        await events.wait_until(lambda: late.id in events.watching)
        assert late.id not in others.watching


async def test_a_dead_stream_hands_its_workflows_to_the_others(h: Harness) -> None:
    made = {(await h.create()).id for _ in range(10)}
    async with operators(h, 2) as (a, b):
        a.sync()
        b.sync()
        await a.wait_until(lambda: len(a.watching) == 5)
        await b.wait_until(lambda: len(b.watching) == 5)
        a.calls[-1].cancel()
        await b.wait_until(lambda: b.watching == made, within=5)
        assert set(owners(h).values()) == {b.address.lower()}
        # stored too
        stored = {k: v for k, v in await h.kv.scan(keys.ASSIGNMENTS)}
        assert set(stored.values()) == {b.address.lower().encode()}


async def test_a_silent_operator_loses_its_workflows(tmp_path: Path) -> None:
    clock = [1000.0]
    settings = DispatchSettings(operator_timeout_seconds=0.4, reconnect_window_seconds=0)
    async with (
        serving(tmp_path, settings=settings, monotonic=lambda: clock[0]) as h,
        operators(h, 2) as (quiet, talker),
    ):
        made = {(await h.create()).id for _ in range(4)}
        quiet.sync()
        talker.sync()
        await h.settled(lambda: len(set(owners(h).values())) == 2)
        await talker.ping()  # any authenticated call keeps an operator alive ...
        clock[0] += 0.5  # ... for operator_timeout_seconds
        h.node.dispatcher.touch(talker.address)
        await talker.wait_until(lambda: talker.watching == made, within=5)
        await quiet.wait_until(lambda: bool(quiet.calls[-1].done()), within=5)
        assert set(owners(h).values()) == {talker.address.lower()}


async def test_reconnecting_too_fast_is_refused_with_the_literal_message(tmp_path: Path) -> None:
    settings = DispatchSettings(reconnect_window_seconds=5)
    async with serving(tmp_path, settings=settings) as h, operators(h, 1) as (op,):
        op.sync()
        await h.settled(lambda: bool(h.node.dispatcher.live_operators()))
        err = await stream_error(op.sync(read=False))
        assert err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        details = err.details() or ""
        assert details.startswith("reconnecting too fast, wait 5s (last connect was ")
        assert details.endswith(" ago)")
        assert h.node.dispatcher.live_operators()  # the first stream is untouched


async def test_an_old_streams_cleanup_leaves_the_newer_one_intact(h: Harness) -> None:
    made = {(await h.create()).id for _ in range(3)}
    async with operators(h, 2) as (a, b):
        a.sync()
        await a.wait_until(lambda: a.watching == made)
        old = a.calls[-1]
        a.sync()  # a reconnect while the old call is still open
        await a.wait_until(lambda: old.done())
        assert await old.code() is grpc.StatusCode.OK  # replaced streams end normally
        old.cancel()
        b.sync()
        await h.settled(lambda: len(h.node.dispatcher.live_operators()) == 2)
        assert a.address.lower() in h.node.dispatcher.live_operators()
        late = await h.create()
        await h.settled(lambda: late.id in owners(h))
        watcher = a if owners(h)[late.id] == a.address.lower() else b
        await watcher.wait_until(lambda: late.id in watcher.watching)


async def test_a_storm_of_reconnects_ends_with_one_live_watcher_per_workflow(h: Harness) -> None:
    made = {(await h.create(k)).id for k in [TriggerKind.BLOCK, TriggerKind.EVENT] * 10}
    rng = random.Random(8)
    async with operators(h, 3) as ops:
        for _ in range(50):
            op = rng.choice(ops)
            op.sync(ALL if rng.random() < 0.7 else EVENT_ONLY)
            if rng.random() < 0.3 and len(op.calls) > 1:
                op.calls[-2].cancel()
            await asyncio.sleep(0)
        for op in ops:
            op.sync(ALL)  # everyone ends on a stream that can watch everything

        def converged() -> bool:
            seen = Counter(wf for op in ops for wf in op.watching)
            return set(seen) == made and set(seen.values()) == {1}

        await ops[0].wait_until(converged, within=15)
        live = set(h.node.dispatcher.live_operators())
        assert live == {op.address.lower() for op in ops}
        assigned = owners(h)
        assert set(assigned) == made
        assert set(assigned.values()) <= live
        for op in ops:
            assert op.watching == {wf for wf, a in assigned.items() if a == op.address.lower()}
        assert not [e for op in ops for e in op.errors]


async def test_live_changes_reach_the_operator(h: Harness) -> None:
    async with operators(h, 1) as (op,):
        op.sync()
        await h.settled(lambda: bool(h.node.dispatcher.live_operators()))
        wf = await h.create()
        await op.wait_until(lambda: wf.id in op.watching)
        await h.set_status(wf, WorkflowEventKind.DISABLED)
        await op.wait_until(lambda: wf.id not in op.watching)
        assert op.received[-1].op == node_pb2.DisableTask
        await h.set_status(wf, WorkflowEventKind.ENABLED)
        await op.wait_until(lambda: wf.id in op.watching)
        await h.set_status(wf, WorkflowEventKind.DELETED)
        await op.wait_until(lambda: wf.id not in op.watching)
        assert (op.received[-1].op, op.received[-1].id) == (node_pb2.DeleteTask, wf.id)
        assert not op.received[-1].HasField("task_metadata")
        assert owners(h) == {}


async def test_publishing_never_waits_on_a_full_operator_queue(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    settings = DispatchSettings(outbox_size=3, reconnect_window_seconds=0)
    dispatcher = Dispatcher(h.kv, h.repo, settings)
    events = WorkflowEvents()
    events.subscribe(dispatcher)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    first = workflow(id="01jd5x3m6y8q2w4e6r8t0yzzzz")
    await h.repo.create(first, max_active_per_owner=None)
    await dispatcher.wait_until(lambda: first.id in dispatcher.watched(), 5)
    try:
        conn = dispatcher.connect("0x" + "cc" * 20, EVERYTHING)
        stream = dispatcher.messages(conn)
        assert (await anext(stream)).workflow_id == first.id  # then nobody reads on
        made = {first.id}
        for n in range(50):
            wf = workflow(id=f"01jd5x3m6y8q2w4e6r8t0y{n:04d}")
            await h.repo.create(wf, max_active_per_owner=None)
            events.publish(WorkflowEventKind.CREATED, wf)  # synchronous: it cannot wait on readers
            made.add(wf.id)
        await dispatcher.wait_until(lambda: len(dispatcher.assignments()) == 51, 5)
        assert dispatcher.connections.backlog(conn.address) <= 3
        assert "not keeping up: full resync instead" in caplog.text
        got = [await anext(stream) for _ in range(51)]  # the full set replaces the backlog
        assert {m.workflow_id for m in got} == made
        assert {m.op for m in got} == {MessageOp.MONITOR}
        await stream.aclose()
    finally:
        stop.set()
        await task


async def test_a_blocked_stream_is_dropped_and_its_work_moves(tmp_path: Path) -> None:
    settings = DispatchSettings(send_timeout_seconds=1.5, reconnect_window_seconds=0)
    async with serving(tmp_path, settings=settings) as h, operators(h, 2) as (stuck, healthy):
        big = EventTriggerConfig((EventQuery(contract_abi=("x" * 200_000,)),))
        for _ in range(60):  # ~12 MB: more than the transport buffers
            await h.create(
                TriggerKind.EVENT, trigger=Trigger("t", "trigger", TriggerKind.EVENT, big)
            )
        stuck_call = stuck.sync(read=False)
        connections = h.node.dispatcher.connections
        address = stuck.address.lower()

        def dropped() -> bool:
            return connections.generation(address) == 1 and address not in connections.live()

        await h.settled(dropped, 15)
        healthy.sync()
        await healthy.wait_until(lambda: len(healthy.watching) == 60, within=30)
        err = await stream_error(stuck_call)
        assert err.code() is grpc.StatusCode.UNAVAILABLE
        assert "send blocked" in (err.details() or "")


async def test_assignments_survive_a_restart_and_wait_for_their_operator(tmp_path: Path) -> None:
    first_op, second_op = "0x" + "ee" * 20, "0x" + "ff" * 20
    clock = [100.0]
    kv = LmdbKV(tmp_path / "db", map_size=1 << 20)
    made = []
    for n in range(4):
        wf = workflow(id=f"01jd5x3m6y8q2w4e6r8t0y{n:04d}")
        await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
        made.append(wf.id)
    before = Dispatcher(kv, WorkflowRepo(kv), FAST, clock=lambda: clock[0])
    stop = asyncio.Event()
    task = asyncio.create_task(before.run(stop))
    before.connect(first_op, EVERYTHING)
    await before.wait_until(lambda: len(before.assignments()) == 4, 5)
    stop.set()
    await task
    await kv.put(keys.assign("01jd5x3m6y8q2w4e6r8t0yzzzz"), b"0x" + b"dd" * 20)  # stale
    await kv.close()

    kv = LmdbKV(tmp_path / "db", map_size=1 << 20)
    after = Dispatcher(kv, WorkflowRepo(kv), FAST, clock=lambda: clock[0])
    await after.load()
    assert after.assignments() == dict.fromkeys(made, first_op)
    assert await kv.get(keys.assign("01jd5x3m6y8q2w4e6r8t0yzzzz")) is None
    stop = asyncio.Event()
    task = asyncio.create_task(after.run(stop))
    try:
        after.connect(second_op, EVERYTHING)
        newcomer = await _wait_resynced(after, second_op)
        assert newcomer == set()  # the first operator's workflows are held for it
        clock[0] += FAST.operator_timeout_seconds + 1  # ... until its grace is over
        after.touch(second_op)
        await after.wait_until(lambda: set(after.assignments().values()) == {second_op}, 5)
        stored = {value for _, value in await kv.scan(keys.ASSIGNMENTS)}
        assert stored == {second_op.encode()}
    finally:
        stop.set()
        await task
        await kv.close()


async def _wait_resynced(dispatcher: Dispatcher, address: str) -> set[str]:
    """What the operator was given in its full set once planning has run."""
    await dispatcher.wait_until(lambda: dispatcher.connections.backlog(address) == 1, 5)
    return dispatcher.assigned_to(address)


@pytest.mark.parametrize("kind", [WorkflowEventKind.COMPLETED, WorkflowEventKind.CANCELLED])
async def test_finished_workflows_are_disabled_at_their_operator(
    h: Harness, kind: WorkflowEventKind
) -> None:
    async with operators(h, 1) as (op,):
        op.sync()
        wf = await h.create()
        await op.wait_until(lambda: wf.id in op.watching)
        h.events.publish(kind, wf)
        await op.wait_until(lambda: wf.id not in op.watching)
        assert op.received[-1].op == node_pb2.DisableTask


def test_dispatch_settings_default_until_the_config_has_a_section(tmp_path: Path) -> None:
    assert dispatch_settings(aggregator_config(tmp_path)) == DispatchSettings()


async def test_an_immediate_trigger_goes_to_the_assignee_only(h: Harness) -> None:
    async with operators(h, 2) as (a, b):
        a.sync()
        b.sync()
        await h.settled(lambda: len(h.node.dispatcher.live_operators()) == 2)
        wf = await h.create()
        await h.settled(lambda: wf.id in owners(h))
        assigned, other = (a, b) if owners(h)[wf.id] == a.address.lower() else (b, a)
        await assigned.wait_until(lambda: wf.id in assigned.watching)
        assert h.node.dispatcher.send_immediate(wf)
        await assigned.wait_until(lambda: assigned.received[-1].op == node_pb2.ImmediateTrigger)
        assert assigned.received[-1].task_metadata.task_id == wf.id
        assert node_pb2.ImmediateTrigger not in {m.op for m in other.received}
        manual = await h.create(TriggerKind.MANUAL)
        assert not h.node.dispatcher.send_immediate(manual)
