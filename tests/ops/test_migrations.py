"""Migrations: a store written at schema N-1 (built here) is brought to N at start-up, in order,
idempotently; a new store is stamped; a newer store is refused; --dry-run lists."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ap_avs.engine.queue import JobQueue
from ap_avs.errors import FailedPrecondition
from ap_avs.ops.integrity import check_store
from ap_avs.ops.migrations import (
    CURRENT_SCHEMA,
    MIGRATIONS,
    Migration,
    inspect,
    plan,
    run_migrations,
)
from ap_avs.store import KV, LmdbKV, MemoryKV, Txn, codec, keys

from .support import MANUAL, NOW, WriteLoad, ops_typer, write_config

MIB = 1 << 20
OP_A = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"
OP_B = "0x1111111111111111111111111111111111111111"


def upstream_ping(address: str, last_ping: int, block: int) -> bytes:
    """An ``operator:`` record as upstream wrote it: no ``last_ping_ms``, key case as sent."""
    return codec.dumps(
        {
            "address": address,
            "name": "Unknown",
            "remote_ip": "10.0.0.1",
            "last_ping": last_ping,
            "version": "v1.9.0",
            "metrics_port": 9090,
            "block_number": block,
            "event_count": 5,
        }
    )


async def store_at_version_1(kv: KV) -> WriteLoad:
    """A store as the schema-1 program left it: queued: counters kept, but operator records under
    the case the operator sent (two pings of OP_A, one per spelling) and no last_ping_ms."""
    load = WriteLoad(kv)
    for _ in range(5):
        await load.create()
    queue = JobQueue(kv, clock=lambda: NOW)
    for wf_id in load.ids[:3]:
        await queue.enqueue_run(wf_id, MANUAL, now_ms=NOW)
    await kv.put(b"operator:" + OP_A.encode(), upstream_ping(OP_A, 1_700_000_100, 120))
    await kv.put(keys.operator(OP_A), upstream_ping(OP_A.lower(), 1_700_000_000, 100))
    await kv.put(b"operator:" + OP_B.encode(), upstream_ping(OP_B, 1_700_000_050, 110))
    await kv.put(keys.SCHEMA_VERSION, b"1")
    return load


async def operator_records(kv: KV) -> dict[bytes, object]:
    return {key: codec.loads(raw) for key, raw in await kv.scan(keys.OPERATORS)}


@pytest.fixture
async def lmdb(tmp_path: Path) -> AsyncIterator[LmdbKV]:
    kv = LmdbKV(tmp_path / "db", map_size=MIB)
    yield kv
    await kv.close()


async def test_a_store_at_schema_n_minus_1_is_migrated_to_n(lmdb: LmdbKV) -> None:
    assert CURRENT_SCHEMA == 2
    await store_at_version_1(lmdb)
    before = await lmdb.scan(b"")

    found = await inspect(lmdb)
    assert (found.stored, found.fresh) == (1, False)
    assert [m.name for m in found.pending] == ["lower-case-operator-keys"]
    assert await lmdb.scan(b"") == before  # inspecting writes nothing

    applied = await run_migrations(lmdb)
    assert [(a.version, a.name) for a in applied] == [(2, "lower-case-operator-keys")]
    assert await lmdb.get(keys.SCHEMA_VERSION) == b"2"
    records = await operator_records(lmdb)
    assert set(records) == {keys.operator(OP_A), keys.operator(OP_B)}
    newest = records[keys.operator(OP_A)]
    assert isinstance(newest, dict)
    assert (newest["block_number"], newest["last_ping_ms"]) == (120, 1_700_000_100_000)
    assert (await check_store(lmdb)).ok

    after = await lmdb.scan(b"")
    assert await run_migrations(lmdb) == []  # at N: nothing runs
    assert await lmdb.scan(b"") == after


async def test_a_store_without_a_version_runs_every_migration(lmdb: LmdbKV) -> None:
    await store_at_version_1(lmdb)
    await lmdb.delete(keys.SCHEMA_VERSION)
    for key in await lmdb.scan_keys(b"queued:"):  # as written before queued runs were counted
        await lmdb.delete(key)
    await lmdb.put(b"queued:01stale000000000000000000", b"3")
    assert not (await check_store(lmdb)).ok

    applied = await run_migrations(lmdb)
    assert [a.version for a in applied] == [1, 2]
    assert applied[0].changed == 4  # three counters made, one stale removed
    assert await lmdb.get(keys.SCHEMA_VERSION) == codec.encode_int(CURRENT_SCHEMA)
    report = await check_store(lmdb)
    assert report.ok, report.problems
    assert report.pending_jobs == 3


@pytest.mark.parametrize("migration", MIGRATIONS, ids=lambda m: m.name)
async def test_every_migration_is_idempotent(migration: Migration) -> None:
    kv = MemoryKV()
    await store_at_version_1(kv)
    await kv.update(migration.apply)
    once = await kv.scan(b"")
    assert await kv.update(migration.apply) == 0
    assert await kv.scan(b"") == once


async def test_a_new_store_is_stamped_and_a_newer_one_refused(lmdb: LmdbKV) -> None:
    assert await run_migrations(lmdb) == []
    assert await lmdb.get(keys.SCHEMA_VERSION) == codec.encode_int(CURRENT_SCHEMA)

    await lmdb.put(keys.SCHEMA_VERSION, codec.encode_int(CURRENT_SCHEMA + 1))
    await lmdb.put(b"t:a:x", b"{}")
    before = await lmdb.scan(b"")
    with pytest.raises(FailedPrecondition, match="newer than this program"):
        await run_migrations(lmdb)
    assert await lmdb.scan(b"") == before


async def test_a_failing_step_keeps_the_store_at_the_last_whole_step() -> None:
    calls: list[int] = []

    def ok(version: int) -> Callable[[Txn], int]:
        def apply(txn: Txn) -> int:
            calls.append(version)
            txn.put(b"m:%d" % version, b"done")
            return 1

        return apply

    def boom(txn: Txn) -> int:
        txn.put(b"m:boom", b"half")
        raise RuntimeError("crash in the middle")

    steps = (Migration(1, "one", "", ok(1)), Migration(2, "two", "", boom))
    kv = MemoryKV()
    await kv.put(b"data", b"1")
    with pytest.raises(RuntimeError):
        await run_migrations(kv, steps)
    assert await kv.get(keys.SCHEMA_VERSION) == b"1"
    assert await kv.get(b"m:boom") is None  # the failed step left nothing

    fixed = (steps[0], Migration(2, "two", "", ok(2)))
    assert [a.version for a in await run_migrations(kv, fixed)] == [2]
    assert calls == [1, 2]  # step one did not run again


def test_plan_is_pure() -> None:
    assert plan(None, has_keys=False).fresh
    assert plan(None, has_keys=True).effective == 0
    assert [m.version for m in plan(0, True).pending] == [1, 2]
    assert plan(CURRENT_SCHEMA, True).pending == ()
    with pytest.raises(FailedPrecondition):
        plan(CURRENT_SCHEMA + 1, True)


def test_migrate_dry_run_lists_and_migrate_applies(tmp_path: Path) -> None:
    db = tmp_path / "db"

    async def build() -> None:
        async with LmdbKV(db, map_size=MIB) as kv:
            await store_at_version_1(kv)

    asyncio.run(build())
    config = write_config(tmp_path / "aggregator.yaml", db)
    app = ops_typer()
    runner = CliRunner()

    listed = runner.invoke(app, ["migrate", "--dry-run", "-c", str(config)])
    assert listed.exit_code == 0, listed.output
    assert "store schema version: 1; this program: 2" in listed.output
    assert "would run 2 lower-case-operator-keys" in listed.output
    assert "count-queued-runs" not in listed.output

    applied = runner.invoke(app, ["migrate", "-c", str(config)])
    assert applied.exit_code == 0, applied.output
    assert "ran 2 lower-case-operator-keys" in applied.output
    again = runner.invoke(app, ["migrate", "--dry-run", "-c", str(config)])
    assert "nothing to run" in again.output

    missing = write_config(tmp_path / "missing.yaml", tmp_path / "nothing-here")
    refused = runner.invoke(app, ["migrate", "--dry-run", "-c", str(missing)])
    assert refused.exit_code == 2
    assert "no store at" in refused.output
