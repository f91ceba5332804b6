"""The contract-read node: view calls encoded from the ABI, ``eth_call``, named results
(PROTOCOL §7.8).

Rules:

* ``contract_address`` (templated) and at least one method call are required; the ABI is
  required unless every call gives raw ``call_data``. Each call is ``call_data`` (templated
  hex) or ``method_name`` + templated ``method_params`` encoded with the ABI (a full
  signature such as ``balanceOf(address)`` picks one overload).
* Output ``{<methodName>: <value> | {<field>: <value>}}``: one output gives the value, several
  give an object of named fields. Calls without an ABI function give the raw 0x-hex result.
* ``apply_to_fields`` formats amounts with the token's decimals and keeps the raw value beside
  it as ``<field>Raw`` (LESSONS 19). On a ``decimals`` call it names the targets
  (``method.field``, ``method`` or ``field``); on any other call it names that call's own
  fields (or the method itself) and the contract's ``decimals()`` is read when the node has
  no ``decimals`` call.
* Step metadata: ``[{methodName, success, error, value}]`` with the unformatted values.
  Any failed call fails the step; the other results stay in the output.

Fails with: ``contract address is required``, ``at least one method call is required``,
``contract ABI is required`` (MISSING_REQUIRED_FIELD); ``invalid contract address: …``;
``method <m> not found in the contract ABI``; ``<m>: execution reverted …``; RPC errors
(RPC_NODE_ERROR).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from ap_avs.chain import CallReverted, selector
from ap_avs.domain.erc20 import format_units
from ap_avs.domain.nodes import ContractReadConfig, MethodCall, Node
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ApAvsError, ErrorCode
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.abi import (
    AbiEntry,
    decode_result,
    encode_call,
    find_function,
    function_for_selector,
    parse_abi,
)
from ap_avs.runners.base import (
    INVALID_NODE_CONFIG,
    MISSING_REQUIRED_FIELD,
    RPC_NODE_ERROR,
    NodeFailure,
    NodeResult,
    RunContext,
    Runner,
)
from ap_avs.runners.onchain import ChainDeps, execution_context, render_address


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One method call, encoded."""

    method_name: str
    fn: AbiEntry | None
    data: bytes
    apply_to_fields: tuple[str, ...] = ()


async def plan_calls(
    calls: Sequence[MethodCall], abi: Sequence[AbiEntry], ctx: RunContext
) -> list[PlannedCall]:
    """Encode every method call (templates rendered).

    Raises:
        NodeFailure: a call that names no method and gives no call data, an unknown method,
            bad parameters, or call data that is not hex.
    """
    planned: list[PlannedCall] = []
    for index, call in enumerate(calls):
        name = call.method_name.strip()
        if call.call_data and call.call_data.strip():
            text = (await ctx.render(call.call_data, where=f"method call {index} callData")).strip()
            try:
                data = bytes.fromhex(text.removeprefix("0x"))
            except ValueError:
                raise NodeFailure(
                    f"callData of method call {index} is not hex: {text!r}",
                    error_code=INVALID_NODE_CONFIG,
                ) from None
            fn = function_for_selector(abi, data)
            if name and fn is None and abi:
                fn = find_function(abi, name)
            name = name or (str(fn.get("name")) if fn else f"call{index}")
        elif name:
            params = [
                await ctx.render(p, where=f"{name} parameter {i}")
                for i, p in enumerate(call.method_params)
            ]
            fn = find_function(abi, name, arity=len(params))
            data = encode_call(fn, params)
            name = str(fn.get("name"))
        else:
            raise NodeFailure(
                f"method call {index} needs a methodName or callData",
                error_code=MISSING_REQUIRED_FIELD,
            )
        planned.append(PlannedCall(name, fn, data, tuple(call.apply_to_fields)))
    return planned


@dataclass(slots=True)
class _Read:
    call: PlannedCall
    success: bool
    value: JsonValue = None
    error: str = ""
    error_code: int = 0


async def _read(deps: ChainDeps, address: str, call: PlannedCall) -> _Read:
    try:
        raw = await deps.chain.eth_call(address, call.data)
    except CallReverted as exc:
        return _Read(call, False, error=f"{call.method_name}: {exc.message}")
    except ApAvsError as exc:
        return _Read(
            call, False, error=f"{call.method_name}: {exc.message}", error_code=RPC_NODE_ERROR
        )
    if call.fn is None:
        return _Read(call, True, "0x" + raw.hex())
    if not raw and call.fn.get("outputs"):
        return _Read(call, False, error=f"{call.method_name}: the contract returned no data")
    try:
        return _Read(call, True, decode_result(call.fn, raw))
    except NodeFailure as failure:
        return _Read(call, False, error=f"{call.method_name}: {failure.message}")


def _targets(reads: Sequence[_Read]) -> tuple[list[str], list[tuple[str, str]]]:
    """Targets named on ``decimals`` calls, and (method, field) pairs named on other calls."""
    on_decimals: list[str] = []
    own: list[tuple[str, str]] = []
    for read in reads:
        if read.call.method_name == "decimals":
            on_decimals.extend(read.call.apply_to_fields)
        else:
            own.extend((read.call.method_name, field) for field in read.call.apply_to_fields)
    return on_decimals, own


def _format(output: dict[str, JsonValue], method: str, field: str, decimals: int) -> None:
    """Format ``output[method][field]`` (or ``output[method]`` when field is the method)."""
    value = output.get(method)
    holder: dict[str, JsonValue]
    if isinstance(value, dict) and field in value:
        holder, key = value, field
    elif field in ("", method) and not isinstance(value, dict | list):
        holder, key = output, method
    else:
        return
    raw = holder[key]
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return
    try:
        number = int(raw)
    except ValueError:
        return
    holder[key] = format_units(number, decimals)
    holder[f"{key}Raw"] = str(number)


async def _decimals(deps: ChainDeps, address: str, reads: Sequence[_Read]) -> int:
    for read in reads:
        if read.call.method_name == "decimals" and read.success:
            return int(str(read.value))
    try:
        raw = await deps.chain.eth_call(address, selector("decimals()"))
        return int.from_bytes(raw[:32], "big")
    except ApAvsError as exc:
        raise NodeFailure(
            f"apply_to_fields needs the token's decimals(): {exc.message}",
            error_code=RPC_NODE_ERROR,
        ) from None


async def _apply_decimals(
    deps: ChainDeps, address: str, reads: Sequence[_Read], output: dict[str, JsonValue]
) -> None:
    on_decimals, own = _targets(reads)
    if not on_decimals and not own:
        return
    decimals = await _decimals(deps, address, reads)
    pairs = list(own)
    for target in on_decimals:
        method, _, field = target.partition(".")
        if field:
            pairs.append((method, field))
        elif method in output:
            pairs.append((method, method))
        else:
            pairs.extend((m, method) for m, v in output.items() if isinstance(v, dict))
    for method, field in pairs:
        _format(output, method, field, decimals)


async def read_contract(deps: ChainDeps, config: ContractReadConfig, ctx: RunContext) -> NodeResult:
    """Run a contract-read config (also used for loop iterations)."""
    if not config.contract_address.strip():
        raise NodeFailure("contract address is required", error_code=MISSING_REQUIRED_FIELD)
    if not config.method_calls:
        raise NodeFailure("at least one method call is required", error_code=MISSING_REQUIRED_FIELD)
    abi = parse_abi(config.contract_abi)
    if not abi and any(not (c.call_data or "").strip() for c in config.method_calls):
        raise NodeFailure("contract ABI is required", error_code=MISSING_REQUIRED_FIELD)
    address = await render_address(ctx, config.contract_address, label="contract address")
    calls = await plan_calls(config.method_calls, abi, ctx)
    reads = await asyncio.gather(*(_read(deps, address, call) for call in calls))
    output: dict[str, JsonValue] = {r.call.method_name: r.value for r in reads if r.success}
    metadata: list[JsonValue] = [
        {
            "methodName": r.call.method_name,
            "success": r.success,
            "error": r.error,
            "value": r.value,
        }
        for r in reads
    ]
    context = execution_context(deps, simulated=False, provider="chain_rpc")
    failures = [r for r in reads if not r.success]
    if failures:
        return NodeResult(
            False,
            output=output,
            error="; ".join(r.error for r in failures),
            error_code=next(
                (r.error_code for r in failures if r.error_code), ErrorCode.INVALID_REQUEST
            ),
            metadata=metadata,
            execution_context=context,
        )
    await _apply_decimals(deps, address, reads, output)
    return NodeResult(True, output=output, metadata=metadata, execution_context=context)


def make_runner(deps: ChainDeps) -> Runner:
    """The contract-read runner bound to ``deps``."""

    @reporting_failures
    async def run(node: Node, ctx: RunContext) -> NodeResult:
        return await read_contract(deps, config_of(node, ContractReadConfig), ctx)

    return run
