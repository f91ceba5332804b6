"""Values of operator dispatch: capabilities, what an operator watches, the messages it gets.

Pure data; nothing here raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final

from ap_avs.domain.triggers import Trigger, TriggerKind
from ap_avs.domain.workflow import Workflow


class Capability(StrEnum):
    """What an operator can monitor (``SyncMessagesReq.capabilities``)."""

    EVENT = "event_monitoring"
    BLOCK = "block_monitoring"
    TIME = "time_monitoring"


_NEEDS: Final = {
    TriggerKind.EVENT: Capability.EVENT,
    TriggerKind.BLOCK: Capability.BLOCK,
    TriggerKind.CRON: Capability.TIME,
    TriggerKind.FIXED_TIME: Capability.TIME,
}


def capability_for(kind: TriggerKind) -> Capability | None:
    """The capability watching a trigger kind needs; None: nobody watches it (manual)."""
    return _NEEDS.get(kind)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """An operator's capabilities; a request without any means it supports everything."""

    event_monitoring: bool = True
    block_monitoring: bool = True
    time_monitoring: bool = True

    def has(self, capability: Capability) -> bool:
        return bool(getattr(self, capability.value))

    def can_watch(self, kind: TriggerKind) -> bool:
        needed = capability_for(kind)
        return needed is None or self.has(needed)


@dataclass(frozen=True, slots=True)
class Watched:
    """What an operator needs to watch one workflow's trigger (``TaskMetadata``)."""

    workflow_id: str
    trigger: Trigger
    max_execution: int
    expired_at: int
    start_at: int

    @classmethod
    def of(cls, wf: Workflow) -> Watched:
        return cls(wf.id, wf.trigger, wf.max_execution, wf.expired_at, wf.start_at)

    @property
    def capability(self) -> Capability | None:
        return capability_for(self.trigger.kind)


class MessageOp(IntEnum):
    """Operations sent on the SyncMessages stream; values are the wire ``MessageOp`` numbers."""

    MONITOR = 1
    DISABLE = 2
    DELETE = 3
    IMMEDIATE = 5


@dataclass(frozen=True, slots=True)
class OperatorMessage:
    """One message for an operator; ``watched`` is set for MONITOR and IMMEDIATE."""

    op: MessageOp
    workflow_id: str
    watched: Watched | None = None

    @classmethod
    def monitor(cls, watched: Watched) -> OperatorMessage:
        return cls(MessageOp.MONITOR, watched.workflow_id, watched)


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    """Tuning of operator dispatch (config section ``operators``).

    Usage::

        settings = DispatchSettings(operator_timeout_seconds=30, reconnect_window_seconds=5)
        dispatcher = Dispatcher(kv, WorkflowRepo(kv), settings)
    """

    operator_timeout_seconds: float = 30.0
    """An operator with no Ping (or other call) for this long loses its workflows."""
    reconnect_window_seconds: float = 5.0
    """A SyncMessages within this long of the operator's previous one is refused."""
    outbox_size: int = 1000
    """Messages queued per operator before it is switched to a full resync instead."""
    send_timeout_seconds: float = 10.0
    """A stream whose send blocks this long is dropped (the operator reconnects)."""
    rebalance: bool = True
    """Move workflows to an operator that (re)joins until loads differ by at most one."""
