"""One sandbox worker process seen from the parent: start it, send a request, kill it.

The child is ``worker.py`` run by this interpreter in isolated mode (``-I``), in its own session
(terminal signals do not reach it), in ``/``, with ``TZ=UTC`` as its whole environment. Requests
and replies are frames of a 4-byte big-endian length and UTF-8 JSON over its stdin and stdout; its
stderr (faulthandler's traceback after a crash, nothing otherwise) goes to this module's logger.

Raises:
    WorkerStartError: the child did not come up (its stderr is in the message).
    WorkerGone: the child died or broke the protocol during a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import struct
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

HEADER = struct.Struct(">I")
WORKER_SCRIPT = Path(__file__).resolve().with_name("worker.py")
JS_DIR = Path(__file__).resolve().parent.parent / "js"
_STDERR_LINES = 200


class WorkerStartError(Exception):
    """The worker process did not start."""


class WorkerGone(Exception):
    """The worker process died, or sent something that is not a reply, during a request."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"sandbox worker exited ({describe_exit(returncode)})")
        self.returncode = returncode


def describe_exit(returncode: int | None) -> str:
    """``signal SIGSEGV``, ``code 1`` or ``still running``, for messages."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-returncode).name}"
        return f"signal {-returncode}"
    return f"code {returncode}"


class WorkerProcess:
    """A started worker; one request at a time (the pool guarantees it)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._stderr = asyncio.create_task(self._drain_stderr())

    @property
    def pid(self) -> int:
        return self._process.pid

    @classmethod
    async def spawn(cls, *, address_space: int, ready_within: float) -> WorkerProcess:
        """Start a worker and wait for its ready frame.

        Args:
            address_space: ``RLIMIT_AS`` for the child in bytes, 0 for none.
            ready_within: Seconds to wait for it to be ready.

        Raises:
            WorkerStartError: It exited, timed out or sent something else.
        """
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-X",
            "faulthandler",
            str(WORKER_SCRIPT),
            str(JS_DIR),
            str(address_space),
            str(os.getpid()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd="/",
            env={"TZ": "UTC"},
            start_new_session=True,
        )
        try:
            async with asyncio.timeout(ready_within):
                ready = json.loads(await _read_frame(process, 4096))
            if ready.get("ready") is not True:
                raise ValueError(f"unexpected first frame {ready!r}")
        except (Exception, asyncio.CancelledError) as error:
            _kill(process)
            stderr = b""
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    stderr = await process.stderr.read() if process.stderr else b""
                    await process.wait()
            if isinstance(error, asyncio.CancelledError):
                raise
            tail = stderr.decode(errors="replace").strip()[-2000:]
            raise WorkerStartError(
                f"sandbox worker did not start ({describe_exit(process.returncode)}): "
                f"{error!r} {tail}".strip()
            ) from error
        return cls(process)

    async def request(self, body: bytes, max_reply: int) -> bytes:
        """Send one request frame and return the reply frame's body.

        Raises:
            WorkerGone: The process died, or the reply frame was longer than ``max_reply``.
        """
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(HEADER.pack(len(body)) + body)
            await self._process.stdin.drain()
            return await _read_frame(self._process, max_reply)
        except (OSError, EOFError, ValueError):
            raise WorkerGone(await self._reap()) from None

    async def _reap(self) -> int:
        """Collect a worker that broke off: give it a moment to finish dying, then kill it.

        Killing first would race the exit: ``Popen.send_signal`` polls, reaping the child before
        asyncio's watcher sees it, and the exit status (the signal of a crash) would be lost.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                return await self.wait()
        self.kill()
        return await self.wait()

    def kill(self) -> None:
        """Kill the process now (no-op when it has exited)."""
        _kill(self._process)

    async def wait(self) -> int:
        """Wait for the process to exit and its pipes to close; return its exit code."""
        returncode = await self._process.wait()
        await self._stderr
        return returncode

    async def stop(self, kill_after: float) -> None:
        """Ask the worker to exit by closing its stdin; kill it after ``kill_after`` seconds."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            async with asyncio.timeout(kill_after):
                await self._process.wait()
        except TimeoutError:
            self.kill()
        await self.wait()

    async def _drain_stderr(self) -> None:
        stream = self._process.stderr
        if stream is None:
            return
        count = 0
        while line := await stream.readline():
            count += 1
            if count <= _STDERR_LINES:
                logger.warning(
                    "sandbox worker %d: %s", self.pid, line.decode(errors="replace").rstrip()
                )


async def _read_frame(process: asyncio.subprocess.Process, max_size: int) -> bytes:
    assert process.stdout is not None
    (size,) = HEADER.unpack(await process.stdout.readexactly(HEADER.size))
    if size > max_size:
        raise ValueError(f"frame of {size} bytes")
    return await process.stdout.readexactly(size)


def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    if process.stdin is not None:
        process.stdin.close()
