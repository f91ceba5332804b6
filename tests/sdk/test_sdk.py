"""Runs the Node test files in tests/sdk with the real @avaprotocol/sdk-js 2.16.0 against the
`make run` stack on free ports: the devnet, an in-process aggregator and an operator daemon.
Node.js is required: without it the test fails with the install hint."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ap_avs.config import OperatorConfig, load_settings
from ap_avs.devnet import DevnetState
from ap_avs.operator import OperatorApp
from ap_avs.testing import aggregator_config, running_aggregator

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.sdk


def node_or_fail() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 20+ is required for the SDK tests: install it, then run `make test`")
    if not (ROOT / "node_modules" / "@avaprotocol" / "sdk-js").is_dir():
        pytest.fail("the JavaScript SDK is not installed: run `npm ci` (make test does it)")
    return node


@contextlib.asynccontextmanager
async def operator(devnet: DevnetState, target: str, tmp_path: Path) -> AsyncIterator[None]:
    """An operator daemon watching the devnet for the aggregator at ``target``."""
    config = load_settings(
        OperatorConfig,
        {
            "ecdsa_private_key": devnet.test_accounts[-1].private_key,
            "aggregator_server_ip_port_address": target,
            "enable_node_api": False,
            "db_path": str(tmp_path / "operator"),
            "target_chain": {"eth_rpc_url": devnet.rpc_url},
        },
        "sdk test",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(
        OperatorApp(config, poll_interval=0.1, resync_grace=2.0, ping_interval=1.0).run(stop)
    )
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


@pytest.mark.timeout(180)
async def test_sdk_suite(tmp_path: Path, devnet: DevnetState) -> None:
    node = node_or_fail()
    files = sorted(str(p) for p in HERE.glob("*.test.mjs"))
    cfg = aggregator_config(
        tmp_path / "db",
        smart_wallet={
            "eth_rpc_url": devnet.rpc_url,
            "chain_id": devnet.chain_id,
            "factory_address": devnet.factory,
            "entrypoint_address": devnet.entrypoint,
            "bundler_url": devnet.bundler_url or "",
            "paymaster_address": devnet.paymaster,
            "controller_private_key": devnet.controller.private_key,
        },
        approved_operators=[devnet.test_accounts[-1].address],
    )
    async with running_aggregator(cfg) as server, operator(devnet, server.target, tmp_path):
        assert server.app.api_keys is not None
        issued = await server.app.api_keys.create(
            devnet.test_accounts[0].address, ["admin"], label="sdk suite"
        )
        admin_key = issued.token
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            node,
            "--test",
            "--test-reporter=spec",
            *files,
            cwd=ROOT,
            env={
                "AVS_ENDPOINT": server.target,
                "AVS_API_KEY": admin_key,
                "AVS_HAS_CHAIN": "1",
                "AVS_RPC_URL": devnet.rpc_url,
                "AVS_TOKEN": devnet.token("TUSD").address,
                "PATH": "/usr/bin:/bin",
                "NODE_NO_WARNINGS": "1",
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(proc.communicate(), 170)
    text = output.decode(errors="replace")
    print(text)
    print(f"SDK suite ran in {time.perf_counter() - started:.1f} s")
    assert proc.returncode == 0, text[-4000:]
