"""The generic batch removal behind the KV seam: sweep by age, purge and trim by prefix, the skip
scan of segments, and the store's size. On both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ap_avs.domain.ids import new_id
from ap_avs.store import KV, LmdbKV, MemoryKV, Txn, codec
from ap_avs.store.retention import (
    age_from_hour_segment,
    age_from_json_field,
    age_from_ulid_segment,
    purge_prefix,
    segments,
    sweep,
    trim_ordered,
)

NOW = 1_800_000_000_000
DAY = 86_400_000


@pytest.fixture(params=["memory", "lmdb"])
async def kv(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KV]:
    store: KV = MemoryKV() if request.param == "memory" else LmdbKV(tmp_path / "db")
    yield store
    await store.close()


async def fill(kv: KV, items: dict[bytes, bytes]) -> None:
    def put(txn: Txn) -> None:
        for key, value in items.items():
            txn.put(key, value)

    await kv.update(put)


def test_ages() -> None:
    at = age_from_json_field("at")
    assert at(b"k", b'{"at": 5}') == 5
    assert at(b"k", b'{"at": true}') is None
    assert at(b"k", b"not json") is None
    assert at(b"k", b"[1]") is None
    ulid = age_from_ulid_segment(2)
    made = new_id(now_ms=NOW)
    assert ulid(f"evidence:w1:{made}".encode(), b"") == NOW
    assert ulid(b"evidence:w1:not-a-ulid", b"") is None
    assert ulid(b"evidence:w1", b"") is None
    hour = age_from_hour_segment(2)
    assert hour(b"retired_hour:w1:00000010", b"") == 10 * 3_600_000
    assert hour(b"retired_hour:w1:x", b"") is None


async def test_sweep_removes_old_items_in_batches_and_keeps_the_rest(kv: KV) -> None:
    items = {f"m:{n:03d}".encode(): codec.dumps({"at": NOW - n * DAY}) for n in range(50)}
    items[b"m:unknown"] = b"{}"
    await fill(kv, items)
    await kv.put(b"n:000", codec.dumps({"at": 0}))  # another prefix: untouched
    result = await sweep(
        kv, b"m:", age_of=age_from_json_field("at"), older_than_ms=NOW - 9 * DAY - DAY // 2, batch=7
    )
    assert (result.scanned, result.removed) == (51, 40)
    assert result.oldest_kept_ms == NOW - 9 * DAY
    left = await kv.scan_keys(b"m:")
    assert left == [f"m:{n:03d}".encode() for n in range(10)] + [b"m:unknown"]
    assert await kv.get(b"n:000") is not None


async def test_sweep_keeps_an_item_rewritten_after_it_was_read(kv: KV) -> None:
    await fill(kv, {b"m:1": codec.dumps({"at": 1}), b"m:2": codec.dumps({"at": 2})})
    real_update = kv.update

    async def rewrite_then_update(fn):  # type: ignore[no-untyped-def]
        await real_update(lambda txn: txn.put(b"m:1", codec.dumps({"at": 1, "again": True})))
        return await real_update(fn)

    kv.update = rewrite_then_update  # type: ignore[method-assign]
    result = await sweep(kv, b"m:", age_of=age_from_json_field("at"), older_than_ms=NOW)
    kv.update = real_update  # type: ignore[method-assign]
    assert result.removed == 1
    assert await kv.scan_keys(b"m:") == [b"m:1"]


async def test_purge_and_trim(kv: KV) -> None:
    await fill(kv, {f"p:a:{n:04d}".encode(): b"x" for n in range(30)})
    await fill(kv, {b"p:ab:0001": b"x", b"q:a:0001": b"x"})
    assert await trim_ordered(kv, b"p:a:", b"p:a:0012", batch=5) == 12
    assert (await kv.scan_keys(b"p:a:", limit=1)) == [b"p:a:0012"]
    assert await purge_prefix(kv, b"p:a:", batch=4) == 18
    assert await kv.scan_keys(b"") == [b"p:ab:0001", b"q:a:0001"]
    with pytest.raises(ValueError, match="empty prefix"):
        await purge_prefix(kv, b"")
    with pytest.raises(ValueError, match="empty prefix"):
        await trim_ordered(kv, b"", b"z")
    with pytest.raises(ValueError, match="batch"):
        await sweep(kv, b"p:", age_of=age_from_json_field("at"), older_than_ms=0, batch=0)


async def test_segments_skip_from_one_to_the_next(kv: KV) -> None:
    items = {f"h:w{w}:{n:03d}".encode(): b"" for w in (3, 1, 2) for n in range(40)}
    await fill(kv, {**items, b"h:loose": b"", b"h;": b"", b"g:w0:1": b""})
    assert [s async for s in segments(kv, b"h:")] == ["w1", "w2", "w3"]
    assert [s async for s in segments(kv, b"none:")] == []


async def test_size_reports_keys_and_bytes(kv: KV) -> None:
    empty = await kv.size()
    assert empty is not None
    await fill(kv, {f"k:{n:05d}".encode(): b"v" * 500 for n in range(2000)})
    full = await kv.size()
    assert full is not None
    assert (empty.entries, full.entries) == (0, 2000)
    assert full.used_bytes >= 2000 * 500
    assert full.high_water_bytes >= full.used_bytes
    assert full.file_bytes >= full.used_bytes
    await purge_prefix(kv, b"k:", batch=500)
    after = await kv.size()
    assert after is not None
    assert after.entries == 0
    assert after.used_bytes < full.used_bytes


def test_counters_read_the_record_head_as_a_full_decode_would() -> None:
    from ap_avs.domain.execution import Execution, ExecutionStatus, Step
    from ap_avs.store import keys
    from ap_avs.store.executions import execution_json
    from ap_avs.store.retired import Facts, facts, stats_since

    wf, made = new_id(now_ms=NOW), new_id(now_ms=NOW + 1)
    step = Step("n", "call", "NODE_TYPE_REST_API", True, NOW, NOW + 9, {"status": "SUCCESS"})
    key = keys.history(wf, made)
    for status, end in ((ExecutionStatus.SUCCESS, NOW + 9), (ExecutionStatus.FAILED, NOW - 1)):
        execution = Execution(made, wf, 3, status, NOW, end, error="x", steps=(step,))
        raw = codec.dumps(execution_json(execution))
        whole = codec.dumps({"x": 1, **execution_json(execution)})  # head not where expected
        expected = Facts(made, NOW, status is ExecutionStatus.SUCCESS, max(0, end - NOW))
        assert facts(key, raw) == expected
        assert facts(key, whole) == expected
    assert facts(key, b"not json") == Facts(made, NOW + 1, False, 0)
    assert stats_since(NOW + 5 * 60_000, 1) == NOW - DAY  # NOW is a whole hour
    assert stats_since(5, 1) == 0
