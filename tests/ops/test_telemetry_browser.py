"""The telemetry page in headless Chromium (Debian's ``chromium``): two connected operators are
both listed, in a page without any script; a screenshot is kept in ``tests/artifacts/``.
(Headless Chromium's own ``--dump-dom`` and ``--screenshot`` need scripts on, so the page is
checked for having none instead of being rendered with them off.)

The set-up installs Chromium with ``scripts/install_chromium.sh`` when it is missing (as root
with apt); if that cannot work the test fails and says how to install it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from ap_avs.domain.ids import new_id
from ap_avs.ops.http import HttpServer
from ap_avs.ops.telemetry import Telemetry, telemetry_routes
from ap_avs.store import MemoryKV, keys

from .support import MANUAL, NOW, WriteLoad
from .test_admin import OP_A, OP_B, FakeDispatcher, ping

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
INSTALLER = ROOT / "scripts" / "install_chromium.sh"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    found = find_chromium()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["bash", str(INSTALLER)], check=False, timeout=900)
        found = find_chromium()
    if found is None:
        pytest.fail(
            "Chromium is needed for the telemetry page test and is not installed: run "
            f"`bash {INSTALLER.relative_to(ROOT)}` (Debian: `apt-get install -y chromium`)"
        )
    return found


async def run_chromium(binary: str, profile: Path, *args: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(
        binary,
        *FLAGS,
        f"--user-data-dir={profile}",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out


@pytest.fixture
async def page_url() -> AsyncIterator[str]:
    kv = MemoryKV()
    load = WriteLoad(kv)
    for _ in range(5):
        await load.create()
    for wf_id in load.ids[:2]:
        await load.queue.enqueue_run(wf_id, MANUAL, now_ms=NOW)
    for age_ms in (1000, 60_000, 600_000):
        await kv.put(keys.history(load.ids[0], new_id(now_ms=NOW - age_ms)), b"{}")
    await kv.put(keys.operator(OP_A), ping(OP_A, 7_654_321, 42, NOW - 3000))
    await kv.put(keys.operator(OP_B), ping(OP_B, 7_654_300, 17, NOW - 20_000))
    dispatcher = FakeDispatcher(
        {OP_A: object(), OP_B: object()}, {OP_A: set(load.ids[:3]), OP_B: set(load.ids[3:])}
    )
    telemetry = Telemetry(kv, operators=dispatcher, now_ms=lambda: NOW)
    server = HttpServer(Starlette(routes=telemetry_routes(telemetry)), "127.0.0.1", 0)
    serving = asyncio.create_task(server.serve())
    try:
        yield f"http://127.0.0.1:{server.port}/telemetry"
    finally:
        server.stop()
        await serving
        await kv.close()


async def test_two_connected_operators_are_listed(
    chromium: str, page_url: str, tmp_path: Path
) -> None:
    dom = (await run_chromium(chromium, tmp_path / "profile", "--dump-dom", page_url)).decode()
    assert "<script" not in dom.lower()
    assert not re.search(r"\son[a-z]+=", dom)
    table = dom[dom.index('id="connected-operators"') :]
    assert OP_A in table
    assert OP_B in table
    assert '<div class="value" id="connected-count">2</div>' in dom
    assert '<div class="value" id="queue-depth">2</div>' in dom
    assert '<div class="value" id="executions-last-hour">3</div>' in dom

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "telemetry.png"
    shot.unlink(missing_ok=True)
    await run_chromium(
        chromium,
        tmp_path / "profile2",
        f"--screenshot={shot}",
        "--window-size=1280,800",
        page_url,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000
