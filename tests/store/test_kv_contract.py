"""The KV contract: one suite that MemoryKV and LmdbKV must both pass, plus LMDB-only behaviour."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ap_avs.store import (
    KV,
    MAX_KEY_SIZE,
    LmdbKV,
    MemoryKV,
    ReadTxn,
    StoreClosedError,
    StoreError,
    StoreFullError,
    Txn,
)

KIB = 1 << 10
MIB = 1 << 20


@pytest.fixture(params=["memory", "lmdb"])
async def kv(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KV]:
    store: KV = MemoryKV() if request.param == "memory" else LmdbKV(tmp_path / "db", map_size=MIB)
    yield store
    await store.close()


async def _fill(kv: KV, keys: list[bytes]) -> None:
    shuffled = list(keys)
    random.Random(7).shuffle(shuffled)
    for key in shuffled:
        await kv.put(key, b"v-" + key)


def _put_all(items: list[tuple[bytes, bytes]]) -> Callable[[Txn], None]:
    def fn(txn: Txn) -> None:
        for key, value in items:
            txn.put(key, value)

    return fn


class Boom(Exception):
    pass


# --- single keys ---------------------------------------------------------------------------


async def test_get_put_delete(kv: KV) -> None:
    assert await kv.get(b"k") is None
    await kv.put(b"k", b"1")
    assert await kv.get(b"k") == b"1"
    await kv.put(b"k", b"2")
    assert await kv.get(b"k") == b"2"
    await kv.put(b"empty", b"")
    assert await kv.get(b"empty") == b""
    assert await kv.delete(b"k") is True
    assert await kv.delete(b"k") is False
    assert await kv.get(b"k") is None


async def test_keys_must_be_1_to_511_bytes(kv: KV) -> None:
    longest = b"k" * MAX_KEY_SIZE
    await kv.put(longest, b"ok")
    assert await kv.get(longest) == b"ok"
    for bad in (b"", b"k" * (MAX_KEY_SIZE + 1)):
        with pytest.raises(ValueError, match="1-511 bytes"):
            await kv.put(bad, b"x")
        with pytest.raises(ValueError, match="1-511 bytes"):
            await kv.get(bad)
    with pytest.raises(ValueError, match="limit"):
        await kv.scan(b"", limit=-1)


# --- scans ---------------------------------------------------------------------------------------

TASK_KEYS = [b"t:a:01", b"t:a:02", b"t:a:10", b"t:a:", b"t:ab", b"t:b:01", b"s:zz", b"u:a", b"t:"]


async def test_prefix_scan_is_in_byte_order_and_only_the_prefix(kv: KV) -> None:
    await _fill(kv, TASK_KEYS)
    assert await kv.scan_keys(b"t:a:") == [b"t:a:", b"t:a:01", b"t:a:02", b"t:a:10"]
    assert await kv.scan(b"t:a:0") == [(b"t:a:01", b"v-t:a:01"), (b"t:a:02", b"v-t:a:02")]
    assert await kv.scan_keys(b"t:") == sorted(k for k in TASK_KEYS if k.startswith(b"t:"))
    assert await kv.scan_keys(b"") == sorted(TASK_KEYS)
    assert await kv.scan_keys(b"nothing") == []
    assert await kv.scan_keys(b"t:a:01x") == []


async def test_reverse_scan(kv: KV) -> None:
    await _fill(kv, TASK_KEYS)
    assert await kv.scan_keys(b"t:a:", reverse=True) == [b"t:a:10", b"t:a:02", b"t:a:01", b"t:a:"]
    assert await kv.scan_keys(b"", reverse=True) == sorted(TASK_KEYS, reverse=True)
    assert await kv.scan_keys(b"u:", reverse=True) == [b"u:a"]  # the last key of the store
    assert await kv.scan_keys(b"a", reverse=True) == []  # before the first key
    assert await kv.scan_keys(b"z", reverse=True) == []  # after the last key


async def test_scans_with_0xff_bytes_in_prefix(kv: KV) -> None:
    keys = [
        b"a",
        b"a\xff",
        b"a\xff\x00",
        b"a\xff\xff",
        b"a\xff\xff\xff",
        b"b",
        b"\xff",
        b"\xff\xff",
    ]
    await _fill(kv, keys)
    assert await kv.scan_keys(b"a\xff") == [b"a\xff", b"a\xff\x00", b"a\xff\xff", b"a\xff\xff\xff"]
    assert await kv.scan_keys(b"a\xff\xff", reverse=True) == [b"a\xff\xff\xff", b"a\xff\xff"]
    assert await kv.scan_keys(b"\xff", reverse=True) == [b"\xff\xff", b"\xff"]
    assert await kv.count(b"\xff") == 2


@pytest.mark.parametrize(
    ("start", "reverse", "include", "expected"),
    [
        (b"t:a:02", False, True, [b"t:a:02", b"t:a:10"]),
        (b"t:a:02", False, False, [b"t:a:10"]),
        (b"t:a:02", True, True, [b"t:a:02", b"t:a:01", b"t:a:"]),
        (b"t:a:02", True, False, [b"t:a:01", b"t:a:"]),
        (b"t:a:05", False, True, [b"t:a:10"]),  # start need not exist
        (b"t:a:05", False, False, [b"t:a:10"]),
        (b"t:a:05", True, True, [b"t:a:02", b"t:a:01", b"t:a:"]),
        (b"t:a:05", True, False, [b"t:a:02", b"t:a:01", b"t:a:"]),
        (b"a", False, True, [b"t:a:", b"t:a:01", b"t:a:02", b"t:a:10"]),  # below the prefix
        (b"a", True, True, []),
        (b"z", False, True, []),  # above the prefix
        (b"z", True, False, [b"t:a:10", b"t:a:02", b"t:a:01", b"t:a:"]),
        (b"t:a:10", False, False, []),
        (b"t:a:", True, False, []),
    ],
)
async def test_scan_start_in_both_directions(
    kv: KV, start: bytes, reverse: bool, include: bool, expected: list[bytes]
) -> None:
    await _fill(kv, TASK_KEYS)
    got = await kv.scan_keys(b"t:a:", start=start, reverse=reverse, include_start=include)
    assert got == expected


@pytest.mark.parametrize("reverse", [False, True])
async def test_keyset_pagination_visits_every_key_once(kv: KV, reverse: bool) -> None:
    keys = [b"h:%03d" % i for i in range(25)]
    await _fill(kv, [*keys, b"g:1", b"i:1"])
    pages: list[list[bytes]] = []
    last: bytes | None = None
    while True:
        page = await kv.scan_keys(b"h:", start=last, include_start=False, reverse=reverse, limit=10)
        if not page:
            break
        pages.append(page)
        last = page[-1]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [k for p in pages for k in p] == sorted(keys, reverse=reverse)


async def test_limit_and_count(kv: KV) -> None:
    await _fill(kv, TASK_KEYS)
    assert await kv.scan_keys(b"t:a:", limit=2) == [b"t:a:", b"t:a:01"]
    assert await kv.scan_keys(b"t:a:", limit=2, reverse=True) == [b"t:a:10", b"t:a:02"]
    assert await kv.scan(b"t:a:", limit=0) == []
    assert len(await kv.scan(b"t:a:", limit=100)) == 4
    assert await kv.count(b"t:a:") == 4
    assert await kv.count(b"t:") == 7
    assert await kv.count(b"") == len(TASK_KEYS)
    assert await kv.count(b"x") == 0


async def test_long_scans_and_counts(kv: KV) -> None:
    """Past LmdbKV's inline budget (1024 entries) a walk finishes in a reader thread."""
    keys = [b"n:%05d" % i for i in range(3000)]
    await kv.update(_put_all([(k, k) for k in keys]))
    assert await kv.count(b"n:") == 3000
    assert await kv.scan_keys(b"n:") == keys
    assert await kv.scan_keys(b"n:", reverse=True, start=b"n:02000") == keys[2000::-1]
    assert [k for k, _ in await kv.scan(b"n:", limit=2500)] == keys[:2500]
    assert await kv.scan_keys(b"n:", limit=1024) == keys[:1024]
    assert await kv.scan_keys(b"n:00", limit=1025) == keys[:1000]


# --- transactions --------------------------------------------------------------------------------


async def test_update_returns_the_result_and_reads_its_own_writes(kv: KV) -> None:
    await kv.put(b"c:gone", b"x")

    def fn(txn: Txn) -> tuple[object, ...]:
        txn.put(b"c:1", b"one")
        txn.put(b"c:2", b"two")
        deleted = txn.delete(b"c:gone")
        return (
            txn.get(b"c:1"),
            txn.get(b"c:gone"),
            txn.scan_keys(b"c:"),
            txn.scan(b"c:", reverse=True, limit=1),
            txn.count(b"c:"),
            deleted,
            txn.delete(b"c:gone"),
        )

    assert await kv.update(fn) == (
        b"one",
        None,
        [b"c:1", b"c:2"],
        [(b"c:2", b"two")],
        2,
        True,
        False,
    )
    assert await kv.scan_keys(b"c:") == [b"c:1", b"c:2"]


async def test_a_failed_transaction_leaves_nothing_behind(kv: KV) -> None:
    await kv.put(b"a", b"1")
    await kv.put(b"c", b"3")

    def fn(txn: Txn) -> None:
        txn.put(b"a", b"2")
        txn.put(b"b", b"2")
        txn.delete(b"c")
        assert txn.get(b"a") == b"2"
        raise Boom

    with pytest.raises(Boom):
        await kv.update(fn)
    assert await kv.scan(b"") == [(b"a", b"1"), (b"c", b"3")]


async def test_invalid_key_inside_a_transaction_rolls_it_back(kv: KV) -> None:
    def fn(txn: Txn) -> None:
        txn.put(b"ok", b"1")
        txn.put(b"", b"1")

    with pytest.raises(ValueError, match="1-511 bytes"):
        await kv.update(fn)
    assert await kv.get(b"ok") is None


async def test_txn_is_unusable_after_fn(kv: KV) -> None:
    escaped: list[Txn] = []
    await kv.update(escaped.append)
    with pytest.raises(StoreError, match="finished"):
        escaped[0].get(b"a")
    with pytest.raises(StoreError, match="finished"):
        escaped[0].put(b"a", b"1")


async def test_view_reads_one_snapshot(kv: KV) -> None:
    await _fill(kv, TASK_KEYS)

    def fn(txn: ReadTxn) -> tuple[bytes | None, int, list[bytes]]:
        return txn.get(b"u:a"), txn.count(b"t:a:"), txn.scan_keys(b"t:a:", limit=1)

    assert await kv.view(fn) == (b"v-u:a", 4, [b"t:a:"])
    assert not hasattr(await kv.view(lambda txn: txn), "put")


async def test_concurrent_read_modify_write_loses_no_update(kv: KV) -> None:
    def bump(txn: Txn) -> int:
        n = int(txn.get(b"counter") or b"0") + 1
        txn.put(b"counter", b"%d" % n)
        return n

    results = await asyncio.gather(*(kv.update(bump) for _ in range(200)))
    assert sorted(results) == list(range(1, 201))
    assert await kv.get(b"counter") == b"200"


async def test_a_failing_transaction_does_not_spoil_its_neighbours(kv: KV) -> None:
    """LmdbKV commits queued transactions together; each must still stand alone."""

    def write(i: int) -> Callable[[Txn], None]:
        def fn(txn: Txn) -> None:
            txn.put(b"n:%03d" % i, b"x")
            if i % 3 == 0:
                raise Boom(i)

        return fn

    outcomes = await asyncio.gather(
        *(kv.update(write(i)) for i in range(60)), return_exceptions=True
    )
    failed = {i for i, o in enumerate(outcomes) if isinstance(o, Boom)}
    assert failed == set(range(0, 60, 3))
    assert await kv.scan_keys(b"n:") == [b"n:%03d" % i for i in range(60) if i % 3]


async def test_a_cancelled_caller_does_not_break_the_store(kv: KV) -> None:
    tasks = [asyncio.create_task(kv.put(b"x:%d" % i, b"1")) for i in range(20)]
    await asyncio.sleep(0)  # every put is queued
    tasks[5].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await kv.put(b"after", b"1")
    assert await kv.get(b"after") == b"1"
    assert await kv.count(b"x:") >= 19


async def test_closed_store_refuses_every_call(kv: KV) -> None:
    await kv.put(b"k", b"v")
    await kv.close()
    await kv.close()  # twice is fine
    with pytest.raises(StoreClosedError):
        await kv.get(b"k")
    with pytest.raises(StoreClosedError):
        await kv.put(b"k", b"v")
    with pytest.raises(StoreClosedError):
        await kv.scan(b"")
    with pytest.raises(StoreClosedError):
        await kv.count(b"")
    with pytest.raises(StoreClosedError):
        await kv.view(lambda txn: None)


# --- LMDB only -----------------------------------------------------------------------------------


async def test_lmdb_data_survives_reopen(tmp_path: Path) -> None:
    async with LmdbKV(tmp_path / "db", map_size=64 * KIB) as kv:
        await asyncio.gather(*(kv.put(b"k:%04d" % i, b"x" * 500) for i in range(2000)))
        pending = kv.put(b"last", b"queued before close")
        await asyncio.gather(pending, kv.close())
    async with LmdbKV(tmp_path / "db", map_size=64 * KIB) as kv:
        assert await kv.count(b"k:") == 2000
        assert await kv.get(b"last") == b"queued before close"


async def test_lmdb_map_grows_on_demand(tmp_path: Path) -> None:
    async with LmdbKV(tmp_path / "db", map_size=64 * KIB, max_map_size=64 * MIB) as kv:
        assert kv.map_size == 64 * KIB
        await kv.put(b"huge", b"h" * (2 * MIB))  # one value far larger than the map
        await asyncio.gather(*(kv.put(b"k:%04d" % i, b"%04d" % i * 1000) for i in range(1000)))
        for i in range(0, 1000, 97):
            assert await kv.get(b"k:%04d" % i) == b"%04d" % i * 1000
        assert await kv.count(b"k:") == 1000
        assert await kv.get(b"huge") == b"h" * (2 * MIB)
        assert kv.map_size > 4 * MIB


async def test_lmdb_grows_while_long_scans_run(tmp_path: Path) -> None:
    async with LmdbKV(tmp_path / "db", map_size=256 * KIB) as kv:
        await kv.update(_put_all([(b"s:%05d" % i, b"") for i in range(5000)]))

        async def scans() -> None:
            for _ in range(20):
                assert len(await kv.scan_keys(b"s:")) == 5000
                assert await kv.count(b"s:") == 5000

        writes = [kv.put(b"w:%04d" % i, b"w" * 2000) for i in range(1500)]
        await asyncio.gather(scans(), scans(), *writes)
        assert await kv.count(b"w:") == 1500


async def test_lmdb_full_at_max_map_size_raises_and_keeps_working(tmp_path: Path) -> None:
    async with LmdbKV(tmp_path / "db", map_size=64 * KIB, max_map_size=512 * KIB) as kv:
        await kv.put(b"first", b"kept")
        with pytest.raises(StoreFullError, match="max_map_size"):
            await kv.put(b"huge", b"h" * MIB)
        outcomes = await asyncio.gather(
            *(kv.put(b"k:%03d" % i, b"x" * 8 * KIB) for i in range(100)), return_exceptions=True
        )
        stored = [i for i, o in enumerate(outcomes) if o is None]
        assert all(isinstance(o, StoreFullError) for o in outcomes if o is not None)
        assert 0 < len(stored) < 100
        assert await kv.scan_keys(b"k:") == [b"k:%03d" % i for i in stored]
        assert await kv.get(b"first") == b"kept"
        await kv.update(lambda txn: [txn.delete(b"k:%03d" % i) for i in stored])
        await kv.put(b"small", b"x")  # LMDB reuses freed pages two commits later
        await kv.put(b"again", b"x" * 8 * KIB)
        assert kv.map_size == 512 * KIB


def test_lmdb_disk_full_is_a_store_full_error_not_a_crash(tmp_path: Path) -> None:
    """A file-size limit makes LMDB's writes fail (EFBIG) as a full disk would (ENOSPC)."""
    script = textwrap.dedent(
        f"""
        import asyncio, resource, signal
        from ap_avs.store import LmdbKV, StoreFullError

        async def main() -> None:
            async with LmdbKV({str(tmp_path / "db")!r}, map_size=1 << 20) as kv:
                await kv.put(b"before", b"ok")
                resource.setrlimit(resource.RLIMIT_FSIZE, (256 << 10, resource.RLIM_INFINITY))
                try:
                    for i in range(1000):
                        await kv.put(b"k%05d" % i, b"x" * 4000)
                except StoreFullError as exc:
                    print("full:", exc)
                assert await kv.get(b"before") == b"ok"
                resource.setrlimit(resource.RLIMIT_FSIZE, (-1, -1))
                await kv.put(b"after", b"ok")
                assert await kv.get(b"after") == b"ok"
                print("alive")

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "full: commit: no room left on disk" in done.stdout
    assert "alive" in done.stdout


def test_lmdb_rejects_bad_sizes_and_paths(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="map_size"):
        LmdbKV(tmp_path / "db", map_size=2 * MIB, max_map_size=MIB)
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match="cannot open"):
        LmdbKV(tmp_path / "file")


# --- model-based: MemoryKV and LmdbKV agree on random operation sequences ----------------

_keys = st.lists(st.sampled_from(b"a:\xff"), min_size=1, max_size=2).map(bytes)
_prefixes = st.lists(st.sampled_from(b"a:\xff"), max_size=2).map(bytes)
_writes = st.one_of(
    st.tuples(st.just("put"), _keys, st.binary(max_size=3)),
    st.tuples(st.just("delete"), _keys),
)
_ops = st.one_of(
    _writes,
    st.tuples(
        st.just("scan"),
        _prefixes,
        st.none() | _keys,
        st.booleans(),
        st.none() | st.integers(0, 5),
        st.booleans(),
    ),
    st.tuples(st.just("count"), _prefixes),
    st.tuples(st.just("page"), _prefixes, st.booleans(), st.integers(1, 3)),
    st.tuples(
        st.just("scan_at"),
        st.integers(0, 15),
        st.integers(0, 2),
        st.booleans(),
        st.booleans(),
        st.none() | st.integers(0, 3),
    ),
    st.tuples(st.just("get"), _keys),
    st.tuples(st.just("txn"), st.lists(_writes, max_size=5), st.booleans()),
)


async def _apply(kv: KV, op: tuple[object, ...]) -> object:
    match op:
        case ("put", bytes(key), bytes(value)):
            await kv.put(key, value)
            return None
        case ("delete", bytes(key)):
            return await kv.delete(key)
        case ("get", bytes(key)):
            return await kv.get(key)
        case ("count", bytes(prefix)):
            return await kv.count(prefix)
        case ("scan", bytes(prefix), start, bool(reverse), limit, bool(include)):
            assert start is None or isinstance(start, bytes)
            assert limit is None or isinstance(limit, int)
            return await kv.scan(
                prefix, start=start, reverse=reverse, limit=limit, include_start=include
            )
        case ("scan_at", int(index), int(cut), bool(reverse), bool(include), limit):
            existing = await kv.scan_keys(b"")  # start at a stored key, in part of its prefix
            if not existing:
                return None
            start = existing[index % len(existing)]
            assert limit is None or isinstance(limit, int)
            return await kv.scan(
                start[:cut], start=start, reverse=reverse, limit=limit, include_start=include
            )
        case ("page", bytes(prefix), bool(reverse), int(limit)):  # keyset pagination
            pages: list[list[bytes]] = []
            last: bytes | None = None
            for _ in range(100):  # a bounded loop: a buggy store must fail, not hang
                page = await kv.scan_keys(
                    prefix, start=last, reverse=reverse, limit=limit, include_start=False
                )
                if not page:
                    break
                pages.append(page)
                last = page[-1]
            return pages
        case ("txn", list(writes), bool(fail)):

            def fn(txn: Txn) -> list[object]:
                done: list[object] = []
                for write in writes:
                    if write[0] == "put":
                        txn.put(write[1], write[2])
                    else:
                        done.append(txn.delete(write[1]))
                done.append(txn.scan(b""))
                if fail:
                    raise Boom
                return done

            try:
                return await kv.update(fn)
            except Boom:
                return "rolled back"
    raise AssertionError(op)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(initial=st.sets(_keys, max_size=8), ops=st.lists(_ops, max_size=25))
def test_memory_and_lmdb_agree(initial: set[bytes], ops: list[tuple[object, ...]]) -> None:
    async def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            async with MemoryKV() as memory, LmdbKV(tmp, map_size=MIB) as lmdb:
                for kv in (memory, lmdb):
                    await kv.update(_put_all([(key, key) for key in initial]))
                for op in ops:
                    assert await _apply(memory, op) == await _apply(lmdb, op), op
                assert await memory.scan(b"") == await lmdb.scan(b"")

    asyncio.run(run())
