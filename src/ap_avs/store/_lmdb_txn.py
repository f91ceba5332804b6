"""The synchronous LMDB layer under `LmdbKV`: cursor walks, transaction wrappers, error mapping.

Everything here runs inside one LMDB transaction on whatever thread owns it; `lmdb_kv.py`
decides which thread that is. The wrappers turn lmdb exceptions into `StoreError`
(`StoreFullError` for a full map or disk), and `translate` does the same for `lmdb_kv.py`.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from itertools import islice, takewhile

import lmdb

from ap_avs.store.kv import StoreError, StoreFullError, check_key, check_scan, prefix_end


def position(
    cur: lmdb.Cursor[bytes], prefix: bytes, start: bytes | None, reverse: bool, include: bool
) -> bool:
    """Put `cur` on the first key of the scan; False if the scan is empty."""
    if not reverse:
        lower = prefix if start is None or start < prefix else start
        found = cur.set_range(lower) if lower else cur.first()
        if found and not include and cur.key() == start:
            found = cur.next()
        return found
    end = prefix_end(prefix)
    if start is not None and (end is None or start < end):
        if cur.set_range(start):
            return cur.prev() if not include or cur.key() != start else True
        return cur.last()
    if end is not None and cur.set_range(end):
        return cur.prev()
    return cur.last()


def walk_items(
    cur: lmdb.Cursor[bytes],
    prefix: bytes,
    start: bytes | None,
    reverse: bool,
    include: bool,
    limit: int | None,
) -> Iterator[tuple[bytes, bytes]]:
    """Yield the scan's items lazily from `cur` (the `KV.scan` semantics)."""
    if limit == 0 or not position(cur, prefix, start, reverse, include):
        return iter(())
    it: Iterator[tuple[bytes, bytes]] = cur.iterprev() if reverse else cur.iternext()
    if prefix:
        it = takewhile(lambda item: item[0].startswith(prefix), it)
    return it if limit is None else islice(it, limit)


def walk_keys(
    cur: lmdb.Cursor[bytes],
    prefix: bytes,
    start: bytes | None,
    reverse: bool,
    include: bool,
    limit: int | None,
) -> Iterator[bytes]:
    """Yield the scan's keys lazily from `cur`, without copying values."""
    if limit == 0 or not position(cur, prefix, start, reverse, include):
        return iter(())
    it: Iterator[bytes] = cur.iterprev(values=False) if reverse else cur.iternext(values=False)
    if prefix:
        it = takewhile(lambda key: key.startswith(prefix), it)
    return it if limit is None else islice(it, limit)


def translate(exc: lmdb.Error, what: str) -> StoreError:
    """Return the `StoreError` to raise for `exc`, raised while doing `what`."""
    code = getattr(exc, "code", 0)
    if isinstance(exc, lmdb.MapFullError):
        return StoreFullError(f"{what}: the LMDB map is full")
    if isinstance(exc, lmdb.DiskError) or code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return StoreFullError(f"{what}: no room left on disk ({exc})")
    if isinstance(exc, lmdb.PanicError):
        return StoreError(f"{what}: LMDB hit a fatal error; restart the process ({exc})")
    return StoreError(f"{what}: {exc}")


class LmdbReadTxn:
    """`ReadTxn` over a py-lmdb transaction; unusable once `finish` is called."""

    __slots__ = ("_txn",)

    def __init__(self, txn: lmdb.Transaction[bytes]) -> None:
        self._txn: lmdb.Transaction[bytes] | None = txn

    def _live(self) -> lmdb.Transaction[bytes]:
        if self._txn is None:
            raise StoreError("the transaction is finished; use txn only inside fn")
        return self._txn

    def finish(self) -> None:
        self._txn = None

    def get(self, key: bytes) -> bytes | None:
        check_key(key)
        try:
            return self._live().get(key)
        except lmdb.Error as exc:
            raise translate(exc, "get") from exc

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
        try:
            with self._live().cursor() as cur:
                return list(walk_items(cur, prefix, start, reverse, include_start, limit))
        except lmdb.Error as exc:
            raise translate(exc, "scan") from exc

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
        try:
            with self._live().cursor() as cur:
                return list(walk_keys(cur, prefix, start, reverse, include_start, limit))
        except lmdb.Error as exc:
            raise translate(exc, "scan") from exc

    def count(self, prefix: bytes) -> int:
        check_scan(prefix, None, None)
        try:
            with self._live().cursor() as cur:
                return sum(1 for _ in walk_keys(cur, prefix, None, False, True, None))
        except lmdb.Error as exc:
            raise translate(exc, "count") from exc


class LmdbTxn(LmdbReadTxn):
    """`Txn` over a py-lmdb write transaction; `map_full` tells the writer to grow the map."""

    __slots__ = ("map_full",)

    def __init__(self, txn: lmdb.Transaction[bytes]) -> None:
        super().__init__(txn)
        self.map_full = False

    def _failed(self, exc: lmdb.Error, what: str) -> StoreError:
        if isinstance(exc, lmdb.MapFullError):
            self.map_full = True  # seen by the writer even if fn swallows the error
        return translate(exc, what)

    def put(self, key: bytes, value: bytes) -> None:
        check_key(key)
        try:
            self._live().put(key, value)
        except lmdb.Error as exc:
            raise self._failed(exc, "put") from exc

    def delete(self, key: bytes) -> bool:
        check_key(key)
        try:
            return self._live().delete(key)
        except lmdb.Error as exc:
            raise self._failed(exc, "delete") from exc
