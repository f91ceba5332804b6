"""The only place protobuf meets the domain: wire messages <-> frozen domain values.

Readers (``*_from_pb``) check the *shape* a message must have to become a domain value and
raise :class:`~ap_avs.errors.InvalidArgument` naming the trigger or node otherwise: a missing
``trigger_type``/``task_type``/``runner`` oneof, a missing ``config`` sub-message, an enum
number the domain does not know, a ``type`` field that names another kind than the oneof
(``type`` unset is accepted and taken from the oneof), a ``google.protobuf.Value`` nested deeper
than :data:`MAX_VALUE_DEPTH` or holding NaN/Infinity. Everything else (rules on the values) is
:mod:`ap_avs.domain.validation`'s job. Writers (``*_to_pb``) never fail.

Round trip: for every message a reader accepts, ``*_to_pb(*_from_pb(m))`` equals ``m`` except
for two documented normalisations: ``type`` is always written, and a ``Value`` that is JSON
``null`` where the domain keeps ``None`` for "unset" (``ManualTrigger.Config.data``,
``RestAPINode.Config.options``) is written back unset.

Values follow PROTOCOL.md §10.3: numbers are doubles on the wire; an integral double whose
magnitude is below 2**53 reads as a Python ``int`` (so ``5.0`` -> ``5``), any other as a
``float``; an ``int`` is written as a double (exact below 2**53, rounded above, as upstream).
A ``Value`` with no kind set reads as ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from enum import IntEnum
from typing import Any, Final, TypeVar

from google.protobuf import struct_pb2

from ap_avs._proto import avs_pb2
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
from ap_avs.domain.workflow import Workflow, WorkflowDraft
from ap_avs.errors import InvalidArgument
from ap_avs.store.codec import JsonValue

MAX_VALUE_DEPTH: Final = 64
"""Deepest nesting of lists and objects accepted in a ``google.protobuf.Value``."""
_EXACT_INT_LIMIT: Final = 2**53
_PREFIX: Final = "Invalid task argument: "
_INVALID_REQUEST: Final = 3000  # wire ErrorCode numbers
_INVALID_TRIGGER_CONFIG: Final = 3001
_INVALID_NODE_CONFIG: Final = 3002

E = TypeVar("E", bound=IntEnum)

# --- google.protobuf.Value <-> JsonValue ------------------------------------------------------


def value_to_json(value: struct_pb2.Value, *, where: str = "value") -> JsonValue:
    """The JSON value of a ``google.protobuf.Value``.

    Raises:
        InvalidArgument: the value nests deeper than :data:`MAX_VALUE_DEPTH` or holds a
            non-finite number; the message starts with ``where``.
    """
    return _read_value(value, where, 0)


def _read_value(value: Any, where: str, depth: int) -> JsonValue:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            raise InvalidArgument(
                f"{where}: {number} is not a JSON number", error_code=_INVALID_REQUEST
            )
        if number.is_integer() and abs(number) < _EXACT_INT_LIMIT:
            return int(number)
        return float(number)
    if kind == "string_value":
        return str(value.string_value)
    if kind == "bool_value":
        return bool(value.bool_value)
    if kind in ("struct_value", "list_value"):
        if depth >= MAX_VALUE_DEPTH:
            raise InvalidArgument(
                f"{where}: nested deeper than {MAX_VALUE_DEPTH} levels", error_code=_INVALID_REQUEST
            )
        if kind == "list_value":
            return [_read_value(item, where, depth + 1) for item in value.list_value.values]
        fields = value.struct_value.fields
        return {key: _read_value(fields[key], where, depth + 1) for key in fields}
    return None  # null_value, or no kind set


def json_to_value(data: JsonValue, *, where: str = "value") -> struct_pb2.Value:
    """The ``google.protobuf.Value`` of a JSON value.

    Raises:
        InvalidArgument: ``data`` nests deeper than :data:`MAX_VALUE_DEPTH` or holds something
            JSON cannot (a non-string key, a set, …).
    """
    value = struct_pb2.Value()
    _fill_value(value, data, where, 0)
    return value


def _fill_value(target: Any, data: object, where: str, depth: int) -> None:
    if data is None:
        target.null_value = struct_pb2.NULL_VALUE
    elif isinstance(data, bool):
        target.bool_value = data
    elif isinstance(data, int | float):
        target.number_value = float(data)
    elif isinstance(data, str):
        target.string_value = data
    elif isinstance(data, list | tuple | dict):
        if depth >= MAX_VALUE_DEPTH:
            raise InvalidArgument(
                f"{where}: nested deeper than {MAX_VALUE_DEPTH} levels", error_code=_INVALID_REQUEST
            )
        if isinstance(data, dict):
            target.struct_value.SetInParent()
            for key, item in data.items():
                if not isinstance(key, str):
                    raise InvalidArgument(
                        f"{where}: object key {key!r} is not a string", error_code=_INVALID_REQUEST
                    )
                _fill_value(target.struct_value.fields[key], item, where, depth + 1)
        else:
            target.list_value.SetInParent()
            for item in data:
                _fill_value(target.list_value.values.add(), item, where, depth + 1)
    else:
        raise InvalidArgument(
            f"{where}: {type(data).__name__} is not a JSON value", error_code=_INVALID_REQUEST
        )


def _read_map(values: Any, where: str) -> dict[str, JsonValue]:
    return {key: value_to_json(values[key], where=f"{where}.{key}") for key in values}


def _write_values(target: Any, data: Any, where: str) -> None:
    for index, item in enumerate(data):
        _fill_value(target.add(), item, f"{where}[{index}]", 0)


# --- shared helpers ---------------------------------------------------------------------------


def _shape_error(subject: str, problem: str) -> InvalidArgument:
    code = _INVALID_TRIGGER_CONFIG if subject.startswith("trigger") else _INVALID_NODE_CONFIG
    return InvalidArgument(f"{_PREFIX}{subject}: {problem}", error_code=code)


def _enum(kind: type[E], number: int, subject: str, field: str) -> E:
    try:
        return kind(number)
    except ValueError:
        raise _shape_error(subject, f"unknown {field} {number}") from None


def _read_call(call: Any) -> MethodCall:
    return MethodCall(
        method_name=call.method_name,
        call_data=call.call_data if call.HasField("call_data") else None,
        apply_to_fields=tuple(call.apply_to_fields),
        method_params=tuple(call.method_params),
    )


def _write_call(target: Any, call: MethodCall) -> None:
    target.method_name = call.method_name
    if call.call_data is not None:
        target.call_data = call.call_data
    target.apply_to_fields.extend(call.apply_to_fields)
    target.method_params.extend(call.method_params)


def _config_of(body: Any, subject: str, what: str) -> Any:
    if not body.HasField("config"):
        raise _shape_error(subject, f"{what} config is required but missing")
    return body.config


# --- triggers ---------------------------------------------------------------------------------

_TRIGGER_FIELDS: Final[Mapping[str, TriggerKind]] = {
    "manual": TriggerKind.MANUAL,
    "fixed_time": TriggerKind.FIXED_TIME,
    "cron": TriggerKind.CRON,
    "block": TriggerKind.BLOCK,
    "event": TriggerKind.EVENT,
}
_TRIGGER_FIELD_OF: Final = {kind: field for field, kind in _TRIGGER_FIELDS.items()}


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
    c = getattr(pb, _TRIGGER_FIELD_OF[trigger.kind]).config
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


# --- nodes ------------------------------------------------------------------------------------

_NODE_FIELDS: Final[Mapping[str, NodeKind]] = {
    "eth_transfer": NodeKind.ETH_TRANSFER,
    "contract_write": NodeKind.CONTRACT_WRITE,
    "contract_read": NodeKind.CONTRACT_READ,
    "graphql_query": NodeKind.GRAPHQL_QUERY,
    "rest_api": NodeKind.REST_API,
    "branch": NodeKind.BRANCH,
    "filter": NodeKind.FILTER,
    "loop": NodeKind.LOOP,
    "custom_code": NodeKind.CUSTOM_CODE,
    "balance": NodeKind.BALANCE,
}
_NODE_FIELD_OF: Final = {kind: field for field, kind in _NODE_FIELDS.items()}
_RUNNER_FIELDS: Final[Mapping[str, NodeKind]] = {
    "eth_transfer": NodeKind.ETH_TRANSFER,
    "contract_write": NodeKind.CONTRACT_WRITE,
    "contract_read": NodeKind.CONTRACT_READ,
    "graphql_data_query": NodeKind.GRAPHQL_QUERY,
    "rest_api": NodeKind.REST_API,
    "custom_code": NodeKind.CUSTOM_CODE,
}
_RUNNER_FIELD_OF: Final = {kind: field for field, kind in _RUNNER_FIELDS.items()}


def node_from_pb(pb: avs_pb2.TaskNode) -> Node:
    """The domain node of a ``TaskNode``.

    Raises:
        InvalidArgument: no ``task_type`` oneof (or a loop without ``runner``), a missing
            ``config``, a ``type`` naming another kind, an unknown enum number, or a ``Value``
            too deep.
    """
    subject = f"node '{pb.name}' (id '{pb.id}')"
    field = pb.WhichOneof("task_type")
    if field is None:
        raise _shape_error(subject, "node config is required (no task_type set)")
    kind = _NODE_FIELDS[field]
    if pb.type not in (0, kind):
        name = _type_name(avs_pb2.NodeType, pb.type)
        raise _shape_error(subject, f"type {name} does not match its {field} config")
    body = getattr(pb, field)
    config = _config_of(body, subject, field)
    if kind is NodeKind.LOOP:
        return Node(pb.id, pb.name, kind, _read_loop(body, config, subject))
    return Node(pb.id, pb.name, kind, _READERS[kind](config, subject))


def _read_loop(body: Any, c: Any, subject: str) -> LoopConfig:
    field = body.WhichOneof("runner")
    if field is None:
        raise _shape_error(subject, "loop runner is required (no runner set)")
    kind = _RUNNER_FIELDS[field]
    runner = _READERS[kind](
        _config_of(getattr(body, field), subject, f"loop runner {field}"), subject
    )
    return LoopConfig(
        input_variable=c.input_variable,
        iter_val=c.iter_val,
        iter_key=c.iter_key,
        execution_mode=_enum(ExecutionMode, c.execution_mode, subject, "execution_mode"),
        iteration_timeout=c.iteration_timeout,
        runner=LoopRunner(kind, runner),  # type: ignore[arg-type]  # runner kinds only
    )


def _abi(values: Any, subject: str) -> tuple[JsonValue, ...]:
    return tuple(value_to_json(v, where=f"{subject} contract_abi") for v in values)


_READERS: Final[Mapping[NodeKind, Callable[[Any, str], NodeConfig]]] = {
    NodeKind.ETH_TRANSFER: lambda c, s: EthTransferConfig(c.destination, c.amount),
    NodeKind.CONTRACT_WRITE: lambda c, s: ContractWriteConfig(
        contract_address=c.contract_address,
        call_data=c.call_data,
        contract_abi=_abi(c.contract_abi, s),
        method_calls=tuple(_read_call(call) for call in c.method_calls),
        is_simulated=c.is_simulated if c.HasField("is_simulated") else None,
        value=c.value if c.HasField("value") else None,
        gas_limit=c.gas_limit if c.HasField("gas_limit") else None,
    ),
    NodeKind.CONTRACT_READ: lambda c, s: ContractReadConfig(
        contract_address=c.contract_address,
        contract_abi=_abi(c.contract_abi, s),
        method_calls=tuple(_read_call(call) for call in c.method_calls),
    ),
    NodeKind.GRAPHQL_QUERY: lambda c, s: GraphQLQueryConfig(c.url, c.query, dict(c.variables)),
    NodeKind.REST_API: lambda c, s: RestApiConfig(
        url=c.url,
        headers=dict(c.headers),
        body=c.body,
        method=c.method,
        options=value_to_json(c.options, where=f"{s} options") if c.HasField("options") else None,
    ),
    NodeKind.CUSTOM_CODE: lambda c, s: CustomCodeConfig(_enum(Lang, c.lang, s, "lang"), c.source),
    NodeKind.BALANCE: lambda c, s: BalanceConfig(
        address=c.address,
        chain=c.chain,
        include_spam=c.include_spam,
        include_zero_balances=c.include_zero_balances,
        min_usd_value_cents=c.min_usd_value_cents,
        token_addresses=tuple(c.token_addresses),
    ),
    NodeKind.BRANCH: lambda c, s: BranchConfig(
        tuple(BranchCondition(x.id, x.type, x.expression) for x in c.conditions)
    ),
    NodeKind.FILTER: lambda c, s: FilterConfig(c.expression, c.input_variable),
}


def node_to_pb(node: Node) -> avs_pb2.TaskNode:
    """The ``TaskNode`` of a domain node (``type`` and the oneof both set)."""
    pb = avs_pb2.TaskNode(id=node.id, name=node.name, type=node.kind.wire_name)
    body = getattr(pb, _NODE_FIELD_OF[node.kind])
    body.config.SetInParent()
    config = node.config
    if isinstance(config, LoopConfig):
        c = body.config
        c.input_variable = config.input_variable
        c.iter_val = config.iter_val
        c.iter_key = config.iter_key
        c.execution_mode = int(config.execution_mode)
        c.iteration_timeout = config.iteration_timeout
        runner = getattr(body, _RUNNER_FIELD_OF[config.runner.kind])
        runner.config.SetInParent()
        _write_config(runner.config, config.runner.config)
    else:
        _write_config(body.config, config)
    return pb


def _write_config(c: Any, config: NodeConfig) -> None:
    if isinstance(config, EthTransferConfig):
        c.destination, c.amount = config.destination, config.amount
    elif isinstance(config, ContractWriteConfig | ContractReadConfig):
        c.contract_address = config.contract_address
        _write_values(c.contract_abi, config.contract_abi, "contract_abi")
        for call in config.method_calls:
            _write_call(c.method_calls.add(), call)
        if isinstance(config, ContractWriteConfig):
            c.call_data = config.call_data
            for name in ("is_simulated", "value", "gas_limit"):
                if getattr(config, name) is not None:
                    setattr(c, name, getattr(config, name))
    elif isinstance(config, GraphQLQueryConfig):
        c.url, c.query = config.url, config.query
        c.variables.update(config.variables)
    elif isinstance(config, RestApiConfig):
        c.url, c.body, c.method = config.url, config.body, config.method
        c.headers.update(config.headers)
        if config.options is not None:
            _fill_value(c.options, config.options, "options", 0)
    elif isinstance(config, CustomCodeConfig):
        c.lang, c.source = int(config.lang), config.source
    elif isinstance(config, BalanceConfig):
        c.address, c.chain = config.address, config.chain
        c.include_spam = config.include_spam
        c.include_zero_balances = config.include_zero_balances
        c.min_usd_value_cents = config.min_usd_value_cents
        c.token_addresses.extend(config.token_addresses)
    elif isinstance(config, BranchConfig):
        for cond in config.conditions:
            c.conditions.add(id=cond.id, type=cond.type, expression=cond.expression)
    elif isinstance(config, FilterConfig):
        c.expression, c.input_variable = config.expression, config.input_variable


def edge_from_pb(pb: avs_pb2.TaskEdge) -> Edge:
    """The domain edge of a ``TaskEdge`` (never fails)."""
    return Edge(pb.id, pb.source, pb.target)


def edge_to_pb(edge: Edge) -> avs_pb2.TaskEdge:
    """The ``TaskEdge`` of a domain edge."""
    return avs_pb2.TaskEdge(id=edge.id, source=edge.source, target=edge.target)


# --- workflows --------------------------------------------------------------------------------


def workflow_from_create_req(req: avs_pb2.CreateTaskReq) -> WorkflowDraft:
    """The unvalidated draft of a ``CreateTaskReq``.

    Raises:
        InvalidArgument: a trigger or node does not have the shape of a domain value (see the
            module docstring), or an input variable is too deep.
    """
    return WorkflowDraft(
        trigger=trigger_from_pb(req.trigger) if req.HasField("trigger") else None,
        nodes=tuple(node_from_pb(node) for node in req.nodes),
        edges=tuple(edge_from_pb(edge) for edge in req.edges),
        start_at=req.start_at,
        expired_at=req.expired_at,
        max_execution=req.max_execution,
        smart_wallet_address=req.smart_wallet_address,
        name=req.name,
        input_variables=_read_map(req.input_variables, "input_variables"),
    )


def workflow_to_pb(
    wf: Workflow,
    *,
    include_nodes: bool = True,
    include_edges: bool = True,
    include_input_variables: bool = True,
) -> avs_pb2.Task:
    """The ``Task`` message of a workflow; list items leave out nodes, edges or variables."""
    pb = avs_pb2.Task(
        id=wf.id,
        owner=wf.owner,
        smart_wallet_address=wf.smart_wallet_address,
        start_at=wf.start_at,
        expired_at=wf.expired_at,
        name=wf.name,
        completed_at=wf.completed_at,
        max_execution=wf.max_execution,
        execution_count=wf.execution_count,
        last_ran_at=wf.last_ran_at,
        status=wf.status.wire_name,
        trigger=trigger_to_pb(wf.trigger),
    )
    if include_nodes:
        pb.nodes.extend(node_to_pb(node) for node in wf.nodes)
    if include_edges:
        pb.edges.extend(edge_to_pb(edge) for edge in wf.edges)
    if include_input_variables:
        for key, value in wf.input_variables.items():
            _fill_value(pb.input_variables[key], value, f"input_variables.{key}", 0)
    return pb


def _type_name(enum: Any, number: int) -> str:
    try:
        return str(enum.Name(number))
    except ValueError:
        return str(number)
