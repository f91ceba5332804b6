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
import ctypes
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final

import httpx
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.aa import ENTRYPOINT_V06, create2_address

logger = logging.getLogger(__name__)

_ROOT: Final = Path(__file__).resolve().parents[2]
CREATE2_DEPLOYER: Final = "0x4e59b44847b379578588920cA78FbF26c0B4956C"

#: anvil's accounts for "test test ... junk" (the default mnemonic), in order.
ANVIL_KEYS: Final = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)
_DEPLOYER, _CONTROLLER, _EXECUTOR, _UTILITY = 0, 1, 2, 3
_TEST_ACCOUNTS: Final = range(4, 10)

#: (name, symbol, decimals) of the test tokens every devnet has.
LOCAL_TOKENS: Final = (("Test USD", "TUSD", 6), ("Test Token", "TEST", 18))
#: (address, name, symbol, decimals) of the Sepolia tokens placed with sepolia_fixtures.
SEPOLIA_TOKENS: Final = (
    ("0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238", "USDC", "USDC", 6),
    ("0x779877A7B0D9E8603169DdbD7836e478b4624789", "ChainLink Token", "LINK", 18),
    ("0xfFf9976782d46CC05630D1f6eBAb18b2324d6B14", "Wrapped Ether", "WETH", 18),
)
SEPOLIA_ETH_USD_FEED: Final = "0x694AA1769357215DE4FAC081bf1f309aDC325306"
ETH_USD_ANSWER: Final = 3000 * 10**8
_MINT_UNITS: Final = 1_000_000
_STAKE_WEI: Final = 10**18
_PAYMASTER_DEPOSIT_WEI: Final = 100 * 10**18
_UNSTAKE_DELAY_SECONDS: Final = 86_400
_PR_SET_PDEATHSIG: Final = 1


class DevnetError(Exception):
    """The devnet could not start, or one of its processes failed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DevnetOptions:
    """How to run the devnet. ``block_time=None`` mines each transaction at once."""

    chain_id: int = 31337
    port: int = 0
    block_time: float | None = None
    state_file: Path = Path(".devnet/state.json")
    sepolia_fixtures: bool = False
    bundler: bool = True
    node_modules: Path = _ROOT / "node_modules"
    artifacts: Path = _ROOT / "contracts" / "artifacts"
    log_dir: Path | None = None
    ready_timeout: float = 60.0
    stop_grace: float = 5.0


@dataclass(frozen=True, slots=True)
class DevAccount:
    """An externally owned account with its key (public test keys only)."""

    address: str
    private_key: str

    @classmethod
    def from_index(cls, index: int) -> DevAccount:
        key = ANVIL_KEYS[index]
        return cls(address=Account.from_key(key).address, private_key=key)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """An ERC-20 on the devnet."""

    address: str
    name: str
    symbol: str
    decimals: int


@dataclass(frozen=True, slots=True)
class PriceFeedInfo:
    """A Chainlink-style price feed on the devnet."""

    address: str
    description: str
    decimals: int


@dataclass(frozen=True, slots=True)
class DevnetState:
    """What a running devnet offers; mirrors the JSON state file."""

    rpc_url: str
    ws_url: str
    chain_id: int
    bundler_url: str | None
    entrypoint: str
    factory: str
    account_implementation: str
    paymaster: str
    paymaster_owner: str
    create2_deployer: str
    price_feed: str
    controller: DevAccount
    deployer: DevAccount
    bundler_executor: DevAccount
    bundler_utility: DevAccount
    test_accounts: tuple[DevAccount, ...]
    tokens: tuple[TokenInfo, ...]
    price_feeds: tuple[PriceFeedInfo, ...]
    startup_seconds: float = 0.0
    logs: tuple[str, ...] = field(default=())

    def token(self, symbol: str) -> TokenInfo:
        """The token with this symbol. Raises KeyError when there is none."""
        for token in self.tokens:
            if token.symbol == symbol:
                return token
        raise KeyError(symbol)

    def to_json(self) -> dict[str, Any]:
        """The JSON document written to the state file (tokens keyed by symbol)."""
        data = asdict(self)
        data["tokens"] = {t.symbol: asdict(t) for t in self.tokens}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DevnetState:
        """Read the document ``to_json`` writes."""
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name, f.default)
            if f.name in _ACCOUNT_FIELDS:
                value = DevAccount(**value)
            elif f.name == "test_accounts":
                value = tuple(DevAccount(**a) for a in value)
            elif f.name == "tokens":
                value = tuple(TokenInfo(**t) for t in value.values())
            elif f.name == "price_feeds":
                value = tuple(PriceFeedInfo(**p) for p in value)
            elif f.name == "logs":
                value = tuple(value)
            kwargs[f.name] = value
        return cls(**kwargs)

    @classmethod
    def load(cls, path: Path) -> DevnetState:
        """Read a state file written by a running devnet."""
        return cls.from_json(json.loads(path.read_text()))


_ACCOUNT_FIELDS: Final = ("controller", "deployer", "bundler_executor", "bundler_utility")


# --- child processes -------------------------------------------------------------------------


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


class _Rpc:
    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self._client = client
        self._url = url
        self.automine = True

    async def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        try:
            response = await self._client.post(self._url, json=body)
            payload = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DevnetError(f"{method} at {self._url} failed: {exc!r}") from exc
        if payload.get("error") is not None:
            raise DevnetError(f"{method} failed: {payload['error']}")
        return payload.get("result")

    async def eth_call(self, to: str, data: bytes) -> bytes:
        result = await self.call("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest")
        return bytes.fromhex(str(result).removeprefix("0x"))

    async def code(self, address: str) -> str:
        return str(await self.call("eth_getCode", address, "latest"))

    async def transact(self, sender: str, to: str, data: bytes = b"", value: int = 0) -> None:
        """Send from an unlocked anvil account and wait until it is mined successfully."""
        tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value)}
        tx_hash = await self.call("eth_sendTransaction", tx)
        if not self.automine:
            await self.call("evm_mine")
        deadline = time.monotonic() + 10
        while (receipt := await self.call("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:
                raise DevnetError(f"transaction {tx_hash} to {to} was not mined")
            await asyncio.sleep(0.02)
        if int(receipt["status"], 16) != 1:
            raise DevnetError(f"transaction {tx_hash} to {to} reverted")


def _call_data(signature: str, types: Sequence[str] = (), values: Sequence[Any] = ()) -> bytes:
    return keccak(text=signature)[:4] + encode(list(types), list(values))


# --- deployment ------------------------------------------------------------------------------


class _Deployer:
    def __init__(self, rpc: _Rpc, options: DevnetOptions, sender: str) -> None:
        self.rpc = rpc
        self.options = options
        self.sender = sender

    def bytecode(self, name: str) -> bytes:
        """Creation code: ERC-4337's from the npm package, ours from contracts/artifacts."""
        if name in {"EntryPoint", "VerifyingPaymaster"}:
            folder = self.options.node_modules / "@account-abstraction/contracts/artifacts"
        else:
            folder = self.options.artifacts
        path = _find_tool(folder / f"{name}.json", f"the {name} artifact")
        return bytes.fromhex(json.loads(path.read_text())["bytecode"].removeprefix("0x"))

    async def create2(self, name: str, types: Sequence[str] = (), args: Sequence[Any] = ()) -> str:
        """Deploy ``name`` with constructor ``args`` through the CREATE2 deployer, salt 0."""
        init = self.bytecode(name) + encode(list(types), list(args))
        salt = bytes(32)
        address = create2_address(CREATE2_DEPLOYER, salt, keccak(init))
        if await self.rpc.code(address) == "0x":
            await self.rpc.transact(self.sender, CREATE2_DEPLOYER, salt + init)
            if await self.rpc.code(address) == "0x":
                raise DevnetError(f"{name} did not land at {address}")
        return address

    async def token(self, name: str, symbol: str, decimals: int) -> TokenInfo:
        address = await self.create2(
            "TestToken", ["string", "string", "uint8"], [name, symbol, decimals]
        )
        return TokenInfo(address, name, symbol, decimals)

    async def mint(self, token: TokenInfo, holders: Sequence[DevAccount]) -> None:
        amount = _MINT_UNITS * 10**token.decimals
        for holder in holders:
            data = _call_data(
                "mint(address,uint256)", ["address", "uint256"], [holder.address, amount]
            )
            await self.rpc.transact(self.sender, token.address, data)

    async def place(self, source: str, target: str) -> None:
        """Copy the runtime code at ``source`` to ``target`` (storage stays empty)."""
        await self.rpc.call("anvil_setCode", target, await self.rpc.code(source))


@dataclass(frozen=True, slots=True)
class _Keys:
    deployer: DevAccount
    controller: DevAccount
    bundler_executor: DevAccount
    bundler_utility: DevAccount
    tests: tuple[DevAccount, ...]

    @classmethod
    def anvil(cls) -> _Keys:
        return cls(
            deployer=DevAccount.from_index(_DEPLOYER),
            controller=DevAccount.from_index(_CONTROLLER),
            bundler_executor=DevAccount.from_index(_EXECUTOR),
            bundler_utility=DevAccount.from_index(_UTILITY),
            tests=tuple(DevAccount.from_index(i) for i in _TEST_ACCOUNTS),
        )


@dataclass(frozen=True, slots=True)
class _Deployed:
    factory: str
    account_implementation: str
    paymaster: str
    paymaster_owner: str
    price_feed: str
    tokens: tuple[TokenInfo, ...]
    price_feeds: tuple[PriceFeedInfo, ...]


async def _deploy_paymaster(d: _Deployer, keys: _Keys) -> str:
    """The VerifyingPaymaster, owned by our deployer, staked and funded at the EntryPoint."""
    args = (["address", "address"], [ENTRYPOINT_V06, keys.controller.address])
    paymaster = await d.create2("VerifyingPaymaster", *args)
    # Ownable made the caller of its constructor the owner: the CREATE2 deployer contract.
    # Hand ownership to our deployer (Ownable keeps _owner in slot 0) and check it took.
    owner = keys.deployer.address
    await d.rpc.call("anvil_setStorageAt", paymaster, "0x0", "0x" + owner[2:].lower().zfill(64))
    raw = await d.rpc.eth_call(paymaster, _call_data("owner()"))
    if to_checksum_address(raw[12:32]) != owner:
        raise DevnetError("could not hand the paymaster's ownership to the deployer")
    stake = _call_data("addStake(uint32)", ["uint32"], [_UNSTAKE_DELAY_SECONDS])
    await d.rpc.transact(owner, paymaster, stake, _STAKE_WEI)
    await d.rpc.transact(owner, paymaster, _call_data("deposit()"), _PAYMASTER_DEPOSIT_WEI)
    return paymaster


async def _deploy_contracts(rpc: _Rpc, options: DevnetOptions, keys: _Keys) -> _Deployed:
    d = _Deployer(rpc, options, keys.deployer.address)
    args = (["address", "address"], [ENTRYPOINT_V06, keys.controller.address])
    factory = await d.create2("ApSmartAccountFactory", *args)
    raw = await rpc.eth_call(factory, _call_data("accountImplementation()"))
    paymaster = await _deploy_paymaster(d, keys)

    tokens = [await d.token(*spec) for spec in LOCAL_TOKENS]
    feed_args = (["uint8", "string", "int256"], [8, "ETH / USD", ETH_USD_ANSWER])
    feed = await d.create2("TestPriceFeed", *feed_args)
    feeds = [PriceFeedInfo(feed, "ETH / USD", 8)]
    if options.sepolia_fixtures:
        for address, name, symbol, decimals in SEPOLIA_TOKENS:
            copy = await d.token(name, symbol, decimals)
            await d.place(copy.address, address)
            tokens.append(TokenInfo(address, name, symbol, decimals))
        # The copy at the feed address starts with empty storage: give it its first round.
        await d.place(feed, SEPOLIA_ETH_USD_FEED)
        answer = _call_data("setAnswer(int256)", ["int256"], [ETH_USD_ANSWER])
        await rpc.transact(keys.deployer.address, SEPOLIA_ETH_USD_FEED, answer)
        feeds.append(PriceFeedInfo(SEPOLIA_ETH_USD_FEED, "ETH / USD", 8))
    for token in tokens:
        await d.mint(token, keys.tests)

    return _Deployed(
        factory=factory,
        account_implementation=to_checksum_address(raw[12:32]),
        paymaster=paymaster,
        paymaster_owner=keys.deployer.address,
        price_feed=feed,
        tokens=tuple(tokens),
        price_feeds=tuple(feeds),
    )


# --- alto ------------------------------------------------------------------------------------


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
            deploying = group.create_task(_deploy_contracts(rpc, options, keys))
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
        deployed = deploying.result()

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
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_devnet(options, stop)

    asyncio.run(main())


if __name__ == "__main__":
    _main()
