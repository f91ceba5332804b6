"""Backups: hot, consistent, compacted snapshots of the store, kept by count, taken on a timer.

A snapshot is a directory ``<backup_dir>/snapshot-<UTC time>/`` holding

* ``data.mdb``: an LMDB copy of the store (``store.lmdb_copy.hot_copy``: one read snapshot,
  compacted, taken while the server keeps serving);
* ``secrets.key``: the store's secrets key file when there is one (0600): without it the
  ``secret:`` values in the copy cannot be read;
* ``manifest.json``: what the snapshot is: format, time, ap-avs version, schema version, key
  counts by family, size and SHA-256 of ``data.mdb``, and the integrity check run on the copy.

It is written under a temporary name and renamed into place once complete, so a listed
snapshot is always whole. After each snapshot only the newest ``keep`` are kept. The directory
defaults to ``<db_path>_backup`` (upstream's place), created 0700 (an existing one is
tightened to 0700); each snapshot directory is 0700 and every file in it 0600, as in the store.

Usage::

    backups = Backups(store, backup_settings(cfg.db_path, cfg.backup))
    tasks.create_task(backups.run(stop), name="backups")   # every interval_minutes if enabled
    snapshot = await backups.take()                          # on demand (admin console, CLI)

Raises:
    FailedPrecondition: the store is not an LMDB store.
    StoreError: the copy failed. OSError: the backup directory is not writable.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ap_avs.clock import now_ms
from ap_avs.config import BackupConfig
from ap_avs.errors import ApAvsError, CorruptDataError, FailedPrecondition
from ap_avs.ops.integrity import IntegrityReport, check, key_counts
from ap_avs.ops.migrations import stored_version
from ap_avs.store.files import DIR_MODE, FILE_MODE
from ap_avs.store.kv import KV, ReadTxn
from ap_avs.store.lmdb_copy import DATA_FILE, hot_copy, read_copy
from ap_avs.store.lmdb_kv import LmdbKV
from ap_avs.version import __version__

logger = logging.getLogger(__name__)

FORMAT: Final = "ap-avs-snapshot"
FORMAT_VERSION: Final = 1
MANIFEST: Final = "manifest.json"
SECRETS_KEY_FILE: Final = "secrets.key"
"""As ``aggregator.app.SECRETS_KEY_FILE`` (not imported: the CLI tools stay light)."""
DEFAULT_KEEP: Final = 24
_NAME: Final = re.compile(r"snapshot-\d{8}T\d{6}\.\d{3}Z(-\d+)?")
_TMP_PREFIX: Final = ".tmp-"


@dataclass(frozen=True, slots=True)
class BackupSettings:
    """Where and how often; from the config section ``backup`` by :func:`backup_settings`."""

    db_path: Path
    backup_dir: Path
    enabled: bool = False
    interval_seconds: float = 3600.0
    keep: int = DEFAULT_KEEP
    verify: bool = True
    """Run the integrity check on each copy and record it in the manifest."""


def backup_settings(db_path: str | Path, section: BackupConfig) -> BackupSettings:
    """The settings of ``section`` for the store in ``db_path``; ``backup_dir`` defaults to
    ``<db_path>_backup``. A ``keep`` key (retention by count) is read when the config has one."""
    store = Path(db_path)
    directory = Path(section.backup_dir) if section.backup_dir else Path(f"{store}_backup")
    keep = getattr(section, "keep", DEFAULT_KEEP)
    return BackupSettings(
        db_path=store,
        backup_dir=directory,
        enabled=section.enabled,
        interval_seconds=section.interval_minutes * 60.0,
        keep=max(1, int(keep)),
    )


@dataclass(frozen=True, slots=True)
class Manifest:
    """The self-description of a snapshot (``manifest.json``)."""

    name: str
    created_at_ms: int
    ap_avs_version: str
    schema_version: int | None
    key_counts: dict[str, int]
    data_bytes: int
    data_sha256: str
    secrets_key: bool
    source: str
    integrity: dict[str, Any] | None

    @property
    def total_keys(self) -> int:
        return sum(self.key_counts.values())

    @property
    def created_at(self) -> str:
        moment = datetime.fromtimestamp(self.created_at_ms / 1000, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "created_at": self.created_at,
            "created_at_ms": self.created_at_ms,
            "ap_avs_version": self.ap_avs_version,
            "schema_version": self.schema_version,
            "total_keys": self.total_keys,
            "key_counts": self.key_counts,
            "data_file": DATA_FILE,
            "data_bytes": self.data_bytes,
            "data_sha256": self.data_sha256,
            "compacted": True,
            "secrets_key": self.secrets_key,
            "source": self.source,
            "integrity": self.integrity,
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Raises: CorruptDataError: not a manifest this version reads."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CorruptDataError("not an ap-avs snapshot manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise CorruptDataError(f"unknown snapshot format {data.get('format_version')!r}")
        try:
            return cls(
                name=str(data["name"]),
                created_at_ms=int(data["created_at_ms"]),
                ap_avs_version=str(data["ap_avs_version"]),
                schema_version=data["schema_version"],
                key_counts={str(k): int(v) for k, v in data["key_counts"].items()},
                data_bytes=int(data["data_bytes"]),
                data_sha256=str(data["data_sha256"]),
                secrets_key=bool(data["secrets_key"]),
                source=str(data["source"]),
                integrity=data.get("integrity"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CorruptDataError(f"snapshot manifest is malformed: {exc}") from None


@dataclass(frozen=True, slots=True)
class Snapshot:
    path: Path
    manifest: Manifest


def read_manifest(path: Path) -> Snapshot:
    """The snapshot in directory ``path`` (or whose ``manifest.json`` is ``path``).

    Raises:
        CorruptDataError: no readable manifest there.
    """
    directory = path.parent if path.name == MANIFEST else path
    try:
        data = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise CorruptDataError(f"no readable snapshot manifest in {directory}: {exc}") from None
    return Snapshot(directory, Manifest.from_json(data))


def list_snapshots(backup_dir: Path) -> list[Snapshot]:
    """The complete snapshots in ``backup_dir``, oldest first (damaged ones are skipped)."""
    if not backup_dir.is_dir():
        return []
    found: list[Snapshot] = []
    for entry in sorted(backup_dir.iterdir()):
        if entry.is_dir() and _NAME.fullmatch(entry.name):
            with contextlib.suppress(CorruptDataError):
                found.append(read_manifest(entry))
    return found


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _summary(
    txn: ReadTxn, verify: bool
) -> tuple[int | None, dict[str, int], IntegrityReport | None]:
    return stored_version(txn), key_counts(txn), check(txn) if verify else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Backups:
    """Takes snapshots of one store; see the module docstring."""

    def __init__(
        self, store: KV, settings: BackupSettings, *, now_ms: Callable[[], int] = now_ms
    ) -> None:
        self.store = store
        self.settings = settings
        self._now_ms = now_ms
        self._lock = asyncio.Lock()

    def snapshots(self) -> list[Snapshot]:
        """The kept snapshots, oldest first."""
        return list_snapshots(self.settings.backup_dir)

    async def take(self) -> Snapshot:
        """Write a new snapshot now, then drop the oldest beyond ``keep``.

        Raises:
            FailedPrecondition: the store is not an LMDB store.
            StoreError: the copy failed.
            OSError: the backup directory cannot be written.
        """
        store = self.store
        if not isinstance(store, LmdbKV):
            raise FailedPrecondition("backups need the LMDB store")
        async with self._lock:
            directory = self.settings.backup_dir
            await asyncio.to_thread(self._prepare, directory)
            created = self._now_ms()
            name = self._name(created)
            tmp = directory / f"{_TMP_PREFIX}{name}-{os.getpid()}"
            tmp.mkdir(mode=DIR_MODE)
            try:
                started = time.monotonic()
                await hot_copy(store, tmp)
                manifest = await asyncio.to_thread(self._describe, tmp, name, created)
                final = directory / name
                await asyncio.to_thread(self._seal, tmp, final, manifest)
            except BaseException:
                await asyncio.to_thread(shutil.rmtree, tmp, True)
                raise
            snapshot = Snapshot(final, manifest)
            logger.info(
                "backup %s: %d keys, %d bytes, schema %s, integrity %s, in %.2f s",
                final,
                manifest.total_keys,
                manifest.data_bytes,
                manifest.schema_version,
                "not checked"
                if manifest.integrity is None
                else ("ok" if manifest.integrity["ok"] else "PROBLEMS"),
                time.monotonic() - started,
            )
            await asyncio.to_thread(self._prune)
            return snapshot

    async def run(self, stop: asyncio.Event) -> None:
        """Take a snapshot every ``interval_seconds`` until ``stop`` (nothing when disabled).
        A failed backup is logged and the next one is tried on time."""
        if not self.settings.enabled:
            return
        logger.info(
            "backups every %.0f s into %s, keeping %d",
            self.settings.interval_seconds,
            self.settings.backup_dir,
            self.settings.keep,
        )
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.interval_seconds):
                    await stop.wait()
            if stop.is_set():
                return
            try:
                await self.take()
            except (ApAvsError, OSError) as exc:
                logger.error("backup failed: %s", exc)

    # --- blocking steps (worker threads) -------------------------------------------------------

    def _name(self, created_ms: int) -> str:
        moment = datetime.fromtimestamp(created_ms / 1000, UTC)
        base = f"snapshot-{moment:%Y%m%dT%H%M%S}.{created_ms % 1000:03d}Z"
        name, n = base, 1
        while (self.settings.backup_dir / name).exists():
            name, n = f"{base}-{n}", n + 1
        return name

    def _prepare(self, directory: Path) -> None:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(directory.stat().st_mode) != DIR_MODE:
            os.chmod(directory, DIR_MODE)
            logger.warning("backup directory %s tightened to owner-only (0700)", directory)
        for entry in directory.iterdir():  # copies left by a process that died mid-way
            if entry.name.startswith(_TMP_PREFIX) and entry.is_dir():
                pid = entry.name.rsplit("-", 1)[-1]
                if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                    shutil.rmtree(entry, ignore_errors=True)

    def _describe(self, tmp: Path, name: str, created_ms: int) -> Manifest:
        key_file = self.settings.db_path / SECRETS_KEY_FILE
        has_key = key_file.is_file()
        if has_key:
            target = tmp / SECRETS_KEY_FILE
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key_file.read_bytes())
                handle.flush()
                os.fsync(handle.fileno())
        verify = self.settings.verify
        schema, counts, report = read_copy(tmp, lambda txn: _summary(txn, verify))
        data = tmp / DATA_FILE
        os.chmod(data, FILE_MODE)  # LMDB writes the copy as the umask says
        _fsync(data)
        return Manifest(
            name=name,
            created_at_ms=created_ms,
            ap_avs_version=__version__,
            schema_version=schema,
            key_counts=counts,
            data_bytes=data.stat().st_size,
            data_sha256=sha256_file(data),
            secrets_key=has_key,
            source=os.fspath(self.settings.db_path.resolve()),
            integrity=None if report is None else report.to_json(),
        )

    def _seal(self, tmp: Path, final: Path, manifest: Manifest) -> None:
        path = tmp / MANIFEST
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "w") as handle:
            json.dump(manifest.to_json(), handle, indent=2, sort_keys=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        _fsync(tmp)
        os.rename(tmp, final)
        _fsync(final.parent)

    def _prune(self) -> None:
        kept = self.snapshots()
        for old in kept[: max(0, len(kept) - self.settings.keep)]:
            shutil.rmtree(old.path, ignore_errors=True)
            logger.info("backup %s removed (keeping %d)", old.path, self.settings.keep)
