"""`MemoryKV`: the in-memory `KV` for tests, with the same semantics as `LmdbKV`.

Keys live in a sorted list (bisect) beside a dict of values. A transaction writes in place and
keeps an undo log; if ``fn`` raises, the log is replayed backwards, so nothing it wrote is kept.
``fn`` runs inline on the event loop: it never awaits, so no other task sees it half done.

Usage::

    kv = MemoryKV()
    await kv.put(b"t:a:01", b"{}")
    assert await kv.scan_keys(b"t:a:") == [b"t:a:01"]

It raises what `KV` raises, never `StoreFullError`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable

from ap_avs.store.kv import (
    KV,
    ReadTxn,
    StoreClosedError,
    StoreError,
    StoreSize,
    T,
    Txn,
    check_key,
    check_scan,
    prefix_end,
)


class MemoryKV(KV):
    """A `KV` held in memory; data is gone when the object is."""

    def __init__(self) -> None:
        self._keys: list[bytes] = []
        self._values: dict[bytes, bytes] = {}
        self._closed = False

    def _open(self) -> None:
        if self._closed:
            raise StoreClosedError("the store is closed")

    def _span(
        self, prefix: bytes, start: bytes | None, reverse: bool, include: bool, limit: int | None
    ) -> range:
        """Indexes into the sorted keys that a scan visits, in visiting order."""
        keys = self._keys
        lo = bisect_left(keys, prefix)
        end = prefix_end(prefix)
        hi = len(keys) if end is None else bisect_left(keys, end)
        if start is not None:
            if reverse:
                hi = min(hi, bisect_right(keys, start) if include else bisect_left(keys, start))
            else:
                lo = max(lo, bisect_left(keys, start) if include else bisect_right(keys, start))
        span = range(hi - 1, lo - 1, -1) if reverse else range(lo, hi)
        return span if limit is None else span[:limit]

    def _set(self, key: bytes, value: bytes) -> None:
        if key not in self._values:
            insort(self._keys, key)
        self._values[key] = value

    def _remove(self, key: bytes) -> None:
        del self._values[key]
        del self._keys[bisect_left(self._keys, key)]

    async def get(self, key: bytes) -> bytes | None:
        check_key(key)
        self._open()
        return self._values.get(key)

    async def scan(
        self,
        prefix: bytes,
        *,
        start: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
        include_start: bool = True,
    ) -> list[tuple[bytes, bytes]]:
        self._open()
        return _MemoryReadTxn(self).scan(
            prefix, start=start, reverse=reverse, limit=limit, include_start=include_start
        )

    async def count(self, prefix: bytes) -> int:
        self._open()
        return _MemoryReadTxn(self).count(prefix)

    async def update(self, fn: Callable[[Txn], T]) -> T:
        self._open()
        txn = _MemoryTxn(self)
        try:
            return fn(txn)
        except BaseException:
            txn.rollback()
            raise
        finally:
            txn.finish()

    async def view(self, fn: Callable[[ReadTxn], T]) -> T:
        self._open()
        txn = _MemoryReadTxn(self)
        try:
            return fn(txn)
        finally:
            txn.finish()

    async def size(self) -> StoreSize:
        """Bytes of keys and values held (all three byte figures are that sum)."""
        self._open()
        held = sum(len(k) + len(v) for k, v in self._values.items())
        return StoreSize(held, held, held, len(self._keys))

    async def close(self) -> None:
        self._closed = True


class _MemoryReadTxn:
    __slots__ = ("_store",)

    def __init__(self, store: MemoryKV) -> None:
        self._store: MemoryKV | None = store

    def _live(self) -> MemoryKV:
        if self._store is None:
            raise StoreError("the transaction is finished; use txn only inside fn")
        return self._store

    def finish(self) -> None:
        self._store = None

    def get(self, key: bytes) -> bytes | None:
        check_key(key)
        return self._live()._values.get(key)

    def scan(
        self,
        prefix: bytes,
        *,
        start: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
        include_start: bool = True,
    ) -> list[tuple[bytes, bytes]]:
        check_scan(prefix, start, limit)
        store = self._live()
        keys, values = store._keys, store._values
        return [
            (keys[i], values[keys[i]])
            for i in store._span(prefix, start, reverse, include_start, limit)
        ]

    def scan_keys(
        self,
        prefix: bytes,
        *,
        start: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
        include_start: bool = True,
    ) -> list[bytes]:
        check_scan(prefix, start, limit)
        store = self._live()
        return [store._keys[i] for i in store._span(prefix, start, reverse, include_start, limit)]

    def count(self, prefix: bytes) -> int:
        check_scan(prefix, None, None)
        return len(self._live()._span(prefix, None, False, True, None))


class _MemoryTxn(_MemoryReadTxn):
    __slots__ = ("_undo",)

    def __init__(self, store: MemoryKV) -> None:
        super().__init__(store)
        self._undo: list[tuple[bytes, bytes | None]] = []  # (key, value before), oldest first

    def put(self, key: bytes, value: bytes) -> None:
        check_key(key)
        store = self._live()
        self._undo.append((key, store._values.get(key)))
        store._set(bytes(key), bytes(value))

    def delete(self, key: bytes) -> bool:
        check_key(key)
        store = self._live()
        old = store._values.get(key)
        if old is None:
            return False
        self._undo.append((key, old))
        store._remove(key)
        return True

    def rollback(self) -> None:
        store = self._live()
        for key, old in reversed(self._undo):
            if old is None:
                store._remove(key)
            else:
                store._set(key, old)
        self._undo.clear()
