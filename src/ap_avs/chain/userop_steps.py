"""A workflow step's UserOperation, sent at most once whatever crashes (DESIGN §7 rule 3).

:func:`send_once` is what the on-chain runners use in stored runs:

* The nonce is sequence 0 of the step's own 192-bit key (``aa.step_nonce_key`` of
  ``<execution>:<node>[:<iteration>]``), so the EntryPoint itself refuses a second inclusion.
* Before every send the caller's ``record`` commits an :class:`OpIntent` (sender, nonce, hash,
  first block) to the step journal.
* With an earlier intent (the run was in flight at a crash) the operation is first looked up on
  chain by sender and nonce (``aa.find_included``): found, its original receipt is returned and
  nothing is sent; not found, it is built again (fresh gas prices, new signatures) with the
  same nonce and sent.
* Two steps of one undeployed wallet may both build with ``initCode``; the one that loses is
  refused with AA10 and rebuilt without it.
* A refusal for the nonce (or any refusal of a resend after a restart) may mean an operation
  with it is in a bundle or already landed: it is looked up until the confirmation deadline
  instead of being rebuilt blindly.
* Steps of different runs use different keys, so an unsponsored operation needs no per-wallet
  lane. A sponsored one still takes its wallet's lane (``UserOpSender.lane``): the verifying
  paymaster signs over its own per-wallet ``senderNonce``, which two operations in flight would
  share.

Raises:
    UserOpError: the operation was refused and never landed.
    Unavailable: the chain RPC is down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from ap_avs.chain import aa
from ap_avs.chain.aa import UserOpError, UserOpReceipt
from ap_avs.chain.userops import MAX_ATTEMPTS, Sent, SmartWallet, UserOpSender
from ap_avs.domain.values import JsonValue

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OpIntent:
    """What a step commits before its UserOp is sent: enough to find it on chain later."""

    sender: str
    nonce: int
    user_op_hash: str
    from_block: int
    """The chain head before the first send: the operation's event cannot be older."""

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "sender": self.sender,
            "nonce": hex(self.nonce),
            "userOpHash": self.user_op_hash,
            "fromBlock": self.from_block,
        }

    @classmethod
    def from_json(cls, data: JsonValue) -> OpIntent | None:
        """The intent a journal entry holds (None when it is not one)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                str(data["sender"]),
                int(str(data["nonce"]), 16),
                str(data["userOpHash"]),
                int(str(data["fromBlock"])),
            )
        except (KeyError, ValueError):
            return None


RecordIntent = Callable[[OpIntent], Awaitable[None]]
"""Commits an intent to the step journal (before the send it describes)."""


def op_kind(error: UserOpError) -> str:
    return "initCode" if error.code == "AA10" else "nonce"


async def _await_included(
    sender: UserOpSender, wallet: str, nonce: int, from_block: int, seconds: float
) -> UserOpReceipt | None:
    """Look the operation up for up to ``seconds`` (it may be in a bundle being mined)."""
    deadline = time.monotonic() + seconds
    while True:
        found = await sender.find_included(wallet, nonce, from_block)
        if found is not None or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(0.1)


async def send_once(
    sender: UserOpSender,
    wallet: SmartWallet,
    call_data: bytes,
    *,
    key: int,
    prior: OpIntent | None,
    record: RecordIntent,
    on_sent: Callable[[], None] | None = None,
    sponsor: bool = True,
    call_gas_limit: int | None = None,
    wait_seconds: float | None = None,
) -> Sent:
    """Send the step's operation at most once (see the module docstring).

    ``key`` is the step's nonce key; ``prior`` the intent an earlier attempt committed;
    ``record`` commits each new intent before its send; ``on_sent`` is called once the
    operation was handed over (the test-only fault hook). ``Sent.reconciled`` says what a
    restart found: ``found`` (not sent again) or ``resent``.

    Raises:
        UserOpError: the operation was refused and never landed.
        Unavailable: the chain RPC is down.
    """
    started = time.monotonic()
    nonce = aa.keyed_nonce(key)
    wait = sender.confirm_timeout if wait_seconds is None else wait_seconds
    address = to_checksum_address(wallet.address)
    sponsored = sponsor and sender.sponsored
    lane = sender.lane(address) if sponsored else contextlib.nullcontext()
    async with lane:
        if prior is not None:
            found = await sender.find_included(address, nonce, prior.from_block)
            if found is not None:
                elapsed = time.monotonic() - started
                return Sent(found.user_op_hash, None, found, 0, elapsed, "found")
        from_block = prior.from_block if prior else await sender.head()
        attempt = 0
        while True:
            attempt += 1
            try:
                op = await sender.build(
                    wallet, call_data, sponsor=sponsor, call_gas_limit=call_gas_limit, nonce=nonce
                )
                op_hash = sender.user_op_hash(op)
                await record(OpIntent(address, nonce, op_hash, from_block))
                await sender.submitter.send(op)
                break
            except UserOpError as exc:
                nonce_refused = aa.is_nonce_error(exc)
                # after a restart the first operation may still be in the bundler's hands, and
                # a bundler words that refusal its own way: look for it until the deadline
                patient = nonce_refused or prior is not None
                found = await _await_included(
                    sender, address, nonce, from_block, wait if patient else 0
                )
                if found is not None:  # it had landed (before a crash, or just now)
                    elapsed = time.monotonic() - started
                    return Sent(found.user_op_hash, None, found, attempt, elapsed, "found")
                deployed_meanwhile = exc.code == "AA10"  # another step deployed the wallet
                if attempt >= MAX_ATTEMPTS or not (nonce_refused or deployed_meanwhile):
                    raise
                logger.info(
                    "%s refused for %s (%s); rebuilding", op_kind(exc), address, exc.message
                )
                await asyncio.sleep(0.1 * attempt + random.uniform(0, 0.2))
        if on_sent is not None:
            on_sent()
        try:
            receipt: UserOpReceipt | None = await sender.submitter.wait_for_receipt(
                op_hash, wait_seconds=wait, poll_interval=0.05
            )
        except UserOpError as exc:
            if not exc.retryable:
                raise
            logger.warning("user operation %s not confirmed: %s", op_hash, exc.message)
            receipt = await sender.find_included(address, nonce, from_block)
    elapsed = time.monotonic() - started
    return Sent(op_hash, op, receipt, attempt, elapsed, "resent" if prior else "")
