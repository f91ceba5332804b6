"""Execution use cases: trigger a run, read, list, count and summarise a caller's executions.

Every read checks that the workflow belongs to the caller; someone else's workflow id reads as
``task not found`` and is left out of counts and stats (LESSONS 24).

Raises:
    InvalidArgument: a missing or malformed id, bad manual-trigger data.
    NotFound: ``task not found`` / ``execution not found``.
    FailedPrecondition: the workflow cannot run now (literal message of §2.16).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ap_avs.domain import ids
from ap_avs.domain.execution import Execution, ExecutionStatus
from ap_avs.domain.nodes import Lang
from ap_avs.domain.pagination import CURSOR_MESSAGE, PageInfo, PageRequest, page_info
from ap_avs.domain.triggers import ManualTriggerConfig, TriggerKind
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import NOT_RUNNABLE_MESSAGE, Workflow
from ap_avs.engine.queue import FiredTrigger, JobQueue, TriggerVerdict
from ap_avs.engine.runs import RunService
from ap_avs.engine.workflows import MISSING_TASK_ID, TASK_NOT_FOUND
from ap_avs.errors import FailedPrecondition, InvalidArgument, NotFound
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.retired import stats_since
from ap_avs.store.workflows import WorkflowRepo

EXECUTION_NOT_FOUND = "execution not found"
EXECUTION_EXPIRED = (
    "execution not found: it expired and was removed by the retention policy "
    "(its count and stats are kept)"
)
MAX_JSON_PAYLOAD = 1024 * 1024
MAX_TEXT_PAYLOAD = 100 * 1024
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Triggered:
    """What TriggerTask answers: a finished execution (blocking) or a queued one."""

    workflow_id: str
    execution_id: str
    status: ExecutionStatus
    start_at: int
    execution: Execution | None = None


@dataclass(frozen=True, slots=True)
class ExecutionPage:
    items: list[Execution]
    page: PageInfo


@dataclass(frozen=True, slots=True)
class Stats:
    total: int
    succeeded: int
    failed: int
    avg_execution_ms: float


def check_manual_payload(wf: Workflow, data: JsonValue) -> None:
    """Validate a manual trigger's request data against the workflow's declared language.

    Raises:
        InvalidArgument: data too large, or a JSON-language string that is not JSON.
    """
    config = wf.trigger.config
    if not isinstance(config, ManualTriggerConfig) or not isinstance(data, str):
        return
    if config.lang in (Lang.JSON, Lang.UNSPECIFIED):
        if len(data.encode()) > MAX_JSON_PAYLOAD:
            raise InvalidArgument("manual trigger data must be at most 1 MiB")
        try:
            json.loads(data)
        except ValueError as exc:
            raise InvalidArgument(f"manual trigger data is not valid JSON: {exc}") from None
    elif len(data.encode()) > MAX_TEXT_PAYLOAD:
        raise InvalidArgument("manual trigger data must be at most 100 KiB")


class ExecutionService:
    """Executions of authenticated owners."""

    def __init__(
        self,
        workflows: WorkflowRepo,
        executions: ExecutionRepo,
        runs: RunService,
        queue: JobQueue,
    ) -> None:
        self._workflows = workflows
        self._executions = executions
        self._runs = runs
        self._queue = queue

    async def _workflow(self, owner: str, workflow_id: str) -> Workflow:
        if not workflow_id:
            raise InvalidArgument(MISSING_TASK_ID)
        if not ids.is_ulid(workflow_id):
            raise InvalidArgument("invalid task id")
        wf = await self._workflows.get(workflow_id.lower())
        if wf is None or wf.owner.lower() != owner.lower():
            raise NotFound(TASK_NOT_FOUND)
        return wf

    async def _owned_ids(self, owner: str, workflow_ids: Sequence[str]) -> list[str]:
        if not workflow_ids:
            return await self._workflows.owned_ids(owner)
        mine = set(await self._workflows.owned_ids(owner))
        return [i.lower() for i in workflow_ids if i.lower() in mine]

    async def trigger(
        self,
        owner: str,
        workflow_id: str,
        kind: TriggerKind | None,
        data: JsonValue,
        trigger_input: Mapping[str, JsonValue],
        *,
        blocking: bool,
        now_ms: int,
    ) -> Triggered:
        """TriggerTask: run now and wait (blocking), or queue the run.

        The trigger kind defaults to the workflow's; a manual run without data uses the data
        of the workflow's manual trigger.
        """
        wf = await self._workflow(owner, workflow_id)
        if not wf.is_runnable(now_ms) or wf.status.is_terminal:
            raise FailedPrecondition(NOT_RUNNABLE_MESSAGE)
        kind = kind or wf.trigger.kind
        if kind is TriggerKind.MANUAL:
            check_manual_payload(wf, data)
            if data is None and isinstance(wf.trigger.config, ManualTriggerConfig):
                data = wf.trigger.config.data
        fired = FiredTrigger(kind, data)
        if blocking:
            execution_id = ids.new_id(now_ms=now_ms)
            execution = await self._runs.run(wf.id, execution_id, fired, trigger_input)
            if execution is None:
                raise NotFound(TASK_NOT_FOUND)
            return Triggered(wf.id, execution.id, execution.status, execution.start_at, execution)
        outcome = await self._queue.enqueue_run(
            wf.id, fired, input_variables=trigger_input, now_ms=now_ms
        )
        if outcome.verdict is not TriggerVerdict.ACCEPTED or outcome.execution_id is None:
            raise FailedPrecondition(NOT_RUNNABLE_MESSAGE)
        return Triggered(wf.id, outcome.execution_id, ExecutionStatus.PENDING, now_ms)

    async def page(
        self, owner: str, workflow_ids: Sequence[str], request: PageRequest
    ) -> ExecutionPage:
        """ListExecutions: every id must be the caller's workflow."""
        checked = [(await self._workflow(owner, i)).id for i in workflow_ids]
        if not checked:
            return ExecutionPage([], PageInfo())
        if request.position is not None and not ids.is_ulid(request.position):
            raise InvalidArgument(CURSOR_MESSAGE)
        items, more = await self._executions.page(checked, request)
        return ExecutionPage(items, page_info(request, [e.id for e in items], more))

    async def get(self, owner: str, workflow_id: str, execution_id: str, now_ms: int) -> Execution:
        """GetExecution: the stored record, or a PENDING placeholder for a queued run. A
        malformed workflow id reads as ``task not found``, like an unknown one."""
        if workflow_id and not ids.is_ulid(workflow_id):
            raise NotFound(TASK_NOT_FOUND)
        wf = await self._workflow(owner, workflow_id)
        if not ids.is_ulid(execution_id):
            raise NotFound(EXECUTION_NOT_FOUND)
        execution_id = execution_id.lower()
        found = await self._executions.get(wf.id, execution_id)
        if found is not None:
            return found
        index = await self._executions.pending_index(wf.id, execution_id)
        if index is None:
            tally = await self._executions.retired_tally(wf.id)
            if tally.upto and execution_id <= tally.upto:
                raise NotFound(EXECUTION_EXPIRED)
            raise NotFound(EXECUTION_NOT_FOUND)
        return Execution(
            id=execution_id,
            workflow_id=wf.id,
            index=max(index, 0),
            status=ExecutionStatus.PENDING,
            start_at=ids.ulid_time_ms(execution_id),
        )

    async def status(
        self, owner: str, workflow_id: str, execution_id: str, now_ms: int
    ) -> ExecutionStatus:
        return (await self.get(owner, workflow_id, execution_id, now_ms)).status

    async def count(self, owner: str, workflow_ids: Sequence[str]) -> int:
        """GetExecutionCount over the caller's workflows (others' ids are ignored)."""
        return await self._executions.count(await self._owned_ids(owner, workflow_ids))

    async def stats(self, owner: str, workflow_ids: Sequence[str], days: int, now_ms: int) -> Stats:
        """GetExecutionStats over the last ``days`` (≤0: 7) of the caller's workflows.

        The window starts at the whole hour at or before ``now - days`` (`stats_since`), so
        executions removed by retention count exactly as their records did.
        """
        since = stats_since(now_ms, days if days > 0 else 7)
        found = await self._executions.summary(await self._owned_ids(owner, workflow_ids), since)
        average = found.duration_ms / found.total if found.total else 0.0
        return Stats(found.total, found.succeeded, found.total - found.succeeded, average)
