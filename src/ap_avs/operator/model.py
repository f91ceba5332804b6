"""What the operator's parts hand each other: assignments in, firings and overload reports out.

This module owns the typed values that cross between the gRPC client, the roster and the
watchers, the two small interfaces that make watchers interchangeable (:class:`Watcher`,
:class:`Sink`; STYLE.md 9, after silverback's runners), and the occurrence-key formats of
PROTOCOL.md §6.5. Nothing here does I/O or raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from ap_avs.domain.triggers import Trigger, TriggerKind
from ap_avs.domain.values import JsonValue


@dataclass(frozen=True, slots=True)
class Assignment:
    """A workflow the aggregator asked this operator to watch (one ``MonitorTaskTrigger``)."""

    workflow_id: str
    trigger: Trigger
    start_at: int = 0
    """Milliseconds; 0 = no start time."""
    expired_at: int = 0
    """Milliseconds; 0 = never expires."""
    max_executions: int = 0
    """The wire's ``remain`` (upstream sends the workflow's max executions; 0 = unlimited)."""

    @property
    def kind(self) -> TriggerKind:
        return self.trigger.kind

    def active_at(self, now_ms: int) -> bool:
        """Whether the workflow may fire at ``now_ms`` (inside its start/expiry window)."""
        if self.start_at and now_ms < self.start_at:
            return False
        return not (self.expired_at and now_ms > self.expired_at)


@dataclass(frozen=True, slots=True)
class TriggerFired:
    """One occurrence of a workflow's trigger, ready for ``NotifyTriggers``."""

    workflow_id: str
    kind: TriggerKind
    key: str
    """The occurrence key (``trigger_request_id``), stable across re-sends: see ``*_key``."""
    data: JsonValue


@dataclass(frozen=True, slots=True)
class EventOverload:
    """An event query matched more logs in one block than its limit (``ReportEventOverload``)."""

    workflow_id: str
    block_number: int
    events_detected: int
    safety_limit: int
    query_index: int
    details: str = ""


Signal: TypeAlias = TriggerFired | EventOverload
"""What watchers emit."""


class Sink(Protocol):
    """Delivers what a watcher emits; returns once every signal was handled (sent, or
    dropped for a permanent reason), so a watcher may then advance its checkpoint."""

    async def __call__(self, signals: Sequence[Signal], /) -> None: ...


class Watcher(Protocol):
    """A source of firings for some trigger kinds.

    ``watch`` is an idempotent upsert (an identical assignment changes nothing; a changed one
    starts over); ``unwatch`` of an unknown id does nothing. ``run`` emits to the sink until
    cancelled.
    """

    kinds: frozenset[TriggerKind]

    def watch(self, assignment: Assignment) -> None:
        """Start (or keep) watching. Raises ``InvalidArgument`` for an unusable config."""

    def unwatch(self, workflow_id: str) -> None: ...

    async def run(self, sink: Sink) -> None: ...


def time_key(workflow_id: str, fire_ms: int) -> str:
    """``<taskId>:<firedAtMillis>``; we use the *scheduled* instant, so it is deterministic."""
    return f"{workflow_id}:{fire_ms}"


def block_key(workflow_id: str, block_number: int) -> str:
    """``<taskId>:<blockNumber>``."""
    return f"{workflow_id}:{block_number}"


def event_key(workflow_id: str, transaction_hash: str, log_index: int) -> str:
    """``<taskId>:<txHash>:<logIndex>``."""
    return f"{workflow_id}:{transaction_hash}:{log_index}"
