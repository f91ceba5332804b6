"""Child processes of the devnet: spawning anvil and alto, reading their ports, stopping them.

Raises:
    DevnetError: a tool is missing, or a child exits or is not ready before its deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import re
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from ap_avs.chain.aa import ENTRYPOINT_V06
from ap_avs.devnet._model import (
    _EXECUTOR,
    _PR_SET_PDEATHSIG,
    _UTILITY,
    ANVIL_KEYS,
    DevnetError,
    DevnetOptions,
)

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Child:
    name: str
    process: asyncio.subprocess.Process
    log_path: Path

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def failure(self, what: str) -> DevnetError:
        return DevnetError(f"{self.name} {what}; last lines of {self.log_path}:\n{self.log_tail()}")


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when its parent dies.

    Children run in their own session (a terminal's Ctrl-C reaches only us, and we stop them
    in order), so without this a parent killed outright would leave them running. The hook
    only calls prctl and getppid: safe enough between fork and exec, even with threads.
    """
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return hook


def _open_log(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)


async def _spawn(
    name: str, argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> _Child:
    log_fd = _open_log(log_path)
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_fd,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches its children
            preexec_fn=_die_with_parent(),
            cwd=log_path.parent,
            env=env,
        )
    finally:
        os.close(log_fd)
    logger.debug("started %s (pid %d), log %s", name, process.pid, log_path)
    return _Child(name, process, log_path)


async def _stop(child: _Child, grace: float) -> None:
    """Terminate the child's process group, and kill it after ``grace`` seconds."""
    if child.process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(child.process.wait(), grace)
    except TimeoutError:
        logger.warning("%s did not stop within %.1f s; killing it", child.name, grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signal.SIGKILL)
        await child.process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _find_tool(path: Path, what: str) -> Path:
    if not path.exists():
        raise DevnetError(f"{what} not found at {path}; run `npm ci` in the repository root")
    return path.resolve()


_LISTENING = re.compile(rb"Listening on [0-9.]+:(\d+)")


async def _anvil_port(child: _Child, deadline: float) -> int:
    while True:
        found = _LISTENING.search(child.log_path.read_bytes())
        if found:
            return int(found.group(1))
        if child.process.returncode is not None:
            raise child.failure(f"exited with code {child.process.returncode}")
        if time.monotonic() > deadline:
            raise child.failure("printed no 'Listening on' line in time")
        await asyncio.sleep(0.02)


# --- JSON-RPC --------------------------------------------------------------------------------


def _alto_argv(options: DevnetOptions, rpc_url: str, port: int) -> list[str]:
    alto_js = _find_tool(options.node_modules / "@pimlico/alto/esm/cli/alto.js", "alto")
    node = shutil.which("node")
    if node is None:
        raise DevnetError("node (Node.js 20 or newer) is not on PATH; alto needs it")
    poll_ms = 100 if options.block_time is None else max(50, int(options.block_time * 1000))
    return [
        node,
        str(alto_js),
        *("--entrypoints", ENTRYPOINT_V06),
        *("--executor-private-keys", ANVIL_KEYS[_EXECUTOR]),
        *("--utility-private-key", ANVIL_KEYS[_UTILITY]),
        *("--rpc-url", rpc_url),
        *("--port", str(port)),
        *("--safe-mode", "false"),  # safe mode needs a geth JS tracer anvil lacks
        *("--block-time", str(poll_ms)),  # how often alto polls for new blocks (ms)
    ]


async def _alto_ready(child: _Child, url: str, deadline: float) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_supportedEntryPoints", "params": []}
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if child.process.returncode is not None:
                raise child.failure(f"exited with code {child.process.returncode}")
            with contextlib.suppress(httpx.HTTPError, ValueError):
                answer = (await client.post(url, json=body)).json()
                supported = [a.lower() for a in answer.get("result") or []]
                if ENTRYPOINT_V06.lower() in supported:
                    return
            if time.monotonic() > deadline:
                raise child.failure(f"did not answer eth_supportedEntryPoints on {url} in time")
            await asyncio.sleep(0.05)


# --- the devnet ------------------------------------------------------------------------------


def _anvil_argv(options: DevnetOptions) -> list[str]:
    anvil = _find_tool(options.node_modules / "@foundry-rs/anvil-linux-amd64/bin/anvil", "anvil")
    argv = [str(anvil), "--host", "127.0.0.1", "--port", str(options.port)]
    argv += ["--chain-id", str(options.chain_id), "--accounts", "10", "--balance", "10000"]
    if options.block_time is not None:
        argv += ["--block-time", f"{options.block_time:g}"]
    return argv
