"""Submitting UserOperations without a bundler: ``EntryPoint.handleOps`` from a funded key.

:class:`DirectSubmitter` has the interface ``UserOpSender`` uses for a bundler
(:class:`UserOpSubmitter`: ``estimate_gas``, ``send``, ``wait_for_receipt``, ``aclose``), so
the sender, and the runners above it, work the same with either.

* Gas limits of the operation come from the EntryPoint itself: ``simulateHandleOp`` (an
  ``eth_call`` that always reverts with ``ExecutionResult``) is run on the operation with
  generous limits and a price of 1 wei, and the limits are what it used plus a margin
  (:data:`VERIFICATION_MARGIN`, :data:`CALL_MARGIN`). ``preVerificationGas`` pays the submitter
  for what the EntryPoint cannot measure (21,000 intrinsic gas, calldata, per-operation
  overhead), computed like the reference bundler's ``calcPreVerificationGas`` plus
  :data:`PRE_VERIFICATION_EXTRA`. A validation failure in the simulation is the EntryPoint's
  ``FailedOp`` and becomes a ``UserOpError`` with its AA code, as a bundler's refusal would
  (AA21 for an unfunded wallet, AA25 for a taken nonce, which makes the sender rebuild).
  Fixed defaults were not used: they would demand a far larger prefund from self-paying
  wallets and still be wrong for heavy calls.
* :meth:`DirectSubmitter.send` encodes ``handleOps([op], beneficiary=submitter)``, estimates
  its gas with ``eth_estimateGas`` (plus :data:`TX_GAS_MARGIN`), signs an EIP-1559
  transaction paying the operation's own fee caps (so the EntryPoint refunds the submitter at
  the price it paid), sends it with ``eth_sendRawTransaction`` and waits until it is mined.
  One transaction at a time per submitter: a lock is held from reading the account nonce
  (``eth_getTransactionCount(pending)``) until the transaction is mined or
  ``confirm_timeout`` passes, so nonces never collide or leave gaps.
* :meth:`DirectSubmitter.wait_for_receipt` reads the transaction receipt: the EntryPoint's
  ``UserOperationEvent`` for this operation decides ``success`` and gives the actual gas;
  ``UserOperationRevertReason`` gives the revert reason of a failed call (``Error(string)``
  decoded). A call that reverts is therefore included and paid for, and reported as failed
  with its reason; a bundler would have refused it at estimation instead.

Raises:
    UserOpError: the EntryPoint refused the operation (``code`` holds the AA code), the node
        refused the transaction, or no receipt arrived before the deadline (``retryable``).
    Unavailable: the chain RPC cannot be reached.

Usage::

    submitter = DirectSubmitter(rpc_url, entrypoint, private_key=key, chain_id=31337)
    sender = UserOpSender(chain, "", entrypoint=entrypoint, ..., bundler=submitter)
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final, Protocol

import httpx
from eth_abi.abi import decode, encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.chain.aa._bundler import UserOpError, UserOpReceipt, decode_revert_data
from ap_avs.chain.aa._userop import GasEstimate, UserOperation, user_op_hash, user_op_values
from ap_avs.chain.rpc import JsonRpc, RpcError
from ap_avs.errors import Unavailable

_OP_TUPLE: Final = (
    "(address,uint256,bytes,bytes,uint256,uint256,uint256,uint256,uint256,bytes,bytes)"
)


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


_HANDLE_OPS: Final = _selector(f"handleOps({_OP_TUPLE}[],address)")
_SIMULATE_HANDLE_OP: Final = _selector(f"simulateHandleOp({_OP_TUPLE},address,bytes)")
_FAILED_OP: Final = _selector("FailedOp(uint256,string)")
_EXECUTION_RESULT: Final = _selector("ExecutionResult(uint256,uint256,uint48,uint48,bool,bytes)")
_USER_OPERATION_EVENT: Final = _topic(
    "UserOperationEvent(bytes32,address,address,uint256,bool,uint256,uint256)"
)
_REVERT_REASON_EVENT: Final = _topic("UserOperationRevertReason(bytes32,address,uint256,bytes)")
_BEFORE_EXECUTION: Final = _topic("BeforeExecution()")
_AA_CODE: Final = re.compile(r"\bAA\d\d\b")
_ZERO_ADDRESS: Final = "0x" + "00" * 20

SIMULATION_CALL_GAS: Final = 10_000_000
"""callGasLimit of the simulated operation (a call needing more fails in simulation too)."""
SIMULATION_VERIFICATION_GAS: Final = 3_000_000
"""verificationGasLimit of the simulated operation (deployment + account + paymaster)."""
VERIFICATION_MARGIN: Final = (3, 2, 25_000)
"""verificationGasLimit = used * 3/2 + 25,000 (a real signature, a prefund to pay …)."""
CALL_MARGIN: Final = (5, 4, 25_000)
"""callGasLimit = used * 5/4 + 25,000; "used" already counts the EntryPoint's post-call work."""
TX_GAS_MARGIN: Final = (6, 5, 25_000)
"""Gas limit of the handleOps transaction = eth_estimateGas * 6/5 + 25,000."""
PRE_VERIFICATION_EXTRA: Final = 5_000
"""Added to the reference formula: measured on the devnet, the formula falls ~2,500 gas short of
what the handleOps transaction costs the submitter beyond the operation's measured gas."""
MAX_TX_ATTEMPTS: Final = 3
"""Sends of one transaction when the node refuses its account nonce (another user of the key)."""
_REMEMBERED: Final = 4096


class UserOpSubmitter(Protocol):
    """What ``UserOpSender`` needs from whoever puts operations on chain: a bundler
    (``BundlerClient``) or :class:`DirectSubmitter`."""

    async def estimate_gas(self, op: UserOperation) -> GasEstimate: ...

    async def send(self, op: UserOperation) -> str: ...

    async def wait_for_receipt(
        self, op_hash: str, *, wait_seconds: float, poll_interval: float
    ) -> UserOpReceipt: ...

    async def aclose(self) -> None: ...


def handle_ops_calldata(ops: list[UserOperation], beneficiary: str) -> bytes:
    """Call data of ``EntryPoint.handleOps(ops, beneficiary)`` (v0.6)."""
    return _HANDLE_OPS + encode(
        [f"{_OP_TUPLE}[]", "address"], [[user_op_values(op) for op in ops], beneficiary]
    )


def pre_verification_gas(op: UserOperation) -> int:
    """The reference bundler's ``calcPreVerificationGas`` for a bundle of one: 21,000 + 18,300
    per operation + 4 per word + calldata (4 per zero byte, 16 per other byte) of ``op``
    ABI-encoded, with a 65-byte signature placeholder when it has a shorter one; plus
    :data:`PRE_VERIFICATION_EXTRA`, so that the submitter is refunded what it pays."""
    signature = op.signature if len(op.signature) >= 65 else b"\x01" * 65
    packed = encode([_OP_TUPLE], [user_op_values(op.replace(signature=signature))])[32:]
    calldata = sum(4 if byte == 0 else 16 for byte in packed)
    return 21_000 + 18_300 + 4 * ((len(packed) + 31) // 32) + calldata + PRE_VERIFICATION_EXTRA


def _with_margin(used: int, margin: tuple[int, int, int]) -> int:
    times, over, extra = margin
    return used * times // over + extra


def _int(value: object) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text, 16) if text.startswith("0x") else int(text)


def _hex_bytes(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def _refusal(
    method: str, revert: bytes | None, message: str, rpc_code: int | None, suffix: str = ""
) -> UserOpError:
    """A UserOpError for a call to the EntryPoint that reverted with ``revert`` data."""
    if revert is not None and revert[:4] == _FAILED_OP:
        try:
            _, reason = decode(["uint256", "string"], revert[4:])
        except Exception:  # not well-formed: fall through to the raw data
            pass
        else:
            found = _AA_CODE.search(str(reason))
            return UserOpError(
                f"EntryPoint refused the operation: {reason}{suffix}",
                code=found.group(0) if found else None,
                rpc_code=rpc_code,
            )
    detail = decode_revert_data("0x" + revert.hex()) if revert else message
    found = _AA_CODE.search(detail)
    return UserOpError(
        f"EntryPoint {method} reverted: {detail}{suffix}",
        code=found.group(0) if found else None,
        rpc_code=rpc_code,
    )


class _RpcError(Exception):
    """A JSON-RPC error answer (not a transport failure), with its revert data decoded."""

    def __init__(self, error: RpcError) -> None:
        self.method = error.method
        self.message = error.rpc_message
        self.code = error.code
        self.revert = error.revert_data
        super().__init__(f"{self.method}: {self.message}")

    def as_user_op_error(self) -> UserOpError:
        return UserOpError(
            f"direct submission {self.method} failed: {self.message}", rpc_code=self.code
        )


def _handle_ops_refusal(error: _RpcError, suffix: str = "") -> UserOpError:
    """Why ``eth_estimateGas`` / ``eth_call`` of handleOps failed, as a UserOpError."""
    if error.revert is not None or error.code in {3, -32015} or "revert" in error.message.lower():
        return _refusal("handleOps", error.revert, error.message, error.code, suffix)
    return error.as_user_op_error()


def _nonce_clash(error: _RpcError) -> bool:
    text = error.message.lower()
    return "nonce" in text or "already known" in text or "replacement" in text


def _operation_logs(logs: list[Mapping[str, Any]], op_hash: str) -> tuple[Mapping[str, Any], ...]:
    """The logs ``op_hash`` emitted while executing: after ``BeforeExecution`` (or the previous
    operation's event) and before its own ``UserOperationEvent``, as bundlers report them."""
    start = -1
    for index, log in enumerate(logs):
        topics = [str(t).lower() for t in log.get("topics") or ()]
        if not topics:
            continue
        if topics[0] == _BEFORE_EXECUTION:
            start = index
        elif topics[0] == _USER_OPERATION_EVENT:
            if len(topics) > 1 and topics[1] == op_hash.lower():
                return tuple(logs[start + 1 : index])
            start = index
    return ()


class DirectSubmitter:
    """Puts UserOperations on chain through ``handleOps`` sent from one funded key.

    Create one per chain and key and share it; every transaction of the key goes through it.
    """

    def __init__(
        self,
        rpc_url: str,
        entrypoint: str,
        *,
        private_key: str,
        chain_id: int,
        confirm_timeout: float = 60.0,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.rpc_url = rpc_url
        self.entrypoint = to_checksum_address(entrypoint)
        self._key = private_key
        self.address: str = Account.from_key(private_key).address
        self.chain_id = chain_id
        self.confirm_timeout = confirm_timeout
        self._transport = JsonRpc(rpc_url, timeout=timeout, client=client, transport=transport)
        self._lock = asyncio.Lock()
        self._sent: OrderedDict[str, str] = OrderedDict()
        """userOpHash → hash of the handleOps transaction that carries it."""

    async def aclose(self) -> None:
        """Close the HTTP client when this object created it."""
        await self._transport.aclose()

    async def _rpc(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC call to the node.

        Raises:
            _RpcError: the node answered with an error.
            Unavailable: the node cannot be reached or answered something else.
        """
        try:
            return await self._transport.call(method, params)
        except RpcError as exc:
            raise _RpcError(exc) from None

    async def estimate_gas(self, op: UserOperation) -> GasEstimate:
        """Gas limits for ``op`` (signed with ``DUMMY_SIGNATURE``) from ``simulateHandleOp``.

        Raises:
            UserOpError: validation failed (``code`` is the AA code: AA21, AA25 …).
            Unavailable: the chain RPC is down.
        """
        probe = op.replace(
            call_gas_limit=SIMULATION_CALL_GAS,
            verification_gas_limit=SIMULATION_VERIFICATION_GAS,
            pre_verification_gas=0,
            max_fee_per_gas=1,  # equal caps: the EntryPoint's "legacy" price, 1 wei per gas
            max_priority_fee_per_gas=1,
        )
        data = _SIMULATE_HANDLE_OP + encode(
            [_OP_TUPLE, "address", "bytes"], [user_op_values(probe), _ZERO_ADDRESS, b""]
        )
        call = {"from": self.address, "to": self.entrypoint, "data": "0x" + data.hex()}
        try:
            await self._rpc("eth_call", [call, "latest"])
        except _RpcError as exc:
            revert = exc.revert
            if revert is None or revert[:4] != _EXECUTION_RESULT:
                raise _refusal("simulateHandleOp", revert, exc.message, exc.code) from None
        else:
            raise UserOpError(
                "EntryPoint simulateHandleOp did not revert: is it a v0.6 EntryPoint?"
            )
        pre_op_gas, paid, *_ = decode(
            ["uint256", "uint256", "uint48", "uint48", "bool", "bytes"], revert[4:]
        )
        verification = _with_margin(int(pre_op_gas), VERIFICATION_MARGIN)
        call_gas = _with_margin(max(int(paid) - int(pre_op_gas), 0), CALL_MARGIN)
        sized = op.replace(call_gas_limit=call_gas, verification_gas_limit=verification)
        return GasEstimate(
            pre_verification_gas=pre_verification_gas(sized),
            verification_gas_limit=verification,
            call_gas_limit=call_gas,
        )

    async def send(self, op: UserOperation) -> str:
        """Send ``handleOps([op], submitter)`` and wait (up to ``confirm_timeout``) until it is
        mined; returns the userOpHash (0x-hex).

        Raises:
            UserOpError: the EntryPoint refused the operation (AA code in ``code``), the node
                refused the transaction, or the transaction reverted.
            Unavailable: the chain RPC is down.
        """
        op_hash = "0x" + user_op_hash(op, self.entrypoint, self.chain_id).hex()
        data = handle_ops_calldata([op], self.address)
        call = {"from": self.address, "to": self.entrypoint, "data": "0x" + data.hex()}
        async with self._lock:
            try:
                estimate = _int(await self._rpc("eth_estimateGas", [call]))
            except _RpcError as exc:
                raise _handle_ops_refusal(exc) from None
            tx_hash = await self._broadcast(op, data, _with_margin(estimate, TX_GAS_MARGIN))
            self._sent[op_hash] = tx_hash
            while len(self._sent) > _REMEMBERED:
                self._sent.popitem(last=False)
            receipt = await self._mined(tx_hash, self.confirm_timeout, 0.05)
        if receipt is not None and _int(receipt.get("status", "0x1")) == 0:
            raise await self._reverted(call, tx_hash)
        return op_hash

    async def _broadcast(self, op: UserOperation, data: bytes, gas: int) -> str:
        """Sign and send the transaction; a refused account nonce is read again and retried."""
        for attempt in range(1, MAX_TX_ATTEMPTS + 1):
            nonce = _int(await self._ask("eth_getTransactionCount", [self.address, "pending"]))
            tx = {
                "type": 2,
                "chainId": self.chain_id,
                "nonce": nonce,
                "to": self.entrypoint,
                "value": 0,
                "data": data,
                "gas": gas,
                "maxFeePerGas": op.max_fee_per_gas,
                "maxPriorityFeePerGas": op.max_priority_fee_per_gas,
            }
            signed = Account.sign_transaction(tx, self._key)
            try:
                return str(
                    await self._rpc(
                        "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()]
                    )
                )
            except _RpcError as exc:
                if attempt >= MAX_TX_ATTEMPTS or not _nonce_clash(exc):
                    raise exc.as_user_op_error() from None
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _ask(self, method: str, params: list[Any]) -> Any:
        try:
            return await self._rpc(method, params)
        except _RpcError as exc:
            raise exc.as_user_op_error() from None

    async def _reverted(self, call: Mapping[str, str], tx_hash: str) -> UserOpError:
        """Why the handleOps transaction reverted: the same call again, on the new state (a
        nonce another sender took shows as AA25, so the operation is rebuilt)."""
        try:
            await self._rpc("eth_call", [dict(call), "latest"])
        except _RpcError as exc:
            return _handle_ops_refusal(exc, f" (transaction {tx_hash} reverted)")
        return UserOpError(f"handleOps transaction {tx_hash} reverted")

    async def _mined(
        self, tx_hash: str, wait_seconds: float, poll_interval: float
    ) -> Mapping[str, Any] | None:
        """The transaction receipt, or None when it is not mined before the deadline."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                receipt = await self._rpc("eth_getTransactionReceipt", [tx_hash])
            except (_RpcError, Unavailable):
                receipt = None  # a hiccup: keep asking until the deadline
            if isinstance(receipt, Mapping):
                return receipt
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(poll_interval)

    async def wait_for_receipt(
        self, op_hash: str, *, wait_seconds: float = 30.0, poll_interval: float = 0.1
    ) -> UserOpReceipt:
        """The operation's receipt, from its handleOps transaction's receipt.

        ``success`` is the ``UserOperationEvent`` flag; a failed call is returned, not raised,
        with the decoded ``UserOperationRevertReason`` as ``reason``.

        Raises:
            UserOpError: not sent by this submitter, the transaction reverted or holds no
                event for it, or no receipt before the deadline (``retryable=True``).
        """
        tx_hash = self._sent.get(op_hash)
        if tx_hash is None:
            raise UserOpError(f"user operation {op_hash} was not sent by this submitter")
        receipt = await self._mined(tx_hash, wait_seconds, poll_interval)
        if receipt is None:
            raise UserOpError(
                f"no receipt for user operation {op_hash} within {wait_seconds:g} s",
                retryable=True,
            )
        return receipt_from_transaction(self.entrypoint, op_hash, tx_hash, receipt)


def receipt_from_transaction(
    entrypoint: str, op_hash: str, tx_hash: str, receipt: Mapping[str, Any]
) -> UserOpReceipt:
    """The receipt of operation ``op_hash`` from the receipt of the transaction that carried it:
    its ``UserOperationEvent`` (success, gas), ``UserOperationRevertReason`` (decoded) and the
    logs it emitted.

    Raises:
        UserOpError: the transaction reverted or holds no event for ``op_hash``.
    """
    if _int(receipt.get("status", "0x1")) == 0:
        raise UserOpError(f"handleOps transaction {tx_hash} reverted")
    logs = [log for log in receipt.get("logs") or () if isinstance(log, Mapping)]
    ours = [
        log
        for log in logs
        if str(log.get("address", "")).lower() == entrypoint.lower()
        and len(log.get("topics") or ()) > 1
        and str(log["topics"][1]).lower() == op_hash.lower()
    ]
    event = next(
        (log for log in ours if str(log["topics"][0]).lower() == _USER_OPERATION_EVENT), None
    )
    if event is None:
        raise UserOpError(f"transaction {tx_hash} holds no event for user operation {op_hash}")
    sender = "0x" + str(event["topics"][2])[-40:]
    nonce, success, cost, used = decode(
        ["uint256", "bool", "uint256", "uint256"], _hex_bytes(str(event["data"]))
    )
    reason = ""
    revert = next(
        (log for log in ours if str(log["topics"][0]).lower() == _REVERT_REASON_EVENT), None
    )
    if revert is not None:
        _, data = decode(["uint256", "bytes"], _hex_bytes(str(revert["data"])))
        reason = decode_revert_data("0x" + bytes(data).hex()) if data else ""
    return UserOpReceipt(
        user_op_hash=op_hash,
        sender=to_checksum_address(sender),
        nonce=int(nonce),
        success=bool(success),
        actual_gas_cost=int(cost),
        actual_gas_used=int(used),
        transaction_hash=tx_hash,
        block_number=_int(receipt.get("blockNumber", 0)),
        reason=reason,
        logs=_operation_logs(logs, op_hash),
        effective_gas_price=_int(receipt.get("effectiveGasPrice", 0)),
    )
