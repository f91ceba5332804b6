"""Local chain for development and tests: anvil, our contracts at fixed addresses, and alto.

This module owns the devnet: it starts anvil (from the npm package ``@foundry-rs/anvil``) on a
free loopback port, deploys through the CREATE2 deployer that anvil predeploys, so every address
is the same on every run and every chain id: EntryPoint v0.6 (shipped artifact, canonical
address), our smart-account factory (controller fixed at construction), the v0.6
VerifyingPaymaster (verifying signer = controller; staked and funded at the EntryPoint), test
ERC-20s and an ETH/USD price feed. On request it places tokens and a feed at Sepolia's
addresses. Then it starts the alto bundler, writes one JSON state file describing it all, and
stops every child (terminate, then kill after a grace period) on exit.

Keys are anvil's default mnemonic accounts: 0 deployer, 1 controller, 2 bundler executor,
3 bundler utility, 4-9 test accounts (all hold 10,000 ETH at genesis).

Raises:
    DevnetError: a tool is missing (run ``npm ci``), a child exits or is not ready before its
        deadline, or a deployment fails or lands elsewhere than expected.

Usage::

    async with start_devnet(DevnetOptions(state_file=tmp / "devnet.json")) as devnet:
        print(devnet.rpc_url, devnet.bundler_url, devnet.factory)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx

from ap_avs.chain.aa import ENTRYPOINT_V06
from ap_avs.devnet._deploy import (
    _deploy_contracts,
    _Deployed,
    _Deployer,
    _Keys,
    _Rpc,
)
from ap_avs.devnet._eigenlayer import EXPECTED as EIGENLAYER_ADDRESSES
from ap_avs.devnet._eigenlayer import VERSION as EIGENLAYER_VERSION
from ap_avs.devnet._eigenlayer import deploy_eigenlayer
from ap_avs.devnet._model import (
    ANVIL_KEYS,
    CREATE2_DEPLOYER,
    ETH_USD_ANSWER,
    LOCAL_TOKENS,
    SEPOLIA_ETH_USD_FEED,
    SEPOLIA_TOKENS,
    DevAccount,
    DevnetError,
    DevnetOptions,
    DevnetState,
    EigenLayerInfo,
    PriceFeedInfo,
    TokenInfo,
)
from ap_avs.devnet._process import (
    _alto_argv,
    _alto_ready,
    _anvil_argv,
    _anvil_port,
    _Child,
    _free_port,
    _spawn,
    _stop,
)

__all__ = [
    "ANVIL_KEYS",
    "EIGENLAYER_ADDRESSES",
    "EIGENLAYER_VERSION",
    "ETH_USD_ANSWER",
    "LOCAL_TOKENS",
    "SEPOLIA_ETH_USD_FEED",
    "SEPOLIA_TOKENS",
    "DevAccount",
    "DevnetError",
    "DevnetOptions",
    "DevnetState",
    "EigenLayerInfo",
    "PriceFeedInfo",
    "TokenInfo",
    "run_devnet",
    "start_devnet",
]

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def _launch(options: DevnetOptions) -> AsyncIterator[tuple[DevnetState, list[_Child]]]:
    started = time.monotonic()
    log_dir = options.log_dir or options.state_file.parent
    keys = _Keys.anvil()
    children: list[_Child] = []
    async with contextlib.AsyncExitStack() as stack:
        anvil = await _spawn("anvil", _anvil_argv(options), log_dir / "anvil.log")
        children.append(anvil)
        stack.push_async_callback(_stop, anvil, options.stop_grace)
        port = await _anvil_port(anvil, time.monotonic() + options.ready_timeout)
        rpc_url = f"http://127.0.0.1:{port}"
        anvil_seconds = time.monotonic() - started

        rpc = _Rpc(await stack.enter_async_context(httpx.AsyncClient(timeout=10.0)), rpc_url)
        rpc.automine = options.block_time is None
        if await rpc.code(CREATE2_DEPLOYER) == "0x":
            raise DevnetError(f"anvil has no CREATE2 deployer at {CREATE2_DEPLOYER}")
        entrypoint = await _Deployer(rpc, options, keys.deployer.address).create2("EntryPoint")
        if entrypoint != ENTRYPOINT_V06:
            raise DevnetError(f"EntryPoint landed at {entrypoint}, not {ENTRYPOINT_V06}")

        # alto needs only the EntryPoint: it boots while the other contracts deploy.
        bundler_url: str | None = None
        async with asyncio.TaskGroup() as group:
            deploying = group.create_task(_deploy_all(rpc, options, keys))
            if options.bundler:
                alto_port = _free_port()
                env = {k: v for k, v in os.environ.items() if not k.startswith("ALTO_")}
                env["NO_COLOR"] = "1"  # plain text in alto.log
                argv = _alto_argv(options, rpc_url, alto_port)
                alto = await _spawn("alto", argv, log_dir / "alto.log", env)
                children.append(alto)
                stack.push_async_callback(_stop, alto, options.stop_grace)
                bundler_url = f"http://127.0.0.1:{alto_port}/rpc"
                deadline = time.monotonic() + options.ready_timeout
                group.create_task(_alto_ready(alto, bundler_url, deadline))
        deployed, eigenlayer = deploying.result()

        state = DevnetState(
            rpc_url=rpc_url,
            ws_url=f"ws://127.0.0.1:{port}",
            chain_id=options.chain_id,
            bundler_url=bundler_url,
            entrypoint=entrypoint,
            factory=deployed.factory,
            account_implementation=deployed.account_implementation,
            paymaster=deployed.paymaster,
            paymaster_owner=deployed.paymaster_owner,
            create2_deployer=CREATE2_DEPLOYER,
            price_feed=deployed.price_feed,
            controller=keys.controller,
            deployer=keys.deployer,
            bundler_executor=keys.bundler_executor,
            bundler_utility=keys.bundler_utility,
            test_accounts=keys.tests,
            tokens=deployed.tokens,
            price_feeds=deployed.price_feeds,
            startup_seconds=round(time.monotonic() - started, 3),
            logs=tuple(str(c.log_path) for c in children),
            eigenlayer=eigenlayer,
        )
        _write_state(options.state_file, state)
        stack.callback(options.state_file.unlink, missing_ok=True)
        logger.info(
            "devnet ready in %.2f s (anvil %.2f s): rpc %s, bundler %s, state %s",
            state.startup_seconds,
            anvil_seconds,
            rpc_url,
            bundler_url,
            options.state_file,
        )
        yield state, children


async def _deploy_all(
    rpc: _Rpc, options: DevnetOptions, keys: _Keys
) -> tuple[_Deployed, EigenLayerInfo | None]:
    deployed = await _deploy_contracts(rpc, options, keys)
    if not options.eigenlayer:
        return deployed, None
    started = time.monotonic()
    eigenlayer = await deploy_eigenlayer(
        _Deployer(rpc, options, keys.deployer.address), keys, keys.tests
    )
    logger.info("EigenLayer deployed in %.2f s", time.monotonic() - started)
    return deployed, eigenlayer


def _write_state(path: Path, state: DevnetState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    tmp.replace(path)


@contextlib.asynccontextmanager
async def start_devnet(options: DevnetOptions) -> AsyncIterator[DevnetState]:
    """Start anvil (and alto), deploy, write the state file; stop everything on exit.

    The state file is removed on exit, so a file on disk always describes a live devnet.

    Raises:
        DevnetError: see the module docstring.
    """
    async with _launch(options) as (state, _children):
        yield state


async def run_devnet(options: DevnetOptions, stop: asyncio.Event) -> None:
    """Run the devnet until ``stop`` is set (the ``ap-avs devnet`` command).

    Raises:
        DevnetError: it could not start, or anvil or alto exited while it ran.
    """
    async with _launch(options) as (state, children):
        print(
            f"devnet ready in {state.startup_seconds:.2f} s: rpc {state.rpc_url}, "
            f"bundler {state.bundler_url}, state {options.state_file}",
            flush=True,
        )
        waits = {asyncio.ensure_future(c.process.wait()): c for c in children}
        stopping = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait([stopping, *waits], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in [stopping, *waits]:
                task.cancel()
        for task in done:
            if task in waits:
                raise waits[task].failure(f"exited with code {task.result()} while running")


def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ap_avs.devnet", description=__doc__)
    parser.add_argument("--chain-id", type=int, default=31337)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--block-time", type=float, default=None)
    parser.add_argument("--state", type=Path, default=Path(".devnet/state.json"))
    parser.add_argument("--sepolia-fixtures", action="store_true")
    parser.add_argument("--no-bundler", action="store_true")
    parser.add_argument("--eigenlayer", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    options = DevnetOptions(
        chain_id=args.chain_id,
        port=args.port,
        block_time=args.block_time,
        state_file=args.state,
        sepolia_fixtures=args.sepolia_fixtures,
        bundler=not args.no_bundler,
        eigenlayer=args.eigenlayer,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_devnet(options, stop)

    asyncio.run(main())
