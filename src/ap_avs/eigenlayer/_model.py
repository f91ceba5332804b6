"""Values of EigenLayer as this AVS sees it: where the contracts are, and an operator's standing.

Pure data and pure decisions; nothing here touches the network.

* :class:`EigenLayerTarget`: the core contracts, our AVS's operator set, and the minimum
  slashable stake per strategy.
* :class:`OperatorStanding`: what the chain says about one operator at one block (registered,
  allocation delay, membership, and per strategy its deposits, allocation and slashable stake).
* :func:`admission_refusal`: why an operator may not serve (None: it may).
* :func:`missing_steps`: what an operator still has to do, each with the command that does it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

WAD: Final = 10**18
"""EigenLayer's full magnitude: allocating WAD of a strategy allocates all of it."""


@dataclass(frozen=True, slots=True)
class OperatorSetRef:
    """An operator set: the AVS's account and the set's id."""

    avs: str
    id: int

    def as_abi(self) -> tuple[str, int]:
        return (self.avs, self.id)

    def __str__(self) -> str:
        return f"operator set {self.id} of AVS {self.avs}"


@dataclass(frozen=True, slots=True)
class StrategyMinimum:
    """A strategy counted for admission, and the slashable stake (its shares) required in it."""

    strategy: str
    minimum: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EigenLayerTarget:
    """Where our AVS lives in EigenLayer.

    Usage::

        target = EigenLayerTarget(delegation_manager=..., strategy_manager=...,
                                  allocation_manager=..., operator_set=OperatorSetRef(avs, 0),
                                  strategies=(StrategyMinimum(strategy, 10**21),))
    """

    delegation_manager: str
    strategy_manager: str
    allocation_manager: str
    operator_set: OperatorSetRef
    strategies: tuple[StrategyMinimum, ...]

    @property
    def strategy_addresses(self) -> tuple[str, ...]:
        return tuple(s.strategy for s in self.strategies)

    def minimum(self, strategy: str) -> int:
        for s in self.strategies:
            if s.strategy.lower() == strategy.lower():
                return s.minimum
        return 0


@dataclass(frozen=True, slots=True)
class StrategyStanding:
    """One strategy of an operator, as the chain says at one block."""

    strategy: str
    deposited: int
    """The operator's own deposit shares (StrategyManager)."""
    delegated: int
    """Shares delegated to the operator, its own included (DelegationManager)."""
    allocated_magnitude: int
    """Magnitude allocated to our operator set now."""
    pending_diff: int
    """A queued change of that magnitude (negative: a deallocation) ..."""
    effect_block: int
    """... and the block it takes effect (0: none queued)."""
    max_magnitude: int
    slashable: int
    """Minimum slashable stake in our operator set at this block (0 when not slashable)."""
    minimum: int
    """What admission requires."""


@dataclass(frozen=True, slots=True)
class OperatorStanding:
    """What the chain says about one operator, at ``block``."""

    operator: str
    block: int
    registered: bool
    """Registered as an EigenLayer operator (DelegationManager.isOperator)."""
    allocation_delay_set: bool
    """Its allocation delay is in effect (it may allocate)."""
    allocation_delay: int
    set_exists: bool
    member: bool
    """Member of our operator set (AllocationManager.isMemberOfOperatorSet)."""
    strategies: tuple[StrategyStanding, ...]

    @property
    def slashable(self) -> dict[str, int]:
        return {s.strategy: s.slashable for s in self.strategies}


def admission_refusal(
    operator: str,
    member: bool,
    slashable: Mapping[str, int],
    target: EigenLayerTarget,
) -> str | None:
    """Why ``operator`` may not serve, or None when it may: it must be a member of the operator
    set with at least the minimum slashable stake in every configured strategy."""
    if not member:
        return (
            f"operator {operator} is not a member of EigenLayer {target.operator_set}; "
            "register with `ap-avs register` (see `ap-avs status`)"
        )
    short = [
        f"{s.strategy} has {slashable.get(s.strategy, 0)} slashable, needs {s.minimum}"
        for s in target.strategies
        if slashable.get(s.strategy, 0) < s.minimum
    ]
    if short:
        return (
            f"operator {operator} has less than the minimum slashable stake in EigenLayer "
            f"{target.operator_set}: " + "; ".join(short)
        )
    return None


@dataclass(frozen=True, slots=True)
class Step:
    """Something an operator still has to do, and the command that does it."""

    what: str
    command: str


def missing_steps(
    standing: OperatorStanding, *, config_hint: str = "-c config/operator.yaml"
) -> list[Step]:
    """What stands between ``standing`` and admission, in the order to do it."""
    c = config_hint
    steps: list[Step] = []
    if not standing.set_exists:
        return [
            Step(
                "the AVS's operator set does not exist on this chain (check eigenlayer.* in the "
                "config: avs and operator_set_id)",
                "",
            )
        ]
    if not standing.registered:
        steps.append(Step("register as an EigenLayer operator", f"ap-avs register {c}"))
    for s in standing.strategies:
        if s.delegated < s.minimum:
            need = s.minimum - s.delegated
            steps.append(
                Step(
                    f"deposit at least {need} more shares into strategy {s.strategy} "
                    f"(delegated {s.delegated}, minimum {s.minimum})",
                    f"ap-avs register {c} --deposit <amount in tokens>",
                )
            )
    for s in standing.strategies:
        pending = s.allocated_magnitude + s.pending_diff if s.effect_block else None
        if s.minimum > 0 and s.allocated_magnitude == 0 and not pending:
            what = f"allocate stake of strategy {s.strategy} to the operator set"
            if standing.registered and not standing.allocation_delay_set:
                what += " (your allocation delay is not in effect yet: wait a few blocks)"
            steps.append(Step(what, f"ap-avs register {c} --allocate 100"))
        elif s.effect_block and s.pending_diff > 0 and s.effect_block > standing.block:
            steps.append(
                Step(
                    f"wait for block {s.effect_block}: the allocation to strategy {s.strategy} "
                    "takes effect then",
                    f"ap-avs status {c}",
                )
            )
    if not standing.member:
        steps.append(Step("register for the AVS's operator set", f"ap-avs register {c}"))
    for s in standing.strategies:
        if (
            standing.member
            and s.slashable < s.minimum
            and s.allocated_magnitude > 0
            and s.delegated >= s.minimum
        ):
            steps.append(
                Step(
                    f"raise the allocation of strategy {s.strategy}: slashable {s.slashable}, "
                    f"minimum {s.minimum}",
                    f"ap-avs register {c} --allocate 100",
                )
            )
    return steps


def sorted_strategies(strategies: Sequence[str]) -> list[str]:
    """Strategies in ascending address order (the order AllocationManager requires)."""
    return sorted(strategies, key=lambda a: int(a, 16))
