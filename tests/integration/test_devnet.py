"""The devnet: fixed addresses, keys, tokens, feeds, paymaster stake, and the state file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from eth_utils.crypto import keccak

from ap_avs.chain import aa
from ap_avs.devnet import (
    ANVIL_KEYS,
    ETH_USD_ANSWER,
    SEPOLIA_ETH_USD_FEED,
    SEPOLIA_TOKENS,
    DevnetError,
    DevnetOptions,
    DevnetState,
    run_devnet,
    start_devnet,
)

from .support import Chain

pytestmark = pytest.mark.integration

# Every run deploys through the CREATE2 deployer with salt 0, so these never move. A change
# here means a contract's bytecode (or the controller key) changed: update it knowingly.
ENTRYPOINT = "0x5FF137D4b0FDCD49DcA30c7CF57E578a026d2789"
FACTORY = "0x25172DF51d5B9bFF5392d4bFbaFd36ee94cf32C2"
ACCOUNT_IMPLEMENTATION = "0x52E94D21EF98b611f8725107Ac26565665a2fDEc"
PAYMASTER = "0x872B63d0Ab8C56B15178DCbdE55Ec38212504E1C"
PRICE_FEED = "0xa5aB8296884Dc99DE96883549fc062A4C4c9f0c2"
CONTROLLER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _addresses(state: DevnetState) -> dict[str, str]:
    return {
        "entrypoint": state.entrypoint,
        "factory": state.factory,
        "account_implementation": state.account_implementation,
        "paymaster": state.paymaster,
        "price_feed": state.price_feed,
        "controller": state.controller.address,
        **{t.symbol: t.address for t in state.tokens if t.symbol in {"TUSD", "TEST"}},
    }


def test_addresses_are_the_fixed_ones(devnet: DevnetState) -> None:
    assert devnet.entrypoint == aa.ENTRYPOINT_V06 == ENTRYPOINT
    assert devnet.factory == FACTORY
    assert devnet.account_implementation == ACCOUNT_IMPLEMENTATION
    assert devnet.paymaster == PAYMASTER
    assert devnet.price_feed == PRICE_FEED
    assert devnet.controller.address == CONTROLLER


def test_a_second_run_on_another_chain_id_has_the_same_addresses(
    devnet: DevnetState, sepolia_devnet: DevnetState
) -> None:
    assert sepolia_devnet.chain_id == 11155111
    assert sepolia_devnet.rpc_url != devnet.rpc_url
    assert _addresses(sepolia_devnet) == _addresses(devnet)


async def test_keys_are_anvils_default_accounts(devnet: DevnetState, chain: Chain) -> None:
    accounts = await chain.call("eth_accounts")
    ours = [
        devnet.deployer,
        devnet.controller,
        devnet.bundler_executor,
        devnet.bundler_utility,
        *devnet.test_accounts,
    ]
    assert [a.lower() for a in accounts] == [a.address.lower() for a in ours]
    assert [a.private_key for a in ours] == list(ANVIL_KEYS)
    assert int(await chain.call("eth_chainId"), 16) == devnet.chain_id == 31337
    for account in (devnet.controller, *devnet.test_accounts):
        assert await chain.balance(account.address) >= 1000 * 10**18


async def test_factory_get_address_matches_local_create2(
    devnet: DevnetState, chain: Chain, artifacts_dir: Path
) -> None:
    proxy = json.loads((artifacts_dir / "ERC1967Proxy.json").read_text())["bytecode"]
    assert bytes.fromhex(proxy.removeprefix("0x")) == aa.ERC1967_PROXY_CREATION_CODE
    (implementation,) = await chain.read(
        devnet.factory, "accountImplementation()", [], [], ["address"]
    )
    assert implementation.lower() == devnet.account_implementation.lower()
    (controller,) = await chain.read(devnet.factory, "controller()", [], [], ["address"])
    assert controller.lower() == devnet.controller.address.lower()
    owner = devnet.test_accounts[0].address
    for salt in (0, 1, 2**200 + 7):
        (on_chain,) = await chain.read(
            devnet.factory,
            "getAddress(address,uint256)",
            ["address", "uint256"],
            [owner, salt],
            ["address"],
        )
        local = aa.account_address(devnet.factory, devnet.account_implementation, owner, salt)
        assert local.lower() == on_chain.lower()


async def test_paymaster_is_staked_funded_and_trusts_the_controller(
    devnet: DevnetState, chain: Chain
) -> None:
    (signer,) = await chain.read(devnet.paymaster, "verifyingSigner()", [], [], ["address"])
    assert signer.lower() == devnet.controller.address.lower()
    (owner,) = await chain.read(devnet.paymaster, "owner()", [], [], ["address"])
    assert owner.lower() == devnet.paymaster_owner.lower() == devnet.deployer.address.lower()
    (info,) = await chain.read(
        devnet.entrypoint,
        "getDepositInfo(address)",
        ["address"],
        [devnet.paymaster],
        ["(uint112,bool,uint112,uint32,uint48)"],
    )
    deposit, staked, stake, unstake_delay, _withdraw_time = info
    assert staked
    assert stake >= 10**18
    assert unstake_delay >= 86_400
    assert deposit >= 10 * 10**18


async def test_local_tokens_and_price_feed(devnet: DevnetState, chain: Chain) -> None:
    expected = {"TUSD": ("Test USD", 6), "TEST": ("Test Token", 18)}
    for symbol, (name, decimals) in expected.items():
        token = devnet.token(symbol)
        assert (await chain.read(token.address, "name()", [], [], ["string"]))[0] == name
        assert (await chain.read(token.address, "symbol()", [], [], ["string"]))[0] == symbol
        (on_chain_decimals,) = await chain.read(token.address, "decimals()", [], [], ["uint8"])
        assert on_chain_decimals == decimals == token.decimals
        for holder in devnet.test_accounts:
            (balance,) = await chain.read(
                token.address, "balanceOf(address)", ["address"], [holder.address], ["uint256"]
            )
            assert balance == 1_000_000 * 10**decimals
    round_data = await chain.read(
        devnet.price_feed,
        "latestRoundData()",
        [],
        [],
        ["uint80", "int256", "uint256", "uint256", "uint80"],
    )
    assert round_data[0] >= 1
    assert round_data[1] == ETH_USD_ANSWER
    assert (await chain.read(devnet.price_feed, "decimals()", [], [], ["uint8"]))[0] == 8
    (description,) = await chain.read(devnet.price_feed, "description()", [], [], ["string"])
    assert description == "ETH / USD"


async def test_sepolia_fixtures_read_like_sepolia(sepolia_devnet: DevnetState) -> None:
    async with httpx.AsyncClient(timeout=10.0) as client:
        chain = Chain(client, sepolia_devnet.rpc_url)
        assert int(await chain.call("eth_chainId"), 16) == 11155111
        assert sepolia_devnet.bundler_url is None
        for address, name, symbol, decimals in SEPOLIA_TOKENS:
            assert sepolia_devnet.token(symbol).address == address
            assert (await chain.read(address, "name()", [], [], ["string"]))[0] == name
            assert (await chain.read(address, "symbol()", [], [], ["string"]))[0] == symbol
            assert (await chain.read(address, "decimals()", [], [], ["uint8"]))[0] == decimals
            holder = sepolia_devnet.test_accounts[-1].address
            (balance,) = await chain.read(
                address, "balanceOf(address)", ["address"], [holder], ["uint256"]
            )
            assert balance == 1_000_000 * 10**decimals
        _round, answer, _started, updated, _answered = await chain.read(
            SEPOLIA_ETH_USD_FEED,
            "latestRoundData()",
            [],
            [],
            ["uint80", "int256", "uint256", "uint256", "uint80"],
        )
        assert answer == ETH_USD_ANSWER
        assert updated > 0
        (description,) = await chain.read(SEPOLIA_ETH_USD_FEED, "description()", [], [], ["string"])
        assert description == "ETH / USD"
        # Anyone may move the test feed.
        deployer = sepolia_devnet.deployer.address
        await chain.send(
            deployer,
            SEPOLIA_ETH_USD_FEED,
            data=keccak(text="setAnswer(int256)")[:4] + (2500 * 10**8).to_bytes(32, "big"),
        )
        (answer,) = await chain.read(SEPOLIA_ETH_USD_FEED, "latestAnswer()", [], [], ["int256"])
        assert answer == 2500 * 10**8


def test_state_file_describes_the_running_devnet(devnet: DevnetState) -> None:
    state_file = Path(devnet.logs[0]).parent / "state.json"
    assert DevnetState.load(state_file) == devnet
    assert DevnetState.from_json(json.loads(json.dumps(devnet.to_json()))) == devnet
    document = json.loads(state_file.read_text())
    assert document["tokens"]["TUSD"]["decimals"] == 6
    assert document["controller"]["address"] == devnet.controller.address
    assert document["bundler_url"].startswith("http://127.0.0.1:")


async def test_missing_tools_say_to_run_npm_ci(tmp_path: Path) -> None:
    options = DevnetOptions(state_file=tmp_path / "state.json", node_modules=tmp_path)
    with pytest.raises(DevnetError, match="run `npm ci`"):
        async with start_devnet(options):
            pass


async def test_run_devnet_runs_until_stopped(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    options = DevnetOptions(state_file=state_file, bundler=False)
    stop = asyncio.Event()
    running = asyncio.create_task(run_devnet(options, stop))
    async with asyncio.timeout(30):
        while not state_file.exists():
            assert not running.done(), running
            await asyncio.sleep(0.02)
    state = DevnetState.load(state_file)
    async with httpx.AsyncClient(timeout=5.0) as client:
        assert int(await Chain(client, state.rpc_url).call("eth_chainId"), 16) == 31337
    stop.set()
    async with asyncio.timeout(30):
        await running
    assert not state_file.exists()
    async with httpx.AsyncClient(timeout=5.0) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(state.rpc_url, json={})
