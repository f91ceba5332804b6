"""``ap-avs faucet`` on the devnet: an address, or an owner's smart wallets, funded with ETH and
tokens (balances read back from the chain), and the pure argument rules."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak

from ap_avs.chain import ChainClient
from ap_avs.devnet import DevnetState
from ap_avs.devnet.faucet import FaucetError, parse_amount, parse_salts, parse_token_args

CLI = [sys.executable, "-m", "ap_avs"]
BALANCE_OF = keccak(text="balanceOf(address)")[:4]


def test_amounts_salts_and_token_words() -> None:
    assert parse_amount("1.5", 18) == 15 * 10**17
    assert parse_amount("100", 6) == 100_000_000
    for bad in ("x", "-1", "0.0000001", "nan"):
        with pytest.raises(FaucetError):
            parse_amount(bad, 6)
    assert parse_salts("0-9") == list(range(10))
    assert parse_salts("3") == [3]
    assert parse_salts("0,2,5-6") == [0, 2, 5, 6]
    for bad in ("9-0", "a", "1-", "", "0-100000"):
        with pytest.raises(FaucetError):
            parse_salts(bad)
    assert parse_token_args(["--token", "TUSD", "1", "--token", "TEST", "2"]) == [
        ("TUSD", "1"),
        ("TEST", "2"),
    ]
    with pytest.raises(FaucetError):
        parse_token_args(["--token", "TUSD"])


async def faucet(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, "faucet", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def holdings(chain: ChainClient, token: str, address: str) -> int:
    raw = await chain.eth_call(token, BALANCE_OF + encode(["address"], [address]))
    return int.from_bytes(raw, "big")


@pytest.fixture
def state_file(devnet: DevnetState, tmp_path: Path) -> Path:
    path = tmp_path / "devnet.json"
    path.write_text(json.dumps(devnet.to_json()))
    return path


async def test_faucet_funds_an_address_with_eth_and_tokens(
    devnet: DevnetState, state_file: Path
) -> None:
    who = Account.create().address
    code, out, err = await faucet(
        who, "--eth", "2.5", "--token", "TUSD", "100", "--token", "test", "1.5",
        "--state", str(state_file),
    )  # fmt: skip
    assert code == 0, err
    assert who in out
    async with ChainClient(devnet.rpc_url) as chain:
        assert await chain.get_balance(who) == 25 * 10**17
        assert await holdings(chain, devnet.token("TUSD").address, who) == 100 * 10**6
        assert await holdings(chain, devnet.token("TEST").address, who) == 15 * 10**17
        code, _, err = await faucet(who, "--eth", "1", "--state", str(state_file))
        assert code == 0, err
        assert await chain.get_balance(who) == 35 * 10**17, "ETH is added, not set"


async def test_faucet_funds_an_owners_smart_wallets(devnet: DevnetState, state_file: Path) -> None:
    owner = Account.create().address
    code, out, err = await faucet(
        "--owner", owner, "--salts", "0-2", "--eth", "0.5", "--state", str(state_file)
    )
    assert code == 0, err
    async with ChainClient(devnet.rpc_url) as chain:
        for salt in range(3):
            wallet = await chain.smart_wallet_address(devnet.factory, owner, salt)
            assert wallet in out
            assert await chain.get_balance(wallet) == 5 * 10**17
        beyond = await chain.smart_wallet_address(devnet.factory, owner, 3)
        assert await chain.get_balance(beyond) == 0


async def test_faucet_refuses_clearly(state_file: Path) -> None:
    who = Account.create().address
    for args, message in (
        ([who, "--token", "NOPE", "1"], "unknown token"),
        ([who + "\n"], "is not an address"),
        ([], "give either an ADDRESS or --owner"),
        ([who, "--eth", "-1"], "non-negative"),
    ):
        code, _, err = await faucet(*args, "--state", str(state_file))
        assert code == 2, (args, err)
        assert message in err
        assert "Traceback" not in err
