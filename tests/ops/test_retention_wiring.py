"""Retention wired into a running aggregator: over gRPC, a removed execution answers NOT_FOUND
saying it expired while counts and stats still include it; DeleteTask's records are purged and
the admin console reports how many went; /metrics and /telemetry show the store."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import httpx
import pytest

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.domain.execution import Execution, ExecutionStatus
from ap_avs.domain.ids import new_id
from ap_avs.domain.workflow import Workflow
from ap_avs.engine.queue import FiredTrigger, JobQueue
from ap_avs.engine.retention_policy import DAY_MS
from ap_avs.ops.admin_socket import admin_call, admin_socket_path
from ap_avs.store import LmdbKV
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.workflows import WorkflowRepo
from ap_avs.testing import aggregator_config, running_aggregator, user_key

from .support import OWNER, workflow

HOUR_MS = 3_600_000


async def run_at(kv: LmdbKV, wf: Workflow, at: int, ok: bool) -> str:
    repo = ExecutionRepo(kv)
    execution_id = new_id(now_ms=at)
    begun = await repo.begin(wf.id, execution_id, at)
    assert begun is not None
    status = ExecutionStatus.SUCCESS if ok else ExecutionStatus.FAILED
    await repo.finish(Execution(execution_id, wf.id, begun.index, status, at, at + 20), at + 20)
    return execution_id


async def test_retention_in_a_running_aggregator(tmp_path: Path) -> None:
    db = tmp_path / "db"
    now = time.time_ns() // 1_000_000
    kept_wf, deleted_wf = workflow(0), workflow(1)
    async with LmdbKV(db) as kv:
        for wf in (kept_wf, deleted_wf):
            await WorkflowRepo(kv).create(wf, max_active_per_owner=None)
        old = [await run_at(kv, kept_wf, now - (40 + n) * DAY_MS, n % 2 == 0) for n in range(5)]
        young = [await run_at(kv, kept_wf, now - (n + 1) * HOUR_MS, True) for n in range(3)]
        for n in range(2):
            await run_at(kv, deleted_wf, now - (n + 1) * HOUR_MS, True)
        fired = FiredTrigger(deleted_wf.trigger.kind, {"x": 1})
        await JobQueue(kv).accept_trigger(deleted_wf.id, "occ-1", fired, now_ms=now)
    config = aggregator_config(db, socket_path=str(tmp_path / "admin.sock"))
    socket = admin_socket_path(config.socket_path, config.db_path)
    auth = (("authkey", user_key(OWNER)),)
    async with (
        running_aggregator(config) as server,
        grpc.aio.insecure_channel(server.target) as channel,
    ):
        stub = avs_pb2_grpc.AggregatorStub(channel)
        ran = await admin_call(socket, "retention", {"run": True})  # after the start-up pass
        assert isinstance(ran, dict)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetExecution(
                avs_pb2.ExecutionReq(task_id=kept_wf.id, execution_id=old[0]), metadata=auth
            )
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert "expired" in (info.value.details() or "")
        found = await stub.GetExecution(
            avs_pb2.ExecutionReq(task_id=kept_wf.id, execution_id=young[0]), metadata=auth
        )
        assert found.id == young[0]
        count = await stub.GetExecutionCount(
            avs_pb2.GetExecutionCountReq(workflow_ids=[kept_wf.id]), metadata=auth
        )
        assert count.total == 8
        stats = await stub.GetExecutionStats(
            avs_pb2.GetExecutionStatsReq(workflow_ids=[kept_wf.id], days=60), metadata=auth
        )
        assert (stats.total, stats.succeeded, stats.failed) == (8, 6, 2)
        task = await stub.GetTask(avs_pb2.IdReq(id=kept_wf.id), metadata=auth)
        assert task.execution_count == 8

        runs_of_deleted = avs_pb2.GetExecutionCountReq(workflow_ids=[deleted_wf.id])
        async with asyncio.timeout(60):  # liveness guard: the queued run of `deleted_wf` ends
            while (await stub.GetExecutionCount(runs_of_deleted, metadata=auth)).total < 3:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        deleted = await stub.DeleteTask(avs_pb2.IdReq(id=deleted_wf.id), metadata=auth)
        assert deleted.success  # the wire reply is unchanged; the count is in the console
        report: dict[str, object] = {}
        async with asyncio.timeout(60):  # liveness guard: the deletion wakes the loop at once
            while not report.get("done_at_ms"):
                shown = await admin_call(socket, "retention")
                assert isinstance(shown, dict)
                listed = shown["deleted_workflows"]
                assert isinstance(listed, list)
                report = next((r for r in listed if r["workflow_id"] == deleted_wf.id), {})  # type: ignore[index]
                await asyncio.sleep(0.05)
        removed = report["removed"]
        assert isinstance(removed, dict)
        assert (removed["history"], removed["idem"], removed["execution_index_counter"]) == (
            3,
            1,
            1,
        )
        assert report["total"] == sum(removed.values())

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as http:
            metrics = (await http.get("/metrics")).text
            data = (await http.get("/telemetry.json")).json()
            page = (await http.get("/telemetry")).text
    assert 'ap_avs_store_bytes{measure="used"}' in metrics
    assert 'ap_avs_store_records{kind="t"}' in metrics
    assert 'ap_avs_store_oldest_record_timestamp_seconds{kind="history"}' in metrics
    assert 'ap_avs_retention_removed_total{kind="history"} 5.0' in metrics
    storage = data["storage"]
    assert storage["size"]["entries"] > 0
    assert storage["records_by_kind"]["t"] == 2  # the census at start-up, before the delete
    oldest = storage["oldest_kept_ms"]["history"]
    assert now - 4 * HOUR_MS <= oldest <= now
    assert storage["retention_removed_since_start"]["history"] == 5
    assert "Records by kind" in page
    assert 'id="store-used"' in page
