"""Deploying the contracts of the devnet through the CREATE2 deployer, at fixed addresses.

Raises:
    DevnetError: a deployment fails or lands elsewhere than expected.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.chain.aa import ENTRYPOINT_V06, create2_address
from ap_avs.chain.rpc import JsonRpc
from ap_avs.devnet._model import (
    _CONTROLLER,
    _DEPLOYER,
    _EXECUTOR,
    _MINT_UNITS,
    _PAYMASTER_DEPOSIT_WEI,
    _STAKE_WEI,
    _TEST_ACCOUNTS,
    _UNSTAKE_DELAY_SECONDS,
    _UTILITY,
    CREATE2_DEPLOYER,
    ETH_USD_ANSWER,
    LOCAL_TOKENS,
    SEPOLIA_ETH_USD_FEED,
    SEPOLIA_TOKENS,
    DevAccount,
    DevnetError,
    DevnetOptions,
    PriceFeedInfo,
    TokenInfo,
)
from ap_avs.devnet._process import _find_tool
from ap_avs.errors import Unavailable

logger = logging.getLogger(__name__)


class _Rpc:
    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._rpc = JsonRpc(url, label=f"devnet RPC {url}", client=client)
        self.automine = True

    async def call(self, method: str, *params: Any) -> Any:
        try:
            return await self._rpc.call(method, list(params))
        except Unavailable as exc:
            raise DevnetError(exc.message) from None

    async def eth_call(self, to: str, data: bytes) -> bytes:
        result = await self.call("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest")
        return bytes.fromhex(str(result).removeprefix("0x"))

    async def code(self, address: str) -> str:
        return str(await self.call("eth_getCode", address, "latest"))

    async def transact(self, sender: str, to: str, data: bytes = b"", value: int = 0) -> None:
        """Send from an unlocked anvil account and wait until it is mined successfully."""
        tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value)}
        tx_hash = await self.call("eth_sendTransaction", tx)
        if not self.automine:
            await self.call("evm_mine")
        deadline = time.monotonic() + 10
        while (receipt := await self.call("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:
                raise DevnetError(f"transaction {tx_hash} to {to} was not mined")
            await asyncio.sleep(0.02)
        if int(receipt["status"], 16) != 1:
            raise DevnetError(f"transaction {tx_hash} to {to} reverted")


def _call_data(signature: str, types: Sequence[str] = (), values: Sequence[Any] = ()) -> bytes:
    return keccak(text=signature)[:4] + encode(list(types), list(values))


# --- deployment ------------------------------------------------------------------------------


class _Deployer:
    def __init__(self, rpc: _Rpc, options: DevnetOptions, sender: str) -> None:
        self.rpc = rpc
        self.options = options
        self.sender = sender

    def bytecode(self, name: str) -> bytes:
        """Creation code: ERC-4337's from the npm package, ours from contracts/artifacts."""
        if name in {"EntryPoint", "VerifyingPaymaster"}:
            folder = self.options.node_modules / "@account-abstraction/contracts/artifacts"
        else:
            folder = self.options.artifacts
        path = _find_tool(folder / f"{name}.json", f"the {name} artifact")
        return bytes.fromhex(json.loads(path.read_text())["bytecode"].removeprefix("0x"))

    async def create2(self, name: str, types: Sequence[str] = (), args: Sequence[Any] = ()) -> str:
        """Deploy ``name`` with constructor ``args`` through the CREATE2 deployer, salt 0."""
        init = self.bytecode(name) + encode(list(types), list(args))
        return await self.create2_code(name, init)

    async def create2_code(self, name: str, init: bytes, salt: bytes = bytes(32)) -> str:
        """Deploy the creation code ``init`` through the CREATE2 deployer with ``salt``."""
        address = create2_address(CREATE2_DEPLOYER, salt, keccak(init))
        if await self.rpc.code(address) == "0x":
            await self.rpc.transact(self.sender, CREATE2_DEPLOYER, salt + init)
            if await self.rpc.code(address) == "0x":
                raise DevnetError(f"{name} did not land at {address}")
        return address

    async def token(self, name: str, symbol: str, decimals: int) -> TokenInfo:
        address = await self.create2(
            "TestToken", ["string", "string", "uint8"], [name, symbol, decimals]
        )
        return TokenInfo(address, name, symbol, decimals)

    async def mint(self, token: TokenInfo, holders: Sequence[DevAccount]) -> None:
        amount = _MINT_UNITS * 10**token.decimals
        for holder in holders:
            data = _call_data(
                "mint(address,uint256)", ["address", "uint256"], [holder.address, amount]
            )
            await self.rpc.transact(self.sender, token.address, data)

    async def place(self, source: str, target: str) -> None:
        """Copy the runtime code at ``source`` to ``target`` (storage stays empty)."""
        await self.rpc.call("anvil_setCode", target, await self.rpc.code(source))


@dataclass(frozen=True, slots=True)
class _Keys:
    deployer: DevAccount
    controller: DevAccount
    bundler_executor: DevAccount
    bundler_utility: DevAccount
    tests: tuple[DevAccount, ...]

    @classmethod
    def anvil(cls) -> _Keys:
        return cls(
            deployer=DevAccount.from_index(_DEPLOYER),
            controller=DevAccount.from_index(_CONTROLLER),
            bundler_executor=DevAccount.from_index(_EXECUTOR),
            bundler_utility=DevAccount.from_index(_UTILITY),
            tests=tuple(DevAccount.from_index(i) for i in _TEST_ACCOUNTS),
        )


@dataclass(frozen=True, slots=True)
class _Deployed:
    factory: str
    account_implementation: str
    paymaster: str
    paymaster_owner: str
    price_feed: str
    tokens: tuple[TokenInfo, ...]
    price_feeds: tuple[PriceFeedInfo, ...]


async def _deploy_paymaster(d: _Deployer, keys: _Keys) -> str:
    """The VerifyingPaymaster, owned by our deployer, staked and funded at the EntryPoint."""
    args = (["address", "address"], [ENTRYPOINT_V06, keys.controller.address])
    paymaster = await d.create2("VerifyingPaymaster", *args)
    # Ownable made the caller of its constructor the owner: the CREATE2 deployer contract.
    # Hand ownership to our deployer (Ownable keeps _owner in slot 0) and check it took.
    owner = keys.deployer.address
    await d.rpc.call("anvil_setStorageAt", paymaster, "0x0", "0x" + owner[2:].lower().zfill(64))
    raw = await d.rpc.eth_call(paymaster, _call_data("owner()"))
    if to_checksum_address(raw[12:32]) != owner:
        raise DevnetError("could not hand the paymaster's ownership to the deployer")
    stake = _call_data("addStake(uint32)", ["uint32"], [_UNSTAKE_DELAY_SECONDS])
    await d.rpc.transact(owner, paymaster, stake, _STAKE_WEI)
    await d.rpc.transact(owner, paymaster, _call_data("deposit()"), _PAYMASTER_DEPOSIT_WEI)
    return paymaster


async def _deploy_contracts(rpc: _Rpc, options: DevnetOptions, keys: _Keys) -> _Deployed:
    d = _Deployer(rpc, options, keys.deployer.address)
    args = (["address", "address"], [ENTRYPOINT_V06, keys.controller.address])
    factory = await d.create2("ApSmartAccountFactory", *args)
    raw = await rpc.eth_call(factory, _call_data("accountImplementation()"))
    paymaster = await _deploy_paymaster(d, keys)

    tokens = [await d.token(*spec) for spec in LOCAL_TOKENS]
    feed_args = (["uint8", "string", "int256"], [8, "ETH / USD", ETH_USD_ANSWER])
    feed = await d.create2("TestPriceFeed", *feed_args)
    feeds = [PriceFeedInfo(feed, "ETH / USD", 8)]
    if options.sepolia_fixtures:
        for address, name, symbol, decimals in SEPOLIA_TOKENS:
            copy = await d.token(name, symbol, decimals)
            await d.place(copy.address, address)
            tokens.append(TokenInfo(address, name, symbol, decimals))
        # The copy at the feed address starts with empty storage: give it its first round.
        await d.place(feed, SEPOLIA_ETH_USD_FEED)
        answer = _call_data("setAnswer(int256)", ["int256"], [ETH_USD_ANSWER])
        await rpc.transact(keys.deployer.address, SEPOLIA_ETH_USD_FEED, answer)
        feeds.append(PriceFeedInfo(SEPOLIA_ETH_USD_FEED, "ETH / USD", 8))
    for token in tokens:
        await d.mint(token, keys.tests)

    return _Deployed(
        factory=factory,
        account_implementation=to_checksum_address(raw[12:32]),
        paymaster=paymaster,
        paymaster_owner=keys.deployer.address,
        price_feed=feed,
        tokens=tuple(tokens),
        price_feeds=tuple(feeds),
    )


# --- alto ------------------------------------------------------------------------------------
