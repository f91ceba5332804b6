"""The bundler side of UserOperations: an async client for an ERC-4337 bundler such as alto (over
the one JSON-RPC transport, :class:`ap_avs.chain.rpc.JsonRpc`), the receipts it gives, and what its
refusals mean.

Raises:
    UserOpError: from ``BundlerClient`` when the bundler refuses an operation, cannot be
        reached, or no receipt arrives before the deadline. ``code`` holds the EntryPoint's
        ``AAxx`` code when the bundler reported one (``"AA24"`` for a bad signature);
        :func:`user_message` turns it into the short text a workflow step shows.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self

import httpx
from eth_abi.abi import decode
from eth_utils.address import to_checksum_address

from ap_avs.chain.aa._userop import ENTRYPOINT_V06, GasEstimate, UserOperation, to_rpc_dict
from ap_avs.chain.rpc import JsonRpc, RpcError, RpcUnavailable

_AA_CODE: Final = re.compile(r"\bAA\d\d\b")

#: ERC-7769 bundler error codes, for messages that name no AA code.
_RPC_REASONS: Final = {
    -32500: "rejected by the EntryPoint or the account during validation",
    -32501: "rejected by the paymaster during validation",
    -32502: "uses a banned opcode or storage during validation",
    -32503: "outside its valid time range or expires too soon",
    -32504: "an entity is throttled or banned",
    -32505: "an entity's stake is too low",
    -32506: "unsupported signature aggregator",
    -32507: "signature check failed",
    -32508: "paymaster deposit too low",
    -32521: "reverted during execution",
}
_INVALID_SIGNATURE: Final = -32507


@dataclass(frozen=True, slots=True)
class UserOpReceipt:
    """The outcome of an included user operation (``eth_getUserOperationReceipt``)."""

    user_op_hash: str
    sender: str
    nonce: int
    success: bool
    actual_gas_cost: int
    actual_gas_used: int
    transaction_hash: str
    block_number: int
    reason: str
    logs: tuple[Mapping[str, Any], ...] = ()
    """The logs this operation emitted (not those of other operations in the bundle)."""
    effective_gas_price: int = 0
    """Wei per gas the bundle transaction paid (0 when the bundler did not say)."""


class UserOpError(Exception):
    """A user operation was refused, lost, or the bundler could not be asked.

    Attributes:
        code: the EntryPoint code such as ``"AA24"`` when the bundler named one, else None.
        rpc_code: the JSON-RPC error code, when the bundler answered with an error.
        retryable: True for transport failures and time-outs, where the same call may succeed.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        rpc_code: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.rpc_code = rpc_code
        self.retryable = retryable


def _refusal(method: str, error: RpcError, op: UserOperation | None) -> UserOpError:
    """Turn a bundler's JSON-RPC error into a UserOpError that names the AA code."""
    message, rpc_code = error.rpc_message, error.code
    found = _AA_CODE.search(message)
    code = found.group(0) if found else None
    detail = message
    if code is None and rpc_code == _INVALID_SIGNATURE:
        # alto reports a failed signature check by JSON-RPC code only. Without a paymaster it
        # can only be the account's signature: the EntryPoint's AA24.
        if op is not None and not op.paymaster_and_data:
            code, detail = "AA24", f"AA24 signature error ({message})"
        else:
            detail = f"AA24 or AA34: account or paymaster signature error ({message})"
    elif code is None and rpc_code in _RPC_REASONS:
        detail = f"{_RPC_REASONS[rpc_code]} ({message})"
    return UserOpError(f"bundler refused {method}: {detail}", code=code, rpc_code=rpc_code)


#: What each EntryPoint code means for the person whose workflow failed.
AA_MESSAGES: Final = {
    "AA10": "Smart wallet is already deployed (AA10: initCode given for a deployed sender)",
    "AA13": "Smart wallet deployment failed (AA13: initCode failed or ran out of gas)",
    "AA14": "Smart wallet deployment failed (AA14: factory returned another address)",
    "AA15": "Smart wallet deployment failed (AA15: initCode did not deploy the sender)",
    "AA20": "Smart wallet not deployed",
    "AA21": "Insufficient ETH balance for gas fees",
    "AA22": "Transaction validation failed (AA22: expired or not yet valid)",
    "AA23": "Transaction validation failed (AA23: the smart wallet reverted)",
    "AA24": "Transaction validation failed (AA24: signature rejected by the smart wallet)",
    "AA25": "Transaction validation failed (AA25: invalid smart wallet nonce)",
    "AA30": "Paymaster not deployed (AA30)",
    "AA31": "Paymaster deposit too low to sponsor gas (AA31)",
    "AA32": "Paymaster sponsorship expired or not yet valid (AA32)",
    "AA33": "Paymaster rejected the operation (AA33)",
    "AA34": "Paymaster signature rejected (AA34)",
    "AA40": "Gas limits too high (AA40: over verification gas limit)",
    "AA41": "Gas limits too low (AA41: out of verification gas)",
    "AA50": "Paymaster post-operation reverted (AA50)",
    "AA51": "Prefund below actual gas cost (AA51)",
    "AA90": "Bundler misconfigured (AA90: invalid beneficiary)",
    "AA91": "Bundler misconfigured (AA91: failed to send to beneficiary)",
    "AA92": "Internal EntryPoint error (AA92)",
    "AA93": "Invalid paymasterAndData (AA93)",
    "AA94": "Gas values overflow (AA94)",
    "AA95": "Out of gas (AA95)",
}
_MAX_MESSAGE: Final = 200


_ERROR_STRING: Final = re.compile(r"0x08c379a0([0-9a-fA-F]+)")
_PANIC: Final = re.compile(r"0x4e487b71([0-9a-fA-F]{64})")


def decode_revert_data(text: str) -> str:
    """``text`` with ABI-encoded ``Error(string)`` / ``Panic(uint256)`` revert data replaced by
    what it says (``0x08c379a0…`` → ``TestToken: transfer amount exceeds balance``)."""

    def error_string(match: re.Match[str]) -> str:
        try:
            (reason,) = decode(["string"], bytes.fromhex(match.group(1)))
        except Exception:  # not well-formed ABI data: leave the text as it is
            return match.group(0)
        return str(reason)

    def panic(match: re.Match[str]) -> str:
        return f"panic code {int(match.group(1), 16):#x}"

    return _PANIC.sub(panic, _ERROR_STRING.sub(error_string, text))


def user_message(error: UserOpError) -> str:
    """A short message for ``error`` that a workflow step can show.

    ``Bundler service unavailable`` when the bundler could not be asked, the meaning of the
    EntryPoint code when there is one (AA21 → ``Insufficient ETH balance for gas fees``),
    ``Transaction reverted: …`` for a call that reverts, else the first line (≤200 chars).
    """
    if error.retryable and error.rpc_code is None and error.code is None:
        if "no receipt" in error.message:
            return error.message
        return "Bundler service unavailable"
    if error.code in AA_MESSAGES:
        return AA_MESSAGES[error.code]
    message = decode_revert_data(error.message).strip()
    first = message.splitlines()[0] if message else "unknown error"
    if error.rpc_code == -32521:
        detail = first.split(": ", 1)[-1]
        return f"Transaction reverted: {detail}"[:_MAX_MESSAGE]
    return first[:_MAX_MESSAGE]


def is_nonce_error(error: UserOpError) -> bool:
    """Whether the bundler refused the operation for its nonce (rebuild and re-sign)."""
    text = error.message.lower()
    return error.code == "AA25" or "nonce" in text or "already known" in text


def _int(value: object) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 16) if value.startswith("0x") else int(value)
    raise TypeError(f"not a quantity: {value!r}")


def _receipt(raw: Mapping[str, Any]) -> UserOpReceipt:
    tx = raw.get("receipt") or {}
    return UserOpReceipt(
        user_op_hash=str(raw["userOpHash"]),
        sender=to_checksum_address(str(raw["sender"])),
        nonce=_int(raw["nonce"]),
        success=bool(raw["success"]),
        actual_gas_cost=_int(raw["actualGasCost"]),
        actual_gas_used=_int(raw["actualGasUsed"]),
        transaction_hash=str(tx.get("transactionHash", "")),
        block_number=_int(tx.get("blockNumber", 0)),
        reason=str(raw.get("reason") or ""),
        logs=tuple(log for log in raw.get("logs") or () if isinstance(log, Mapping)),
        effective_gas_price=_int(tx.get("effectiveGasPrice", 0)),
    )


class BundlerClient:
    """Async JSON-RPC client for an ERC-4337 bundler serving one v0.6 EntryPoint.

    Usage::

        async with BundlerClient("http://127.0.0.1:4337", ENTRYPOINT_V06) as bundler:
            gas = await bundler.estimate_gas(op.replace(signature=DUMMY_SIGNATURE))
    """

    def __init__(
        self,
        url: str,
        entrypoint: str = ENTRYPOINT_V06,
        *,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.entrypoint = to_checksum_address(entrypoint)
        self._rpc = JsonRpc(
            url, label="bundler", timeout=timeout, client=client, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client when this object created it."""
        await self._rpc.aclose()

    async def _call(self, method: str, params: list[Any], op: UserOperation | None = None) -> Any:
        try:
            return await self._rpc.call(method, params)
        except RpcUnavailable as exc:
            raise UserOpError(f"bundler {method} failed: {exc.reason}", retryable=True) from None
        except RpcError as exc:
            raise _refusal(method, exc, op) from None

    async def supported_entrypoints(self) -> list[str]:
        """``eth_supportedEntryPoints``, checksummed."""
        result = await self._call("eth_supportedEntryPoints", [])
        return [to_checksum_address(a) for a in result]

    async def chain_id(self) -> int:
        """``eth_chainId`` as the bundler sees it."""
        return _int(await self._call("eth_chainId", []))

    async def estimate_gas(self, op: UserOperation) -> GasEstimate:
        """``eth_estimateUserOperationGas``; sign ``op`` with ``DUMMY_SIGNATURE`` first.

        Raises:
            UserOpError: the bundler's simulation failed (``code`` says why when it can).
        """
        result = await self._call(
            "eth_estimateUserOperationGas", [to_rpc_dict(op), self.entrypoint], op
        )
        return GasEstimate(
            pre_verification_gas=_int(result["preVerificationGas"]),
            verification_gas_limit=_int(result["verificationGasLimit"]),
            call_gas_limit=_int(result["callGasLimit"]),
        )

    async def send(self, op: UserOperation) -> str:
        """``eth_sendUserOperation``; returns the userOpHash (0x-hex).

        Raises:
            UserOpError: the bundler rejected the operation, e.g. code ``"AA24"``.
        """
        return str(
            await self._call("eth_sendUserOperation", [to_rpc_dict(op), self.entrypoint], op)
        )

    async def get_receipt(self, op_hash: str) -> UserOpReceipt | None:
        """``eth_getUserOperationReceipt``; None while the operation is not included."""
        result = await self._call("eth_getUserOperationReceipt", [op_hash])
        return None if result is None else _receipt(result)

    async def wait_for_receipt(
        self, op_hash: str, *, wait_seconds: float = 30.0, poll_interval: float = 0.1
    ) -> UserOpReceipt:
        """Poll for the receipt until ``wait_seconds`` have passed.

        A receipt with ``success=False`` (the call reverted, gas was still paid) is returned,
        not raised: the caller decides what a reverted call means. Transport failures while
        polling are retried until the deadline.

        Raises:
            UserOpError: no receipt before the deadline (``retryable=True``).
        """
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                receipt = await self.get_receipt(op_hash)
            except UserOpError as exc:
                if not exc.retryable:
                    raise
                receipt = None  # a transport hiccup: keep asking until the deadline
            if receipt is not None:
                return receipt
            if time.monotonic() >= deadline:
                raise UserOpError(
                    f"no receipt for user operation {op_hash} within {wait_seconds:g} s",
                    retryable=True,
                )
            await asyncio.sleep(poll_interval)
