"""Sending UserOperations for users' smart wallets: build, price, sponsor, sign, send, confirm.

This module owns the I/O around the pure v0.6 pieces of :mod:`ap_avs.chain.aa`:

* :class:`RunnerWallets` decides which smart wallet a run's owner (``RunContext.owner``, passed
  explicitly by the engine) may act from: one
  the owner stored (``w:<owner>:<wallet>``, with its salt) or one the default factory derives
  for the owner with salts 0-4 (PROTOCOL §7.10).
* :class:`UserOpSender` turns account call data into an included UserOperation: ``initCode``
  while the wallet has no code, the EntryPoint nonce, EIP-1559 fees from the RPC, gas from the
  bundler (estimated with a well-formed dummy signature), verifying-paymaster sponsorship when
  a paymaster is configured, the controller's signature, ``eth_sendUserOperation``, and the
  receipt within a deadline. Sends of one (chain, wallet) pair go one at a time through a
  lane lock, so concurrent runs never race for a nonce (LESSONS 15); a nonce refusal (AA25,
  or "already known" when another process holds the nonce) rebuilds, re-sponsors and re-signs
  the operation, up to :data:`MAX_ATTEMPTS` times with a short backoff.
* :func:`ap_avs.chain.userop_steps.send_once` sends a workflow step's operation at most once:
  its nonce is
  sequence 0 of the step's own 192-bit key (``aa.step_nonce_key``), so the EntryPoint refuses
  a second inclusion; the :class:`OpIntent` (sender, nonce, hash, first block) is committed by
  the caller before every send; after a crash the operation is looked up on chain by sender
  and nonce (``aa.find_included``) and sent again, with the same nonce, only if it never
  landed. Steps of different runs use different keys, so an unsponsored operation needs no
  lane; a sponsored one still takes its wallet's lane, because the verifying paymaster signs
  over its own per-wallet ``senderNonce``, which two operations in flight would share.

Without a bundler, pass ``bundler=aa.DirectSubmitter(...)``: the same
steps, with gas from ``simulateHandleOp`` and ``handleOps`` sent from a funded submitter key.

Raises:
    UserOpError: the bundler refused the operation (``aa.user_message`` gives the short text).
    Unavailable: the chain RPC is down (nonce, code, fees, paymaster nonce).
    NotFound: ``RunnerWallets.resolve`` for a wallet the owner does not have
        (SMART_WALLET_NOT_FOUND).

Usage::

    sender = UserOpSender(chain, bundler_url, entrypoint=ep, factory=factory,
                          controller_key=key, chain_id=31337, paymaster=paymaster)
    sent = await sender.send(wallet, aa.execute_calldata(to, amount, b""))
    print(sent.user_op_hash, sent.receipt)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from eth_abi.abi import decode, encode
from eth_account import Account
from eth_utils.address import to_checksum_address

from ap_avs.chain import ChainClient, aa, selector
from ap_avs.chain.aa import (
    BundlerClient,
    UserOperation,
    UserOpError,
    UserOpReceipt,
    UserOpSubmitter,
)
from ap_avs.domain.wallets import Wallet
from ap_avs.errors import ErrorCode, NotFound, Unavailable

logger = logging.getLogger(__name__)

DERIVED_SALTS: Final = 5
"""Salts 0 … 4 of the default factory count as the owner's wallets (PROTOCOL §7.10)."""
GWEI: Final = 10**9
SPONSORSHIP_SECONDS: Final = 15 * 60
MAX_ATTEMPTS: Final = 6
"""Builds of one operation when the bundler refuses its nonce (another process holds it)."""
_SENDER_NONCE: Final = selector("senderNonce(address)")


@dataclass(frozen=True, slots=True)
class SmartWallet:
    """A smart wallet a run acts for, with what deploying it needs."""

    address: str
    owner: str
    salt: int
    factory: str


@dataclass(frozen=True, slots=True)
class Sent:
    """A submitted UserOperation and, if it was included in time, its receipt."""

    user_op_hash: str
    op: UserOperation | None
    """None when the operation was found on chain after a restart (not built again)."""
    receipt: UserOpReceipt | None
    attempts: int
    seconds: float
    """From the start of building to the receipt (or the deadline)."""
    reconciled: str = ""
    """After a restart (``send_once`` with an earlier intent): ``found`` when the operation had
    landed (nothing was sent again), ``resent`` when it had not; else empty."""


WalletLookup = Callable[[str, str], Awaitable[Wallet | None]]
"""``(owner, address) -> stored wallet or None`` (``WalletRepo.get``)."""
Derive = Callable[[str, str, int], Awaitable[str]]
"""``(owner, factory, salt) -> address`` (``WalletService.derive``)."""


class RunnerWallets:
    """Which smart wallet an owner may run on-chain nodes from."""

    def __init__(self, lookup: WalletLookup, derive: Derive, *, default_factory: str) -> None:
        self._lookup = lookup
        self._derive = derive
        self._factory = to_checksum_address(default_factory)
        self._derived: dict[tuple[str, int], str] = {}

    async def resolve(self, owner: str, runner: str) -> SmartWallet:
        """The owner's wallet at ``runner``.

        Raises:
            NotFound: neither stored for ``owner`` nor derived with salts 0-4
                (``error_code`` SMART_WALLET_NOT_FOUND).
            Unavailable: the chain RPC is down while deriving.
        """
        stored = await self._lookup(owner, runner)
        if stored is not None:
            return SmartWallet(stored.address, owner, stored.salt, stored.factory)
        for salt in range(DERIVED_SALTS):
            key = (owner.lower(), salt)
            if key not in self._derived:
                self._derived[key] = await self._derive(owner, self._factory, salt)
            if self._derived[key].lower() == runner.lower():
                return SmartWallet(to_checksum_address(runner), owner, salt, self._factory)
        raise NotFound(
            f"runner {runner} does not match any derived address "
            f"(salt:0 through salt:{DERIVED_SALTS - 1}) for owner {owner}",
            error_code=ErrorCode.SMART_WALLET_NOT_FOUND,
        )


async def fee_caps(chain: ChainClient) -> tuple[int, int]:
    """``(maxFeePerGas, maxPriorityFeePerGas)`` from the RPC: twice the base fee plus the tip,
    and never below tip + 1 gwei.

    Raises:
        Unavailable: the RPC is down.
    """
    block = await chain.request("eth_getBlockByNumber", ["latest", False])
    base = int(str(block.get("baseFeePerGas", "0x0")), 16) if isinstance(block, dict) else 0
    try:
        priority = int(str(await chain.request("eth_maxPriorityFeePerGas", [])), 16)
    except Unavailable:  # a node without the method
        priority = GWEI
    if base == 0:  # a chain without EIP-1559: one gas price for both
        price = int(str(await chain.request("eth_gasPrice", [])), 16)
        return price, price
    return max(2 * base + priority, priority + GWEI), priority


class UserOpSender:
    """Sends UserOperations signed by the controller; one instance per chain, shared."""

    def __init__(
        self,
        chain: ChainClient,
        bundler_url: str,
        *,
        entrypoint: str,
        factory: str,
        controller_key: str,
        chain_id: int,
        paymaster: str | None = None,
        confirm_timeout: float = 60.0,
        bundler: UserOpSubmitter | None = None,
    ) -> None:
        self._chain = chain
        self._bundler: UserOpSubmitter = bundler or BundlerClient(bundler_url, entrypoint)
        self.entrypoint = to_checksum_address(entrypoint)
        self.factory = to_checksum_address(factory)
        self._key = controller_key
        self.controller = Account.from_key(controller_key).address
        self.chain_id = chain_id
        self.paymaster = to_checksum_address(paymaster) if paymaster else None
        self.confirm_timeout = confirm_timeout
        self._lanes: dict[tuple[int, str], asyncio.Lock] = {}
        self._lane_users: dict[tuple[int, str], int] = {}

    async def aclose(self) -> None:
        await self._bundler.aclose()

    @property
    def sponsored(self) -> bool:
        """Whether a paymaster pays the gas of every operation."""
        return self.paymaster is not None

    @property
    def submitter(self) -> UserOpSubmitter:
        """Whoever puts operations on chain: the bundler client or the direct submitter."""
        return self._bundler

    @contextlib.asynccontextmanager
    async def lane(self, wallet: str) -> AsyncIterator[None]:
        """Hold the (chain, wallet) lane: one operation of a wallet in flight at a time."""
        key = (self.chain_id, wallet.lower())
        lock = self._lanes.setdefault(key, asyncio.Lock())
        self._lane_users[key] = self._lane_users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._lane_users[key] -= 1
            if self._lane_users[key] == 0:
                del self._lane_users[key], self._lanes[key]

    async def build(
        self,
        wallet: SmartWallet,
        call_data: bytes,
        *,
        sponsor: bool = True,
        call_gas_limit: int | None = None,
        nonce: int | None = None,
    ) -> UserOperation:
        """A complete, signed operation for ``wallet`` executing ``call_data``; ``nonce``
        defaults to the wallet's next one under key 0.

        Raises:
            UserOpError: the bundler could not estimate it (a revert, AA21 …).
            Unavailable: the chain RPC is down.
        """
        deployed = bool(await self._chain.get_code(wallet.address))
        init = b"" if deployed else aa.init_code(wallet.factory, wallet.owner, wallet.salt)
        if nonce is None:
            nonce = await self._chain.entrypoint_nonce(self.entrypoint, wallet.address)
        max_fee, priority = await fee_caps(self._chain)
        valid_until = int(time.time()) + SPONSORSHIP_SECONDS
        paymaster = self.paymaster if sponsor else None
        op = UserOperation(
            sender=to_checksum_address(wallet.address),
            nonce=nonce,
            init_code=init,
            call_data=call_data,
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=priority,
            paymaster_and_data=aa.paymaster_and_data(paymaster, valid_until, 0)
            if paymaster
            else b"",
            signature=aa.DUMMY_SIGNATURE,
        )
        op = (await self._bundler.estimate_gas(op)).apply(op)
        if call_gas_limit is not None:
            op = op.replace(call_gas_limit=max(call_gas_limit, op.call_gas_limit))
        if paymaster is not None:
            raw = await self._chain.eth_call(
                paymaster, _SENDER_NONCE + encode(["address"], [op.sender])
            )
            (sender_nonce,) = decode(["uint256"], raw)
            op = aa.sponsor_user_op(
                op,
                self._key,
                chain_id=self.chain_id,
                paymaster=paymaster,
                sender_nonce=int(sender_nonce),
                valid_until=valid_until,
            )
        return aa.sign_user_op(op, self._key, self.entrypoint, self.chain_id)

    async def send(
        self,
        wallet: SmartWallet,
        call_data: bytes,
        *,
        sponsor: bool = True,
        call_gas_limit: int | None = None,
        wait_seconds: float | None = None,
    ) -> Sent:
        """Build, send and wait for ``call_data`` executed by ``wallet``.

        ``sponsor`` asks for the paymaster (ignored when none is configured). A receipt that
        does not arrive within ``wait_seconds`` (default ``confirm_timeout``) gives
        ``Sent.receipt = None``: the operation may still be included later.

        Raises:
            UserOpError: the bundler refused the operation, after nonce retries.
            Unavailable: the chain RPC is down.
        """
        started = time.monotonic()
        async with self.lane(wallet.address):
            attempt = 0
            while True:
                attempt += 1
                try:
                    op = await self.build(
                        wallet, call_data, sponsor=sponsor, call_gas_limit=call_gas_limit
                    )
                    op_hash = await self._bundler.send(op)
                    break
                except UserOpError as exc:
                    if attempt >= MAX_ATTEMPTS or not aa.is_nonce_error(exc):
                        raise
                    logger.info(
                        "nonce refused for %s (%s); rebuilding", wallet.address, exc.message
                    )
                    await asyncio.sleep(0.1 * attempt + random.uniform(0, 0.2))
            wait = self.confirm_timeout if wait_seconds is None else wait_seconds
            try:
                receipt: UserOpReceipt | None = await self._bundler.wait_for_receipt(
                    op_hash, wait_seconds=wait, poll_interval=0.05
                )
            except UserOpError as exc:
                if not exc.retryable:
                    raise
                logger.warning("user operation %s not confirmed: %s", op_hash, exc.message)
                receipt = None
        return Sent(op_hash, op, receipt, attempt, time.monotonic() - started)

    def user_op_hash(self, op: UserOperation) -> str:
        """The userOpHash of ``op`` for this EntryPoint and chain (0x-hex)."""
        return "0x" + aa.user_op_hash(op, self.entrypoint, self.chain_id).hex()

    async def head(self) -> int:
        """The chain's latest block number.

        Raises:
            Unavailable: the chain RPC is down.
        """
        return await self._chain.block_number()

    async def find_included(
        self, sender: str, nonce: int, from_block: int = 0
    ) -> UserOpReceipt | None:
        """The receipt of ``sender``'s operation with ``nonce`` if one landed, else None.

        Raises:
            Unavailable: the chain RPC is down.
            UserOpError: the nonce is used but its event cannot be read (retryable).
        """
        return await aa.find_included(
            self._chain.request, self.entrypoint, sender, nonce, from_block=from_block
        )
