"""The workflow (upstream: "task"): its status model, the stored record and the unvalidated draft.

This module owns :class:`Workflow`, the frozen record every layer above the domain passes
around, :class:`WorkflowDraft`, the shape of a create request before
:func:`ap_avs.domain.validation.validate_new_workflow` turns it into a workflow, and the pure
helpers that decide runnability and completion (PROTOCOL.md §2.16 step 3, §7.1, §7.2 step 11).
Nothing here raises.

Usage::

    if not wf.is_runnable(now_ms):
        raise FailedPrecondition(NOT_RUNNABLE_MESSAGE)
    wf = wf.with_run_recorded(now_ms)
    if wf.is_complete(now_ms):
        wf = wf.with_status(TaskStatus.COMPLETED, now_ms=now_ms)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from ap_avs.domain.nodes import Edge, Node
from ap_avs.domain.triggers import Trigger
from ap_avs.domain.values import JsonValue

NOT_RUNNABLE_MESSAGE = (
    "task cannot be executed: either reached max execution, expired, or not yet started"
)
"""The literal FAILED_PRECONDITION message of TriggerTask (PROTOCOL.md §2.16 step 3)."""


class TaskStatus(IntEnum):
    """Lifecycle state of a workflow; values are the wire ``TaskStatus`` numbers (3 unused)."""

    ENABLED = 0
    COMPLETED = 1
    FAILED = 2
    RUNNING = 4
    DISABLED = 5

    @property
    def wire_name(self) -> str:
        """The proto enum name (``Enabled``, ``Completed``, …), as in ``previous_status``."""
        return self.name.title()

    @classmethod
    def from_wire_name(cls, name: str) -> TaskStatus:
        """The status whose proto enum name is ``name``.

        Raises:
            ValueError: ``name`` is not one of the five names.
        """
        for status in cls:
            if status.wire_name == name:
                return status
        raise ValueError(f"not a task status: {name!r}")

    @property
    def is_terminal(self) -> bool:
        """Completed and Failed cannot be toggled back (PROTOCOL.md §2.14)."""
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Workflow:
    """A validated, stored workflow. Times are milliseconds since the Unix epoch; 0 = unset."""

    id: str
    """Lower-case ULID."""
    owner: str
    """The creator's EOA, checksummed."""
    smart_wallet_address: str
    """The runner wallet (``settings.runner``), checksummed."""
    start_at: int
    expired_at: int
    """0: never expires."""
    name: str
    """``settings.name``."""
    completed_at: int
    max_execution: int
    """At least 1 for every workflow we create: 0 in a request becomes the configured default."""
    execution_count: int
    last_ran_at: int
    status: TaskStatus
    trigger: Trigger
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    input_variables: Mapping[str, JsonValue] = field(default_factory=dict)

    @property
    def runner(self) -> str:
        """The smart wallet that runs the on-chain steps (alias of ``smart_wallet_address``)."""
        return self.smart_wallet_address

    def is_runnable(self, now_ms: int) -> bool:
        """Whether a run may start now (upstream ``IsRunable``; status is not consulted).

        False when the execution budget is spent, when the expiry (truncated to whole seconds,
        as upstream) lies before ``now_ms``, or when ``start_at`` is still ahead. ``max_execution``
        0 would mean "unlimited" upstream; our validation never stores 0.
        """
        if self.max_execution > 0 and self.execution_count >= self.max_execution:
            return False
        if self.expired_at > 0 and self.expired_at // 1000 * 1000 < now_ms:
            return False
        return not (self.start_at > 0 and now_ms < self.start_at)

    def is_complete(self, now_ms: int) -> bool:
        """Whether a run that just ended completes the workflow (PROTOCOL.md §7.2 step 11)."""
        if self.max_execution > 0 and self.execution_count >= self.max_execution:
            return True
        return self.expired_at > 0 and now_ms >= self.expired_at

    def with_status(self, status: TaskStatus, *, now_ms: int | None = None) -> Workflow:
        """A copy in ``status``; ``completed_at`` is set to ``now_ms`` when that is given."""
        if now_ms is None:
            return dataclasses.replace(self, status=status)
        return dataclasses.replace(self, status=status, completed_at=now_ms)

    def with_run_recorded(self, now_ms: int) -> Workflow:
        """A copy counting one more run that started at ``now_ms`` (§7.2 step 4)."""
        return dataclasses.replace(
            self, execution_count=self.execution_count + 1, last_ran_at=now_ms
        )


@dataclass(frozen=True, slots=True)
class WorkflowDraft:
    """A create request as the client sent it, converted to domain types but not validated.

    ``trigger`` is ``None`` when the request had none. ``name`` and ``smart_wallet_address`` are
    kept for completeness but ignored: the name and runner come from ``settings``.
    """

    trigger: Trigger | None
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()
    start_at: int = 0
    expired_at: int = 0
    max_execution: int = 0
    smart_wallet_address: str = ""
    name: str = ""
    input_variables: Mapping[str, JsonValue] = field(default_factory=dict)
