"""Finding a UserOperation on chain by its sender and nonce (no bundler needed).

Used to reconcile a step that was in flight at a crash: its UserOp has a nonce of its own (a 2D
nonce key per step), so whether it landed is a question the chain answers.
:func:`find_included` asks ``EntryPoint.getNonce(sender, key)`` first (one call; the sequence
moved past the nonce only if an operation with it was included), then reads the
``UserOperationEvent`` logs of the sender from ``from_block`` on and builds the receipt from the
transaction that carried the operation.

Raises:
    Unavailable: from the ``request`` function (the chain RPC is down).
    UserOpError: the transaction holding the event has no receipt or no event for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from ap_avs.chain.aa._bundler import UserOpError, UserOpReceipt
from ap_avs.chain.aa._direct import receipt_from_transaction

Request = Callable[[str, list[Any]], Awaitable[Any]]
"""``(method, params) -> result``: one JSON-RPC call to the chain (``ChainClient.request``)."""

USER_OPERATION_EVENT: Final = (
    "0x"
    + keccak(text="UserOperationEvent(bytes32,address,address,uint256,bool,uint256,uint256)").hex()
)
_GET_NONCE: Final = keccak(text="getNonce(address,uint192)")[:4]


async def next_sequence(request: Request, entrypoint: str, sender: str, key: int) -> int:
    """The sequence the EntryPoint expects next for ``sender`` under nonce ``key``."""
    data = _GET_NONCE + encode(["address", "uint192"], [sender, key])
    raw = await request("eth_call", [{"to": entrypoint, "data": "0x" + data.hex()}, "latest"])
    (nonce,) = decode(["uint256"], bytes.fromhex(str(raw)[2:]))
    return int(nonce) & ((1 << 64) - 1)


async def find_included(
    request: Request, entrypoint: str, sender: str, nonce: int, *, from_block: int = 0
) -> UserOpReceipt | None:
    """The receipt of the operation of ``sender`` with ``nonce``, or None when none landed."""
    key, sequence = nonce >> 64, nonce & ((1 << 64) - 1)
    if await next_sequence(request, entrypoint, sender, key) <= sequence:
        return None
    topic_sender = "0x" + "00" * 12 + sender.lower().removeprefix("0x")
    for start in (from_block, 0) if from_block > 0 else (0,):
        logs = await request(
            "eth_getLogs",
            [
                {
                    "address": entrypoint,
                    "fromBlock": hex(start),
                    "toBlock": "latest",
                    "topics": [USER_OPERATION_EVENT, None, topic_sender],
                }
            ],
        )
        for log in logs or ():
            (found, *_rest) = decode(
                ["uint256", "bool", "uint256", "uint256"],
                bytes.fromhex(str(log["data"])[2:]),
            )
            if int(found) != nonce:
                continue
            tx_hash = str(log["transactionHash"])
            receipt = await request("eth_getTransactionReceipt", [tx_hash])
            if not isinstance(receipt, dict):
                raise UserOpError(f"no receipt for transaction {tx_hash}", retryable=True)
            return receipt_from_transaction(entrypoint, str(log["topics"][1]), tx_hash, receipt)
    raise UserOpError(
        f"nonce {nonce:#x} of {sender} is used on chain but no UserOperationEvent was found",
        retryable=True,
    )
