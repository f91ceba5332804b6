"""Token metadata and the native token's USD price: the per-chain token list shipped with the
package, the chain as a fallback, a Chainlink-style feed for prices.

:class:`TokenRegistry` answers "what is the token at this address" (GetTokenMetadata, the
balance node): the native sentinel ``0xeeee…eeee`` is the chain's native token; a listed
token comes from ``data/tokens/<chain_id>.json`` (or a configured directory); any other
address is asked on chain (ERC-20 ``name()``, ``symbol()``, ``decimals()``) and remembered.
:func:`token_address` holds the input rules. Token lists are JSON arrays of
``{"id": <address>, "name", "symbol", "decimals"}``.

Raises:
    InvalidArgument: ``token address is required`` / ``invalid token address format``.
    ConfigError: a token list file that does not parse (at start-up).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Final

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError

from ap_avs.chain import CallReverted, ChainClient, selector
from ap_avs.domain.erc20 import Erc20Metadata, decode_decimals, decode_text
from ap_avs.errors import ApAvsError, ConfigError, InvalidArgument

NATIVE_TOKEN: Final = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
NATIVE_TOKEN_CHECKSUM: Final = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
DEFAULT_TOKEN_DIR: Final = Path(__file__).resolve().parent / "data" / "tokens"
UNKNOWN_NAME: Final = "Unknown Token"
UNKNOWN_SYMBOL: Final = "UNKNOWN"
_ADDRESS: Final = re.compile(r"(?:0[xX])?([0-9a-fA-F]{40})")
_NAME, _SYMBOL, _DECIMALS = selector("name()"), selector("symbol()"), selector("decimals()")
_LATEST_ROUND: Final = selector("latestRoundData()")
BALANCE_OF: Final = selector("balanceOf(address)")


@dataclass(frozen=True, slots=True)
class TokenMetadata:
    """What a client needs to show a token; ``address`` is lower-case."""

    address: str
    name: str
    symbol: str
    decimals: int
    source: str
    """``native``, ``whitelist`` (the token list) or ``rpc`` (read from the contract)."""


def token_address(text: str) -> str:
    """The address of a GetTokenMetadata request as ``0x`` + 40 lower-case hex digits.

    ``0x``, ``0X`` or no prefix, any case; nothing else (no spaces, no line break: full match).

    Raises:
        InvalidArgument: empty (``token address is required``) or not an address.
    """
    if not text.strip():
        raise InvalidArgument("token address is required")
    found = _ADDRESS.fullmatch(text)
    if found is None:
        raise InvalidArgument("invalid token address format")
    return "0x" + found.group(1).lower()


def load_token_list(path: Path) -> list[TokenMetadata]:
    """The tokens of one list file.

    Raises:
        ConfigError: the file is not a JSON array of well-formed entries.
    """
    try:
        entries = json.loads(path.read_text())
        if not isinstance(entries, list):
            raise TypeError("not a JSON array")
        return [
            TokenMetadata(
                token_address(str(entry["id"])),
                str(entry["name"]),
                str(entry["symbol"]),
                int(entry["decimals"]),
                "whitelist",
            )
            for entry in entries
        ]
    except (OSError, ValueError, TypeError, KeyError, InvalidArgument) as exc:
        raise ConfigError(f"token list {path} is malformed: {exc}") from None


def native_token(chain_id: int) -> TokenMetadata:
    """The chain's native token (Ether on every chain we serve)."""
    return TokenMetadata(NATIVE_TOKEN, "Ether", "ETH", 18, "native")


async def read_erc20_metadata(chain: ChainClient, address: str) -> Erc20Metadata:
    """``name()``, ``symbol()`` and ``decimals()`` of ``address``, read concurrently: the one
    reader of ERC-20 metadata (GetTokenMetadata, the balance node, event triggers).

    A call that reverts (the contract lacks the method) reads as ``None``.

    Raises:
        Unavailable: the chain could not be asked.
    """

    async def read(data: bytes) -> bytes | None:
        try:
            return await chain.eth_call(address, data)
        except CallReverted:
            return None

    name, symbol, decimals = await asyncio.gather(read(_NAME), read(_SYMBOL), read(_DECIMALS))
    return Erc20Metadata(decode_text(name), decode_text(symbol), decode_decimals(decimals))


class PriceFeed:
    """The native token's USD price from a Chainlink-style aggregator (``latestRoundData``),
    read at most once per ``cache_seconds``."""

    def __init__(self, chain: ChainClient, address: str, *, cache_seconds: float = 30.0) -> None:
        self._chain = chain
        self.address = address
        self._cache_seconds = cache_seconds
        self._decimals: int | None = None
        self._price: tuple[float, Decimal] | None = None

    async def usd_price(self) -> Decimal | None:
        """USD per native token; None when the feed cannot be read or answers ≤ 0."""
        now = time.monotonic()
        if self._price is not None and now - self._price[0] < self._cache_seconds:
            return self._price[1]
        try:
            if self._decimals is None:
                (self._decimals,) = decode(
                    ["uint8"], await self._chain.eth_call(self.address, _DECIMALS)
                )
            raw = await self._chain.eth_call(self.address, _LATEST_ROUND)
            _, answer, _, _, _ = decode(["uint80", "int256", "uint256", "uint256", "uint80"], raw)
        except (ApAvsError, DecodingError, ValueError):
            return None
        if answer <= 0:
            return None
        price = Decimal(int(answer)).scaleb(-int(self._decimals))
        self._price = (now, price)
        return price


class TokenRegistry:
    """Token metadata of one chain; lookups outside the list are cached for the process."""

    def __init__(self, chain: ChainClient, chain_id: int, directory: Path | None = None) -> None:
        self._chain = chain
        self.chain_id = chain_id
        path = (directory or DEFAULT_TOKEN_DIR) / f"{chain_id}.json"
        self._listed = load_token_list(path) if path.exists() else []
        self._known: dict[str, TokenMetadata] = {t.address: t for t in self._listed}

    def listed(self) -> list[TokenMetadata]:
        """The chain's token list, in file order."""
        return list(self._listed)

    async def lookup(self, address: str) -> TokenMetadata | None:
        """Metadata for ``address`` (any case); None when it is not a contract or the chain
        could not be asked.

        Raises:
            InvalidArgument: a malformed address.
        """
        address = token_address(address)
        if address == NATIVE_TOKEN:
            return native_token(self.chain_id)
        if (known := self._known.get(address)) is not None:
            return known
        try:
            if not await self._chain.get_code(address):
                return None
            read = await read_erc20_metadata(self._chain, address)
        except ApAvsError:
            return None
        token = TokenMetadata(
            address,
            read.name or UNKNOWN_NAME,
            read.symbol or UNKNOWN_SYMBOL,
            18 if read.decimals is None else read.decimals,
            "rpc",
        )
        self._known[address] = token
        return token
