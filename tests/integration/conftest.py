"""Fixtures for tests against the local devnet (anvil + our contracts + alto on loopback).

The devnet runs in a background thread with its own event loop, started once per session.
Why a thread rather than a session-scoped pytest-asyncio fixture: the devnet's child
processes belong to the loop that spawned them, and that loop must keep running between tests
(to notice a child dying, and to stop the children cleanly at the end). A session-scoped loop
only runs while a session-scoped test or fixture runs, and every test that touches the fixture
would have to opt into that loop. With a thread, tests keep their own function-scoped loops
and use only plain data (URLs, addresses, keys) from ``DevnetState``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from ap_avs.devnet import DevnetOptions, DevnetState

from .support import Chain, DevnetThread

_STARTUP_TIMES: list[tuple[str, float]] = []


@pytest.fixture(scope="session")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetState]:
    """The full devnet: anvil, contracts, and the alto bundler."""
    state_file = tmp_path_factory.mktemp("devnet") / "state.json"
    runner = DevnetThread(DevnetOptions(state_file=state_file))
    state = runner.start()
    _STARTUP_TIMES.append(("devnet (anvil + contracts + alto)", state.startup_seconds))
    try:
        yield state
    finally:
        runner.stop()


@pytest.fixture(scope="session")
def sepolia_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetState]:
    """A second, smaller devnet: Sepolia's chain id and token addresses, no bundler."""
    state_file = tmp_path_factory.mktemp("sepolia-devnet") / "state.json"
    options = DevnetOptions(
        state_file=state_file, chain_id=11155111, sepolia_fixtures=True, bundler=False
    )
    runner = DevnetThread(options)
    state = runner.start()
    _STARTUP_TIMES.append(("devnet (Sepolia fixtures, no bundler)", state.startup_seconds))
    try:
        yield state
    finally:
        runner.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for what, seconds in _STARTUP_TIMES:
        terminalreporter.write_line(f"{what} started in {seconds:.2f} s")


@pytest_asyncio.fixture
async def chain(devnet: DevnetState) -> AsyncIterator[Chain]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield Chain(client, devnet.rpc_url)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "contracts" / "artifacts"
