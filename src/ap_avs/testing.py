"""Helpers for tests: an in-process aggregator on free loopback ports.

Shipped in the package so every test suite (and benchmarks) starts servers the same way.

Usage::

    async with running_aggregator(tmp_path) as server:
        channel = grpc.aio.insecure_channel(server.target)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ap_avs.aggregator.app import AggregatorApp
from ap_avs.auth import KeyService
from ap_avs.config import AggregatorConfig, load_settings
from ap_avs.devnet import DevnetOptions, DevnetState, start_devnet

TEST_JWT_SECRET = "test-secret-for-loopback-only-0123456789"
TEST_CHAIN_ID = 31337


def user_key(owner: str, *, chain_id: int = TEST_CHAIN_ID) -> str:
    """An ``authkey`` for ``owner`` signed with :data:`TEST_JWT_SECRET`: a user key as
    ``GetKey`` issues, stateless, valid for a day (API keys need a record: use the running
    app's ``api_keys.create``)."""
    keys = KeyService(jwt_secret=TEST_JWT_SECRET, chain_id=chain_id)
    return keys.user_key(owner, timedelta(days=1))


def aggregator_config(db_path: Path, **overrides: Any) -> AggregatorConfig:
    """A valid aggregator config on free loopback ports, storing under ``db_path``."""
    data: dict[str, Any] = {
        "jwt_secret": TEST_JWT_SECRET,
        "db_path": str(db_path),
        "rpc_bind_address": "127.0.0.1:0",
        "http_bind_address": "127.0.0.1:0",
        "grace_period_seconds": 1.0,
        "smart_wallet": {"chain_id": TEST_CHAIN_ID},
        "engine": {"allow_private_urls": True},
    }
    data.update(overrides)
    return load_settings(AggregatorConfig, data, "test config")


@dataclass(frozen=True, slots=True)
class RunningAggregator:
    """Where an in-process aggregator listens."""

    app: AggregatorApp
    rpc_port: int
    http_port: int | None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.rpc_port}"


@contextlib.asynccontextmanager
async def running_aggregator(config: AggregatorConfig) -> AsyncIterator[RunningAggregator]:
    """Run an aggregator in this event loop for the duration of the block, then stop it."""
    app = AggregatorApp(config)
    stop = asyncio.Event()
    task = asyncio.create_task(app.run(stop), name="aggregator")
    try:
        serving = asyncio.create_task(app.wait_serving())
        done, _ = await asyncio.wait(
            {task, serving}, timeout=30, return_when=asyncio.FIRST_COMPLETED
        )
        if not done:
            raise TimeoutError("aggregator did not start serving within 30 s")
        if task in done:
            serving.cancel()
            task.result()  # raises the start-up error
            raise RuntimeError("aggregator stopped before serving")
        serving.result()
        assert app.rpc_port is not None
        yield RunningAggregator(app, app.rpc_port, app.http_port)
    finally:
        stop.set()
        await task


class DevnetThread:
    """Runs ``start_devnet`` on its own loop in a daemon thread until ``stop()``."""

    def __init__(self, options: DevnetOptions) -> None:
        self.options = options
        self._ready: concurrent.futures.Future[DevnetState] = concurrent.futures.Future()
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="devnet", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            self._done.set_exception(exc)
        else:
            self._done.set_result(None)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with start_devnet(self.options) as state:
            self._ready.set_result(state)
            await self._stop.wait()

    def start(self, timeout: float = 90.0) -> DevnetState:
        self._thread.start()
        return self._ready.result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("the devnet thread did not stop")
        self._done.result(0)
