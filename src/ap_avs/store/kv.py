"""The key-value seam: the `KV` interface every repository uses, its transactions and errors.

Everything persistent goes through a `KV`: point reads, prefix scans in byte order (forward or
reverse, with a `start` key for keyset pagination), counts, and atomic read-modify-write
transactions. Keys are 1-511 bytes (LMDB's limit), compared as raw bytes; values are bytes.
`LmdbKV` (``lmdb_kv.py``) is the production engine, `MemoryKV` (``memory.py``) the test fake;
both pass one contract suite (``tests/store/test_kv_contract.py``).

Usage::

    def bump(txn: Txn) -> int:  # read-modify-write, atomically
        n = int(txn.get(b"n") or b"0") + 1
        txn.put(b"n", b"%d" % n)
        return n

    n = await kv.update(bump)
    page = await kv.scan(b"t:a:", start=last_key, include_start=False, limit=50)

Transactions: ``await kv.update(fn)`` runs the synchronous ``fn(txn)`` in one write transaction
and returns its result. If ``fn`` raises, nothing it wrote is kept and the exception reaches the
caller. ``fn`` must not block or await, and it may run more than once (LmdbKV re-runs it after
growing the map), so it must have no effect outside ``txn``. ``await kv.view(fn)`` is the
read-only form: one consistent snapshot. A ``txn`` must not be used after ``fn`` returns.
Cancelling the caller of ``update`` does not undo a write already handed to the writer.

Raises (part of the tree in ``ap_avs.errors``):

    StoreError              a storage operation failed
    ├── StoreFullError      the map reached max_map_size, or the disk is full
    └── StoreClosedError    the store was closed

Bad arguments (key of 0 or >511 bytes, negative limit) raise ``ValueError``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Final, Protocol, Self, TypeVar

from ap_avs.errors import StoreClosedError, StoreError, StoreFullError

__all__ = [
    "KV",
    "MAX_KEY_SIZE",
    "ReadTxn",
    "StoreClosedError",
    "StoreError",
    "StoreFullError",
    "StoreSize",
    "Txn",
]

T = TypeVar("T")

MAX_KEY_SIZE: Final = 511
"""Longest key in bytes (LMDB's compiled-in limit); both implementations enforce it."""


class ReadTxn(Protocol):
    """Synchronous reads inside one transaction; the same semantics as the `KV` methods."""

    def get(self, key: bytes) -> bytes | None: ...

    def scan(
        self,
        prefix: bytes,
        *,
        start: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
        include_start: bool = True,
    ) -> list[tuple[bytes, bytes]]: ...

    def scan_keys(
        self,
        prefix: bytes,
        *,
        start: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
        include_start: bool = True,
    ) -> list[bytes]: ...

    def count(self, prefix: bytes) -> int: ...


class Txn(ReadTxn, Protocol):
    """A write transaction: reads see the transaction's own writes."""

    def put(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> bool:
        """Remove `key`; True if it existed."""
        ...


@dataclass(frozen=True, slots=True)
class StoreSize:
    """How much room the store takes (``KV.size``)."""

    file_bytes: int
    """On disk (for LMDB: ``data.mdb``; it never shrinks, freed pages are reused)."""
    used_bytes: int
    """Holding records now (for LMDB: the pages of the tree)."""
    high_water_bytes: int
    """The largest extent ever used (for LMDB: up to the last page written)."""
    entries: int
    """Keys stored."""

    def to_json(self) -> dict[str, int]:
        return {
            "file_bytes": self.file_bytes,
            "used_bytes": self.used_bytes,
            "high_water_bytes": self.high_water_bytes,
            "entries": self.entries,
        }


class KV(abc.ABC):
    """An ordered byte-key store with atomic multi-key transactions (see the module docstring)."""

    @abc.abstractmethod
    async def get(self, key: bytes) -> bytes | None:
        """Return the value of `key`, or None.

        Raises:
            StoreClosedError: The store is closed.
            ValueError: `key` is empty or longer than `MAX_KEY_SIZE`.
        """

    async def put(self, key: bytes, value: bytes) -> None:
        """Set `key` to `value` in its own transaction.

        Raises:
            StoreFullError: No room left (see `StoreFullError`).
            StoreClosedError: The store is closed.
        """
        await self.update(lambda txn: txn.put(key, value))

    async def delete(self, key: bytes) -> bool:
        """Remove `key` in its own transaction; True if it existed."""
        return await self.update(lambda txn: txn.delete(key))

    @abc.abstractmethod
    async def scan(
        self,
        prefix: bytes,
        *,
        start: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
        include_start: bool = True,
    ) -> list[tuple[bytes, bytes]]:
        """Return the items whose key starts with `prefix`, in byte order of keys.

        Args:
            prefix: Only keys starting with these bytes; ``b""`` means every key.
            start: Begin here: forward scans take keys >= `start`, reverse scans keys <= `start`
                (> and < when `include_start` is False). It need not exist, nor carry `prefix`;
                pass the last key of the previous page with ``include_start=False`` to page.
            reverse: Walk from the largest key down.
            limit: At most this many items.
            include_start: Whether a key equal to `start` is returned.

        Raises:
            StoreClosedError: The store is closed.
            ValueError: `start` is not 1-511 bytes, `prefix` is too long or `limit` < 0.
        """

    async def scan_keys(
        self,
        prefix: bytes,
        *,
        start: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
        include_start: bool = True,
    ) -> list[bytes]:
        """Like `scan`, keys only."""
        items = await self.scan(
            prefix, start=start, reverse=reverse, limit=limit, include_start=include_start
        )
        return [key for key, _ in items]

    @abc.abstractmethod
    async def count(self, prefix: bytes) -> int:
        """Return the number of keys starting with `prefix`."""

    @abc.abstractmethod
    async def update(self, fn: Callable[[Txn], T]) -> T:
        """Run ``fn(txn)`` in one atomic write transaction and return its result.

        Raises:
            StoreFullError: No room left; nothing was written.
            StoreClosedError: The store is closed.
            Exception: Whatever `fn` raised; nothing it wrote was kept.
        """

    @abc.abstractmethod
    async def view(self, fn: Callable[[ReadTxn], T]) -> T:
        """Run ``fn(txn)`` on one consistent read-only snapshot and return its result."""

    async def size(self) -> StoreSize | None:
        """How much room the store takes; None when the engine cannot tell."""
        return None

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish queued writes and release the store; later calls raise `StoreClosedError`."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def check_key(key: bytes) -> None:
    """Raise ValueError unless `key` is 1-511 bytes."""
    if not 0 < len(key) <= MAX_KEY_SIZE:
        raise ValueError(f"a key must be 1-{MAX_KEY_SIZE} bytes, got {len(key)}")


def check_scan(prefix: bytes, start: bytes | None, limit: int | None) -> None:
    """Raise ValueError for scan arguments no store accepts."""
    if len(prefix) > MAX_KEY_SIZE:
        raise ValueError(f"a prefix must be at most {MAX_KEY_SIZE} bytes, got {len(prefix)}")
    if start is not None:
        check_key(start)
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")


def prefix_end(prefix: bytes) -> bytes | None:
    """Return the smallest key above every key starting with `prefix`, None if there is none."""
    stem = prefix.rstrip(b"\xff")
    if not stem:
        return None
    return stem[:-1] + bytes((stem[-1] + 1,))
