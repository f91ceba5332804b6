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

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from ap_avs.devnet import DevnetState

from .support import Chain


@pytest_asyncio.fixture
async def chain(devnet: DevnetState) -> AsyncIterator[Chain]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield Chain(client, devnet.rpc_url)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "contracts" / "artifacts"
