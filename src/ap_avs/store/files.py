"""The store directory on disk: owner-only modes, and the key files kept beside the data.

A store holds users' workflows, executions, wallets and sealed secrets, so its directory is
0700 and every file in it 0600. :func:`prepare_store_dir` creates the directory so, and tightens
an existing one (and the files in it) that a copy, an older version or a loose umask left open;
it returns what it changed, so that start-up can say so. ``LmdbKV`` creates its own files 0600
(``mode=0o700`` for LMDB: the data and lock files drop the execute bits).

:func:`key_file` reads a random key kept in the directory (``secrets.key``, ``jwt.secret``),
creating it once, exclusively and 0600, when it is missing.

Usage::

    for change in prepare_store_dir(Path(cfg.db_path)):
        logger.warning("store permissions tightened: %s", change)
    key = key_file(Path(cfg.db_path) / "secrets.key", 32)

Raises:
    OSError: the directory or a file cannot be created, read or changed.
    CorruptDataError: a key file has the wrong length.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Final

from ap_avs.errors import CorruptDataError

JWT_SECRET_FILE: Final = "jwt.secret"
"""The development JWT secret of a store whose config sets no ``jwt_secret`` (32 bytes; the
HMAC key is their hex)."""
DIR_MODE: Final = 0o700
"""Mode of a store directory (and of backup directories)."""
FILE_MODE: Final = 0o600
"""Mode of every file in a store or a backup."""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def prepare_store_dir(path: Path) -> list[str]:
    """Create ``path`` 0700 (parents as the umask says) or tighten it: the directory to 0700
    and each regular file directly in it to 0600. Symbolic links are left alone.

    Returns:
        One line per changed path, ``"<path>: 0755 -> 0700"``; empty when nothing changed.

    Raises:
        OSError: the directory cannot be created, or a mode cannot be changed.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=DIR_MODE)
    changed: list[str] = []
    _tighten(path, DIR_MODE, changed)
    for entry in path.iterdir():
        if stat.S_ISREG(entry.lstat().st_mode):
            _tighten(entry, FILE_MODE, changed)
    return changed


def _tighten(path: Path, wanted: int, changed: list[str]) -> None:
    mode = _mode(path)
    if mode != wanted:
        os.chmod(path, wanted)
        changed.append(f"{path}: {mode:04o} -> {wanted:04o}")


def key_file(path: Path, size: int, *, make: Callable[[int], bytes] = os.urandom) -> bytes:
    """The key in ``path``; when the file is missing, ``make(size)`` is written there first
    (created exclusively, 0600, flushed to disk), so two processes agree on one key.

    Raises:
        CorruptDataError: the file does not hold exactly ``size`` bytes.
        OSError: it cannot be read or created.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        key = path.read_bytes()
    else:
        key = make(size)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
    if len(key) != size:
        raise CorruptDataError(f"key file {path} is damaged (expected {size} bytes)")
    return key
