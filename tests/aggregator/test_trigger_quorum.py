"""Verified trigger reports over real gRPC, without a chain: cron and fixed-time reports checked
against the schedule and the clock, evidence and suspension, an RPC that is down, and quorum
mode (3 operators, k = 2). Chain triggers are in tests/integration/test_verified_triggers.py.

Every refusal is checked three ways: the status the operator gets, an empty queue (nothing runs),
and the evidence record stored against the operator (reason, signed request, signature).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
from test_operator_api import Harness, Operator, Signal, rpc_error, serving

from ap_avs._proto import node_pb2
from ap_avs.auth.trigger_reports import data_digest, report_signer
from ap_avs.chain import ChainClient
from ap_avs.domain.trigger_data import time_data
from ap_avs.domain.triggers import (
    CronTriggerConfig,
    FixedTimeTriggerConfig,
    Trigger,
    TriggerKind,
)
from ap_avs.domain.workflow import Workflow
from ap_avs.engine.queue import FiredTrigger
from ap_avs.store.evidence import EvidenceRepo
from ap_avs.store.keys import QueueState

MINUTE = 60_000
STRICT: dict[str, Any] = {"trigger_verification": "strict"}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def cron_trigger(schedule: str) -> Trigger:
    return Trigger("t", "trigger", TriggerKind.CRON, CronTriggerConfig((schedule,)))


def fixed_trigger(*epochs: int) -> Trigger:
    return Trigger("t", "trigger", TriggerKind.FIXED_TIME, FixedTimeTriggerConfig(epochs))


@contextlib.asynccontextmanager
async def group(h: Harness, n: int) -> AsyncIterator[list[Operator]]:
    signal = Signal()
    ops = [Operator(h.target, signal=signal) for _ in range(n)]
    try:
        for op in ops:
            op.sync()
        await h.settled(lambda: len(h.node.dispatcher.live_operators()) == n)
        yield ops
    finally:
        for op in ops:
            await op.close()


async def watched_by(h: Harness, ops: list[Operator], wf: Workflow) -> None:
    await ops[0].wait_until(lambda: all(wf.id in op.watching for op in ops))


async def refused(op: Operator, wf: Workflow, request_id: str, data: Any, kind: str) -> str:
    err = await rpc_error(op.notify(wf.id, request_id, data, kind))
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT, err
    return err.details() or ""


async def test_time_reports_are_checked_against_the_schedule_and_the_clock(
    tmp_path: Path,
) -> None:
    never = {"verification": {"suspend_after_invalid_reports": 0}}
    async with serving(tmp_path, **STRICT, **never) as h, group(h, 1) as (op,):
        evidence = EvidenceRepo(h.kv)
        cron = await h.create(TriggerKind.CRON, trigger=cron_trigger("*/5 * * * *"))
        await watched_by(h, [op], cron)
        on_time = (now_ms() // (5 * MINUTE) - 1) * 5 * MINUTE  # a past */5 minute
        off_time = on_time + 2 * MINUTE

        why = await refused(op, cron, f"{cron.id}:{off_time}", time_data(off_time), "cron_trigger")
        assert "not a time of the workflow's cron schedule" in why
        assert await h.queue.depth() == 0
        [record] = await evidence.list(op.address)
        assert record.operator == op.address.lower()
        assert (record.workflow_id, record.occurrence) == (cron.id, str(off_time))
        assert "cron schedule" in record.reason
        request = node_pb2.NotifyTriggersReq.FromString(record.request)
        assert request.trigger_request_id == f"{cron.id}:{off_time}"
        assert record.signature == request.signature
        assert record.at_ms > 0

        # The stored evidence is attributable: its signature recovers to the operator.
        signer = report_signer(
            record.signature,
            operator=op.address,
            task_id=cron.id,
            occurrence=request.trigger_request_id,
            kind=TriggerKind.CRON,
            digest=data_digest(time_data(off_time)),
        )
        assert signer == op.address

        # An unsigned report is not taken, and not evidence either (it is not attributable).
        err = await rpc_error(
            op.notify(
                cron.id, f"{cron.id}:{on_time}", time_data(on_time), "cron_trigger", sign=False
            )
        )
        assert err.code() is grpc.StatusCode.UNAUTHENTICATED
        assert await evidence.count(op.address) == 1

        # A data field that lies about the honest time is refused too.
        lying = {"timestamp": on_time, "timestampIso": "2001-01-01T00:00:00.000Z"}
        why = await refused(op, cron, f"{cron.id}:{on_time}", lying, "cron_trigger")
        assert "timestampIso" in why

        ok = await op.notify(
            cron.id, f"{cron.id}:{on_time}", {"timestamp": on_time}, "cron_trigger"
        )
        assert ok.status == "enabled"
        [job] = await h.queue.jobs(QueueState.PENDING)
        assert job.trigger == FiredTrigger(TriggerKind.CRON, time_data(on_time))  # rebuilt

        future = now_ms() + 3600_000
        past = now_ms() - MINUTE
        fixed = await h.create(TriggerKind.FIXED_TIME, trigger=fixed_trigger(past, future))
        await watched_by(h, [op], fixed)
        why = await refused(
            op, fixed, f"{fixed.id}:{future}", time_data(future), "fixed_time_trigger"
        )
        assert "in the future" in why
        elsewhen = past - 7
        why = await refused(
            op, fixed, f"{fixed.id}:{elsewhen}", time_data(elsewhen), "fixed_time_trigger"
        )
        assert "not one of the workflow's fixed times" in why
        why = await refused(op, fixed, f"{fixed.id}:{past}", time_data(past), "block_trigger")
        assert "TRIGGER_TYPE_BLOCK trigger for a workflow with a TRIGGER_TYPE_FIXED_TIME" in why
        assert await h.queue.depth() == 1  # only the honest cron run
        assert await evidence.count(op.address) == 5
        ok = await op.notify(fixed.id, f"{fixed.id}:{past}", time_data(past), "fixed_time_trigger")
        assert ok.status == "enabled"
        assert await h.queue.depth() == 2


async def test_an_occurrence_older_than_the_report_window_is_refused(tmp_path: Path) -> None:
    """Its idempotency mark may already be gone, so a late report could run it twice."""
    never = {"verification": {"suspend_after_invalid_reports": 0, "max_report_age_hours": 72}}
    async with serving(tmp_path, **STRICT, **never) as h, group(h, 1) as (op,):
        old = now_ms() - 80 * 3600_000
        recent = now_ms() - MINUTE
        fixed = await h.create(TriggerKind.FIXED_TIME, trigger=fixed_trigger(old, recent))
        await watched_by(h, [op], fixed)
        why = await refused(op, fixed, f"{fixed.id}:{old}", time_data(old), "fixed_time_trigger")
        assert "older than the report window (72 h)" in why
        assert await h.queue.depth() == 0
        assert await EvidenceRepo(h.kv).count(op.address) == 1
        ok = await op.notify(
            fixed.id, f"{fixed.id}:{recent}", time_data(recent), "fixed_time_trigger"
        )
        assert ok.status == "enabled"
        assert await h.queue.depth() == 1


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there once the socket is closed


async def test_chain_reports_are_unavailable_while_the_chain_rpc_is_down(tmp_path: Path) -> None:
    async with (
        ChainClient(f"http://127.0.0.1:{closed_port()}", timeout=2) as down,
        serving(tmp_path, chain=down, chain_id=31337, **STRICT) as h,
        group(h, 1) as (op,),
    ):
        wf = await h.create(TriggerKind.BLOCK)
        await watched_by(h, [op], wf)
        data = {"blockNumber": 10, "blockHash": "0x" + "ab" * 32}
        err = await rpc_error(op.notify(wf.id, f"{wf.id}:10", data))
        assert err.code() is grpc.StatusCode.UNAVAILABLE  # the operator retries
        assert await h.queue.depth() == 0  # nothing ran unverified
        assert await EvidenceRepo(h.kv).count(op.address) == 0  # and nobody is blamed


async def test_no_chain_rpc_means_chain_reports_are_unavailable(tmp_path: Path) -> None:
    async with serving(tmp_path, **STRICT) as h, group(h, 1) as (op,):
        wf = await h.create(TriggerKind.BLOCK)
        await watched_by(h, [op], wf)
        err = await rpc_error(op.notify(wf.id, f"{wf.id}:10", {"blockNumber": 10}))
        assert err.code() is grpc.StatusCode.UNAVAILABLE
        assert "no chain RPC" in (err.details() or "")
        assert await h.queue.depth() == 0


QUORUM: dict[str, Any] = {
    "trigger_quorum": {"k": 2, "n": 3},
    "verification": {"suspend_after_invalid_reports": 2},
}


async def test_quorum_two_of_three_with_a_liar(tmp_path: Path) -> None:
    async with serving(tmp_path, **STRICT, **QUORUM) as h, group(h, 3) as ops:
        past = now_ms() - 10 * MINUTE
        wf = await h.create(TriggerKind.FIXED_TIME, trigger=fixed_trigger(past))
        await h.settled(lambda: len(h.node.dispatcher.assignees(wf.id)) == 3)
        await watched_by(h, ops, wf)
        liar, first, second = ops
        key, honest = f"{wf.id}:{past}", time_data(past)

        lie = time_data(past + 1)
        await refused(liar, wf, f"{wf.id}:{past + 1}", lie, "fixed_time_trigger")
        counted = await first.notify(wf.id, key, honest, "fixed_time_trigger")
        assert (counted.status, counted.task_still_enabled) == ("awaiting_quorum", True)
        assert await h.queue.depth() == 0  # a liar plus one honest operator: no run

        again = await first.notify(wf.id, key, honest, "fixed_time_trigger")
        assert again.status == "awaiting_quorum"  # the same operator twice is one vote
        assert await h.queue.depth() == 0

        await refused(liar, wf, f"{wf.id}:{past + 2}", time_data(past + 2), "fixed_time_trigger")
        assert h.node.dispatcher.is_suspended(liar.address)
        suspension = (await EvidenceRepo(h.kv).suspended())[liar.address.lower()]
        assert suspension.invalid_reports == 2
        err = await rpc_error(liar.notify(wf.id, key, honest, "fixed_time_trigger"))
        assert err.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "suspended" in (err.details() or "")
        # its workflows move to the others, and it cannot connect again
        await h.settled(lambda: liar.address.lower() not in h.node.dispatcher.assignees(wf.id))
        assert liar.address.lower() not in h.node.dispatcher.live_operators()

        queued = await second.notify(wf.id, key, honest, "fixed_time_trigger")
        assert queued.status == "enabled"
        [job] = await h.queue.jobs(QueueState.PENDING)
        assert job.trigger == FiredTrigger(TriggerKind.FIXED_TIME, honest)
        late = await first.notify(wf.id, key, honest, "fixed_time_trigger")
        assert late.status == "deduplicated"
        assert await h.queue.depth() == 1  # exactly once


async def test_quorum_disagreement_is_evidence(tmp_path: Path) -> None:
    """With verification off the quorum alone decides; the operator that disagreed with the
    k that agreed has evidence stored against it."""
    config = {**QUORUM, "trigger_verification": "off"}
    async with serving(tmp_path, **config) as h, group(h, 3) as ops:
        past = now_ms() - 10 * MINUTE
        wf = await h.create(TriggerKind.FIXED_TIME, trigger=fixed_trigger(past))
        await h.settled(lambda: len(h.node.dispatcher.assignees(wf.id)) == 3)
        await watched_by(h, ops, wf)
        liar, first, second = ops
        key, honest = f"{wf.id}:{past}", time_data(past)
        altered = {"timestamp": past, "timestampIso": "1999-12-31T23:59:59.000Z"}

        assert (await liar.notify(wf.id, key, altered, "fixed_time_trigger")).status == (
            "awaiting_quorum"
        )
        assert (await first.notify(wf.id, key, honest, "fixed_time_trigger")).status == (
            "awaiting_quorum"
        )
        assert await h.queue.depth() == 0  # one vote each: no run
        assert (await second.notify(wf.id, key, honest, "fixed_time_trigger")).status == "enabled"
        [job] = await h.queue.jobs(QueueState.PENDING)
        assert job.trigger.data == honest
        evidence = EvidenceRepo(h.kv)
        [record] = await evidence.list(liar.address)
        assert "disagreed with 2 operators" in record.reason
        assert node_pb2.NotifyTriggersReq.FromString(record.request).signature == record.signature
        assert await evidence.count(first.address) == await evidence.count(second.address) == 0
        err = await rpc_error(liar.notify(wf.id, key, altered, "fixed_time_trigger"))
        assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert await h.queue.depth() == 1
