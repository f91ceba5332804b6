"""Workflow triggers: the five trigger kinds and one frozen config dataclass per kind.

This module owns what a trigger *is*; validation lives in :mod:`ap_avs.domain.validation`, the
wire form in ``aggregator/convert.py``. Enum numbers are the wire ``TriggerType`` numbers.

On the wire a ``TaskTrigger`` carries both a ``type`` enum and a ``trigger_type`` oneof, and the
two are independent (upstream checks that they agree only in SimulateTask). The domain keeps one
:attr:`Trigger.kind`. The converter reads it from the oneof, accepts ``type`` unset
(``TRIGGER_TYPE_UNSPECIFIED``) as "same as the oneof", and rejects a ``type`` that names
another kind with ``InvalidArgument`` naming the trigger, for every RPC that takes a trigger
(CreateTask included). Writing a trigger back sets both from :attr:`Trigger.kind`.

Raises: constructing a :class:`Trigger` whose ``kind`` does not match the type of its
``config`` raises ``TypeError`` (a programming error, never a client error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final, TypeAlias

from ap_avs.domain.nodes import Lang, MethodCall
from ap_avs.domain.values import JsonValue


class TriggerKind(IntEnum):
    """Kind of a trigger; values are the wire ``TriggerType`` numbers."""

    MANUAL = 1
    FIXED_TIME = 2
    CRON = 3
    BLOCK = 4
    EVENT = 5

    @property
    def wire_name(self) -> str:
        """The proto enum name, e.g. ``TRIGGER_TYPE_CRON`` (used in execution steps)."""
        return f"TRIGGER_TYPE_{self.name}"


@dataclass(frozen=True, slots=True)
class ManualTriggerConfig:
    """Fires only when a user calls TriggerTask (or RunTrigger)."""

    data: JsonValue = None
    """The payload later nodes read as ``<trigger>.data``; ``None`` when unset or JSON null."""
    headers: Mapping[str, str] = field(default_factory=dict)
    path_params: Mapping[str, str] = field(default_factory=dict)
    lang: Lang = Lang.UNSPECIFIED


@dataclass(frozen=True, slots=True)
class FixedTimeTriggerConfig:
    """Fires once at each instant of ``epochs`` (milliseconds since the Unix epoch)."""

    epochs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class CronTriggerConfig:
    """Fires on each 5-field cron schedule, evaluated in UTC."""

    schedules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockTriggerConfig:
    """Fires every ``interval`` blocks."""

    interval: int = 0


@dataclass(frozen=True, slots=True)
class EventCondition:
    """A condition on one decoded event field; every part is a string, as on the wire."""

    field_name: str = ""
    operator: str = ""
    """One of ``gt``, ``gte``, ``lt``, ``lte``, ``eq``, ``ne``."""
    value: str = ""
    field_type: str = ""


@dataclass(frozen=True, slots=True)
class EventQuery:
    """One log filter; ``topics`` is positional and ``""`` is a wildcard."""

    addresses: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    max_events_per_block: int | None = None
    contract_abi: tuple[JsonValue, ...] = ()
    conditions: tuple[EventCondition, ...] = ()
    method_calls: tuple[MethodCall, ...] = ()


@dataclass(frozen=True, slots=True)
class EventTriggerConfig:
    """Fires on contract logs matching any of ``queries``."""

    queries: tuple[EventQuery, ...] = ()
    cooldown_seconds: int | None = None
    """Seconds between two firings; ``None`` means the operator default (300 s), 0 none."""


TriggerConfig: TypeAlias = (
    ManualTriggerConfig
    | FixedTimeTriggerConfig
    | CronTriggerConfig
    | BlockTriggerConfig
    | EventTriggerConfig
)
"""The config of any trigger kind."""

TRIGGER_CONFIG_TYPES: Final[Mapping[TriggerKind, type[TriggerConfig]]] = {
    TriggerKind.MANUAL: ManualTriggerConfig,
    TriggerKind.FIXED_TIME: FixedTimeTriggerConfig,
    TriggerKind.CRON: CronTriggerConfig,
    TriggerKind.BLOCK: BlockTriggerConfig,
    TriggerKind.EVENT: EventTriggerConfig,
}
"""The config type of each trigger kind."""


@dataclass(frozen=True, slots=True)
class Trigger:
    """What starts a workflow run."""

    id: str
    """Edges leave the trigger from this id."""
    name: str
    """A JavaScript identifier; nodes read the trigger output as ``<name>.data``."""
    kind: TriggerKind
    config: TriggerConfig

    def __post_init__(self) -> None:
        if type(self.config) is not TRIGGER_CONFIG_TYPES.get(self.kind):
            raise TypeError(f"a {self.kind!r} trigger cannot have a {type(self.config).__name__}")
