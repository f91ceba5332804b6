"""Reading an EVM chain over JSON-RPC: the few calls the aggregator makes, with clear failures.

:class:`ChainClient` is a thin async client for an HTTP RPC endpoint (over the one JSON-RPC
transport, :class:`ap_avs.chain.rpc.JsonRpc`: retries, timeouts, an injectable httpx transport):
chain id, ``eth_call``, balances, code and blocks, plus the typed contract reads the aggregator
needs (smart-wallet factory ``getAddress``, EntryPoint ``getNonce``). It decides nothing about
users or workflows.

Raises:
    Unavailable: the node cannot be reached, times out or answers with an error that is not
        about the call itself.
    CallReverted: an ``eth_call`` reverted (the message carries the revert reason if any).

Usage::

    async with ChainClient("http://127.0.0.1:8545") as chain:
        wallet = await chain.smart_wallet_address(factory, owner, salt=0)
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Final, Self

import httpx
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.chain.rpc import DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT, JsonRpc, RpcError
from ap_avs.errors import Unavailable

_REVERT_CODES: Final = {3, -32015}


def selector(signature: str) -> bytes:
    """The 4-byte function selector of ``name(type,…)``."""
    return keccak(text=signature)[:4]


_GET_ADDRESS: Final = selector("getAddress(address,uint256)")
_GET_NONCE: Final = selector("getNonce(address,uint192)")


class CallReverted(Unavailable):
    """An ``eth_call`` reverted; not retryable with the same arguments.

    Attributes:
        data: the revert data the node returned (custom error, ``Error(string)``), if any.
    """

    retryable = False

    def __init__(self, message: str, *, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


class ChainClient:
    """JSON-RPC over HTTP to one EVM node. Create once, share, close at shutdown."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        attempts: int = DEFAULT_ATTEMPTS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self._rpc = JsonRpc(url, timeout=timeout, attempts=attempts, transport=transport)
        self._chain_id: int | None = None

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
        await self._rpc.aclose()

    async def request(self, method: str, params: list[Any]) -> Any:
        """Send one JSON-RPC request and return its ``result``.

        Raises:
            Unavailable: transport failure (after :class:`~ap_avs.chain.rpc.JsonRpc`'s
                retries), HTTP error or a JSON-RPC error.
            CallReverted: a JSON-RPC error that reports an execution revert.
        """
        try:
            return await self._rpc.call(method, params)
        except RpcError as exc:
            if exc.code in _REVERT_CODES or "revert" in exc.rpc_message.lower():
                data = exc.revert_data or b""
                raise CallReverted(f"{method} reverted: {exc.rpc_message}", data=data) from None
            raise Unavailable(exc.message) from None

    async def chain_id(self) -> int:
        """The node's chain id (asked once, then remembered)."""
        if self._chain_id is None:
            self._chain_id = int(await self.request("eth_chainId", []), 16)
        return self._chain_id

    async def block_number(self) -> int:
        return int(await self.request("eth_blockNumber", []), 16)

    async def get_balance(self, address: str, block: str = "latest") -> int:
        return int(await self.request("eth_getBalance", [address, block]), 16)

    async def get_code(self, address: str, block: str = "latest") -> bytes:
        return bytes.fromhex(str(await self.request("eth_getCode", [address, block]))[2:])

    async def eth_call(self, to: str, data: bytes, *, block: str = "latest") -> bytes:
        result = await self.request("eth_call", [{"to": to, "data": "0x" + data.hex()}, block])
        text = str(result)
        return bytes.fromhex(text[2:] if text.startswith("0x") else text)

    async def smart_wallet_address(self, factory: str, owner: str, salt: int) -> str:
        """``factory.getAddress(owner, salt)``, checksummed.

        Raises:
            Unavailable: the node is down, or the call reverted or returned nothing.
        """
        data = _GET_ADDRESS + encode(["address", "uint256"], [owner, salt])
        raw = await self.eth_call(factory, data)
        if len(raw) < 32:
            raise CallReverted(f"factory {factory} returned no address (is it deployed?)")
        (address,) = decode(["address"], raw)
        return to_checksum_address(address)

    async def entrypoint_nonce(self, entrypoint: str, sender: str, key: int = 0) -> int:
        """``EntryPoint.getNonce(sender, key)``.

        Raises:
            Unavailable: the node is down, or the call reverted or returned nothing.
        """
        data = _GET_NONCE + encode(["address", "uint192"], [sender, key])
        raw = await self.eth_call(entrypoint, data)
        if len(raw) < 32:
            raise CallReverted(f"EntryPoint {entrypoint} returned no nonce (is it deployed?)")
        (nonce,) = decode(["uint256"], raw)
        return int(nonce)
