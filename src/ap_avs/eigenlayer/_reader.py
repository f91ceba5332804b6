"""Reading EigenLayer from chain: an operator's standing, admission facts in bulk, and events.

:class:`EigenLayerReader` makes ``eth_call``s against the core contracts named by an
:class:`~ap_avs.eigenlayer._model.EigenLayerTarget`, each read pinned to one block so the answers
agree. For the aggregator, :meth:`EigenLayerReader.admission_facts` answers for many operators
in two calls (the set's members, and the minimum slashable stake of all of them).

Raises:
    Unavailable: the chain RPC is down (from :class:`~ap_avs.chain.ChainClient`).
    CallReverted: a read reverted (e.g. a wrong contract address).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from ap_avs.chain import ChainClient
from ap_avs.eigenlayer._abi import ContractAbi, DecodedLog, core_abi
from ap_avs.eigenlayer._model import (
    EigenLayerTarget,
    OperatorStanding,
    StrategyStanding,
)


@dataclass(frozen=True, slots=True)
class AdmissionFacts:
    """What admission needs to know of one operator, at ``block``."""

    operator: str
    block: int
    member: bool
    slashable: dict[str, int]


class EigenLayerReader:
    """Typed reads of the EigenLayer core for one AVS's operator set.

    Usage::

        reader = EigenLayerReader(chain, target)
        standing = await reader.standing("0xOperator")
    """

    def __init__(self, chain: ChainClient, target: EigenLayerTarget) -> None:
        self.chain = chain
        self.target = target
        self.delegation = core_abi("DelegationManager")
        self.strategies = core_abi("StrategyManager")
        self.allocations = core_abi("AllocationManager")

    async def _read(
        self, abi: ContractAbi, to: str, name: str, *args: Any, block: int | None = None
    ) -> tuple[Any, ...]:
        tag = "latest" if block is None else hex(block)
        raw = await self.chain.eth_call(to, abi.encode(name, *args), block=tag)
        return abi.decode(name, raw, len(args))

    async def _one(self, abi: ContractAbi, to: str, name: str, *args: Any, block: int) -> Any:
        return (await self._read(abi, to, name, *args, block=block))[0]

    async def block_number(self) -> int:
        return await self.chain.block_number()

    async def set_exists(self, block: int | None = None) -> bool:
        t = self.target
        found = await self._read(
            self.allocations,
            t.allocation_manager,
            "isOperatorSet",
            t.operator_set.as_abi(),
            block=block,
        )
        return bool(found[0])

    async def set_strategies(self) -> list[str]:
        """The strategies of the operator set, as the chain lists them."""
        t = self.target
        (found,) = await self._read(
            self.allocations,
            t.allocation_manager,
            "getStrategiesInOperatorSet",
            t.operator_set.as_abi(),
        )
        return [to_checksum_address(a) for a in found]

    async def is_operator(self, operator: str) -> bool:
        t = self.target
        (found,) = await self._read(self.delegation, t.delegation_manager, "isOperator", operator)
        return bool(found)

    async def allocation_delay(self, operator: str) -> tuple[bool, int]:
        t = self.target
        is_set, delay = await self._read(
            self.allocations, t.allocation_manager, "getAllocationDelay", operator
        )
        return bool(is_set), int(delay)

    async def standing(self, operator: str) -> OperatorStanding:
        """Everything ``ap-avs status`` shows about ``operator``, read at one block."""
        t, am, dm = self.target, self.target.allocation_manager, self.target.delegation_manager
        block = await self.block_number()
        oset = t.operator_set.as_abi()
        exists = await self.set_exists(block)
        registered = bool(await self._one(self.delegation, dm, "isOperator", operator, block=block))
        is_set, delay = await self._read(
            self.allocations, am, "getAllocationDelay", operator, block=block
        )
        member = exists and bool(
            await self._one(
                self.allocations, am, "isMemberOfOperatorSet", operator, oset, block=block
            )
        )
        strategies = list(t.strategy_addresses)
        slashable: list[int] = [0] * len(strategies)
        if exists and strategies:
            (rows,) = await self._read(
                self.allocations,
                am,
                "getMinimumSlashableStake",
                oset,
                [operator],
                strategies,
                block,
                block=block,
            )
            slashable = [int(v) for v in rows[0]]
        found: list[StrategyStanding] = []
        for strategy, stake in zip(strategies, slashable, strict=True):
            deposited = await self._one(
                self.strategies,
                t.strategy_manager,
                "stakerDepositShares",
                operator,
                strategy,
                block=block,
            )
            delegated = await self._one(
                self.delegation, dm, "operatorShares", operator, strategy, block=block
            )
            current, pending, effect = (0, 0, 0)
            if exists:
                current, pending, effect = await self._one(
                    self.allocations, am, "getAllocation", operator, oset, strategy, block=block
                )
            max_magnitude = await self._one(
                self.allocations, am, "getMaxMagnitude", operator, strategy, block=block
            )
            found.append(
                StrategyStanding(
                    strategy=strategy,
                    deposited=int(deposited),
                    delegated=int(delegated),
                    allocated_magnitude=int(current),
                    pending_diff=int(pending),
                    effect_block=int(effect),
                    max_magnitude=int(max_magnitude),
                    slashable=stake,
                    minimum=t.minimum(strategy),
                )
            )
        return OperatorStanding(
            operator=to_checksum_address(operator),
            block=block,
            registered=registered,
            allocation_delay_set=bool(is_set),
            allocation_delay=int(delay),
            set_exists=exists,
            member=member,
            strategies=tuple(found),
        )

    async def admission_facts(
        self, operators: Sequence[str], block: int | None = None
    ) -> dict[str, AdmissionFacts]:
        """Membership and minimum slashable stake of ``operators`` (lower-case keys), at one
        block: two calls however many operators there are."""
        t, am = self.target, self.target.allocation_manager
        if block is None:
            block = await self.block_number()
        if not operators:
            return {}
        oset = t.operator_set.as_abi()
        (members,) = await self._read(self.allocations, am, "getMembers", oset, block=block)
        member_set = {m.lower() for m in members}
        strategies = list(t.strategy_addresses)
        rows: Sequence[Sequence[int]] = [[0] * len(strategies) for _ in operators]
        if strategies:
            (rows,) = await self._read(
                self.allocations,
                am,
                "getMinimumSlashableStake",
                oset,
                list(operators),
                strategies,
                block,
                block=block,
            )
        return {
            op.lower(): AdmissionFacts(
                operator=op,
                block=block,
                member=op.lower() in member_set,
                slashable={s: int(v) for s, v in zip(strategies, row, strict=True)},
            )
            for op, row in zip(operators, rows, strict=True)
        }

    async def events(self, from_block: int, to_block: int) -> list[DecodedLog]:
        """The AllocationManager's and DelegationManager's events in the block range."""
        t = self.target
        logs = await self.chain.request(
            "eth_getLogs",
            [
                {
                    "fromBlock": hex(from_block),
                    "toBlock": hex(to_block),
                    "address": [t.allocation_manager, t.delegation_manager],
                }
            ],
        )
        found: list[DecodedLog] = []
        by_address = {
            t.allocation_manager.lower(): self.allocations,
            t.delegation_manager.lower(): self.delegation,
        }
        for log in logs or []:
            abi = by_address.get(str(log.get("address", "")).lower())
            if abi is None:
                continue
            topics = [bytes.fromhex(str(x)[2:]) for x in log.get("topics", [])]
            decoded = abi.decode_log(topics, bytes.fromhex(str(log.get("data", "0x"))[2:]))
            if decoded is not None:
                found.append(decoded)
        return found
