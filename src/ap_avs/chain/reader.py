"""What the operator reads from the target chain: the head, headers, logs and token metadata.

A thin layer over :class:`ap_avs.chain.ChainClient` that turns JSON-RPC answers into typed
values and retries transient failures with a short backoff (LESSONS.md 12: a node behind a load
balancer may not know a header the head just announced). ``eth_getLogs`` over a range the node
refuses as too large is split in halves. Token metadata (``name``, ``symbol``, ``decimals``) is
read once per contract and cached; a contract that does not answer reads as unknown fields.

Raises:
    Unavailable: the node still fails after the retries (watchers log it and try again on
        their next pass).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, TypeVar

from ap_avs.chain import CallReverted, ChainClient
from ap_avs.chain.tokens import read_erc20_metadata
from ap_avs.domain.erc20 import Erc20Metadata
from ap_avs.domain.events import Log, LogFilter
from ap_avs.domain.trigger_data import BlockHeader, parse_header, parse_log
from ap_avs.errors import Unavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")
_TOO_LARGE: Final = ("too many", "too large", "limit", "range", "more than", "exceed")


class ChainReader:
    """Typed, retried reads from one chain. Shares the caller's :class:`ChainClient`."""

    def __init__(
        self,
        client: ChainClient,
        *,
        attempts: int = 5,
        backoff: float = 0.2,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep
        self._tokens: dict[str, Erc20Metadata] = {}

    async def _retry(self, what: str, call: Callable[[], Awaitable[T | None]]) -> T:
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            try:
                result = await call()
            except CallReverted:
                raise
            except Unavailable as exc:
                problem = exc.message
            else:
                if result is not None:
                    return result
                problem = f"{what}: the node does not know it yet"
            if attempt == self._attempts:
                raise Unavailable(problem)
            logger.debug("retrying %s in %.1f s: %s", what, delay, problem)
            await self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    async def chain_id(self) -> int:
        return await self._retry("eth_chainId", self._client.chain_id)

    async def head(self) -> int:
        """The latest block number."""
        return await self._retry("eth_blockNumber", self._client.block_number)

    async def header(self, number: int) -> BlockHeader:
        """The header of block ``number`` (retried while the node does not have it)."""

        async def call() -> BlockHeader | None:
            raw = await self._client.request("eth_getBlockByNumber", [hex(number), False])
            return parse_header(raw) if isinstance(raw, dict) else None

        return await self._retry(f"block {number}", call)

    async def headers(self, numbers: Sequence[int], concurrency: int = 8) -> dict[int, BlockHeader]:
        """Headers of ``numbers``, fetched a few at a time."""
        limit = asyncio.Semaphore(concurrency)

        async def one(number: int) -> BlockHeader:
            async with limit:
                return await self.header(number)

        found = await asyncio.gather(*(one(n) for n in numbers))
        return {h.number: h for h in found}

    async def logs(self, log_filter: LogFilter, first: int, last: int) -> list[Log]:
        """Logs in blocks ``first..last`` passing ``log_filter`` (ranges split when refused)."""
        params: dict[str, Any] = {"fromBlock": hex(first), "toBlock": hex(last)}
        if log_filter.addresses is not None:
            params["address"] = list(log_filter.addresses)
        if log_filter.topic0 is not None:
            params["topics"] = [list(log_filter.topic0)]

        async def call() -> list[Any] | None:
            raw = await self._client.request("eth_getLogs", [params])
            return raw if isinstance(raw, list) else None

        try:
            raw_logs = await self._retry(f"logs {first}-{last}", call)
        except Unavailable as exc:
            if last > first and any(word in exc.message.lower() for word in _TOO_LARGE):
                middle = (first + last) // 2
                return [
                    *(await self.logs(log_filter, first, middle)),
                    *(await self.logs(log_filter, middle + 1, last)),
                ]
            raise
        return [parse_log(item) for item in raw_logs if isinstance(item, dict)]

    async def token(self, address: str) -> Erc20Metadata:
        """ERC-20 metadata of ``address``, read once and cached (unknown fields when the chain
        cannot be asked now; that answer is not cached)."""
        key = address.lower()
        if (known := self._tokens.get(key)) is not None:
            return known
        try:
            metadata = await read_erc20_metadata(self._client, key)
        except Unavailable as exc:
            logger.warning("cannot read token metadata of %s: %s", key, exc.message)
            return Erc20Metadata(None, None, None)
        self._tokens[key] = metadata
        return metadata
