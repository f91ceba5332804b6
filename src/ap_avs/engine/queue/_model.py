"""The queue's vocabulary and its pure decisions: jobs, fired triggers, verdicts, occurrences.

Nothing here does I/O or raises: :func:`judge` decides whether a run may be queued,
:func:`outcome_for` what to tell the operator, :func:`occurrence_of` and
:func:`derive_occurrence` which occurrence a trigger report names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import TaskStatus, Workflow


class JobSource(StrEnum):
    """Who asked for the run."""

    OPERATOR = "operator"
    USER = "user"


@dataclass(frozen=True, slots=True)
class FiredTrigger:
    """A trigger output as the operator (or the user) supplied it: the kind and its JSON data."""

    kind: TriggerKind
    data: JsonValue = None


@dataclass(frozen=True, slots=True)
class Job:
    """One queued run of a workflow."""

    id: int
    workflow_id: str
    execution_id: str
    trigger: FiredTrigger
    input_variables: Mapping[str, JsonValue] = field(default_factory=dict)
    """Trigger input variables; they override same-named workflow variables."""
    execution_index: int | None = None
    """Index pre-allocated by a non-blocking TriggerTask when this job took its ``pending:`` id
    (informational: the executor reads it from the ``pending:`` key); None otherwise."""
    source: JobSource = JobSource.OPERATOR
    occurrence: str | None = None
    operator: str | None = None
    enqueued_at: int = 0
    attempts: int = 0
    """How many times the job was claimed, the current claim included."""
    last_error: str | None = None


class TriggerVerdict(StrEnum):
    """What became of a trigger or a queued-run request."""

    ACCEPTED = "accepted"
    DEDUPLICATED = "deduplicated"
    NOT_FOUND = "not_found"
    DISABLED = "disabled"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"
    NOT_STARTED = "not_started"
    AWAITING_QUORUM = "awaiting_quorum"
    """Quorum mode: the report was counted; the run waits for more operators to agree."""


@dataclass(frozen=True, slots=True)
class TriggerOutcome:
    """The answer to :meth:`JobQueue.accept_trigger` / :meth:`JobQueue.enqueue_run`."""

    verdict: TriggerVerdict
    remaining_executions: int
    """-1: unlimited; otherwise runs left after this one (never negative)."""
    still_enabled: bool
    """Whether the operator should keep watching the workflow."""
    execution_id: str | None = None
    job_id: int | None = None
    execution_count: int = 0
    max_execution: int = 0
    queued_runs: int = 0
    """Runs of the workflow waiting in the queue (this one included when accepted)."""
    status: TaskStatus | None = None


# --- pure decisions ---------------------------------------------------------------------------


def judge(
    wf: Workflow | None, now_ms: int, *, queued: int = 0, user_run: bool = False
) -> TriggerVerdict:
    """Whether a run of ``wf`` may be queued now, else why not.

    A trigger needs status Enabled; a user's run (``user_run``) only a status that is not
    terminal. Then the workflow must be runnable (budget, expiry, start time), counting the
    ``queued`` runs that wait for the executor against the budget: each will count when it
    starts, so their share is reserved (upstream queued past the budget).
    """
    if wf is None:
        return TriggerVerdict.NOT_FOUND
    allowed = not wf.status.is_terminal if user_run else wf.status is TaskStatus.ENABLED
    if wf.is_runnable(now_ms):
        if not allowed:
            return TriggerVerdict.DISABLED
        if wf.max_execution > 0 and wf.execution_count + queued >= wf.max_execution:
            return TriggerVerdict.EXHAUSTED
        return TriggerVerdict.ACCEPTED
    if not allowed and wf.status is not TaskStatus.COMPLETED:
        return TriggerVerdict.DISABLED
    if wf.max_execution > 0 and wf.execution_count >= wf.max_execution:
        return TriggerVerdict.EXHAUSTED
    if wf.start_at > 0 and now_ms < wf.start_at:
        return TriggerVerdict.NOT_STARTED
    return TriggerVerdict.EXPIRED


def outcome_for(
    wf: Workflow | None, verdict: TriggerVerdict, now_ms: int, *, queued: int = 0
) -> TriggerOutcome:
    """The outcome to report for ``verdict`` on ``wf``; ``queued`` counts the waiting runs
    (the accepted one included), which the remaining budget leaves out."""
    if wf is None:
        return TriggerOutcome(verdict, 0, False)
    budget = wf.max_execution - wf.execution_count - queued
    if verdict is TriggerVerdict.ACCEPTED:
        remaining, enabled = max(0, budget), True
    elif verdict in (TriggerVerdict.DEDUPLICATED, TriggerVerdict.AWAITING_QUORUM):
        remaining = max(0, budget)
        enabled = wf.status is TaskStatus.ENABLED and wf.is_runnable(now_ms)
    else:
        remaining, enabled = 0, False
    if wf.max_execution == 0 and enabled:
        remaining = -1
    return TriggerOutcome(
        verdict,
        remaining,
        enabled,
        execution_count=wf.execution_count,
        max_execution=wf.max_execution,
        queued_runs=queued,
        status=wf.status,
    )


def assess(wf: Workflow | None, now_ms: int) -> TriggerOutcome:
    """What :meth:`JobQueue.accept_trigger` would answer for ``wf``, writing nothing (used to
    answer an operator that is not the assignee of a missing or stopped workflow)."""
    return outcome_for(wf, judge(wf, now_ms), now_ms)


def occurrence_of(workflow_id: str, request_id: str) -> str | None:
    """The occurrence part of an operator's ``trigger_request_id`` (``<taskId>:<occurrence>``).

    An id not prefixed with the workflow id is taken whole; an empty one gives None.
    """
    if not request_id:
        return None
    prefix = f"{workflow_id}:"
    tail = request_id[len(prefix) :] if request_id.startswith(prefix) else request_id
    return tail or None


def derive_occurrence(trigger: FiredTrigger) -> str | None:
    """An occurrence read from the trigger data when the operator sent no request id:
    ``<txHash>:<logIndex>`` (event), the block number (block), the timestamp (time)."""
    data = trigger.data if isinstance(trigger.data, dict) else {}
    if trigger.kind is TriggerKind.MANUAL:
        return None
    if trigger.kind is TriggerKind.EVENT:
        tx, index = data.get("transactionHash"), data.get("logIndex")
        return f"{tx}:{index}" if tx not in (None, "") and index is not None else None
    value = data.get("blockNumber" if trigger.kind is TriggerKind.BLOCK else "timestamp")
    return str(value) if isinstance(value, int | str) and value != "" else None
