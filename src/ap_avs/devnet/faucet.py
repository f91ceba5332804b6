"""The devnet faucet behind ``ap-avs faucet``: fund an address, or an owner's smart wallets.

Pure parts: :func:`parse_amount` (a decimal amount in whole units → base units),
:func:`parse_salts` (``0-9``, ``3``, ``0,2,5``) and :func:`plan_grants`. :func:`fund` does the
I/O against the devnet in the state file: ETH is added with ``anvil_setBalance`` (current
balance + amount), tokens are minted by the deployer (the devnet's test tokens, and the Sepolia
copies, have an open ``mint``), and an owner's wallets come from the factory's
``getAddress(owner, salt)`` (they need not be deployed to receive funds).

Raises:
    FaucetError: a bad amount, salt range, token symbol or address; the devnet refused a call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

import httpx
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.devnet._model import DevnetError, DevnetState, TokenInfo
from ap_avs.domain.addresses import is_address

ETH_DECIMALS: Final = 18
MAX_SALTS: Final = 1000
RECEIPT_WAIT_SECONDS: Final = 60
"""How long a mint may take to be mined (a devnet mining on an interval is slower)."""
_MINT: Final = keccak(text="mint(address,uint256)")[:4]
_BALANCE_OF: Final = keccak(text="balanceOf(address)")[:4]
_GET_ADDRESS: Final = keccak(text="getAddress(address,uint256)")[:4]


class FaucetError(Exception):
    """The faucet cannot do what was asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Grant:
    """Funds for one address: ``eth_wei`` and ``(token, base units)`` pairs."""

    address: str
    eth_wei: int
    tokens: tuple[tuple[TokenInfo, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Funded:
    """What an address holds after the faucet ran."""

    address: str
    eth_wei: int
    tokens: tuple[tuple[str, int], ...]
    """``(symbol, base units)``."""


def parse_amount(text: str, decimals: int) -> int:
    """``text`` (a non-negative decimal in whole units, e.g. ``1.5``) in base units.

    Raises:
        FaucetError: not a number, negative, or finer than ``decimals`` allows.
    """
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise FaucetError(f"amount {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise FaucetError(f"amount {text!r} must be a non-negative number")
    units = value.scaleb(decimals)
    if units != units.to_integral_value():
        raise FaucetError(f"amount {text!r} has more than {decimals} decimals")
    return int(units)


def parse_salts(text: str) -> list[int]:
    """Salts from ``0-9`` (inclusive range), ``3`` or ``0,2,5`` (ranges may be mixed in).

    Raises:
        FaucetError: anything else, a reversed range, or more than :data:`MAX_SALTS` salts.
    """
    salts: list[int] = []
    for part in text.split(","):
        low, sep, high = part.strip().partition("-")
        if not low.isdigit() or (sep and not high.isdigit()):
            raise FaucetError(f"salts {text!r}: use a number, a range like 0-9, or a list 0,2,5")
        first, last = int(low), int(high) if sep else int(low)
        if last < first:
            raise FaucetError(f"salts {text!r}: the range {part.strip()} is reversed")
        salts.extend(range(first, last + 1))
        if len(salts) > MAX_SALTS:
            raise FaucetError(f"salts {text!r}: at most {MAX_SALTS} wallets at once")
    return sorted(set(salts))


def parse_token_args(args: Sequence[str]) -> list[tuple[str, str]]:
    """``(symbol, amount)`` pairs from the words ``--token SYMBOL AMOUNT …``.

    Raises:
        FaucetError: a word that is not part of such a triple.
    """
    pairs: list[tuple[str, str]] = []
    words = list(args)
    while words:
        if words[0] != "--token" or len(words) < 3:
            raise FaucetError(f"unexpected {' '.join(words)!r}; tokens go as --token SYMBOL AMOUNT")
        pairs.append((words[1], words[2]))
        del words[:3]
    return pairs


def plan_grants(
    state: DevnetState,
    addresses: Sequence[str],
    eth: str | None,
    tokens: Sequence[tuple[str, str]],
) -> list[Grant]:
    """What to give each address: ``eth`` ETH (default 1 when no token is asked for either)
    and each ``(symbol, amount)``.

    Raises:
        FaucetError: a bad address, amount or unknown token symbol.
    """
    for address in addresses:
        if not is_address(address):
            raise FaucetError(f"{address!r} is not an address (0x and 40 hex digits)")
    eth_wei = parse_amount(eth if eth is not None else ("0" if tokens else "1"), ETH_DECIMALS)
    known = {t.symbol.upper(): t for t in state.tokens}
    wanted: list[tuple[TokenInfo, int]] = []
    for symbol, amount in tokens:
        token = known.get(symbol.upper())
        if token is None:
            raise FaucetError(f"unknown token {symbol!r}; this devnet has {', '.join(known)}")
        wanted.append((token, parse_amount(amount, token.decimals)))
    return [Grant(to_checksum_address(a), eth_wei, tuple(wanted)) for a in addresses]


class _Chain:
    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._url = url

    async def call(self, method: str, *params: object) -> object:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        try:
            payload = (await self._client.post(self._url, json=body)).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise FaucetError(f"the devnet at {self._url} did not answer {method}: {exc}") from None
        if payload.get("error") is not None:
            raise FaucetError(f"{method} failed: {payload['error']}")
        return payload.get("result")

    async def eth_call(self, to: str, data: bytes) -> bytes:
        result = await self.call("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest")
        return bytes.fromhex(str(result).removeprefix("0x"))

    async def balance(self, address: str) -> int:
        return int(str(await self.call("eth_getBalance", address, "latest")), 16)

    async def send(self, sender: str, to: str, data: bytes) -> None:
        tx = {"from": sender, "to": to, "data": "0x" + data.hex()}
        tx_hash = await self.call("eth_sendTransaction", tx)
        deadline = time.monotonic() + RECEIPT_WAIT_SECONDS
        while (receipt := await self.call("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:
                raise FaucetError(
                    f"transaction {tx_hash} to {to} was not mined within "
                    f"{RECEIPT_WAIT_SECONDS} s (does the devnet mine blocks?)"
                )
            await asyncio.sleep(0.05)
        if not isinstance(receipt, dict) or int(str(receipt.get("status")), 16) != 1:
            raise FaucetError(f"transaction {tx_hash} to {to} reverted")


async def wallet_addresses(state: DevnetState, owner: str, salts: Sequence[int]) -> list[str]:
    """The smart wallets of ``owner`` at ``salts`` (the devnet factory's ``getAddress``).

    Raises:
        FaucetError: ``owner`` is not an address, or the factory did not answer.
    """
    if not is_address(owner):
        raise FaucetError(f"owner {owner!r} is not an address (0x and 40 hex digits)")
    async with httpx.AsyncClient(timeout=30) as client:
        chain = _Chain(client, state.rpc_url)
        found: list[str] = []
        for salt in salts:
            raw = await chain.eth_call(
                state.factory, _GET_ADDRESS + encode(["address", "uint256"], [owner, salt])
            )
            if len(raw) < 32:
                raise FaucetError(f"the factory {state.factory} returned no address")
            found.append(to_checksum_address(decode(["address"], raw)[0]))
        return found


async def fund(state: DevnetState, grants: Sequence[Grant]) -> list[Funded]:
    """Give each grant's address its ETH and tokens; what each then holds.

    Raises:
        FaucetError: the devnet refused a call (is it running? is the state file current?).
    """
    async with httpx.AsyncClient(timeout=30) as client:
        chain = _Chain(client, state.rpc_url)
        funded = []
        for grant in grants:
            if grant.eth_wei:
                total = await chain.balance(grant.address) + grant.eth_wei
                await chain.call("anvil_setBalance", grant.address, hex(total))
            holdings = []
            for token, units in grant.tokens:
                if units:
                    data = _MINT + encode(["address", "uint256"], [grant.address, units])
                    await chain.send(state.deployer.address, token.address, data)
                raw = await chain.eth_call(
                    token.address, _BALANCE_OF + encode(["address"], [grant.address])
                )
                holdings.append((token.symbol, int.from_bytes(raw[:32], "big")))
            funded.append(
                Funded(grant.address, await chain.balance(grant.address), tuple(holdings))
            )
        return funded


def load_state(text: str) -> DevnetState:
    """The devnet described by a state file's JSON text.

    Raises:
        FaucetError: the text is not a devnet state file.
    """
    try:
        return DevnetState.from_json(json.loads(text))
    except (ValueError, TypeError, KeyError, DevnetError) as exc:
        raise FaucetError(f"not a devnet state file: {exc}") from None
