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
from ap_avs.domain.nodes import (
    BalanceConfig,
    BranchCondition,
    BranchConfig,
    ContractReadConfig,
    ContractWriteConfig,
    CustomCodeConfig,
    Edge,
    EthTransferConfig,
    ExecutionMode,
    FilterConfig,
    GraphQLQueryConfig,
    Lang,
    LoopConfig,
    LoopRunner,
    MethodCall,
    Node,
    NodeConfig,
    NodeKind,
    RestApiConfig,
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


def workflow_to_json(wf: Workflow) -> JsonValue:
    """The stored JSON of ``wf``."""
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
        "nodes": [node_to_json(node) for node in wf.nodes],
        "edges": [{"id": e.id, "source": e.source, "target": e.target} for e in wf.edges],
        "inputVariables": dict(wf.input_variables),
    }


def workflow_from_json(data: JsonValue) -> Workflow:
    """The workflow stored as ``data``.

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
            nodes=tuple(node_from_json(item) for item in r.array("nodes")),
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


def node_to_json(node: Node) -> JsonValue:
    """The stored JSON of a node: ``{id, name, kind, config}``."""
    return {"id": node.id, "name": node.name, "kind": node.kind.name, **_config(node.config)}


def node_from_json(data: JsonValue) -> Node:
    """The node stored as ``data``.

    Raises:
        CorruptDataError: ``data`` is not a stored node.
    """
    with _decoding():
        r = _Reader(data, "node")
        kind = r.enum("kind", NodeKind)
        return Node(r.text("id"), r.text("name"), kind, _NODE_DECODERS[kind](r.reader("config")))


# --- encoding ---------------------------------------------------------------------------------


def _drop_none(fields: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {key: value for key, value in fields.items() if value is not None}


def _call(call: MethodCall) -> JsonValue:
    return _drop_none(
        {
            "methodName": call.method_name,
            "callData": call.call_data,
            "applyToFields": list(call.apply_to_fields),
            "methodParams": list(call.method_params),
        }
    )


def _trigger_config(config: TriggerConfig) -> JsonValue:
    if isinstance(config, ManualTriggerConfig):
        return _drop_none(
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
        _drop_none(
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
                "methodCalls": [_call(call) for call in q.method_calls],
            }
        )
        for q in config.queries
    ]
    return _drop_none({"queries": queries, "cooldownSeconds": config.cooldown_seconds})


def _config(config: NodeConfig) -> dict[str, JsonValue]:
    """``{"config": …}``, the stored JSON of a node config."""
    return {"config": _node_config(config)}


def _node_config(config: NodeConfig) -> JsonValue:
    if isinstance(config, EthTransferConfig):
        return {"destination": config.destination, "amount": config.amount}
    if isinstance(config, ContractWriteConfig):
        return _drop_none(
            {
                "contractAddress": config.contract_address,
                "callData": config.call_data,
                "contractAbi": list(config.contract_abi),
                "methodCalls": [_call(call) for call in config.method_calls],
                "isSimulated": config.is_simulated,
                "value": config.value,
                "gasLimit": config.gas_limit,
            }
        )
    if isinstance(config, ContractReadConfig):
        return {
            "contractAddress": config.contract_address,
            "contractAbi": list(config.contract_abi),
            "methodCalls": [_call(call) for call in config.method_calls],
        }
    if isinstance(config, GraphQLQueryConfig):
        return {"url": config.url, "query": config.query, "variables": dict(config.variables)}
    if isinstance(config, RestApiConfig):
        return _drop_none(
            {
                "url": config.url,
                "headers": dict(config.headers),
                "body": config.body,
                "method": config.method,
                "options": config.options,
            }
        )
    if isinstance(config, CustomCodeConfig):
        return {"lang": config.lang.name, "source": config.source}
    if isinstance(config, BalanceConfig):
        return {
            "address": config.address,
            "chain": config.chain,
            "includeSpam": config.include_spam,
            "includeZeroBalances": config.include_zero_balances,
            "minUsdValueCents": config.min_usd_value_cents,
            "tokenAddresses": list(config.token_addresses),
        }
    if isinstance(config, BranchConfig):
        conditions: list[JsonValue] = [
            {"id": c.id, "type": c.type, "expression": c.expression} for c in config.conditions
        ]
        return {"conditions": conditions}
    if isinstance(config, FilterConfig):
        return {"expression": config.expression, "inputVariable": config.input_variable}
    return {
        "inputVariable": config.input_variable,
        "iterVal": config.iter_val,
        "iterKey": config.iter_key,
        "executionMode": config.execution_mode.name,
        "iterationTimeout": config.iteration_timeout,
        "runner": {"kind": config.runner.kind.name, **_config(config.runner.config)},
    }


# --- decoding ---------------------------------------------------------------------------------


def _edge(r: _Reader) -> Edge:
    return Edge(r.text("id"), r.text("source"), r.text("target"))


def _method_calls(r: _Reader, key: str = "methodCalls") -> tuple[MethodCall, ...]:
    return tuple(
        MethodCall(
            method_name=c.text("methodName", ""),
            call_data=c.optional("callData", c.text),
            apply_to_fields=c.texts("applyToFields"),
            method_params=c.texts("methodParams"),
        )
        for c in r.readers(key)
    )


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
        method_calls=_method_calls(r),
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


def _loop(r: _Reader) -> LoopConfig:
    runner = r.reader("runner")
    kind = runner.enum("kind", NodeKind)
    config = _NODE_DECODERS[kind](runner.reader("config"))
    return LoopConfig(
        input_variable=r.text("inputVariable"),
        iter_val=r.text("iterVal"),
        iter_key=r.text("iterKey", ""),
        execution_mode=r.enum("executionMode", ExecutionMode),
        iteration_timeout=r.integer("iterationTimeout", 0),
        runner=LoopRunner(kind, config),  # type: ignore[arg-type]  # TypeError if not a runner
    )


_NODE_DECODERS: Final[Mapping[NodeKind, Callable[[_Reader], NodeConfig]]] = {
    NodeKind.ETH_TRANSFER: lambda r: EthTransferConfig(r.text("destination"), r.text("amount")),
    NodeKind.CONTRACT_WRITE: lambda r: ContractWriteConfig(
        contract_address=r.text("contractAddress"),
        call_data=r.text("callData", ""),
        contract_abi=tuple(r.array("contractAbi")),
        method_calls=_method_calls(r),
        is_simulated=r.optional("isSimulated", r.flag),
        value=r.optional("value", r.text),
        gas_limit=r.optional("gasLimit", r.text),
    ),
    NodeKind.CONTRACT_READ: lambda r: ContractReadConfig(
        contract_address=r.text("contractAddress"),
        contract_abi=tuple(r.array("contractAbi")),
        method_calls=_method_calls(r),
    ),
    NodeKind.GRAPHQL_QUERY: lambda r: GraphQLQueryConfig(
        url=r.text("url"), query=r.text("query"), variables=r.text_map("variables")
    ),
    NodeKind.REST_API: lambda r: RestApiConfig(
        url=r.text("url"),
        headers=r.text_map("headers"),
        body=r.text("body", ""),
        method=r.text("method", ""),
        options=r.json("options"),
    ),
    NodeKind.CUSTOM_CODE: lambda r: CustomCodeConfig(r.enum("lang", Lang), r.text("source")),
    NodeKind.BALANCE: lambda r: BalanceConfig(
        address=r.text("address"),
        chain=r.text("chain"),
        include_spam=r.flag("includeSpam", False),
        include_zero_balances=r.flag("includeZeroBalances", False),
        min_usd_value_cents=r.integer("minUsdValueCents", 0),
        token_addresses=r.texts("tokenAddresses"),
    ),
    NodeKind.BRANCH: lambda r: BranchConfig(
        conditions=tuple(
            BranchCondition(c.text("id"), c.text("type"), c.text("expression", ""))
            for c in r.readers("conditions")
        )
    ),
    NodeKind.FILTER: lambda r: FilterConfig(r.text("expression"), r.text("inputVariable")),
    NodeKind.LOOP: _loop,
}
