"""LMDB files outside the live store: hot copies, read-only views of copies, the in-use probe.

The one place besides ``lmdb_kv.py`` that knows LMDB (``ap_avs.ops`` uses it for backups and
restores), so nothing outside ``store/`` imports lmdb.

* :func:`hot_copy` writes a consistent, compacted copy of a serving `LmdbKV` (``mdb_env_copy2``
  with ``MDB_CP_COMPACT``): the copy reads one snapshot in a reader thread while writers go on.
  It is a reader like any other, so LMDB cannot reuse the pages freed during the copy, and a
  write that needs the map to grow waits until the copy ends.
* :func:`read_copy` runs a function on a read-only view of a copy, without a lock file (a copy
  has no writer), so it can look at a snapshot where it lies.
* :func:`lmdb_in_use` tells whether any process has an environment open. LMDB keeps a shared
  POSIX record lock on ``lock.mdb`` while an environment is open; POSIX locks do not conflict
  within one process, and closing any descriptor of the file drops all of the process's locks on
  it, so the probe runs in a child process: it sees this process's environments too, and cannot
  break them.

Raises:
    StoreError: the copy or the view failed (`StoreFullError` when the disk is full).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

import lmdb

from ap_avs.store._lmdb_txn import LmdbReadTxn, translate
from ap_avs.store.kv import ReadTxn, StoreError
from ap_avs.store.lmdb_kv import LmdbKV

T = TypeVar("T")

DATA_FILE: Final = "data.mdb"
"""The data file of an environment (and of a copy)."""
LOCK_FILE: Final = "lock.mdb"
"""The lock file LMDB keeps beside the data while an environment is open."""

_PROBE: Final = """
import fcntl, os, sys
try:
    fd = os.open(sys.argv[1], os.O_RDWR)
except FileNotFoundError:
    sys.exit(0)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
except OSError:
    sys.exit(3)
sys.exit(0)
"""
_BUSY: Final = 3


async def hot_copy(kv: LmdbKV, dest: Path, *, compact: bool = True) -> None:
    """Write a consistent copy of ``kv`` as ``dest/data.mdb`` while ``kv`` keeps serving.

    ``dest`` must be an existing, empty directory.

    Raises:
        StoreClosedError: ``kv`` is closed.
        StoreError: the copy failed (`StoreFullError` when the disk is full).
    """
    env: lmdb.Environment = kv._usable()

    def copy() -> None:
        try:
            env.copy(os.fspath(dest), compact=compact)
        except lmdb.Error as exc:
            raise translate(exc, f"copy the store to {os.fspath(dest)!r}") from exc

    # A counted reader thread of kv: a map resize waits for it (and it waits for a resize).
    await kv._in_thread(copy)


def read_copy(path: Path, fn: Callable[[ReadTxn], T]) -> T:
    """Run ``fn`` on a read-only view of the copy in directory ``path`` (blocking: call it in a
    thread). Never use it on a live store: it takes no lock.

    Raises:
        StoreError: ``path`` holds no readable LMDB environment.
    """
    try:
        env = lmdb.open(
            os.fspath(path), readonly=True, lock=False, subdir=True, max_dbs=0, create=False
        )
    except lmdb.Error as exc:
        raise translate(exc, f"open the copy at {os.fspath(path)!r}") from exc
    try:
        with env.begin() as raw:
            txn = LmdbReadTxn(raw)
            try:
                return fn(txn)
            finally:
                txn.finish()
    except lmdb.Error as exc:
        raise translate(exc, "read the copy") from exc
    finally:
        env.close()


async def lmdb_in_use(path: Path) -> bool:
    """Whether any process (this one included) has the environment in ``path`` open.

    Raises:
        StoreError: the probe could not run, or ``lock.mdb`` is not accessible.
    """
    lock = path / LOCK_FILE
    if not lock.exists():
        return False
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        "-c",
        _PROBE,
        os.fspath(lock),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode == _BUSY:
        return True
    if proc.returncode != 0:
        detail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise StoreError(f"cannot probe {os.fspath(lock)!r}: {detail[0]}")
    return False
