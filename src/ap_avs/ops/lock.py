"""The store lock: one process at a time owns a store directory (``<db_path>/ap-avs.lock``).

The aggregator takes it when it opens its store and keeps it until the store is closed; the
tools that change a stopped store (restore, migrate, the admin console without a server) take
it too, so they refuse to run under a live server and a server refuses to start under them.
It is an ``flock`` on the file, so the kernel drops it when the process dies (no stale locks)
and it conflicts even between two descriptors of one process (tests run servers in-process).
The file holds the owner's pid, for the error message only.

Usage::

    lock = StoreLock.acquire(Path(cfg.db_path))   # FailedPrecondition when taken
    try:
        ...
    finally:
        lock.release()

Raises:
    FailedPrecondition: the store is locked by another owner.
    OSError: the lock file cannot be created.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from ap_avs.errors import FailedPrecondition

LOCK_NAME: Final = "ap-avs.lock"


class StoreLock:
    """An exclusive hold on a store directory; see the module docstring."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, db_path: Path, *, purpose: str = "") -> StoreLock:
        """Lock the store in ``db_path`` (created if missing) for this process.

        Raises:
            FailedPrecondition: another owner holds it; the message names its pid.
        """
        db_path.mkdir(parents=True, exist_ok=True)
        path = db_path / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder else "another process"
            raise FailedPrecondition(
                f"the store at {db_path} is in use by {who}: stop the aggregator first"
                + (f" ({purpose})" if purpose else "")
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Give the store up (idempotent). The file stays: removing it would race a new owner."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor drops the flock

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_holder(db_path: Path) -> int | None:
    """The pid written by the current owner of the store lock, or None when it is free."""
    path = db_path / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
