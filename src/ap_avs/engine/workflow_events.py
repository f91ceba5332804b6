"""Workflow change notifications: what operator dispatch (and anything else) listens to.

Use cases publish a :class:`WorkflowEvent` after a change is committed. Listeners are called
synchronously and must not block or await: they enqueue work of their own (the dispatcher puts
messages on per-operator bounded queues), so a user RPC never waits on operator I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ap_avs.domain.workflow import Workflow

logger = logging.getLogger(__name__)


class WorkflowEventKind(StrEnum):
    CREATED = "created"
    ENABLED = "enabled"
    DISABLED = "disabled"
    CANCELLED = "cancelled"
    DELETED = "deleted"
    COMPLETED = "completed"

    @property
    def starts_watching(self) -> bool:
        return self in (WorkflowEventKind.CREATED, WorkflowEventKind.ENABLED)


@dataclass(frozen=True, slots=True)
class WorkflowEvent:
    kind: WorkflowEventKind
    workflow: Workflow


class WorkflowListener(Protocol):
    def workflow_changed(self, event: WorkflowEvent) -> None:
        """Take note of ``event``; must return quickly and never raise on purpose."""


class WorkflowEvents:
    """Fans events out to listeners; a failing listener is logged and does not stop others."""

    def __init__(self) -> None:
        self._listeners: list[WorkflowListener] = []

    def subscribe(self, listener: WorkflowListener) -> None:
        self._listeners.append(listener)

    def publish(self, kind: WorkflowEventKind, workflow: Workflow) -> None:
        event = WorkflowEvent(kind, workflow)
        for listener in self._listeners:
            try:
                listener.workflow_changed(event)
            except Exception:
                logger.exception("workflow listener failed on %s of %s", kind, workflow.id)
