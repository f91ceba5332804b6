"""Triggers between the wire and the domain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ap_avs._proto import avs_pb2
from ap_avs.domain.nodes import (
    Lang,
)
from ap_avs.domain.triggers import (
    BlockTriggerConfig,
    CronTriggerConfig,
    EventCondition,
    EventQuery,
    EventTriggerConfig,
    FixedTimeTriggerConfig,
    ManualTriggerConfig,
    Trigger,
    TriggerConfig,
    TriggerKind,
)
from ap_avs.wire._shared import (
    _config_of,
    _enum,
    _read_call,
    _shape_error,
    _type_name,
    _write_call,
)
from ap_avs.wire._values import (
    _fill_value,
    _write_values,
    value_to_json,
)

# --- triggers ---------------------------------------------------------------------------------

TRIGGER_FIELD: Final[Mapping[TriggerKind, str]] = {
    TriggerKind.MANUAL: "manual",
    TriggerKind.FIXED_TIME: "fixed_time",
    TriggerKind.CRON: "cron",
    TriggerKind.BLOCK: "block",
    TriggerKind.EVENT: "event",
}
"""Each trigger kind's field in the ``TaskTrigger.trigger_type`` oneof: the one table of it."""
TRIGGER_OUTPUT_FIELD: Final[Mapping[TriggerKind, str]] = {
    kind: f"{field}_trigger" for kind, field in TRIGGER_FIELD.items()
}
"""Each trigger kind's field in the output oneofs (``trigger_output`` of NotifyTriggersReq and
TriggerTaskReq, ``output`` of RunTriggerResp and of ``Execution.Step``)."""
TRIGGER_OF_OUTPUT_FIELD: Final[Mapping[str, TriggerKind]] = {
    field: kind for kind, field in TRIGGER_OUTPUT_FIELD.items()
}
_TRIGGER_FIELDS: Final = {field: kind for kind, field in TRIGGER_FIELD.items()}


def trigger_from_pb(pb: avs_pb2.TaskTrigger) -> Trigger:
    """The domain trigger of a ``TaskTrigger``.

    Raises:
        InvalidArgument: no ``trigger_type`` oneof, no ``config``, a ``type`` naming another
            kind, an unknown enum number, or a ``Value`` too deep.
    """
    subject = f"trigger '{pb.name}' (id '{pb.id}')"
    field = pb.WhichOneof("trigger_type")
    if field is None:
        raise _shape_error(
            subject, "trigger config is required (one of manual, fixed_time, cron, block, event)"
        )
    kind = _TRIGGER_FIELDS[field]
    if pb.type not in (0, kind):
        name = _type_name(avs_pb2.TriggerType, pb.type)
        raise _shape_error(subject, f"type {name} does not match its {field} config")
    config = _config_of(getattr(pb, field), subject, f"{field} trigger")
    return Trigger(pb.id, pb.name, kind, _read_trigger_config(kind, config, subject))


def _read_trigger_config(kind: TriggerKind, c: Any, subject: str) -> TriggerConfig:
    if kind is TriggerKind.MANUAL:
        return ManualTriggerConfig(
            data=value_to_json(c.data, where=f"{subject} data") if c.HasField("data") else None,
            headers=dict(c.headers),
            path_params=dict(c.pathParams),
            lang=_enum(Lang, c.lang, subject, "lang"),
        )
    if kind is TriggerKind.FIXED_TIME:
        return FixedTimeTriggerConfig(epochs=tuple(c.epochs))
    if kind is TriggerKind.CRON:
        return CronTriggerConfig(schedules=tuple(c.schedules))
    if kind is TriggerKind.BLOCK:
        return BlockTriggerConfig(interval=c.interval)
    queries = tuple(
        EventQuery(
            addresses=tuple(q.addresses),
            topics=tuple(q.topics),
            max_events_per_block=(
                q.max_events_per_block if q.HasField("max_events_per_block") else None
            ),
            contract_abi=tuple(
                value_to_json(v, where=f"{subject} query[{i}].contract_abi") for v in q.contract_abi
            ),
            conditions=tuple(
                EventCondition(x.field_name, x.operator, x.value, x.field_type)
                for x in q.conditions
            ),
            method_calls=tuple(_read_call(call) for call in q.method_calls),
        )
        for i, q in enumerate(c.queries)
    )
    cooldown = c.cooldown_seconds if c.HasField("cooldown_seconds") else None
    return EventTriggerConfig(queries=queries, cooldown_seconds=cooldown)


def trigger_to_pb(trigger: Trigger) -> avs_pb2.TaskTrigger:
    """The ``TaskTrigger`` of a domain trigger (``type`` and the oneof both set)."""
    pb = avs_pb2.TaskTrigger(id=trigger.id, name=trigger.name, type=trigger.kind.wire_name)
    c = getattr(pb, TRIGGER_FIELD[trigger.kind]).config
    c.SetInParent()
    config = trigger.config
    if isinstance(config, ManualTriggerConfig):
        if config.data is not None:
            _fill_value(c.data, config.data, "data", 0)
        c.headers.update(config.headers)
        c.pathParams.update(config.path_params)
        c.lang = int(config.lang)
    elif isinstance(config, FixedTimeTriggerConfig):
        c.epochs.extend(config.epochs)
    elif isinstance(config, CronTriggerConfig):
        c.schedules.extend(config.schedules)
    elif isinstance(config, BlockTriggerConfig):
        c.interval = config.interval
    else:
        for query in config.queries:
            q = c.queries.add()
            q.addresses.extend(query.addresses)
            q.topics.extend(query.topics)
            if query.max_events_per_block is not None:
                q.max_events_per_block = query.max_events_per_block
            _write_values(q.contract_abi, query.contract_abi, "contract_abi")
            for cond in query.conditions:
                q.conditions.add(
                    field_name=cond.field_name,
                    operator=cond.operator,
                    value=cond.value,
                    field_type=cond.field_type,
                )
            for call in query.method_calls:
                _write_call(q.method_calls.add(), call)
        if config.cooldown_seconds is not None:
            c.cooldown_seconds = config.cooldown_seconds
    return pb
