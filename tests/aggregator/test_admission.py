"""Admission by EigenLayer stake, decided from a scripted chain (unit): the cache, refused
verdicts that expire, revocation on events and at the block a deallocation takes effect, and the
periodic refresh. The same rules against the real contracts are in
tests/integration/test_eigenlayer.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest

from ap_avs.aggregator.admission import StakeAdmission
from ap_avs.eigenlayer import (
    AdmissionFacts,
    DecodedLog,
    EigenLayerReader,
    EigenLayerTarget,
    OperatorSetRef,
    StrategyMinimum,
    admission_refusal,
)
from ap_avs.errors import PermissionDenied, Unavailable

STRATEGY = "0x" + "57" * 20
AVS = "0x" + "a5" * 20
TARGET = EigenLayerTarget(
    delegation_manager="0x" + "d1" * 20,
    strategy_manager="0x" + "51" * 20,
    allocation_manager="0x" + "a1" * 20,
    operator_set=OperatorSetRef(AVS, 3),
    strategies=(StrategyMinimum(STRATEGY, 100),),
)
A, B = "0x" + "0a" * 20, "0x" + "0b" * 20


class ScriptedChain:
    """The reads StakeAdmission makes, answered from plain fields; counts the reads."""

    def __init__(self) -> None:
        self.target = TARGET
        self.head = 10
        self.members: set[str] = set()
        self.stake: dict[str, int] = {}
        self.logs: dict[int, list[DecodedLog]] = {}
        self.reads: list[list[str]] = []
        self.down = False

    async def block_number(self) -> int:
        if self.down:
            raise Unavailable("chain RPC is unavailable")
        return self.head

    async def admission_facts(
        self, operators: Sequence[str], block: int | None = None
    ) -> dict[str, AdmissionFacts]:
        if self.down:
            raise Unavailable("chain RPC is unavailable")
        self.reads.append([o.lower() for o in operators])
        return {
            o.lower(): AdmissionFacts(
                o, self.head, o.lower() in self.members, {STRATEGY: self.stake.get(o.lower(), 0)}
            )
            for o in operators
        }

    async def events(self, from_block: int, to_block: int) -> list[DecodedLog]:
        return [log for b in range(from_block, to_block + 1) for log in self.logs.get(b, [])]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admission(chain: ScriptedChain, clock: Clock, **kwargs: Any) -> StakeAdmission:
    return StakeAdmission(cast(EigenLayerReader, chain), clock=clock, **kwargs)


def test_the_rule_needs_membership_and_the_minimum_in_every_strategy() -> None:
    refusal = admission_refusal(A, False, {STRATEGY: 1000}, TARGET)
    assert refusal is not None
    assert "not a member" in refusal
    assert "ap-avs register" in refusal
    short = admission_refusal(A, True, {STRATEGY: 99}, TARGET)
    assert short is not None
    assert "99 slashable, needs 100" in short
    assert admission_refusal(A, True, {STRATEGY: 100}, TARGET) is None
    two = EigenLayerTarget(
        delegation_manager=TARGET.delegation_manager,
        strategy_manager=TARGET.strategy_manager,
        allocation_manager=TARGET.allocation_manager,
        operator_set=TARGET.operator_set,
        strategies=(*TARGET.strategies, StrategyMinimum("0x" + "58" * 20, 1)),
    )
    assert admission_refusal(A, True, {STRATEGY: 100}, two) is not None


async def test_admitted_operators_are_answered_from_the_cache() -> None:
    chain, clock = ScriptedChain(), Clock()
    chain.members, chain.stake = {A}, {A: 150}
    gate = admission(chain, clock)
    await gate.check(A)
    await gate.check(A.upper().replace("0X", "0x"))
    assert chain.reads == [[A]]
    verdict = gate.verdict(A)
    assert verdict is not None
    assert verdict.admitted
    assert verdict.slashable == {STRATEGY: 150}


async def test_a_refusal_is_cached_briefly_then_read_again() -> None:
    chain, clock = ScriptedChain(), Clock()
    gate = admission(chain, clock, refused_ttl_seconds=2.0)
    with pytest.raises(PermissionDenied, match="not a member of EigenLayer operator set 3"):
        await gate.check(B)
    with pytest.raises(PermissionDenied):
        await gate.check(B)
    assert chain.reads == [[B]]
    chain.members, chain.stake = {B}, {B: 100}  # it registers
    clock.now += 2.0
    await gate.check(B)
    assert chain.reads == [[B], [B]]


async def test_refused_verdicts_are_bounded() -> None:
    chain, clock = ScriptedChain(), Clock()
    gate = admission(chain, clock, max_refused=3)
    for i in range(10):
        with pytest.raises(PermissionDenied):
            await gate.check("0x" + f"{i:040x}")
    assert len(gate.verdicts()) == 3


async def test_without_a_chain_an_unknown_operator_is_unavailable_a_known_one_is_kept() -> None:
    chain, clock = ScriptedChain(), Clock()
    chain.members, chain.stake = {A}, {A: 150}
    gate = admission(chain, clock)
    await gate.check(A)
    chain.down = True
    await gate.check(A)  # the last verdict stands while the chain is unreachable
    with pytest.raises(Unavailable):
        await gate.check(B)
    with pytest.raises(Unavailable):
        await gate.poll_once()


def _log(event: str, **args: Any) -> DecodedLog:
    return DecodedLog("AllocationManager", event, args)


async def test_an_event_naming_an_operator_revokes_it_at_once() -> None:
    chain, clock = ScriptedChain(), Clock()
    chain.members, chain.stake = {A, B}, {A: 150, B: 150}
    gate = admission(chain, clock)
    revoked: list[tuple[str, str]] = []
    gate.on_revoked(lambda op, reason: revoked.append((op, reason)))
    await gate.check(A)
    await gate.check(B)
    await gate.poll_once()  # sets the event cursor at the head
    chain.head = 11
    chain.members = {B}
    chain.logs[11] = [_log("OperatorRemovedFromOperatorSet", operator=A, operatorSet=(AVS, 3))]
    await gate.poll_once()
    assert [op for op, _ in revoked] == [A]
    assert "not a member" in revoked[0][1]
    assert chain.reads[-1] == [A]  # only the operator the event named was read
    with pytest.raises(PermissionDenied):
        await gate.check(A)
    await gate.check(B)


async def test_a_deallocation_is_read_again_when_it_takes_effect() -> None:
    chain, clock = ScriptedChain(), Clock()
    chain.members, chain.stake = {A}, {A: 150}
    gate = admission(chain, clock)
    revoked: list[str] = []
    gate.on_revoked(lambda op, reason: revoked.append(op))
    await gate.check(A)
    await gate.poll_once()
    chain.head = 11  # queued: 150 -> 50 at block 16; the stake is still 150 until then
    chain.logs[11] = [_log("AllocationUpdated", operator=A, magnitude=1, effectBlock=16)]
    await gate.poll_once()
    assert revoked == []
    chain.head = 15
    await gate.poll_once()
    assert revoked == []
    reads_before = len(chain.reads)
    chain.head, chain.stake = 16, {A: 50}
    await gate.poll_once()
    assert len(chain.reads) == reads_before + 1
    assert revoked == [A]


async def test_every_known_operator_is_read_again_each_refresh_period() -> None:
    chain, clock = ScriptedChain(), Clock()
    chain.members, chain.stake = {A, B}, {A: 150, B: 150}
    gate = admission(chain, clock, refresh_seconds=60)
    revoked: list[str] = []
    gate.on_revoked(lambda op, reason: revoked.append(op))
    await gate.check(A)
    await gate.check(B)
    chain.stake = {A: 150, B: 10}  # changed without an event we read (e.g. a missed log)
    await gate.poll_once()
    assert revoked == []
    clock.now += 60
    await gate.poll_once()
    assert sorted(chain.reads[-1]) == sorted([A, B])
    assert revoked == [B]


async def test_a_strategy_change_of_the_set_reads_everyone_again() -> None:
    chain, clock = ScriptedChain(), Clock()
    chain.members, chain.stake = {A, B}, {A: 150, B: 150}
    gate = admission(chain, clock)
    await gate.check(A)
    await gate.check(B)
    await gate.poll_once()
    chain.head = 12
    chain.logs[12] = [
        _log("StrategyRemovedFromOperatorSet", operatorSet=(AVS, 3), strategy=STRATEGY)
    ]
    await gate.poll_once()
    assert sorted(chain.reads[-1]) == sorted([A, B])
