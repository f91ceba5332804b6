"""Builders for the ops tests: workflows, a write load through the real repositories, stores."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from pathlib import Path
from typing import Any

import typer
import yaml

from ap_avs.domain.execution import Execution, ExecutionStatus
from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import Edge, Node, NodeKind, RestApiConfig
from ap_avs.domain.triggers import ManualTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.queue import FiredTrigger, JobQueue
from ap_avs.ops import cli as ops_cli
from ap_avs.store import KV
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.workflows import WorkflowRepo
from ap_avs.testing import TEST_JWT_SECRET

NOW = 1_800_000_000_000
OWNER = "0x" + "aa" * 20
WALLET = "0x" + "0a" * 20
MANUAL = FiredTrigger(TriggerKind.MANUAL, {"x": 1})


def workflow(index: int, **changes: Any) -> Workflow:
    base = Workflow(
        id=new_id(now_ms=NOW - 10_000_000 + index),
        owner=OWNER,
        smart_wallet_address=WALLET,
        start_at=0,
        expired_at=0,
        name=f"w{index}",
        completed_at=0,
        max_execution=1_000_000,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "trigger", TriggerKind.MANUAL, ManualTriggerConfig()),
        nodes=(Node("n", "call", NodeKind.REST_API, RestApiConfig(url="http://127.0.0.1/")),),
        edges=(Edge("e", "t", "n"),),
    )
    return dataclasses.replace(base, **changes)


def execution_of(workflow_id: str, execution_id: str, index: int) -> Execution:
    return Execution(
        id=execution_id,
        workflow_id=workflow_id,
        index=index,
        status=ExecutionStatus.SUCCESS,
        start_at=NOW,
        end_at=NOW + 5,
        trigger_kind="manual",
    )


def _toggle(wf: Workflow) -> Workflow:
    if wf.status is TaskStatus.ENABLED:
        return wf.with_status(TaskStatus.DISABLED)
    if wf.status is TaskStatus.DISABLED:
        return wf.with_status(TaskStatus.ENABLED)
    return wf


class WriteLoad:
    """Concurrent writers using the real repositories: create, enable/disable, queue runs,
    claim and execute them (begin, finish, complete). ``ops`` counts the committed changes."""

    def __init__(self, kv: KV, *, seed: int = 7) -> None:
        self.kv = kv
        self.repo = WorkflowRepo(kv)
        self.runs = ExecutionRepo(kv)
        self.queue = JobQueue(kv, clock=lambda: NOW)
        self.ids: list[str] = []
        self.ops = 0
        self._next = 0
        self._rng = random.Random(seed)

    async def create(self) -> str:
        index = self._next
        self._next += 1
        wf = workflow(index)
        await self.repo.create(wf, max_active_per_owner=None)
        self.ids.append(wf.id)
        self.ops += 1
        return wf.id

    async def step(self) -> None:
        choice = self._rng.randrange(5)
        if choice == 0 or not self.ids:
            await self.create()
            return
        target = self._rng.choice(self.ids)
        if choice == 1:
            await self.repo.change(target, _toggle)
        elif choice == 2:
            await self.queue.enqueue_run(target, MANUAL, now_ms=NOW)
        else:
            job = await self.queue.claim()
            if job is None:
                return
            begun = await self.runs.begin(job.workflow_id, job.execution_id, NOW)
            if begun is not None and choice == 3:
                await self.runs.finish(
                    execution_of(job.workflow_id, job.execution_id, begun.index), NOW
                )
            await self.queue.complete(job)  # choice 4 leaves a running: marker (a crash)
        self.ops += 1

    async def run(self, stop: asyncio.Event, writers: int = 4) -> None:
        async def writer() -> None:
            while not stop.is_set():
                await self.step()

        await asyncio.gather(*(writer() for _ in range(writers)))


def write_config(path: Path, db_path: Path, **extra: Any) -> Path:
    """An aggregator YAML config for the CLI commands."""
    data: dict[str, Any] = {
        "jwt_secret": TEST_JWT_SECRET,
        "db_path": str(db_path),
        "smart_wallet": {"chain_id": 31337},
        **extra,
    }
    path.write_text(yaml.safe_dump(data))
    return path


def ops_typer() -> typer.Typer:
    """The ops commands mounted as cli.py mounts them."""
    app = typer.Typer()
    app.command("backup")(ops_cli.backup)
    app.command("restore")(ops_cli.restore)
    app.command("migrate")(ops_cli.migrate)
    app.add_typer(ops_cli.admin_app, name="admin")
    return app
