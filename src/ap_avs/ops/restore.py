"""Restore: put a snapshot (see ``backup.py``) in place of a stopped store.

It refuses a store in use: the store lock (``lock.py``) must be free, and no process may have
the LMDB environment open (``store.lmdb_copy.lmdb_in_use``, which also catches a process that
does not take our lock). It holds the store lock while it works, so no server starts meanwhile.

Steps: read the manifest and check the SHA-256 of ``data.mdb`` and the schema version (a
snapshot newer than this program is refused: the server would not start on it); move the
current ``data.mdb`` and ``secrets.key`` aside into ``<db_path>.pre-restore-<time>/`` (nothing
is deleted); copy the snapshot's data under a temporary name, fsync, rename into place; install
its ``secrets.key`` (0600); drop the stale ``lock.mdb``. Migrations run when the server starts.

Usage::

    result = await restore(Path("data/aggregator_backup/snapshot-…"), Path(cfg.db_path))

Raises:
    FailedPrecondition: the store is in use, or the snapshot is newer than this program.
    CorruptDataError: the snapshot is damaged (no manifest, checksum mismatch).
    OSError: files cannot be written.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ap_avs.clock import now_ms
from ap_avs.errors import CorruptDataError, FailedPrecondition
from ap_avs.ops.backup import SECRETS_KEY_FILE, Snapshot, read_manifest, sha256_file
from ap_avs.ops.lock import StoreLock
from ap_avs.ops.migrations import CURRENT_SCHEMA
from ap_avs.store.lmdb_copy import DATA_FILE, LOCK_FILE, lmdb_in_use


@dataclass(frozen=True, slots=True)
class Restored:
    """A finished restore: the snapshot, and where the replaced files went (None: there were
    none)."""

    snapshot: Snapshot
    db_path: Path
    aside: Path | None


def _verify(snapshot: Snapshot) -> None:
    manifest = snapshot.manifest
    data = snapshot.path / DATA_FILE
    if not data.is_file():
        raise CorruptDataError(f"snapshot {snapshot.path} has no {DATA_FILE}")
    if sha256_file(data) != manifest.data_sha256:
        raise CorruptDataError(f"snapshot {snapshot.path}: {DATA_FILE} does not match its SHA-256")
    if manifest.secrets_key and not (snapshot.path / SECRETS_KEY_FILE).is_file():
        raise CorruptDataError(f"snapshot {snapshot.path}: {SECRETS_KEY_FILE} is missing")
    if manifest.schema_version is not None and manifest.schema_version > CURRENT_SCHEMA:
        raise FailedPrecondition(
            f"snapshot {snapshot.path} has schema version {manifest.schema_version}, newer than "
            f"this program's {CURRENT_SCHEMA}: restore it with a newer ap-avs"
        )


def _copy_durably(source: Path, target: Path, mode: int) -> None:
    tmp = target.with_name(target.name + ".restoring")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)


def _swap(snapshot: Snapshot, db_path: Path, stamp: str) -> Path | None:
    aside: Path | None = None
    current = [db_path / DATA_FILE, db_path / SECRETS_KEY_FILE]
    if any(path.exists() for path in current):
        aside = db_path.with_name(f"{db_path.name}.pre-restore-{stamp}")
        aside.mkdir(mode=0o700)
        for path in current:
            if path.exists():
                os.replace(path, aside / path.name)
    _copy_durably(snapshot.path / DATA_FILE, db_path / DATA_FILE, 0o600)
    if snapshot.manifest.secrets_key:
        _copy_durably(snapshot.path / SECRETS_KEY_FILE, db_path / SECRETS_KEY_FILE, 0o600)
    (db_path / LOCK_FILE).unlink(missing_ok=True)  # nobody has it open (checked): stale
    fd = os.open(db_path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return aside


async def restore(
    snapshot_path: Path, db_path: Path, *, now_ms: Callable[[], int] = now_ms
) -> Restored:
    """Replace the stopped store in ``db_path`` with the snapshot at ``snapshot_path``.

    Raises:
        FailedPrecondition: the store is in use, or the snapshot is too new.
        CorruptDataError: the snapshot is damaged.
    """
    snapshot = await asyncio.to_thread(read_manifest, snapshot_path)
    await asyncio.to_thread(_verify, snapshot)
    with StoreLock.acquire(db_path, purpose="restore refuses to replace a store in use"):
        if await lmdb_in_use(db_path):
            raise FailedPrecondition(
                f"the store at {db_path} is open in another process: stop it before restoring"
            )
        ms = now_ms()
        moment = datetime.fromtimestamp(ms / 1000, UTC)
        stamp = f"{moment:%Y%m%dT%H%M%S}.{ms % 1000:03d}Z"
        aside = await asyncio.to_thread(_swap, snapshot, db_path, stamp)
    return Restored(snapshot, db_path, aside)
