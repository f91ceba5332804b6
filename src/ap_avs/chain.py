"""Reading an EVM chain over JSON-RPC: the few calls the aggregator makes, with clear failures.

:class:`ChainClient` is a thin async client (httpx, one pooled connection set) for an HTTP RPC
endpoint: chain id, ``eth_call``, balances, code and blocks, plus the typed contract reads the
aggregator needs (smart-wallet factory ``getAddress``, EntryPoint ``getNonce``). It decides
nothing about users or workflows.

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

from ap_avs.errors import Unavailable

DEFAULT_TIMEOUT: Final = 10.0
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


def _revert_data(error: dict[str, Any]) -> bytes:
    """The revert data of a JSON-RPC error (``data`` as hex, or nested as ``data.data``)."""
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return b""
    return b""


class ChainClient:
    """JSON-RPC over HTTP to one EVM node. Create once, share, close at shutdown."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self._http = httpx.AsyncClient(timeout=timeout)
        self._next_id = 0
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
        await self._http.aclose()

    async def request(self, method: str, params: list[Any]) -> Any:
        """Send one JSON-RPC request and return its ``result``.

        Raises:
            Unavailable: transport failure, HTTP error or a JSON-RPC error.
            CallReverted: a JSON-RPC error that reports an execution revert.
        """
        self._next_id += 1
        payload = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
        try:
            response = await self._http.post(self.url, json=payload)
            response.raise_for_status()
            body = response.json()
        except httpx.HTTPStatusError as exc:
            raise Unavailable(
                f"chain RPC {method} failed: HTTP {exc.response.status_code}"
            ) from None
        except (httpx.HTTPError, ValueError) as exc:
            reason = type(exc).__name__ if not str(exc) else str(exc)
            raise Unavailable(f"chain RPC is unavailable ({method}): {reason}") from None
        if not isinstance(body, dict):
            raise Unavailable(f"chain RPC {method} answered something that is not JSON-RPC")
        error = body.get("error")
        if error is not None:
            message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
            code = error.get("code") if isinstance(error, dict) else None
            if code in _REVERT_CODES or "revert" in message.lower():
                data = _revert_data(error) if isinstance(error, dict) else b""
                raise CallReverted(f"{method} reverted: {message}", data=data)
            raise Unavailable(f"chain RPC {method} failed: {message}")
        return body.get("result")

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
