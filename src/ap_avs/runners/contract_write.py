"""The contract-write node: method calls sent from the runner's smart wallet as ONE UserOp,
or simulated against the chain without sending anything (PROTOCOL §7.8, §7.9; LESSONS 24).

Rules:

* ``contract_address`` (templated) and ``method_calls`` (or the node's ``call_data``) are
  required; calls are encoded as for contract reads. ``value`` (templated wei) goes with
  every call; ``gas_limit`` raises the UserOp's call gas limit.
* The wallet is ``settings.runner``, which must belong to the run's owner; it is checked
  first (§7.10 messages), before the config.
* Simulation: the run is simulated (``ctx.simulated``: RunNodeWithInputs, SimulateTask) or the
  node says ``is_simulated: true``. A simulated run NEVER sends: each call runs from the
  wallet with ``debug_traceCall`` (or ``eth_call`` + ``eth_estimateGas``) on the latest
  block, independently of the others. The result is marked: ``execution_context`` is
  ``{is_simulated: true, provider: "tenderly", chain_id}`` (upstream's literal strings, which
  clients read; the tool actually used, ``debug_traceCall`` or ``eth_call``, is in the log),
  ``simulated: true`` in the metadata, and gas figures that are estimates.
* Real: one UserOp: ``execute`` for one call, ``executeBatch`` for several, or
  ``executeBatchWithValues`` when several carry value; the paymaster sponsors it when one is
  configured. The step waits for the receipt.
* Output ``{<methodName>: <decoded events of the contract> | <return value> | true}``: one
  event gives its fields, several give ``{<EventName>: fields}`` (a list when repeated).
  Events are attributed to each call through ``debug_traceTransaction`` when the node offers
  it, else every call gets the events its contract emitted in the operation.
* Metadata ``[{methodName, success, error, methodABI, receipt, blockNumber, value,
  transactionHash, userOpHash}]``; gas fields from the receipt (actual gas used and cost).

Fails with the contract-read config messages, the §7.10 settings messages, the bundler's
short messages (``Insufficient ETH balance for gas fees`` …), ``<m> would revert: …`` (simulated),
``transaction reverted on chain: …`` (real).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ap_avs.chain import aa
from ap_avs.chain.userops import SmartWallet
from ap_avs.domain.nodes import ContractWriteConfig, MethodCall, Node
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ErrorCode
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.abi import AbiEntry, decode_logs, decode_result, parse_abi
from ap_avs.runners.base import (
    MISSING_REQUIRED_FIELD,
    SIMULATION_PROVIDER,
    NodeFailure,
    NodeResult,
    RunContext,
    Runner,
    StepLedger,
)
from ap_avs.runners.contract_read import PlannedCall, plan_calls
from ap_avs.runners.onchain import (
    CallOutcome,
    ChainDeps,
    execution_context,
    gas_fields,
    gas_price,
    outcome_of_frame,
    parse_wei,
    receipt_json,
    render_address,
    runner_wallet,
    send_user_op,
    simulate_call,
    trace_frames,
)

NODE_TYPE = "contractWrite"


def method_value(
    call: PlannedCall,
    target: str,
    abi: Sequence[AbiEntry],
    logs: Sequence[Mapping[str, Any]],
    output: bytes,
) -> JsonValue:
    """What a call produced: its contract's decoded events, else its return value, else true."""
    mine = [log for log in logs if str(log.get("address", "")).lower() == target.lower()]
    events = decode_logs(abi, mine)
    if len(events) == 1:
        return dict(events[0].fields)
    if events:
        grouped: dict[str, JsonValue] = {}
        for event in events:
            previous = grouped.get(event.name)
            if previous is None:
                grouped[event.name] = dict(event.fields)
            elif isinstance(previous, list):
                previous.append(dict(event.fields))
            else:
                grouped[event.name] = [previous, dict(event.fields)]
        return grouped
    if call.fn is not None and output:
        try:
            value = decode_result(call.fn, output)
        except NodeFailure:
            value = None
        if value is not None:
            return value
    return True


def account_call_data(target: str, value: int, calls: Sequence[PlannedCall]) -> bytes:
    """The smart account call executing ``calls`` on ``target``, each with ``value``."""
    if len(calls) == 1:
        return aa.execute_calldata(target, value, calls[0].data)
    targets = [target] * len(calls)
    if value:
        return aa.execute_batch_with_values_calldata(
            targets, [value] * len(calls), [c.data for c in calls]
        )
    return aa.execute_batch_calldata(targets, [c.data for c in calls])


async def planned_write(
    config: ContractWriteConfig, ctx: RunContext
) -> tuple[str, list[AbiEntry], list[PlannedCall], int]:
    """Target, ABI, encoded calls and value of a contract-write config (templates rendered).

    Raises:
        NodeFailure: a missing or malformed field.
    """
    if not config.contract_address.strip():
        raise NodeFailure("contract address is required", error_code=MISSING_REQUIRED_FIELD)
    abi = parse_abi(config.contract_abi)
    if config.method_calls:
        calls = await plan_calls(config.method_calls, abi, ctx)
    elif config.call_data.strip():
        calls = await plan_calls([MethodCall(call_data=config.call_data)], abi, ctx)
    else:
        raise NodeFailure(
            "at least one method call (or callData) is required",
            error_code=MISSING_REQUIRED_FIELD,
        )
    target = await render_address(ctx, config.contract_address, label="contract address")
    value = 0
    if config.value is not None and config.value.strip():
        value = parse_wei(await ctx.render(config.value, where="value"), label="value")
    return target, abi, calls, value


def _metadata(
    call: PlannedCall, success: bool, error: str, value: JsonValue, **extra: JsonValue
) -> dict[str, JsonValue]:
    entry: dict[str, JsonValue] = {
        "methodName": call.method_name,
        "success": success,
        "error": error,
        "methodABI": dict(call.fn) if call.fn is not None else None,
        "value": value,
    }
    entry.update(extra)
    return entry


async def _simulate(
    deps: ChainDeps,
    wallet: SmartWallet,
    target: str,
    abi: Sequence[AbiEntry],
    calls: Sequence[PlannedCall],
    value: int,
) -> NodeResult:
    outcomes: list[CallOutcome] = [
        await simulate_call(deps.chain, wallet.address, target, value, call.data) for call in calls
    ]
    output: dict[str, JsonValue] = {}
    metadata: list[JsonValue] = []
    errors: list[str] = []
    for call, outcome in zip(calls, outcomes, strict=True):
        result: JsonValue = None
        if outcome.success:
            result = method_value(call, target, abi, outcome.logs, outcome.output)
            output[call.method_name] = result
        else:
            errors.append(f"{call.method_name} would revert: {outcome.error}")
        metadata.append(
            _metadata(
                call,
                outcome.success,
                outcome.error,
                result,
                receipt=None,
                blockNumber=None,
                simulated=True,
                gasEstimate=str(outcome.gas_used),
            )
        )
    gas = sum(o.gas_used for o in outcomes)
    price = await gas_price(deps.chain)
    provider = "debug_traceCall" if all(o.traced for o in outcomes) else "eth_call"
    return NodeResult(
        not errors,
        output=output,
        error="; ".join(errors),
        error_code=0 if not errors else ErrorCode.SIMULATION_ERROR,
        log=f"simulated {len(calls)} call(s) from {wallet.address} with {provider}; "
        "nothing was sent",
        metadata=metadata,
        execution_context=execution_context(deps, simulated=True, provider=SIMULATION_PROVIDER),
        gas_used=str(gas),
        gas_price=str(price),
        total_gas_cost=str(gas * price),
    )


async def _send(
    deps: ChainDeps,
    wallet: SmartWallet,
    target: str,
    abi: Sequence[AbiEntry],
    calls: Sequence[PlannedCall],
    value: int,
    gas_limit: int | None,
    step: StepLedger | None,
) -> NodeResult:
    sent = await send_user_op(
        deps, wallet, account_call_data(target, value, calls), call_gas_limit=gas_limit, step=step
    )
    receipt = sent.receipt
    assert receipt is not None  # send_user_op fails without one
    frames = await trace_frames(deps, receipt, wallet.address)
    matched: list[CallOutcome | None] = []
    remaining = list(frames or [])
    for call in calls:
        wanted = "0x" + call.data.hex()
        index = next(
            (
                i
                for i, f in enumerate(remaining)
                if str(f.get("to", "")).lower() == target.lower()
                and str(f.get("input", "")).lower() == wanted
            ),
            None,
        )
        matched.append(outcome_of_frame(remaining.pop(index)) if index is not None else None)
    output: dict[str, JsonValue] = {}
    metadata: list[JsonValue] = []
    shared: dict[str, JsonValue] = {
        "receipt": receipt_json(receipt),
        "blockNumber": receipt.block_number,
        "transactionHash": receipt.transaction_hash,
        "userOpHash": sent.user_op_hash,
    }
    for call, outcome in zip(calls, matched, strict=True):
        ok = receipt.success if outcome is None else outcome.success
        logs = receipt.logs if outcome is None else outcome.logs
        result = method_value(call, target, abi, logs, outcome.output if outcome else b"")
        if ok:
            output[call.method_name] = result
        error = "" if ok else (outcome.error if outcome else receipt.reason or "reverted")
        metadata.append(_metadata(call, ok, error, result if ok else None, **shared))
    used, price, total = gas_fields(receipt)
    log = (
        f"UserOp {sent.user_op_hash} included in transaction {receipt.transaction_hash} "
        f"(block {receipt.block_number}) after {sent.seconds:.2f} s"
    )
    context = execution_context(deps, simulated=False, provider="chain_rpc")
    if not receipt.success:
        reason = next((str(m["error"]) for m in metadata if isinstance(m, dict) and m["error"]), "")
        return NodeResult(
            False,
            output=output,
            error=f"transaction reverted on chain: {reason or receipt.reason or 'reverted'}",
            error_code=ErrorCode.INVALID_REQUEST,
            log=log,
            metadata=metadata,
            execution_context=context,
            gas_used=used,
            gas_price=price,
            total_gas_cost=total,
        )
    return NodeResult(
        True,
        output=output,
        log=log,
        metadata=metadata,
        execution_context=context,
        gas_used=used,
        gas_price=price,
        total_gas_cost=total,
    )


async def write_contract(
    deps: ChainDeps, config: ContractWriteConfig, ctx: RunContext
) -> NodeResult:
    """Run a contract-write config (also used for loop iterations)."""
    wallet = await runner_wallet(NODE_TYPE, ctx, deps)
    target, abi, calls, value = await planned_write(config, ctx)
    gas_limit = None
    if config.gas_limit is not None and config.gas_limit.strip():
        gas_limit = parse_wei(
            await ctx.render(config.gas_limit, where="gasLimit"), label="gasLimit"
        )
    if ctx.simulated or config.is_simulated is True:
        return await _simulate(deps, wallet, target, abi, calls, value)
    return await _send(deps, wallet, target, abi, calls, value, gas_limit, ctx.step)


def make_runner(deps: ChainDeps) -> Runner:
    """The contract-write runner bound to ``deps``."""

    @reporting_failures
    async def run(node: Node, ctx: RunContext) -> NodeResult:
        return await write_contract(deps, config_of(node, ContractWriteConfig), ctx)

    return run
