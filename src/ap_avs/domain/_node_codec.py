"""The stored JSON of the built-in node kinds' configs (pure; used through their registration in
:mod:`ap_avs.domain.node_kinds`, and by the trigger codec for method calls).

Raises :class:`~ap_avs.errors.CorruptDataError` (via the reader) for a config that does not decode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from ap_avs.domain._json_reader import Reader as _Reader
from ap_avs.domain.nodes import (
    BalanceConfig,
    BranchCondition,
    BranchConfig,
    ContractReadConfig,
    ContractWriteConfig,
    CustomCodeConfig,
    EthTransferConfig,
    ExecutionMode,
    ExtraConfig,
    FilterConfig,
    GraphQLQueryConfig,
    Lang,
    LoopConfig,
    LoopRunner,
    MethodCall,
    NodeConfig,
    NodeKind,
    RestApiConfig,
)
from ap_avs.domain.values import JsonValue


def drop_none(fields: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {key: value for key, value in fields.items() if value is not None}


def call_to_json(call: MethodCall) -> JsonValue:
    return drop_none(
        {
            "methodName": call.method_name,
            "callData": call.call_data,
            "applyToFields": list(call.apply_to_fields),
            "methodParams": list(call.method_params),
        }
    )


def config_to_json(config: NodeConfig) -> JsonValue:
    """The stored JSON of a built-in kind's config."""
    return _node_config(config)


def config_from_json(kind: NodeKind, data: JsonValue) -> NodeConfig:
    """The config of a built-in ``kind`` stored as ``data``."""
    return _NODE_DECODERS[kind](_Reader(data, "node.config"))


def _config(config: NodeConfig) -> dict[str, JsonValue]:
    """``{"config": …}``, the stored JSON of a node config."""
    return {"config": _node_config(config)}


def _node_config(config: NodeConfig) -> JsonValue:
    if isinstance(config, EthTransferConfig):
        return {"destination": config.destination, "amount": config.amount}
    if isinstance(config, ContractWriteConfig):
        return drop_none(
            {
                "contractAddress": config.contract_address,
                "callData": config.call_data,
                "contractAbi": list(config.contract_abi),
                "methodCalls": [call_to_json(call) for call in config.method_calls],
                "isSimulated": config.is_simulated,
                "value": config.value,
                "gasLimit": config.gas_limit,
            }
        )
    if isinstance(config, ContractReadConfig):
        return {
            "contractAddress": config.contract_address,
            "contractAbi": list(config.contract_abi),
            "methodCalls": [call_to_json(call) for call in config.method_calls],
        }
    if isinstance(config, GraphQLQueryConfig):
        return {"url": config.url, "query": config.query, "variables": dict(config.variables)}
    if isinstance(config, RestApiConfig):
        return drop_none(
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
    if isinstance(config, ExtraConfig):
        raise TypeError(f"{type(config).__name__} is not a built-in node config")
    return {
        "inputVariable": config.input_variable,
        "iterVal": config.iter_val,
        "iterKey": config.iter_key,
        "executionMode": config.execution_mode.name,
        "iterationTimeout": config.iteration_timeout,
        "runner": {"kind": config.runner.kind.name, **_config(config.runner.config)},
    }


def method_calls_from_json(r: _Reader, key: str = "methodCalls") -> tuple[MethodCall, ...]:
    return tuple(
        MethodCall(
            method_name=c.text("methodName", ""),
            call_data=c.optional("callData", c.text),
            apply_to_fields=c.texts("applyToFields"),
            method_params=c.texts("methodParams"),
        )
        for c in r.readers(key)
    )


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
        method_calls=method_calls_from_json(r),
        is_simulated=r.optional("isSimulated", r.flag),
        value=r.optional("value", r.text),
        gas_limit=r.optional("gasLimit", r.text),
    ),
    NodeKind.CONTRACT_READ: lambda r: ContractReadConfig(
        contract_address=r.text("contractAddress"),
        contract_abi=tuple(r.array("contractAbi")),
        method_calls=method_calls_from_json(r),
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
