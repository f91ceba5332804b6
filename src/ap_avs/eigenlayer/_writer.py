"""An operator's EigenLayer transactions: register, deposit, allocate, join and leave our set.

:class:`OperatorTransactions` signs with the operator's ECDSA key and sends raw type-2
transactions. Every transaction is first estimated: a refusal is decoded from the contracts'
custom errors (:class:`~ap_avs.eigenlayer._abi.RevertDecoder`) and raised before anything is
sent, with a hint where the cause is a known one.

Raises:
    ContractRefused: a contract refused the transaction (estimate or mined status 0).
    Unavailable: the chain RPC is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from eth_abi.abi import decode
from eth_account import Account
from eth_utils.address import to_checksum_address

from ap_avs.chain import CallReverted, ChainClient, selector
from ap_avs.eigenlayer._abi import CORE_CONTRACTS, RevertDecoder, core_abi
from ap_avs.eigenlayer._model import EigenLayerTarget, sorted_strategies
from ap_avs.errors import FailedPrecondition, Unavailable

logger = logging.getLogger(__name__)

_GAS_MARGIN_PERCENT: Final = 30
_ERC20: Final = "IERC20"
_STRATEGY: Final = "IStrategy"

HINTS: Final = {
    "UninitializedAllocationDelay": (
        "the operator's allocation delay is not in effect yet: it starts "
        "ALLOCATION_CONFIGURATION_DELAY blocks after registering; wait and retry"
    ),
    "InvalidOperator": "the account is not registered as an EigenLayer operator",
    "AlreadyMemberOfSet": "the operator is already a member of this operator set",
    "NotMemberOfSet": "the operator is not a member of this operator set",
    "InvalidOperatorSet": "no such operator set (check eigenlayer.avs and operator_set_id)",
    "InsufficientMagnitude": "more magnitude than the operator has unallocated",
    "ModificationAlreadyPending": "an allocation change of this strategy is still pending",
    "SameMagnitude": "the allocation already has that magnitude",
    "ActivelyDelegated": "the account is already registered (or delegated to an operator)",
    "StrategyNotWhitelisted": "the strategy does not accept deposits",
    "InvalidPermissions": "this key may not act for that operator (PermissionController)",
    "StrategiesMustBeInAscendingOrder": "strategies must be listed in ascending order",
}


class ContractRefused(FailedPrecondition):
    """A contract refused the operator's transaction; ``reason`` names its custom error."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Sent:
    """A mined transaction."""

    label: str
    tx_hash: str
    block: int


WaitForBlock = Callable[[int], Awaitable[None]]
"""Returns once the chain has reached a block (polling; a devnet may mine instead)."""


class OperatorTransactions:
    """The transactions of one operator key against one AVS's operator set.

    Usage::

        txs = OperatorTransactions(chain, target, private_key)
        await txs.register_as_operator(allocation_delay=0, metadata_uri="")
    """

    def __init__(
        self,
        chain: ChainClient,
        target: EigenLayerTarget,
        private_key: str,
        *,
        confirm_timeout: float = 60.0,
    ) -> None:
        self.chain = chain
        self.target = target
        self._key = private_key
        self.address = to_checksum_address(Account.from_key(private_key).address)
        self.confirm_timeout = confirm_timeout
        self.delegation = core_abi("DelegationManager")
        self.strategies = core_abi("StrategyManager")
        self.allocations = core_abi("AllocationManager")
        self.erc20 = core_abi(_ERC20)
        self.strategy_abi = core_abi(_STRATEGY)
        self.decoder = RevertDecoder(
            [core_abi(n) for n in CORE_CONTRACTS] + [self.erc20, self.strategy_abi]
        )

    def __repr__(self) -> str:
        return f"OperatorTransactions(address={self.address})"

    # --- the steps ------------------------------------------------------------------------------

    async def register_as_operator(self, allocation_delay: int, metadata_uri: str) -> Sent:
        data = self.delegation.encode(
            "registerAsOperator",
            "0x0000000000000000000000000000000000000000",
            allocation_delay,
            metadata_uri,
        )
        return await self.send("register as operator", self.target.delegation_manager, data)

    async def underlying_token(self, strategy: str) -> str:
        raw = await self.chain.eth_call(strategy, self.strategy_abi.encode("underlyingToken"))
        (token,) = self.strategy_abi.decode("underlyingToken", raw)
        return to_checksum_address(token)

    async def token_decimals(self, token: str) -> int:
        """ERC-20 ``decimals()`` (IERC20Metadata; IERC20 of the package lacks it)."""
        raw = await self.chain.eth_call(token, selector("decimals()"))
        (decimals,) = decode(["uint8"], raw)
        return int(decimals)

    async def deposit(self, strategy: str, amount: int) -> list[Sent]:
        """Approve the strategy manager for ``amount`` of the strategy's token, then deposit."""
        token = await self.underlying_token(strategy)
        await self.check_balance(token, amount)
        sent = [
            await self.send(
                "approve the strategy manager",
                token,
                self.erc20.encode("approve", self.target.strategy_manager, amount),
            )
        ]
        data = self.strategies.encode("depositIntoStrategy", strategy, token, amount)
        sent.append(await self.send("deposit", self.target.strategy_manager, data))
        return sent

    async def check_balance(self, token: str, amount: int) -> None:
        """Raises ContractRefused when the operator holds less than ``amount`` of ``token``."""
        raw = await self.chain.eth_call(token, self.erc20.encode("balanceOf", self.address))
        (balance,) = self.erc20.decode("balanceOf", raw)
        if int(balance) < amount:
            raise ContractRefused(
                f"cannot deposit {amount} of token {token}: the operator {self.address} holds "
                f"only {int(balance)}"
            )

    async def allocate(self, magnitudes: Mapping[str, int]) -> Sent:
        """Set the magnitude allocated to our operator set, per strategy."""
        ordered = sorted_strategies(list(magnitudes))
        params = [(self.target.operator_set.as_abi(), ordered, [magnitudes[s] for s in ordered])]
        data = self.allocations.encode("modifyAllocations", self.address, params)
        return await self.send("allocate", self.target.allocation_manager, data)

    async def register_for_set(self) -> Sent:
        oset = self.target.operator_set
        data = self.allocations.encode(
            "registerForOperatorSets", self.address, (oset.avs, [oset.id], b"")
        )
        return await self.send(
            "register for the operator set", self.target.allocation_manager, data
        )

    async def deregister_from_set(self) -> Sent:
        oset = self.target.operator_set
        data = self.allocations.encode(
            "deregisterFromOperatorSets", (self.address, oset.avs, [oset.id])
        )
        return await self.send(
            "deregister from the operator set", self.target.allocation_manager, data
        )

    async def wait_for_block(self, block: int, *, within: float, poll: float = 0.5) -> None:
        """Return once the chain's head is at least ``block``.

        Raises:
            FailedPrecondition: not within ``within`` seconds.
        """
        deadline = time.monotonic() + within
        while (head := await self.chain.block_number()) < block:
            if time.monotonic() > deadline:
                raise FailedPrecondition(
                    f"the chain is at block {head}; block {block} did not come within {within:g} s"
                )
            await asyncio.sleep(poll)

    # --- sending --------------------------------------------------------------------------------

    def explain(self, label: str, data: bytes) -> ContractRefused:
        description = self.decoder.describe(data)
        name = self.decoder.name(data) or ""
        hint = HINTS.get(name)
        message = f"{label} refused: {description}" + (f" ({hint})" if hint else "")
        return ContractRefused(message, reason=name)

    async def send(self, label: str, to: str, data: bytes) -> Sent:
        """Estimate, sign, send and wait for one transaction.

        Raises:
            ContractRefused: the estimate reverted, or the mined transaction failed.
            Unavailable: the RPC is down, or the transaction was not mined in time.
        """
        call = {"from": self.address, "to": to, "data": "0x" + data.hex()}
        try:
            estimate = int(await self.chain.request("eth_estimateGas", [call]), 16)
        except CallReverted as exc:
            raise self.explain(label, exc.data) from None
        chain_id = await self.chain.chain_id()
        nonce = int(
            await self.chain.request("eth_getTransactionCount", [self.address, "pending"]), 16
        )
        block = await self.chain.request("eth_getBlockByNumber", ["latest", False])
        base_fee = int(block.get("baseFeePerGas") or "0x0", 16)
        tip = int(await self.chain.request("eth_maxPriorityFeePerGas", []), 16)
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": chain_id,
            "nonce": nonce,
            "to": to,
            "value": 0,
            "data": data,
            "gas": estimate * (100 + _GAS_MARGIN_PERCENT) // 100,
            "maxFeePerGas": 2 * base_fee + tip,
            "maxPriorityFeePerGas": tip,
        }
        signed = Account.sign_transaction(tx, self._key)
        tx_hash = str(
            await self.chain.request(
                "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()]
            )
        )
        receipt = await self._receipt(tx_hash)
        if int(receipt.get("status", "0x1"), 16) != 1:
            try:
                await self.chain.request("eth_call", [call, receipt["blockNumber"]])
            except CallReverted as exc:
                raise self.explain(f"{label} (transaction {tx_hash})", exc.data) from None
            raise ContractRefused(f"{label}: transaction {tx_hash} reverted")
        sent = Sent(label, tx_hash, int(receipt["blockNumber"], 16))
        logger.info("%s: %s in block %s", label, tx_hash, sent.block)
        return sent

    async def _receipt(self, tx_hash: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.confirm_timeout
        while True:
            receipt = await self.chain.request("eth_getTransactionReceipt", [tx_hash])
            if isinstance(receipt, dict):
                return receipt
            if time.monotonic() > deadline:
                raise Unavailable(
                    f"transaction {tx_hash} was not mined within {self.confirm_timeout:g} s"
                )
            await asyncio.sleep(0.05)
