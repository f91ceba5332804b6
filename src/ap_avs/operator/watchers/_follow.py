"""Following a chain from a persisted cursor: which block range a chain watcher handles next.

:class:`ChainFollower` owns one named cursor in the checkpoint (the last block fully handled).
It waits for the roster to be ready (see :mod:`ap_avs.operator.roster`), starts from the
checkpoint or, the first time, from the head, polls the head every ``poll_interval`` seconds
and hands out bounded ranges (LESSONS.md 6). Limits:

* at most ``max_range`` blocks per range, ``lag`` blocks behind the head (confirmations);
* a cursor more than ``max_catch_up`` blocks behind jumps forward (logged): older blocks are
  not caught up;
* a cursor ahead of the head (a reset devnet) moves back to the head (logged);
* a reorg is noticed by the hash of the last handled block: when it changed, the cursor walks
  back (at most :data:`REORG_DEPTH` blocks) to the last block whose hash still matches and the
  replaced blocks are handled again (logged). Already-delivered occurrences are deduplicated by
  the aggregator, so nothing fires twice and nothing in the new branch is missed. The hash kept
  is the one read when the range was handed out, before its blocks were handled: read at commit
  time instead, a reorg during the handling would be recorded as the handled block and missed.
  When no hash could be read, the last block is handled once more on the next round (an
  unverifiable block is never assumed canonical).

Transport failures while polling the head are logged and retried with a backoff capped at
``max_backoff``; nothing here raises except ``CancelledError``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from ap_avs.chain.reader import ChainReader
from ap_avs.errors import Unavailable
from ap_avs.operator.checkpoint import CheckpointStore

logger = logging.getLogger(__name__)

REORG_DEPTH = 64
"""How far back a reorg is followed; deeper ones resume from the fork horizon."""


class ChainFollower:
    """Hands out ``(first, last)`` block ranges; :meth:`commit` advances the cursor."""

    def __init__(
        self,
        name: str,
        reader: ChainReader,
        store: CheckpointStore,
        *,
        ready: asyncio.Event | None = None,
        poll_interval: float = 1.0,
        max_range: int = 100,
        max_catch_up: int = 1000,
        lag: int = 0,
        max_backoff: float = 30.0,
    ) -> None:
        self.name = name
        self._reader = reader
        self._store = store
        self._ready = ready
        self._poll = poll_interval
        self._max_range = max(1, max_range)
        self._max_catch_up = max(0, max_catch_up)
        self._lag = max(0, lag)
        self._max_backoff = max_backoff
        self.position: int | None = None
        """The last block fully handled; ``None`` until the first head is known."""
        self.head: int | None = None
        self._hashes: dict[int, str] = {}
        """Hashes of recently handled blocks (for reorg detection)."""
        self._pending: tuple[int, str | None] | None = None
        """The last block of the range handed out, and its hash as read then."""
        self._unverified = False
        """The last committed block's hash could not be read: handle it again."""

    async def _hash(self, number: int) -> str | None:
        try:
            return (await self._reader.header(number)).hash
        except Unavailable as exc:
            logger.warning("%s watcher: cannot read block %s: %s", self.name, number, exc.message)
            return None

    async def _rewind_after_reorg(self) -> None:
        """Move the cursor back to the fork point when the last handled block was replaced."""
        if self.position is not None and self._unverified:
            self._unverified = False
            self.position -= 1
            logger.info(
                "%s watcher: block %s was handled without its hash; handling it again",
                self.name,
                self.position + 1,
            )
            return
        if self.position is None or self.position not in self._hashes:
            return
        current = await self._hash(self.position)
        if current is None or current == self._hashes[self.position]:
            return
        fork = self.position - 1
        while fork in self._hashes and fork > self.position - REORG_DEPTH:
            if await self._hash(fork) == self._hashes[fork]:
                break
            fork -= 1
        logger.warning(
            "%s watcher: block %s was replaced (reorg); handling blocks after %s again",
            self.name,
            self.position,
            fork,
        )
        self._hashes = {n: h for n, h in self._hashes.items() if n <= fork}
        self.position = fork

    async def _head(self) -> int:
        delay = self._poll
        while True:
            try:
                self.head = await self._reader.head()
                return self.head
            except Unavailable as exc:
                logger.warning("%s watcher: cannot read the chain head: %s", self.name, exc.message)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def next_range(self) -> tuple[int, int]:
        """Wait until at least one new block is past the lag, and return the range to handle."""
        if self._ready is not None:
            await self._ready.wait()
        while True:
            await self._rewind_after_reorg()
            target = await self._head() - self._lag
            if self.position is None:
                saved = self._store.cursor(self.name)
                self.position = target if saved is None else saved
                logger.info(
                    "%s watcher starts after block %s (head %s)",
                    self.name,
                    self.position,
                    self.head,
                )
            if self.position > target:
                logger.warning(
                    "%s watcher: cursor %s is ahead of the chain (%s); the chain was reset?",
                    self.name,
                    self.position,
                    target,
                )
                self.position = target
            if target - self.position > self._max_catch_up:
                skipped = target - self.position - self._max_catch_up
                logger.warning(
                    "%s watcher: %s blocks behind, skipping the oldest %s",
                    self.name,
                    target - self.position,
                    skipped,
                )
                self.position = target - self._max_catch_up
            if target > self.position:
                first, last = self.position + 1, min(target, self.position + self._max_range)
                self._pending = (last, await self._hash(last))
                return first, last
            await asyncio.sleep(self._poll)

    async def commit(self, last: int, cooldowns: Mapping[str, int] | None = None) -> None:
        """Record that every block up to ``last`` was handled (and delivered)."""
        self.position = last
        await self._store.save_cursor(self.name, last, cooldowns)
        pending, self._pending = self._pending, None
        block_hash = pending[1] if pending is not None and pending[0] == last else None
        if block_hash is None:
            self._unverified = True
            return
        self._hashes[last] = block_hash
        for old in [n for n in self._hashes if n <= last - REORG_DEPTH]:
            del self._hashes[old]

    async def pause_after_error(self, failures: int) -> None:
        """Sleep before retrying a range that failed ``failures`` times in a row."""
        await asyncio.sleep(min(self._poll * 2**failures, self._max_backoff))
