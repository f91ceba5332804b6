"""Nodes and edges between the wire and the domain."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

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
    Node,
    NodeConfig,
    NodeKind,
    RestApiConfig,
)
from ap_avs.domain.values import JsonValue
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
    """The ``TaskNode`` of a domain node (``type`` and the oneof both set).

    Raises:
        TypeError: the node's kind is not a wire ``NodeType`` (an extra kind; a programming
            error: such kinds never reach the wire).
    """
    if not isinstance(node.kind, NodeKind):
        raise TypeError(f"node kind {node.kind.name} has no wire form")
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
