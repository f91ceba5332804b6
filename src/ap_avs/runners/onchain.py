"""What the on-chain runners share: their clients, who a run acts for, and call simulation.

* :class:`ChainDeps` holds the long-lived clients, built once by the composition root.
* The run's owner is ``RunContext.owner`` (set by the engine for every run); on-chain
  runners act only for wallets of that owner. Variables such as
  ``settings.owner`` come from the user and are never trusted for this.
* :func:`runner_wallet` applies PROTOCOL §7.10 to ``settings.runner``.
* :func:`simulate_call` runs one call from the wallet with ``debug_traceCall`` (logs, return
  data, gas) and falls back to ``eth_call`` + ``eth_estimateGas``; nothing is ever sent.

Raises:
    NodeFailure: from every helper, with the message the step shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from eth_utils.address import to_checksum_address

from ap_avs.chain import CallReverted, ChainClient, aa
from ap_avs.chain.aa import UserOpError, UserOpReceipt, user_message
from ap_avs.chain.tokens import PriceFeed, TokenRegistry
from ap_avs.chain.userop_steps import OpIntent, send_once
from ap_avs.chain.userops import (
    RunnerWallets,
    Sent,
    SmartWallet,
    UserOpSender,
)
from ap_avs.domain.addresses import is_address
from ap_avs.domain.journal import USEROP
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ApAvsError, EffectInDoubt, ErrorCode, NotFound
from ap_avs.runners.base import (
    EXECUTION_ENGINE_ERROR,
    INVALID_NODE_CONFIG,
    INVALID_REQUEST,
    RPC_NODE_ERROR,
    NodeFailure,
    RunContext,
    StepLedger,
)

INVALID_ADDRESS: Final = 3004
INSUFFICIENT_BALANCE: Final = 8003
_TRACER: Final = {"tracer": "callTracer", "tracerConfig": {"withLog": True}}


@dataclass(frozen=True, slots=True)
class ChainDeps:
    """Clients of the on-chain runners (one set per aggregator)."""

    chain: ChainClient
    chain_id: int
    wallets: RunnerWallets
    tokens: TokenRegistry
    sender: UserOpSender | None = None
    """None when no bundler is configured: real writes fail, simulations still work."""
    price_feed: PriceFeed | None = None
    confirm_timeout: float = 60.0


async def render_address(ctx: RunContext, text: str, *, label: str) -> str:
    """``text`` rendered and checked to be an address (checksummed).

    Raises:
        NodeFailure: empty (MISSING_REQUIRED_FIELD is the caller's check) or not an address.
    """
    rendered = (await ctx.render(text, where=label)).strip()
    if not is_address(rendered):
        raise NodeFailure(f"invalid {label}: {rendered!r}", error_code=INVALID_ADDRESS)
    return to_checksum_address(rendered)


async def runner_wallet(node_type: str, ctx: RunContext, deps: ChainDeps) -> SmartWallet:
    """The smart wallet named by ``settings.runner``, checked to belong to the run's owner.

    Raises:
        NodeFailure: the §7.10 messages (``settings is required for <type>`` …), a wallet of
            someone else (SMART_WALLET_NOT_FOUND), or a run without an owner (a wiring bug).
    """
    settings = ctx.variables.get("settings")
    if settings is None:
        raise NodeFailure(f"settings is required for {node_type}")
    if not isinstance(settings, dict):
        raise NodeFailure(f"settings must be an object for {node_type}")
    runner = settings.get("runner")
    if not isinstance(runner, str) or not runner.strip():
        raise NodeFailure(f"settings.runner is required for {node_type}")
    if not is_address(runner.strip()):
        raise NodeFailure(f"settings.runner must be a valid hex address for {node_type}")
    owner = ctx.owner
    if owner is None:
        raise NodeFailure(
            f"{node_type} needs the run's owner, and none is bound (engine wiring)",
            error_code=EXECUTION_ENGINE_ERROR,
        )
    try:
        return await deps.wallets.resolve(owner, runner.strip())
    except NotFound as exc:
        raise NodeFailure(exc.message, error_code=ErrorCode.SMART_WALLET_NOT_FOUND) from None
    except ApAvsError as exc:
        raise NodeFailure(
            f"cannot check the runner wallet: {exc.message}", error_code=RPC_NODE_ERROR
        ) from None


def parse_wei(text: str, *, label: str) -> int:
    """A non-negative integer amount of wei (decimal, or 0x-hex).

    Raises:
        NodeFailure: anything else.
    """
    cleaned = text.strip()
    try:
        value = int(cleaned, 16) if cleaned.lower().startswith("0x") else int(cleaned, 10)
    except ValueError:
        value = -1
    if value < 0 or not cleaned:
        raise NodeFailure(
            f"invalid {label}: {text!r} (expected a non-negative integer in wei)",
            error_code=INVALID_NODE_CONFIG,
        )
    return value


def execution_context(deps: ChainDeps, *, simulated: bool, provider: str) -> dict[str, JsonValue]:
    return {"is_simulated": simulated, "provider": provider, "chain_id": deps.chain_id}


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """One call run against the chain without sending anything."""

    success: bool
    output: bytes
    logs: tuple[Mapping[str, Any], ...]
    gas_used: int
    error: str
    traced: bool
    """True when ``debug_traceCall`` gave logs; False for the eth_call fallback (no logs)."""


def frame_logs(frame: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Logs of a callTracer frame and of the frames inside it, in order."""
    logs: list[tuple[int, Mapping[str, Any]]] = []
    for log in frame.get("logs") or []:
        logs.append((int(str(log.get("position", "0x0")), 16), log))
    children = list(frame.get("calls") or [])
    merged: list[Mapping[str, Any]] = []
    queue = sorted(logs, key=lambda item: item[0])
    for index, child in enumerate(children):
        while queue and queue[0][0] <= index:
            merged.append(queue.pop(0)[1])
        if not child.get("error"):
            merged.extend(frame_logs(child))
    merged.extend(log for _, log in queue)
    return merged


def _revert_text(frame: Mapping[str, Any]) -> str:
    reason = frame.get("revertReason")
    return str(reason) if reason else str(frame.get("error") or "execution reverted")


def outcome_of_frame(frame: Mapping[str, Any]) -> CallOutcome:
    failed = bool(frame.get("error"))
    return CallOutcome(
        success=not failed,
        output=bytes.fromhex(str(frame.get("output") or "0x")[2:]),
        logs=() if failed else tuple(frame_logs(frame)),
        gas_used=int(str(frame.get("gasUsed", "0x0")), 16),
        error=_revert_text(frame) if failed else "",
        traced=True,
    )


async def simulate_call(
    chain: ChainClient, sender: str, to: str, value: int, data: bytes
) -> CallOutcome:
    """Run ``to.call{value}(data)`` as ``sender`` on the latest block; never sends.

    Raises:
        NodeFailure: the RPC is unavailable (RPC_NODE_ERROR).
    """
    tx = {"from": sender, "to": to, "value": hex(value), "data": "0x" + data.hex()}
    try:
        frame = await chain.request("debug_traceCall", [tx, "latest", _TRACER])
        if isinstance(frame, dict):
            return outcome_of_frame(frame)
    except ApAvsError:
        pass  # no tracing on this node: plain calls below
    try:
        raw = await chain.request("eth_call", [tx, "latest"])
        output = bytes.fromhex(str(raw)[2:])
        gas = int(str(await chain.request("eth_estimateGas", [tx])), 16)
    except CallReverted as exc:
        return CallOutcome(False, b"", (), 0, exc.message, traced=False)
    except ApAvsError as exc:
        raise NodeFailure(f"simulation failed: {exc.message}", error_code=RPC_NODE_ERROR) from None
    return CallOutcome(True, output, (), gas, "", traced=False)


def wallet_frames(
    trace: Mapping[str, Any], wallet: str, skip: Sequence[str]
) -> list[Mapping[str, Any]]:
    """The CALL frames the wallet made (depth first, not descending into them), leaving out
    calls to ``skip`` (the EntryPoint's prefund)."""
    found: list[Mapping[str, Any]] = []
    skipped = {s.lower() for s in skip}

    def walk(frame: Mapping[str, Any]) -> None:
        for child in frame.get("calls") or []:
            source = str(child.get("from", "")).lower()
            target = str(child.get("to", "")).lower()
            if child.get("type") == "CALL" and source == wallet.lower() and target not in skipped:
                found.append(child)
            else:
                walk(child)

    walk(trace)
    return found


def gas_fields(receipt: UserOpReceipt) -> tuple[str, str, str]:
    """``(gas_used, gas_price, total_gas_cost)`` of a NodeResult, from a receipt."""
    used, cost = receipt.actual_gas_used, receipt.actual_gas_cost
    price = receipt.effective_gas_price or (cost // used if used else 0)
    return str(used), str(price), str(cost)


def receipt_json(receipt: UserOpReceipt) -> dict[str, JsonValue]:
    """The receipt as step metadata shows it."""
    return {
        "userOpHash": receipt.user_op_hash,
        "transactionHash": receipt.transaction_hash,
        "blockNumber": receipt.block_number,
        "status": "0x1" if receipt.success else "0x0",
        "success": receipt.success,
        "sender": receipt.sender,
        "nonce": str(receipt.nonce),
        "gasUsed": str(receipt.actual_gas_used),
        "actualGasCost": str(receipt.actual_gas_cost),
        "effectiveGasPrice": str(receipt.effective_gas_price),
        "reason": receipt.reason,
        "logs": [dict(log) for log in receipt.logs],
    }


async def gas_price(chain: ChainClient) -> int:
    """The node's ``eth_gasPrice`` (0 when it cannot say)."""
    try:
        return int(str(await chain.request("eth_gasPrice", [])), 16)
    except ApAvsError:
        return 0


def _failure_code(error: UserOpError) -> int:
    if error.code == "AA21":
        return INSUFFICIENT_BALANCE
    if error.code is None and error.retryable:
        return RPC_NODE_ERROR
    return INVALID_REQUEST


async def send_user_op(
    deps: ChainDeps,
    wallet: SmartWallet,
    call_data: bytes,
    *,
    call_gas_limit: int | None = None,
    step: StepLedger | None = None,
) -> Sent:
    """Send ``call_data`` from ``wallet`` as one UserOp and wait for it.

    With a ``step`` (stored runs) the operation is sent at most once
    (:func:`ap_avs.chain.userop_steps.send_once`): its intent is committed to the step journal
    before the send, and a step that was in flight at a restart is reconciled on chain; the
    step log says what was found.

    Raises:
        NodeFailure: no bundler configured, the bundler refused (AA21 → ``Insufficient ETH
            balance for gas fees`` …), the RPC is down, or (without a step) no receipt arrived
            in time.
        EffectInDoubt: with a step, the operation was sent and its receipt did not arrive in
            time: the run is retried later and reconciles it.
    """
    if deps.sender is None:
        raise NodeFailure(
            "on-chain writes need smart_wallet.bundler_url or smart_wallet.submitter_private_key",
            error_code=RPC_NODE_ERROR,
        )
    try:
        if step is None:
            sent = await deps.sender.send(
                wallet, call_data, call_gas_limit=call_gas_limit, wait_seconds=deps.confirm_timeout
            )
        else:
            sent = await _send_step(deps.sender, wallet, call_data, call_gas_limit, step, deps)
    except UserOpError as exc:
        raise NodeFailure(user_message(exc), error_code=_failure_code(exc)) from None
    except EffectInDoubt:
        raise
    except ApAvsError as exc:
        raise NodeFailure(exc.message, error_code=RPC_NODE_ERROR) from None
    if sent.receipt is None:
        message = (
            f"UserOp {sent.user_op_hash} was sent but not confirmed within "
            f"{deps.confirm_timeout:g} s"
        )
        if step is not None:
            raise EffectInDoubt(f"{message}; the run will be retried to reconcile it")
        raise NodeFailure(message, error_code=RPC_NODE_ERROR, output=None)
    return sent


async def _send_step(
    sender: UserOpSender,
    wallet: SmartWallet,
    call_data: bytes,
    call_gas_limit: int | None,
    step: StepLedger,
    deps: ChainDeps,
) -> Sent:
    prior = OpIntent.from_json(step.prior)

    async def record(intent: OpIntent) -> None:
        await step.intend(USEROP, intent.to_json())

    sent = await send_once(
        sender,
        wallet,
        call_data,
        key=step.nonce_key,
        prior=prior,
        record=record,
        on_sent=lambda: step.reached("after-send"),
        call_gas_limit=call_gas_limit,
        wait_seconds=deps.confirm_timeout,
    )
    if sent.reconciled == "found":
        step.reconciled()
        receipt = sent.receipt
        tx = receipt.transaction_hash if receipt is not None else "?"
        step.note(
            f"reconciled after a restart (attempt {step.attempt}): UserOp {sent.user_op_hash} "
            f"(nonce {aa.keyed_nonce(step.nonce_key):#x}) was already included in transaction "
            f"{tx}; it was not sent again"
        )
    elif sent.reconciled == "resent":
        step.note(
            f"resent after a restart (attempt {step.attempt}): no UserOp with nonce "
            f"{aa.keyed_nonce(step.nonce_key):#x} was on chain, so it was sent again with the "
            f"same nonce as UserOp {sent.user_op_hash}"
        )
    return sent


async def trace_frames(
    deps: ChainDeps, receipt: UserOpReceipt, wallet: str
) -> list[Mapping[str, Any]] | None:
    """The calls ``wallet`` made in the receipt's transaction (None: the node cannot trace)."""
    if not receipt.transaction_hash:
        return None
    try:
        trace = await deps.chain.request(
            "debug_traceTransaction", [receipt.transaction_hash, _TRACER]
        )
    except ApAvsError:
        return None
    if not isinstance(trace, dict):
        return None
    skip = [deps.sender.entrypoint] if deps.sender is not None else []
    return wallet_frames(trace, wallet, skip)
