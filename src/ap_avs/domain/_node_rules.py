"""Validation of each node kind's config (upstream checked these only at run time).

One rule per built-in config type in :data:`_RULES`, used through the kinds' registration in
:mod:`ap_avs.domain.node_kinds` (which also checks the text limits); a loop's runner goes
through the same rule as a top-level node of its kind (LESSONS.md 22). Values holding a
template (``{{ … }}``) are only known at run time, so format checks (address, amount, URL)
accept them; their template syntax is still checked.

Raises :class:`~ap_avs.errors.InvalidArgument`, naming the node by name and id, and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from ap_avs.domain._checks import (
    address_or_template,
    has_template,
    is_decimal,
    is_hex_data,
    is_http_url,
    method_call_problems,
)
from ap_avs.domain._limits import WorkflowLimits
from ap_avs.domain.names import identifier_problem
from ap_avs.domain.nodes import (
    BalanceConfig,
    BranchConfig,
    ContractReadConfig,
    ContractWriteConfig,
    CustomCodeConfig,
    EthTransferConfig,
    FilterConfig,
    GraphQLQueryConfig,
    Lang,
    LoopConfig,
    MethodCall,
    RestApiConfig,
)
from ap_avs.domain.values import JsonValue

HTTP_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
BALANCE_CHAINS: Final = frozenset(
    {
        *("ethereum", "eth", "1", "0x1"),
        *("sepolia", "11155111", "0xaa36a7"),
        *("base", "8453", "0x2105"),
        *("base-sepolia", "base sepolia", "basesepolia", "84532", "0x14a34"),
        *("bsc", "binance", "56", "0x38"),
    }
)
"""Chain names and ids the balance runner knows (PROTOCOL.md §7.8), compared in lower case."""


def config_problems(config: object, limits: WorkflowLimits) -> Iterator[str]:
    """The problems of a built-in kind's config (its text limits are checked apart)."""
    rule = _RULES[type(config)]
    yield from rule(config, limits)


def _eth_transfer(config: EthTransferConfig, _: WorkflowLimits) -> Iterator[str]:
    if not config.destination:
        yield "destination is required"
    elif not address_or_template(config.destination):
        yield f"destination '{config.destination}' is not a hex address"
    if not config.amount:
        yield "amount is required"
    elif not (is_decimal(config.amount) or config.amount == "MAX" or has_template(config.amount)):
        yield f"amount '{config.amount}' must be wei as a decimal integer, or MAX"


def _contract_write(config: ContractWriteConfig, _: WorkflowLimits) -> Iterator[str]:
    yield from _contract_address(config.contract_address)
    if config.call_data and not (is_hex_data(config.call_data) or has_template(config.call_data)):
        yield "call_data must be 0x-prefixed hex bytes"
    if not config.method_calls and not config.call_data:
        yield "method_calls (or call_data) is required"
    yield from _calls_and_abi(config.method_calls, config.contract_abi, abi_required=False)
    for name, amount in (("value", config.value), ("gas_limit", config.gas_limit)):
        if amount and not (is_decimal(amount) or has_template(amount)):
            yield f"{name} '{amount}' must be a decimal integer"


def _contract_read(config: ContractReadConfig, _: WorkflowLimits) -> Iterator[str]:
    yield from _contract_address(config.contract_address)
    if not config.method_calls:
        yield "at least one method call is required"
    yield from _calls_and_abi(config.method_calls, config.contract_abi, abi_required=True)


def _contract_address(address: str) -> Iterator[str]:
    if not address:
        yield "contract_address is required"
    elif not address_or_template(address):
        yield f"contract_address '{address}' is not a hex address"


def _calls_and_abi(
    calls: tuple[MethodCall, ...], abi: tuple[JsonValue, ...], *, abi_required: bool
) -> Iterator[str]:
    for index, call in enumerate(calls):
        yield from method_call_problems(f"method_calls[{index}]", call)
    for index, entry in enumerate(abi):
        if not isinstance(entry, dict):
            yield f"contract_abi[{index}] must be a JSON object"
    if not abi and abi_required:
        yield "contract_abi is required to decode the results"
    if not abi and any(not call.call_data for call in calls):
        yield "contract_abi is required to encode a call given by method_name"


def _graphql(config: GraphQLQueryConfig, _: WorkflowLimits) -> Iterator[str]:
    yield from _url(config.url)
    if not config.query.strip():
        yield "query is required"


def _rest_api(config: RestApiConfig, _: WorkflowLimits) -> Iterator[str]:
    yield from _url(config.url)
    method = config.method.upper()
    if method and method not in HTTP_METHODS and not has_template(method):
        yield f"method '{config.method}' must be one of " + ", ".join(sorted(HTTP_METHODS))
    if any(not name for name in config.headers):
        yield "header names must not be empty"
    if config.options is not None and not isinstance(config.options, dict):
        yield "options must be a JSON object"


def _url(url: str) -> Iterator[str]:
    if not url:
        yield "url is required"
    elif not (is_http_url(url) or url.startswith("{{")):
        yield f"url '{url}' must start with http:// or https://"


def _custom_code(config: CustomCodeConfig, _: WorkflowLimits) -> Iterator[str]:
    if config.lang not in (Lang.JAVASCRIPT, Lang.UNSPECIFIED):
        yield f"lang {config.lang.name} is not supported; custom code is JavaScript"
    if not config.source.strip():
        yield "source is required"


def _balance(config: BalanceConfig, _: WorkflowLimits) -> Iterator[str]:
    if not config.address:
        yield "address is required"
    elif not address_or_template(config.address):
        yield f"address '{config.address}' is not a hex address"
    if not config.chain:
        yield "chain is required"
    elif config.chain.lower() not in BALANCE_CHAINS and not has_template(config.chain):
        yield f"chain '{config.chain}' is not supported"
    if config.min_usd_value_cents < 0:
        yield "min_usd_value_cents must not be negative"
    for index, token in enumerate(config.token_addresses):
        if not address_or_template(token):
            yield f"token_addresses[{index}] '{token}' is not a hex address"


def _branch(config: BranchConfig, _: WorkflowLimits) -> Iterator[str]:
    conditions = config.conditions
    if not conditions:
        yield "at least one condition is required"
        return
    if conditions[0].type != "if":
        yield f"the first condition must be of type 'if', not '{conditions[0].type}'"
    seen: set[str] = set()
    for index, condition in enumerate(conditions):
        where = f"conditions[{index}]"
        if not condition.id:
            yield f"{where}.id is required"
        elif condition.id in seen:
            yield f"{where}.id '{condition.id}' is used twice"
        seen.add(condition.id)
        if condition.type not in ("if", "else"):
            yield f"{where}.type '{condition.type}' must be 'if' or 'else'"
        if condition.type == "else" and index != len(conditions) - 1:
            yield f"{where} is an 'else' but not the last condition"
        if condition.type == "if" and not condition.expression.strip():
            yield f"{where}.expression is required"


def _filter(config: FilterConfig, _: WorkflowLimits) -> Iterator[str]:
    if not config.expression.strip():
        yield "expression is required"
    if not config.input_variable.strip():
        yield "input_variable is required"


def _loop(config: LoopConfig, limits: WorkflowLimits) -> Iterator[str]:
    if not config.input_variable.strip():
        yield "input_variable is required"
    if not config.iter_val:
        yield "iter_val is required"
    for name, value in (("iter_val", config.iter_val), ("iter_key", config.iter_key)):
        problem = identifier_problem(value) if value else None
        if problem is not None:
            yield f"{name} '{value}' is not a valid JavaScript identifier - {problem}"
    if config.iter_key and config.iter_key == config.iter_val:
        yield "iter_key and iter_val must differ"
    if config.iteration_timeout > limits.max_loop_iteration_timeout_seconds:
        yield (
            f"iteration_timeout {config.iteration_timeout} s exceeds the maximum of "
            f"{limits.max_loop_iteration_timeout_seconds} s"
        )
    for problem in config_problems(config.runner.config, limits):
        yield f"loop runner ({config.runner.kind.name.lower()}): {problem}"


_RULES: Final[Mapping[type, Callable[[Any, WorkflowLimits], Iterator[str]]]] = {
    EthTransferConfig: _eth_transfer,
    ContractWriteConfig: _contract_write,
    ContractReadConfig: _contract_read,
    GraphQLQueryConfig: _graphql,
    RestApiConfig: _rest_api,
    CustomCodeConfig: _custom_code,
    BalanceConfig: _balance,
    BranchConfig: _branch,
    FilterConfig: _filter,
    LoopConfig: _loop,
}
