"""Session fixtures shared by every test directory: the local devnet (anvil + contracts + alto).

The devnet runs in a background thread with its own event loop, started once per session and
only when a test asks for it (see ``ap_avs.testing.DevnetThread`` for why a thread).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from ap_avs.devnet import DevnetOptions, DevnetState
from ap_avs.testing import DevnetThread

_STARTUP_TIMES: list[tuple[str, float]] = []

# Property tests must not fail by chance in CI: no per-example time limit (a loaded machine is
# slow, not wrong), no "too slow" health check, and the same examples on every run. Run
# ``HYPOTHESIS_PROFILE=explore pytest ...`` to search with fresh random examples.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "explore", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=1000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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


@pytest.fixture(scope="session")
def reorg_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetState]:
    """A devnet of its own (no bundler) for tests that reorganise the chain (``anvil_reorg``),
    which would confuse the shared devnet's bundler."""
    state_file = tmp_path_factory.mktemp("reorg-devnet") / "state.json"
    runner = DevnetThread(DevnetOptions(state_file=state_file, bundler=False))
    state = runner.start()
    _STARTUP_TIMES.append(("devnet for reorgs (no bundler)", state.startup_seconds))
    try:
        yield state
    finally:
        runner.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for what, seconds in _STARTUP_TIMES:
        terminalreporter.write_line(f"{what} started in {seconds:.2f} s")
