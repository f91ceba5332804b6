"""Helpers for the integration tests: run a devnet in a thread, talk JSON-RPC to anvil."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from ap_avs.testing import DevnetThread

__all__ = ["Chain", "DevnetThread", "eventually"]


async def eventually(check: Any, within: float = 30.0, every: float = 0.05, what: str = "") -> None:
    """Poll ``check()`` until it is truthy (a liveness guard of ``within`` seconds)."""
    deadline = time.monotonic() + within
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what or check}")
        await asyncio.sleep(every)


class Chain:
    """A small JSON-RPC client for assertions against anvil."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._url = url

    async def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        payload = (await self._client.post(self._url, json=body)).json()
        if payload.get("error"):
            raise RuntimeError(f"{method}: {payload['error']}")
        return payload["result"]

    async def read(
        self, to: str, signature: str, types: list[str], args: list[Any], returns: list[str]
    ) -> tuple[Any, ...]:
        """eth_call ``signature(args)`` on ``to`` and decode the ``returns`` types."""
        data = keccak(text=signature)[:4] + encode(types, args)
        raw = await self.call("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest")
        return tuple(decode(returns, bytes.fromhex(raw[2:])))

    async def balance(self, address: str) -> int:
        return int(await self.call("eth_getBalance", address, "latest"), 16)

    async def code(self, address: str) -> str:
        return str(await self.call("eth_getCode", address, "latest"))

    async def send(
        self, sender: str, to: str, value: int = 0, data: bytes = b"", gas: int = 1_000_000
    ) -> None:
        """Send from an unlocked anvil account and wait (briefly) until it is mined.

        The gas limit is fixed: anvil's estimate can fall short when a stored value (such as a
        block timestamp) happens to be unchanged at estimation time but not when mined.
        """
        tx = {
            "from": sender,
            "to": to,
            "value": hex(value),
            "data": "0x" + data.hex(),
            "gas": hex(gas),
        }
        tx_hash = await self.call("eth_sendTransaction", tx)
        deadline = time.monotonic() + 10
        while (receipt := await self.call("eth_getTransactionReceipt", tx_hash)) is None:
            assert time.monotonic() < deadline, f"{tx_hash} was not mined"
            await asyncio.sleep(0.01)
        assert receipt["status"] == "0x1", receipt


def devnet_chain_stack(devnet: Any, client: Any, stored: dict[tuple[str, str], Any]) -> Any:
    """The chain use cases and on-chain runners for the devnet, with wallets looked up in
    ``stored`` (keyed by lower-case owner and address) instead of a store."""
    from ap_avs.aggregator.compose import build_chain_stack

    async def lookup(owner: str, address: str) -> Any:
        return stored.get((owner.lower(), address.lower()))

    async def derive(owner: str, factory: str, salt: int) -> str:
        address: str = await client.smart_wallet_address(factory, owner, salt)
        return address

    async def default_wallet(owner: str) -> str:
        return await derive(owner, devnet.factory, 0)

    return build_chain_stack(
        client,
        devnet.chain_id,
        lookup=lookup,
        derive=derive,
        default_wallet=default_wallet,
        factory=devnet.factory,
        entrypoint=devnet.entrypoint,
        bundler_url=devnet.bundler_url,
        controller_key=devnet.controller.private_key,
        paymaster=devnet.paymaster,
        price_feed=devnet.price_feed,
        confirm_timeout=20.0,
    )
