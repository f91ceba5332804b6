"""The stored form of a workflow: plain JSON with stable camelCase keys.

``workflow_to_json`` / ``workflow_from_json`` map a :class:`~ap_avs.domain.workflow.Workflow`
to a ``JsonValue`` and back; the repository wraps them with ``store.codec.dumps/loads``. The
format is ours (not upstream's protojson): keys are the dataclass field names in camelCase,
enums are stored by member name (``"REST_API"``, ``"ENABLED"``), fields whose value is ``None``
(unset optionals) are left out, and the top level carries ``"version": 1`` so a later format
can be migrated. Decoding is strict about types and lenient about absent keys that have a
default (so a field added later reads old records with its default).

Raises :class:`~ap_avs.errors.CorruptDataError` for anything that does not decode.

Usage::

    raw = codec.dumps(workflow_to_json(wf))
    wf = workflow_from_json(codec.loads(raw))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from ap_avs.domain._json_reader import Reader as _Reader
from ap_avs.domain._json_reader import decoding as _decoding
from ap_avs.domain._node_codec import (
    call_to_json,
    drop_none,
    method_calls_from_json,
)
from ap_avs.domain.node_kinds import BUILTIN_NODE_KINDS, NodeKinds
from ap_avs.domain.nodes import (
    Edge,
    Lang,
    Node,
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
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import TaskStatus, Workflow

FORMAT_VERSION: Final = 1


def workflow_to_json(wf: Workflow, kinds: NodeKinds = BUILTIN_NODE_KINDS) -> JsonValue:
    """The stored JSON of ``wf`` (its nodes by their kinds' registration in ``kinds``)."""
    return {
        "version": FORMAT_VERSION,
        "id": wf.id,
        "owner": wf.owner,
        "smartWalletAddress": wf.smart_wallet_address,
        "startAt": wf.start_at,
        "expiredAt": wf.expired_at,
        "name": wf.name,
        "completedAt": wf.completed_at,
        "maxExecution": wf.max_execution,
        "executionCount": wf.execution_count,
        "lastRanAt": wf.last_ran_at,
        "status": wf.status.name,
        "trigger": trigger_to_json(wf.trigger),
        "nodes": [kinds.to_json(node) for node in wf.nodes],
        "edges": [{"id": e.id, "source": e.source, "target": e.target} for e in wf.edges],
        "inputVariables": dict(wf.input_variables),
    }


def workflow_from_json(data: JsonValue, kinds: NodeKinds = BUILTIN_NODE_KINDS) -> Workflow:
    """The workflow stored as ``data`` (its nodes decoded by their kinds' registration).

    Raises:
        CorruptDataError: ``data`` is not a workflow written by :func:`workflow_to_json`.
    """
    with _decoding():
        r = _Reader(data, "workflow")
        if r.integer("version") != FORMAT_VERSION:
            raise r.corrupt("version", f"unknown format version {r.raw('version')!r}")
        return Workflow(
            id=r.text("id"),
            owner=r.text("owner"),
            smart_wallet_address=r.text("smartWalletAddress"),
            start_at=r.integer("startAt"),
            expired_at=r.integer("expiredAt"),
            name=r.text("name"),
            completed_at=r.integer("completedAt"),
            max_execution=r.integer("maxExecution"),
            execution_count=r.integer("executionCount"),
            last_ran_at=r.integer("lastRanAt"),
            status=r.enum("status", TaskStatus),
            trigger=trigger_from_json(r.raw("trigger")),
            nodes=tuple(kinds.from_json(item) for item in r.array("nodes")),
            edges=tuple(_edge(_Reader(item, "edge")) for item in r.array("edges")),
            input_variables=r.mapping("inputVariables"),
        )


def trigger_to_json(trigger: Trigger) -> JsonValue:
    """The stored JSON of a trigger: ``{id, name, kind, config}``."""
    return {
        "id": trigger.id,
        "name": trigger.name,
        "kind": trigger.kind.name,
        "config": _trigger_config(trigger.config),
    }


def trigger_from_json(data: JsonValue) -> Trigger:
    """The trigger stored as ``data``.

    Raises:
        CorruptDataError: ``data`` is not a stored trigger.
    """
    with _decoding():
        r = _Reader(data, "trigger")
        kind = r.enum("kind", TriggerKind)
        return Trigger(
            r.text("id"), r.text("name"), kind, _TRIGGER_DECODERS[kind](r.reader("config"))
        )


def node_to_json(node: Node, kinds: NodeKinds = BUILTIN_NODE_KINDS) -> JsonValue:
    """The stored JSON of a node: ``{id, name, kind, config}``."""
    return kinds.to_json(node)


def node_from_json(data: JsonValue, kinds: NodeKinds = BUILTIN_NODE_KINDS) -> Node:
    """The node stored as ``data``.

    Raises:
        CorruptDataError: ``data`` is not a stored node of a kind in ``kinds``.
    """
    return kinds.from_json(data)


# --- encoding ---------------------------------------------------------------------------------


def _trigger_config(config: TriggerConfig) -> JsonValue:
    if isinstance(config, ManualTriggerConfig):
        return drop_none(
            {
                "data": config.data,
                "headers": dict(config.headers),
                "pathParams": dict(config.path_params),
                "lang": config.lang.name,
            }
        )
    if isinstance(config, FixedTimeTriggerConfig):
        return {"epochs": list(config.epochs)}
    if isinstance(config, CronTriggerConfig):
        return {"schedules": list(config.schedules)}
    if isinstance(config, BlockTriggerConfig):
        return {"interval": config.interval}
    queries: list[JsonValue] = [
        drop_none(
            {
                "addresses": list(q.addresses),
                "topics": list(q.topics),
                "maxEventsPerBlock": q.max_events_per_block,
                "contractAbi": list(q.contract_abi),
                "conditions": [
                    {
                        "fieldName": c.field_name,
                        "operator": c.operator,
                        "value": c.value,
                        "fieldType": c.field_type,
                    }
                    for c in q.conditions
                ],
                "methodCalls": [call_to_json(call) for call in q.method_calls],
            }
        )
        for q in config.queries
    ]
    return drop_none({"queries": queries, "cooldownSeconds": config.cooldown_seconds})


# --- decoding ---------------------------------------------------------------------------------


def _edge(r: _Reader) -> Edge:
    return Edge(r.text("id"), r.text("source"), r.text("target"))


def _event_query(r: _Reader) -> EventQuery:
    return EventQuery(
        addresses=r.texts("addresses"),
        topics=r.texts("topics"),
        max_events_per_block=r.optional("maxEventsPerBlock", r.integer),
        contract_abi=tuple(r.array("contractAbi")),
        conditions=tuple(
            EventCondition(
                c.text("fieldName"), c.text("operator"), c.text("value"), c.text("fieldType")
            )
            for c in r.readers("conditions")
        ),
        method_calls=method_calls_from_json(r),
    )


def _epochs(r: _Reader) -> tuple[int, ...]:
    epochs = r.array("epochs")
    if not all(isinstance(e, int) and not isinstance(e, bool) for e in epochs):
        raise r.corrupt("epochs", "expected a list of integers")
    return tuple(int(e) for e in epochs)  # type: ignore[arg-type]


_TRIGGER_DECODERS: Final[Mapping[TriggerKind, Callable[[_Reader], TriggerConfig]]] = {
    TriggerKind.MANUAL: lambda r: ManualTriggerConfig(
        data=r.json("data"),
        headers=r.text_map("headers"),
        path_params=r.text_map("pathParams"),
        lang=r.enum("lang", Lang),
    ),
    TriggerKind.FIXED_TIME: lambda r: FixedTimeTriggerConfig(epochs=_epochs(r)),
    TriggerKind.CRON: lambda r: CronTriggerConfig(schedules=r.texts("schedules")),
    TriggerKind.BLOCK: lambda r: BlockTriggerConfig(interval=r.integer("interval")),
    TriggerKind.EVENT: lambda r: EventTriggerConfig(
        queries=tuple(_event_query(q) for q in r.readers("queries")),
        cooldown_seconds=r.optional("cooldownSeconds", r.integer),
    ),
}
