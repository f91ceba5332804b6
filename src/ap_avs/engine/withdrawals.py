"""WithdrawFunds: move ETH or an ERC-20 out of a user's smart wallet (PROTOCOL §2.7).

:func:`check_request` holds the validation, in upstream's order and with its messages;
:class:`Withdrawals` checks the wallet belongs to the caller, reads the balance, and sends
one UserOp (``execute(recipient, amount, 0x)`` for ETH, ``execute(token, 0,
transfer(recipient, amount))`` for a token). The paymaster, when configured, pays the gas and
is not reimbursed. A send that fails is an answer (``status="failed"``), not an error.

Raises:
    InvalidArgument: every validation message of §2.7 (``recipient address is required`` …,
        ``wallet has zero balance``, ``insufficient token balance: …``).
    FailedPrecondition: ``insufficient balance: requested <a> wei but wallet has <b> wei``.
    Unavailable: the chain RPC is down while reading balances.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address

from ap_avs.chain import ChainClient, aa, selector
from ap_avs.chain.aa import UserOpError
from ap_avs.chain.tokens import BALANCE_OF
from ap_avs.chain.userops import SmartWallet, UserOpSender, WalletLookup
from ap_avs.domain.addresses import is_address
from ap_avs.errors import ApAvsError, FailedPrecondition, InvalidArgument

_TRANSFER: Final = selector("transfer(address,uint256)")
_DIGITS: Final = re.compile(r"[0-9]+")
CONFIRMED, PENDING, FAILED = "confirmed", "pending", "failed"


@dataclass(frozen=True, slots=True)
class WithdrawalRequest:
    """A checked request; ``amount`` None means the whole balance (``max``)."""

    recipient: str
    amount: int | None
    token: str
    """``ETH`` or a token contract address as given."""
    smart_wallet: str


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """What happened to a withdrawal."""

    success: bool
    status: str
    message: str
    submitted_at: int
    """Seconds since the epoch."""
    user_op_hash: str = ""
    transaction_hash: str = ""


def check_request(recipient: str, amount: str, token: str, smart_wallet: str) -> WithdrawalRequest:
    """Validate a WithdrawFunds request (PROTOCOL §2.7 order).

    Raises:
        InvalidArgument: the first rule the request breaks.
    """
    if not recipient.strip():
        raise InvalidArgument("recipient address is required")
    if not amount.strip():
        raise InvalidArgument("amount is required")
    if not token.strip():
        raise InvalidArgument("token is required")
    if not is_address(recipient.strip()):
        raise InvalidArgument("invalid recipient address format")
    cleaned = amount.strip()
    value: int | None = None
    if cleaned.lower() != "max":
        if not _DIGITS.fullmatch(cleaned) or int(cleaned) <= 0:
            raise InvalidArgument("invalid amount: must be a positive integer or 'max'")
        value = int(cleaned)
    if smart_wallet.strip() and not is_address(smart_wallet.strip()):
        raise InvalidArgument("invalid smart wallet address format")
    if not smart_wallet.strip():
        raise InvalidArgument(
            "smart wallet address is required - must be obtained from getWallet() call first"
        )
    return WithdrawalRequest(
        to_checksum_address(recipient.strip()), value, token.strip(), smart_wallet.strip()
    )


class Withdrawals:
    """Withdrawals from owners' smart wallets, sent as sponsored UserOps."""

    def __init__(
        self,
        chain: ChainClient,
        sender: UserOpSender,
        lookup: WalletLookup,
        default_wallet: Callable[[str], Awaitable[str]],
        *,
        confirm_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._chain = chain
        self._sender = sender
        self._lookup = lookup
        self._default_wallet = default_wallet
        self._confirm_timeout = confirm_timeout
        self._clock = clock

    async def _wallet(self, owner: str, address: str) -> SmartWallet:
        stored = await self._lookup(owner, address)
        if stored is not None and stored.owner.lower() == owner.lower():
            return SmartWallet(stored.address, owner, stored.salt, stored.factory)
        if (await self._default_wallet(owner)).lower() == address.lower():
            return SmartWallet(to_checksum_address(address), owner, 0, self._sender.factory)
        raise InvalidArgument(
            f"invalid smart wallet address: smart wallet {address} is not a wallet of "
            f"owner {owner}; call getWallet() first"
        )

    async def _call_data(self, wallet: str, request: WithdrawalRequest) -> bytes:
        if request.token.upper() == "ETH":
            balance = await self._chain.get_balance(wallet)
            amount = balance if request.amount is None else request.amount
            if request.amount is None and balance == 0:
                raise InvalidArgument("wallet has zero balance")
            if amount > balance:
                raise FailedPrecondition(
                    f"insufficient balance: requested {amount} wei but wallet has {balance} wei"
                )
            return aa.execute_calldata(request.recipient, amount, b"")
        if not is_address(request.token):
            raise InvalidArgument(
                "failed to build withdrawal calldata: invalid token contract address: "
                f"{request.token}"
            )
        raw = await self._chain.eth_call(request.token, BALANCE_OF + encode(["address"], [wallet]))
        balance = int.from_bytes(raw[:32], "big") if len(raw) >= 32 else 0
        amount = balance if request.amount is None else request.amount
        if request.amount is None and balance == 0:
            raise InvalidArgument("token balance is zero")
        if amount > balance:
            raise InvalidArgument(
                f"insufficient token balance: requested {amount}, but wallet has {balance}"
            )
        transfer = _TRANSFER + encode(["address", "uint256"], [request.recipient, amount])
        return aa.execute_calldata(to_checksum_address(request.token), 0, transfer)

    async def withdraw(self, owner: str, request: WithdrawalRequest) -> Withdrawal:
        """Send the withdrawal and wait for it up to the confirmation timeout.

        Raises:
            InvalidArgument, FailedPrecondition, Unavailable: see the module docstring.
        """
        wallet = await self._wallet(owner, request.smart_wallet)
        call_data = await self._call_data(wallet.address, request)
        try:
            sent = await self._sender.send(
                wallet, call_data, sponsor=True, wait_seconds=self._confirm_timeout
            )
        except UserOpError as exc:
            return self._failed(aa.user_message(exc))
        except ApAvsError as exc:
            return self._failed(exc.message)
        now = int(self._clock())
        receipt = sent.receipt
        if receipt is None:
            return Withdrawal(
                True,
                PENDING,
                "withdrawal transaction submitted, waiting for confirmation",
                now,
                sent.user_op_hash,
            )
        if not receipt.success:
            return Withdrawal(
                False,
                FAILED,
                f"withdrawal transaction reverted: {receipt.reason or 'execution reverted'}",
                now,
                sent.user_op_hash,
                receipt.transaction_hash,
            )
        return Withdrawal(
            True,
            CONFIRMED,
            "withdrawal transaction confirmed",
            now,
            sent.user_op_hash,
            receipt.transaction_hash,
        )

    def _failed(self, reason: str) -> Withdrawal:
        return Withdrawal(
            False,
            FAILED,
            f"failed to send withdrawal transaction: {reason}",
            int(self._clock()),
        )
