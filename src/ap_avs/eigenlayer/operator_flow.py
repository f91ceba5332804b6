"""The operator's EigenLayer use cases behind ``ap-avs register``, ``deregister`` and ``status``.

:func:`register` does what is missing, in order: EigenLayer operator registration (with the
allocation delay and metadata URI), a deposit when asked, an allocation when asked (after the
allocation delay is in effect), and registration for the AVS's operator set. Steps already done
are skipped, so running it again is safe. :func:`deregister` leaves the set (and deallocates when
asked). :func:`status` reads the standing and lists what is missing, each with its command.

Raises:
    ContractRefused: a contract refused a step (the revert reason decoded).
    FailedPrecondition: the allocation delay did not take effect within the wait, or an
        allocation change is still pending.
    InvalidArgument: a bad amount or percentage.
    Unavailable: the chain RPC is down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ap_avs.eigenlayer._model import OperatorStanding, Step, missing_steps
from ap_avs.eigenlayer._reader import EigenLayerReader
from ap_avs.eigenlayer._writer import OperatorTransactions, Sent
from ap_avs.errors import FailedPrecondition, InvalidArgument

Advance = Callable[[], Awaitable[None]]
"""Waits for (or, on a local chain, mines) the next block."""


@dataclass(frozen=True, slots=True)
class RegisterOptions:
    """What ``ap-avs register`` is asked to do besides what is missing."""

    deposit: str | None = None
    """Tokens to deposit into the first configured strategy (decimal, in whole tokens)."""
    allocate_percent: Decimal | None = None
    """Share of each configured strategy to allocate to the operator set (0-100)."""
    metadata_uri: str = ""
    allocation_delay: int = 0
    join: bool = True
    wait_seconds: float = 0.0
    """How long to wait for the allocation delay to take effect (0: do not wait)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command did, and the operator's standing afterwards."""

    sent: tuple[Sent, ...]
    skipped: tuple[str, ...]
    standing: OperatorStanding
    steps: tuple[Step, ...] = field(default=())


def token_amount(text: str, decimals: int) -> int:
    """``text`` whole tokens in base units.

    Raises:
        InvalidArgument: not a positive number with at most ``decimals`` decimals.
    """
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidArgument(f"--deposit: {text!r} is not a number") from None
    scaled = value * (Decimal(10) ** decimals)
    if value <= 0 or scaled != scaled.to_integral_value():
        raise InvalidArgument(
            f"--deposit: {text!r} must be positive with at most {decimals} decimals"
        )
    return int(scaled)


def _percent(value: Decimal) -> Decimal:
    if not Decimal(0) <= value <= Decimal(100):
        raise InvalidArgument(f"--allocate: {value} is not a percentage between 0 and 100")
    return value


async def _await_allocation_delay(
    reader: EigenLayerReader, operator: str, wait_seconds: float, advance: Advance | None
) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        is_set, _ = await reader.allocation_delay(operator)
        if is_set:
            return
        if time.monotonic() >= deadline:
            raise FailedPrecondition(
                f"operator {operator}: its allocation delay is not in effect yet (EigenLayer "
                "applies it ALLOCATION_CONFIGURATION_DELAY blocks after registration); run the "
                "same `ap-avs register … --allocate` again later, or pass --wait-seconds"
            )
        if advance is not None:
            await advance()
        else:
            await asyncio.sleep(1.0)


async def register(
    reader: EigenLayerReader,
    txs: OperatorTransactions,
    options: RegisterOptions,
    *,
    advance: Advance | None = None,
    config_hint: str = "-c config/operator.yaml",
) -> Outcome:
    """Bring the operator to membership of the AVS's operator set (see the module docstring)."""
    target, operator = reader.target, txs.address
    allocate = None if options.allocate_percent is None else _percent(options.allocate_percent)
    sent: list[Sent] = []
    skipped: list[str] = []
    standing = await reader.standing(operator)
    if not standing.set_exists:
        raise FailedPrecondition(
            f"{target.operator_set} does not exist on this chain: check eigenlayer.avs and "
            "eigenlayer.operator_set_id"
        )
    deposit: tuple[str, int] | None = None
    if options.deposit is not None:  # checked before anything is sent: no half-done register
        strategy = target.strategies[0].strategy
        token = await txs.underlying_token(strategy)
        amount = token_amount(options.deposit, await txs.token_decimals(token))
        await txs.check_balance(token, amount)
        deposit = (strategy, amount)
    if standing.registered:
        skipped.append("already registered as an EigenLayer operator")
    else:
        sent.append(await txs.register_as_operator(options.allocation_delay, options.metadata_uri))
    if deposit is not None:
        sent.extend(await txs.deposit(*deposit))
    if allocate is not None:
        standing = await reader.standing(operator)
        wanted: dict[str, int] = {}
        for s in standing.strategies:
            magnitude = int(Decimal(s.max_magnitude) * allocate / Decimal(100))
            if s.effect_block and s.effect_block > standing.block:
                raise FailedPrecondition(
                    f"an allocation change of strategy {s.strategy} is pending until block "
                    f"{s.effect_block} (now {standing.block}); try again after it"
                )
            if magnitude != s.allocated_magnitude:
                wanted[s.strategy] = magnitude
        if wanted:
            await _await_allocation_delay(reader, operator, options.wait_seconds, advance)
            sent.append(await txs.allocate(wanted))
        else:
            skipped.append(f"allocation is already {allocate}%")
    if options.join:
        standing = await reader.standing(operator)
        if standing.member:
            skipped.append(f"already a member of {target.operator_set}")
        else:
            sent.append(await txs.register_for_set())
    final = await reader.standing(operator)
    steps = missing_steps(final, config_hint=config_hint)
    return Outcome(tuple(sent), tuple(skipped), final, tuple(steps))


async def deregister(
    reader: EigenLayerReader,
    txs: OperatorTransactions,
    *,
    deallocate: bool = False,
    config_hint: str = "-c config/operator.yaml",
) -> Outcome:
    """Leave the AVS's operator set (and, when asked, deallocate every configured strategy)."""
    sent: list[Sent] = []
    skipped: list[str] = []
    standing = await reader.standing(txs.address)
    if standing.member:
        sent.append(await txs.deregister_from_set())
    else:
        skipped.append(f"not a member of {reader.target.operator_set}")
    if deallocate:
        wanted = {s.strategy: 0 for s in standing.strategies if s.allocated_magnitude > 0}
        if wanted:
            sent.append(await txs.allocate(wanted))
        else:
            skipped.append("nothing allocated")
    final = await reader.standing(txs.address)
    steps = missing_steps(final, config_hint=config_hint)
    return Outcome(tuple(sent), tuple(skipped), final, tuple(steps))


async def status(reader: EigenLayerReader, operator: str, config_hint: str) -> Outcome:
    """The operator's standing and what is missing."""
    standing = await reader.standing(operator)
    steps = missing_steps(standing, config_hint=config_hint)
    return Outcome((), (), standing, tuple(steps))
