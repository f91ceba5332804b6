"""The ETH-transfer node: send native token from the runner's smart wallet as a UserOp
``execute(destination, amount, 0x)``, or simulate it without sending (PROTOCOL §7.8).

Rules:

* ``destination`` (templated address) and ``amount`` (templated wei, or ``MAX``) are required.
* ``MAX`` is the wallet's whole balance; it needs a paymaster (the wallet keeps nothing for
  gas). A zero balance fails with ``wallet has zero balance``.
* A balance below the amount fails before anything is sent (INSUFFICIENT_BALANCE).
* Simulated when the run is (``ctx.simulated``); there is no per-node flag. A simulated
  transfer sends nothing: it runs the transfer from the wallet against the latest block and
  answers with a placeholder hash (``0x`` + nanosecond clock, zero-padded), ``simulated: true``
  and estimated gas.
* Output ``{transfer: {from, to, value}}``; metadata ``{transactionHash, userOpHash,
  blockNumber, gasUsed, gasPrice, totalGasCost, simulated}``.

Fails with ``destination is required``, ``amount is required`` (MISSING_REQUIRED_FIELD),
``invalid destination address: …``, ``invalid amount: …``, the §7.10 settings messages,
``amount MAX needs a paymaster …``, ``wallet has zero balance``, ``insufficient balance: …``,
the bundler's short messages.
"""

from __future__ import annotations

import time

from ap_avs.chain import aa
from ap_avs.domain.nodes import EthTransferConfig, Node
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ApAvsError, ErrorCode
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.base import (
    INVALID_NODE_CONFIG,
    MISSING_REQUIRED_FIELD,
    RPC_NODE_ERROR,
    NodeFailure,
    NodeResult,
    RunContext,
    Runner,
)
from ap_avs.runners.onchain import (
    INSUFFICIENT_BALANCE,
    ChainDeps,
    execution_context,
    gas_fields,
    gas_price,
    parse_wei,
    render_address,
    runner_wallet,
    send_user_op,
    simulate_call,
)

NODE_TYPE = "ethTransfer"
TRANSFER_GAS = 21_000


async def _balance(deps: ChainDeps, address: str) -> int:
    try:
        return await deps.chain.get_balance(address)
    except ApAvsError as exc:
        raise NodeFailure(exc.message, error_code=RPC_NODE_ERROR) from None


async def transfer(deps: ChainDeps, config: EthTransferConfig, ctx: RunContext) -> NodeResult:
    """Run an ETH-transfer config (also used for loop iterations)."""
    wallet = await runner_wallet(NODE_TYPE, ctx, deps)
    if not config.destination.strip():
        raise NodeFailure("destination is required", error_code=MISSING_REQUIRED_FIELD)
    if not config.amount.strip():
        raise NodeFailure("amount is required", error_code=MISSING_REQUIRED_FIELD)
    destination = await render_address(ctx, config.destination, label="destination address")
    amount_text = (await ctx.render(config.amount, where="amount")).strip()
    balance = await _balance(deps, wallet.address)
    if amount_text.upper() == "MAX":
        if deps.sender is None or not deps.sender.sponsored:
            raise NodeFailure(
                "amount MAX needs a paymaster: without one the wallet must keep ETH for gas",
                error_code=INVALID_NODE_CONFIG,
            )
        if balance == 0:
            raise NodeFailure("wallet has zero balance", error_code=INSUFFICIENT_BALANCE)
        amount = balance
    else:
        amount = parse_wei(amount_text, label="amount")
        if amount > balance:
            raise NodeFailure(
                f"insufficient balance: transfer of {amount} wei but wallet has {balance} wei",
                error_code=INSUFFICIENT_BALANCE,
            )
    output: dict[str, JsonValue] = {
        "transfer": {"from": wallet.address, "to": destination, "value": str(amount)}
    }
    if ctx.simulated:
        outcome = await simulate_call(deps.chain, wallet.address, destination, amount, b"")
        if not outcome.success:
            raise NodeFailure(
                f"transfer would fail: {outcome.error}", error_code=ErrorCode.SIMULATION_ERROR
            )
        gas = outcome.gas_used or TRANSFER_GAS
        price = await gas_price(deps.chain)
        return NodeResult(
            True,
            output=output,
            log=f"simulated a transfer of {amount} wei from {wallet.address}; nothing was sent",
            metadata={
                "transactionHash": "0x" + str(time.time_ns()).rjust(64, "0"),
                "gasUsed": str(gas),
                "gasPrice": str(price),
                "totalGasCost": str(gas * price),
                "simulated": True,
            },
            execution_context=execution_context(deps, simulated=False, provider="chain_rpc"),
            gas_used=str(gas),
            gas_price=str(price),
            total_gas_cost=str(gas * price),
        )
    sent = await send_user_op(
        deps, wallet, aa.execute_calldata(destination, amount, b""), step=ctx.step
    )
    receipt = sent.receipt
    assert receipt is not None  # send_user_op fails without one
    used, paid, total = gas_fields(receipt)
    metadata: dict[str, JsonValue] = {
        "transactionHash": receipt.transaction_hash,
        "userOpHash": sent.user_op_hash,
        "blockNumber": receipt.block_number,
        "gasUsed": used,
        "gasPrice": paid,
        "totalGasCost": total,
        "simulated": False,
    }
    context = execution_context(deps, simulated=False, provider="chain_rpc")
    if not receipt.success:
        return NodeResult(
            False,
            output=output,
            error=f"transaction reverted on chain: {receipt.reason or 'transfer failed'}",
            metadata=metadata,
            execution_context=context,
            gas_used=used,
            gas_price=paid,
            total_gas_cost=total,
        )
    return NodeResult(
        True,
        output=output,
        log=f"UserOp {sent.user_op_hash} included in transaction {receipt.transaction_hash}",
        metadata=metadata,
        execution_context=context,
        gas_used=used,
        gas_price=paid,
        total_gas_cost=total,
    )


def make_runner(deps: ChainDeps) -> Runner:
    """The ETH-transfer runner bound to ``deps``."""

    @reporting_failures
    async def run(node: Node, ctx: RunContext) -> NodeResult:
        return await transfer(deps, config_of(node, EthTransferConfig), ctx)

    return run
