"""Backups: hot snapshots under a write load restore to a sound store that serves the same
workflows; manifests, retention, the timer; restore refuses a store in use."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from ap_avs._proto import avs_pb2
from ap_avs.client import AvsClient
from ap_avs.config import BackupConfig
from ap_avs.errors import CorruptDataError, FailedPrecondition
from ap_avs.ops.backup import (
    MANIFEST,
    SECRETS_KEY_FILE,
    Backups,
    BackupSettings,
    backup_settings,
    list_snapshots,
)
from ap_avs.ops.integrity import check_store
from ap_avs.ops.lock import StoreLock
from ap_avs.ops.migrations import CURRENT_SCHEMA, run_migrations
from ap_avs.ops.restore import restore
from ap_avs.store import LmdbKV, MemoryKV, Txn, codec, keys
from ap_avs.store.lmdb_copy import DATA_FILE, lmdb_in_use, read_copy
from ap_avs.store.workflows import WorkflowRepo
from ap_avs.testing import aggregator_config, running_aggregator, user_key

from .support import OWNER, WriteLoad

MIB = 1 << 20


def settings(tmp_path: Path, **changes: Any) -> BackupSettings:
    base = BackupSettings(db_path=tmp_path / "db", backup_dir=tmp_path / "backups", keep=3)
    return dataclasses.replace(base, **changes)


async def workflow_ids(kv: LmdbKV) -> set[str]:
    return {keys.parse_task(key).task_id for key in await kv.scan_keys(keys.TASKS)}


async def test_snapshots_taken_under_a_write_load_restore_to_a_sound_store(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db"
    kv = LmdbKV(db, map_size=MIB)  # small: the map grows during the load, copies meanwhile
    await run_migrations(kv)
    (db / SECRETS_KEY_FILE).write_bytes(os.urandom(32))
    load = WriteLoad(kv)
    for _ in range(300):
        await load.create()
    for _ in range(300):
        await load.step()
    backups = Backups(kv, settings(tmp_path))
    stop = asyncio.Event()
    writers = asyncio.create_task(load.run(stop))
    taken = []
    concurrent_writes = []
    try:
        for _ in range(4):
            before = load.ops
            taken.append(await backups.take())
            concurrent_writes.append(load.ops - before)
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await writers
    assert all(n > 0 for n in concurrent_writes), concurrent_writes  # it kept serving

    kept = list_snapshots(tmp_path / "backups")
    assert [s.path for s in kept] == [s.path for s in taken[-3:]]  # retention by count
    for snapshot in kept:
        manifest = snapshot.manifest
        assert manifest.integrity is not None
        assert manifest.integrity["ok"], manifest.integrity
        assert manifest.schema_version == CURRENT_SCHEMA
        assert manifest.key_counts["t"] == manifest.key_counts["u"] > 300
        assert manifest.secrets_key
        on_disk = json.loads((snapshot.path / MANIFEST).read_text())
        assert on_disk["total_keys"] == sum(on_disk["key_counts"].values())
        assert on_disk["data_sha256"] == manifest.data_sha256

    # After the load: one more hot snapshot, restored elsewhere, equals the live store.
    final = await backups.take()
    live_items = await kv.scan(b"")
    live_ids = await workflow_ids(kv)
    await kv.close()

    target = tmp_path / "restored"
    done = await restore(final.path, target)
    assert done.aside is None
    assert (target / SECRETS_KEY_FILE).read_bytes() == (db / SECRETS_KEY_FILE).read_bytes()
    assert stat.S_IMODE((target / DATA_FILE).stat().st_mode) == 0o600
    async with LmdbKV(target) as restored:
        report = await check_store(restored)
        assert report.ok, report.problems
        assert report.workflows == len(live_ids)
        assert await restored.scan(b"") == live_items

    # A snapshot taken mid-load restores to a store the aggregator serves, workflow by workflow.
    middle = tmp_path / "served"
    await restore(taken[-1].path, middle)  # still kept (keep=3)
    in_snapshot = read_copy(taken[-1].path, lambda txn: txn.scan_keys(keys.TASKS))
    expected = {keys.parse_task(key).task_id: keys.parse_task(key).status for key in in_snapshot}
    async with (
        running_aggregator(aggregator_config(middle)) as server,
        AvsClient(server.target, auth_key=user_key(OWNER)) as client,
    ):
        sample = sorted(expected)[:: max(1, len(expected) // 25)]
        for task_id in sample:
            task = await client.call("GetTask", avs_pb2.IdReq(id=task_id))
            assert (task.id, int(task.status)) == (task_id, expected[task_id])


async def test_backup_settings_follow_the_config_section(tmp_path: Path) -> None:
    section = BackupConfig(enabled=True, interval_minutes=5, backup_dir="")
    got = backup_settings(tmp_path / "data", section)
    assert got.backup_dir == Path(f"{tmp_path / 'data'}_backup")
    assert (got.enabled, got.interval_seconds, got.keep) == (True, 300.0, 24)
    explicit = backup_settings("db", BackupConfig(backup_dir=str(tmp_path / "b")))
    assert explicit.backup_dir == tmp_path / "b"
    assert not explicit.enabled


async def test_the_timer_takes_snapshots_until_stopped(tmp_path: Path) -> None:
    async with LmdbKV(tmp_path / "db", map_size=MIB) as kv:
        await kv.put(b"k", b"v")
        backups = Backups(kv, settings(tmp_path, enabled=True, interval_seconds=0.05, keep=2))
        stop = asyncio.Event()
        task = asyncio.create_task(backups.run(stop))
        async with asyncio.timeout(20):  # a liveness guard: two 0.05 s intervals take ~0.2 s
            while len(backups.snapshots()) < 2:  # noqa: ASYNC110 - polls the backup folder
                await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(task, 5)
        assert len(backups.snapshots()) == 2
        directory = tmp_path / "backups"
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert not [p for p in directory.iterdir() if p.name.startswith(".tmp-")]


async def test_disabled_timer_returns_and_memory_store_is_refused(tmp_path: Path) -> None:
    async with LmdbKV(tmp_path / "db", map_size=MIB) as kv:
        # It returns at once; the guard only catches a timer that runs while disabled.
        await asyncio.wait_for(Backups(kv, settings(tmp_path)).run(asyncio.Event()), 10)
    with pytest.raises(FailedPrecondition, match="LMDB"):
        await Backups(MemoryKV(), settings(tmp_path)).take()


async def test_restore_refuses_a_store_in_use(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with LmdbKV(db, map_size=MIB) as kv:
        await kv.put(b"before", b"1")
        snapshot = await Backups(kv, settings(tmp_path)).take()
        await kv.put(b"after", b"2")

        # Open in this process (no store lock): LMDB's own lock gives it away.
        assert await lmdb_in_use(db)
        with pytest.raises(FailedPrecondition, match="open in another process"):
            await restore(snapshot.path, db)

        # The aggregator's store lock, as a running server holds it.
        with StoreLock.acquire(db), pytest.raises(FailedPrecondition, match="in use by process"):
            await restore(snapshot.path, db)
        assert await kv.get(b"after") == b"2"
    assert not await lmdb_in_use(db)

    # a second lock in this very process conflicts too
    with StoreLock.acquire(db), pytest.raises(FailedPrecondition, match=str(os.getpid())):
        StoreLock.acquire(db)

    done = await restore(snapshot.path, db)  # stopped: it goes through
    assert done.aside is not None
    assert (done.aside / DATA_FILE).is_file()
    async with LmdbKV(db) as kv:
        assert await kv.get(b"before") == b"1"
        assert await kv.get(b"after") is None
    async with LmdbKV(done.aside) as old:  # the replaced store was kept whole
        assert await old.get(b"after") == b"2"


async def test_restore_refuses_damaged_or_newer_snapshots(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with LmdbKV(db, map_size=MIB) as kv:
        await kv.put(keys.SCHEMA_VERSION, codec.encode_int(CURRENT_SCHEMA))
        good = await Backups(kv, settings(tmp_path)).take()
        await kv.put(keys.SCHEMA_VERSION, codec.encode_int(CURRENT_SCHEMA + 1))
        newer = await Backups(kv, settings(tmp_path)).take()
    assert newer.manifest.schema_version == CURRENT_SCHEMA + 1
    with pytest.raises(FailedPrecondition, match="newer than"):
        await restore(newer.path, tmp_path / "x")

    with (good.path / DATA_FILE).open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff")
    with pytest.raises(CorruptDataError, match="SHA-256"):
        await restore(good.path, tmp_path / "x")
    with pytest.raises(CorruptDataError, match="manifest"):
        await restore(tmp_path / "nowhere", tmp_path / "x")


async def test_snapshot_of_a_store_with_broken_invariants_says_so(tmp_path: Path) -> None:
    async with LmdbKV(tmp_path / "db", map_size=MIB) as kv:
        load = WriteLoad(kv)
        wf_id = await load.create()
        wf = await WorkflowRepo(kv).get(wf_id)
        assert wf is not None
        await kv.delete(keys.user_task(wf.owner, wf.smart_wallet_address, wf_id))
        snapshot = await Backups(kv, settings(tmp_path)).take()
    integrity = snapshot.manifest.integrity
    assert integrity is not None
    assert not integrity["ok"]
    assert any("no u: entry" in p for p in integrity["problems"])


async def test_a_write_that_grows_the_map_during_a_copy_waits_for_it(tmp_path: Path) -> None:
    async with LmdbKV(tmp_path / "db", map_size=256 * 1024) as kv:
        for i in range(40):
            await kv.put(b"fill:%03d" % i, os.urandom(2048))
        start = kv.map_size
        backups = Backups(kv, settings(tmp_path))

        def write_big(txn: Txn) -> None:
            for i in range(200):
                txn.put(b"big:%03d" % i, bytes(4096))

        async def grow() -> None:
            await kv.update(write_big)

        snapshot, _ = await asyncio.gather(backups.take(), grow())
        assert kv.map_size > start
        assert snapshot.manifest.key_counts.get("fill") == 40
        assert snapshot.manifest.key_counts.get("big", 0) in (0, 200)  # all or nothing
        assert await kv.count(b"big:") == 200
