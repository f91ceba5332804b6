"""On-chain runners against the devnet: contract read, contract write and ETH transfer as real
UserOps (alto, verifying paymaster) and as simulations that send nothing, the per-wallet nonce
lane under concurrency, ownership of the runner wallet, and the balance node."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.aggregator.compose import ChainStack
from ap_avs.chain import ChainClient
from ap_avs.chain.tokens import NATIVE_TOKEN_CHECKSUM
from ap_avs.chain.userops import SmartWallet, UserOpSender
from ap_avs.devnet import DevnetState
from ap_avs.domain.erc20 import format_units
from ap_avs.domain.nodes import (
    BalanceConfig,
    ContractReadConfig,
    ContractWriteConfig,
    EthTransferConfig,
    MethodCall,
    Node,
    NodeConfig,
    NodeKind,
)
from ap_avs.domain.templating import Missing, lookup_path, render, to_text
from ap_avs.domain.values import JsonValue
from ap_avs.domain.wallets import Wallet
from ap_avs.runners.abi import encode_call
from ap_avs.runners.base import EngineOptions, NodeFailure, NodeResult, RunContext
from ap_avs.runners.contract_read import PlannedCall
from ap_avs.runners.contract_write import account_call_data

from .support import Chain, devnet_chain_stack

pytestmark = pytest.mark.integration

ONE_ETH = 10**18
ERC20_ABI: tuple[JsonValue, ...] = (
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "account", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "decimals",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    },
    {
        "type": "function",
        "name": "symbol",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "string"}],
    },
    {
        "type": "function",
        "name": "mint",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [],
    },
    {
        "type": "function",
        "name": "transfer",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "event",
        "name": "Transfer",
        "anonymous": False,
        "inputs": [
            {"name": "from", "type": "address", "indexed": True},
            {"name": "to", "type": "address", "indexed": True},
            {"name": "value", "type": "uint256", "indexed": False},
        ],
    },
)
MINT = ERC20_ABI[3]
assert isinstance(MINT, dict)
_serial = itertools.count()


def fresh_address(tag: str) -> str:
    """An address nobody has used, different for every call."""
    return to_checksum_address(keccak(text=f"{tag} {next(_serial)} {time.time_ns()}")[12:])


class TemplateRenderer:
    """Dotted-path templates, failing on a missing path like the engine's renderer."""

    def __init__(self, variables: Mapping[str, JsonValue]) -> None:
        self.variables = variables

    async def __call__(
        self,
        text: str,
        *,
        where: str,
        json_escape: bool = False,
        extra: Mapping[str, JsonValue] | None = None,
    ) -> str:
        def resolve(expression: str) -> str:
            value = lookup_path(expression, self.variables)
            if isinstance(value, Missing):
                raise NodeFailure(f"could not resolve variable {expression} in {where}")
            return to_text(value)

        return render(text, resolve)


def context(
    variables: Mapping[str, JsonValue], *, simulated: bool = False, owner: str | None = None
) -> RunContext:
    async def no_nested(node: Node, extra: Mapping[str, JsonValue]) -> NodeResult:
        raise AssertionError("not used by on-chain runners")

    return RunContext(
        variables=variables,
        render=TemplateRenderer(variables),
        evaluator=None,  # type: ignore[arg-type]
        http=None,  # type: ignore[arg-type]
        options=EngineOptions(chain_id=31337),
        run_node=no_nested,
        simulated=simulated,
        owner=owner,
    )


def node(kind: NodeKind, config: NodeConfig) -> Node:
    return Node(id=f"n{next(_serial)}", name="step", kind=kind, config=config)


@dataclass
class Env:
    devnet: DevnetState
    client: ChainClient
    stack: ChainStack
    chain: Chain
    stored: dict[tuple[str, str], Wallet]

    async def wallet(self, owner: str, salt: int = 0) -> str:
        return await self.client.smart_wallet_address(self.devnet.factory, owner, salt)

    async def run(
        self,
        owner: str,
        kind: NodeKind,
        config: NodeConfig,
        variables: Mapping[str, JsonValue],
        *,
        simulated: bool = False,
    ) -> NodeResult:
        return await self.stack.runners[kind](
            node(kind, config), context(variables, simulated=simulated, owner=owner)
        )

    async def token_balance(self, token: str, holder: str) -> int:
        (balance,) = await self.chain.read(
            token, "balanceOf(address)", ["address"], [holder], ["uint256"]
        )
        return int(balance)

    async def nonce(self, wallet: str) -> int:
        return await self.client.entrypoint_nonce(self.devnet.entrypoint, wallet)


@pytest_asyncio.fixture
async def env(devnet: DevnetState, chain: Chain) -> AsyncIterator[Env]:
    assert devnet.bundler_url is not None
    client = ChainClient(devnet.rpc_url)
    stored: dict[tuple[str, str], Wallet] = {}

    stack = devnet_chain_stack(devnet, client, stored)
    try:
        yield Env(devnet, client, stack, chain, stored)
    finally:
        await stack.aclose()
        await client.aclose()


def write_config(token: str, *calls: MethodCall, **extra: Any) -> ContractWriteConfig:
    return ContractWriteConfig(
        contract_address=token, contract_abi=ERC20_ABI, method_calls=calls, **extra
    )


def mint(to: str, amount: int | str) -> MethodCall:
    return MethodCall("mint", method_params=(to, str(amount)))


# --------------------------------------------------------------------------- contract read


async def test_contract_read_of_the_test_token_formats_with_decimals(env: Env) -> None:
    owner = fresh_address("reader")
    holder = env.devnet.test_accounts[0].address
    token = env.devnet.token("TUSD").address
    config = ContractReadConfig(
        contract_address="{{settings.token}}",
        contract_abi=ERC20_ABI,
        method_calls=(
            MethodCall("balanceOf", method_params=("{{settings.holder}}",)),
            MethodCall("decimals", apply_to_fields=("balanceOf",)),
            MethodCall("symbol"),
        ),
    )
    variables = {"settings": {"token": token, "holder": holder}}

    result = await env.run(owner, NodeKind.CONTRACT_READ, config, variables)

    assert result.success, result.error
    raw = await env.token_balance(token, holder)
    assert result.output == {
        "balanceOf": str(raw / 10**6).rstrip("0").rstrip("."),
        "balanceOfRaw": str(raw),
        "decimals": 6,
        "symbol": "TUSD",
    }
    assert isinstance(result.metadata, list)
    assert result.metadata[0] == {
        "methodName": "balanceOf",
        "success": True,
        "error": "",
        "value": str(raw),
    }


async def test_contract_read_reads_decimals_itself_and_reports_failures(env: Env) -> None:
    token = env.devnet.token("TEST").address
    holder = env.devnet.test_accounts[1].address
    own_fields = ContractReadConfig(
        contract_address=token,
        contract_abi=ERC20_ABI,
        method_calls=(
            MethodCall("balanceOf", method_params=(holder,), apply_to_fields=("balanceOf",)),
        ),
    )
    result = await env.run(holder, NodeKind.CONTRACT_READ, own_fields, {})
    assert result.success, result.error
    assert result.output is not None
    assert isinstance(result.output, dict)
    raw = await env.token_balance(token, holder)
    assert result.output == {"balanceOf": format_units(raw, 18), "balanceOfRaw": str(raw)}

    wrong_contract = ContractReadConfig(
        contract_address=env.devnet.price_feed,  # no balanceOf there
        contract_abi=ERC20_ABI,
        method_calls=(MethodCall("balanceOf", method_params=(holder,)), MethodCall("decimals")),
    )
    failed = await env.run(holder, NodeKind.CONTRACT_READ, wrong_contract, {})
    assert not failed.success
    assert failed.error.startswith("balanceOf: ")
    assert failed.output == {"decimals": 8}

    unknown = ContractReadConfig(
        contract_address=token, contract_abi=ERC20_ABI, method_calls=(MethodCall("nope"),)
    )
    missing = await env.run(holder, NodeKind.CONTRACT_READ, unknown, {})
    assert (missing.success, missing.error) == (False, "method nope not found in the contract ABI")


# --------------------------------------------------------------------------- contract write


async def test_contract_write_deploys_the_wallet_and_mints_through_the_paymaster(
    env: Env,
) -> None:
    owner = fresh_address("minter")
    wallet = await env.wallet(owner)
    recipient = fresh_address("mint recipient")
    token = env.devnet.token("TUSD").address
    assert await env.chain.code(wallet) == "0x"
    paymaster_before = await env.chain.balance(env.devnet.paymaster)
    config = write_config(token, mint("{{settings.runner}}", 1_500_000), mint(recipient, 7))

    result = await env.run(owner, NodeKind.CONTRACT_WRITE, config, {"settings": {"runner": wallet}})

    assert result.success, result.error
    assert await env.chain.code(wallet) != "0x"
    assert await env.token_balance(token, wallet) == 1_500_000
    assert await env.token_balance(token, recipient) == 7
    assert await env.chain.balance(wallet) == 0  # the paymaster paid
    assert await env.chain.balance(env.devnet.paymaster) == paymaster_before
    # Both calls went into one UserOp; each method reports its own Transfer event.
    assert isinstance(result.metadata, list)
    assert len(result.metadata) == 2
    first, second = result.metadata
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert first["transactionHash"] == second["transactionHash"]
    assert first["value"] == {
        "from": "0x" + "0" * 40,
        "to": wallet,
        "value": "1500000",
    }
    assert second["value"] == {"from": "0x" + "0" * 40, "to": recipient, "value": "7"}
    assert result.output == {"mint": second["value"]}
    assert int(result.gas_used) > 0
    assert int(result.total_gas_cost) > 0
    assert result.execution_context == {
        "is_simulated": False,
        "provider": "chain_rpc",
        "chain_id": 31337,
    }


async def test_simulated_write_sends_nothing(env: Env) -> None:
    owner = fresh_address("simulator")
    wallet = await env.wallet(owner)
    token = env.devnet.token("TEST").address
    variables = {"settings": {"runner": wallet}}
    block_before = await env.chain.call("eth_blockNumber")

    for simulated, flag in ((True, None), (False, True), (True, False)):
        result = await env.run(
            owner,
            NodeKind.CONTRACT_WRITE,
            write_config(token, mint(wallet, 5 * 10**18), is_simulated=flag),
            variables,
            simulated=simulated,
        )
        assert result.success, result.error
        assert result.execution_context == {
            "is_simulated": True,
            "provider": "tenderly",
            "chain_id": 31337,
        }
        assert result.output == {
            "mint": {"from": "0x" + "0" * 40, "to": wallet, "value": str(5 * 10**18)}
        }
        assert isinstance(result.metadata, list)
        assert result.metadata[0]["simulated"] is True  # type: ignore[index,call-overload]
        assert int(result.gas_used) > 21_000

    assert await env.chain.call("eth_blockNumber") == block_before
    assert await env.chain.code(wallet) == "0x"
    assert await env.nonce(wallet) == 0
    assert await env.token_balance(token, wallet) == 0

    raw = ContractWriteConfig(
        contract_address=token,
        contract_abi=ERC20_ABI,
        call_data="0x" + encode_call(MINT, [wallet, "9"]).hex(),
    )
    by_call_data = await env.run(owner, NodeKind.CONTRACT_WRITE, raw, variables, simulated=True)
    assert by_call_data.output == {"mint": {"from": "0x" + "0" * 40, "to": wallet, "value": "9"}}

    reverting = write_config(
        token, MethodCall("transfer", method_params=(owner, "1")), is_simulated=True
    )
    refused = await env.run(owner, NodeKind.CONTRACT_WRITE, reverting, variables)
    assert not refused.success
    assert refused.error == "transfer would revert: TestToken: transfer amount exceeds balance"


async def test_ten_concurrent_writes_from_one_wallet_all_land(env: Env) -> None:
    owner = fresh_address("busy")
    wallet = await env.wallet(owner)
    token = env.devnet.token("TUSD").address
    variables = {"settings": {"runner": wallet}}
    # Deploy first, so all ten compete for nonces of a live wallet.
    first = await env.run(
        owner, NodeKind.CONTRACT_WRITE, write_config(token, mint(wallet, 1)), variables
    )
    assert first.success, first.error

    started = time.monotonic()
    results = await asyncio.gather(
        *(
            env.run(
                owner, NodeKind.CONTRACT_WRITE, write_config(token, mint(wallet, 10)), variables
            )
            for _ in range(10)
        )
    )
    elapsed = time.monotonic() - started

    assert [r.error for r in results if not r.success] == []
    assert await env.token_balance(token, wallet) == 101
    assert await env.nonce(wallet) == 11
    hashes = {r.metadata[0]["userOpHash"] for r in results}  # type: ignore[index,call-overload]
    assert len(hashes) == 10
    print(f"10 UserOps from one wallet in {elapsed:.2f} s")


async def test_two_senders_sharing_a_wallet_rebuild_on_nonce_conflicts(env: Env) -> None:
    """Two aggregator processes (or one before and after a restart) have separate lanes: their
    operations collide on nonces, and the refused one is rebuilt and re-signed."""
    owner = fresh_address("shared")
    wallet = SmartWallet(await env.wallet(owner), owner, 0, env.devnet.factory)
    token = env.devnet.token("TUSD").address
    assert env.devnet.bundler_url is not None
    other = UserOpSender(
        env.client,
        env.devnet.bundler_url,
        entrypoint=env.devnet.entrypoint,
        factory=env.devnet.factory,
        controller_key=env.devnet.controller.private_key,
        chain_id=env.devnet.chain_id,
        paymaster=env.devnet.paymaster,
        confirm_timeout=20.0,
    )
    ours = env.stack.sender
    assert ours is not None
    call = account_call_data(
        token, 0, [PlannedCall("mint", None, encode_call(MINT, [wallet.address, "5"]))]
    )
    try:
        await ours.send(wallet, call)  # deploy first
        sent = await asyncio.gather(*(s.send(wallet, call) for s in (ours, other) * 3))
    finally:
        await other.aclose()

    assert all(s.receipt is not None and s.receipt.success for s in sent)
    assert await env.nonce(wallet.address) == 7
    assert await env.token_balance(token, wallet.address) == 35
    print(f"attempts per operation: {[s.attempts for s in sent]}")


async def test_runner_must_belong_to_the_owner(env: Env) -> None:
    owner, stranger = fresh_address("owner"), fresh_address("stranger")
    theirs = await env.wallet(stranger)
    token = env.devnet.token("TUSD").address
    config = write_config(token, mint(theirs, 1))

    result = await env.run(owner, NodeKind.CONTRACT_WRITE, config, {"settings": {"runner": theirs}})

    assert not result.success
    assert result.error == (
        f"runner {theirs} does not match any derived address (salt:0 through salt:4) "
        f"for owner {owner}"
    )
    assert result.error_code == 8001
    # A stored wallet (GetWallet) of the owner with a large salt is accepted.
    stored = await env.wallet(owner, 77)
    env.stored[(owner.lower(), stored.lower())] = Wallet(owner, stored, env.devnet.factory, 77)
    ok = await env.run(
        owner,
        NodeKind.CONTRACT_WRITE,
        write_config(token, mint(stored, 3)),
        {"settings": {"runner": stored}},
        simulated=True,
    )
    assert ok.success, ok.error
    # Salt 4 is derivable; salt 5 is not.
    salt4 = await env.wallet(owner, 4)
    derivable = await env.run(
        owner, NodeKind.CONTRACT_WRITE, config, {"settings": {"runner": salt4}}, simulated=True
    )
    assert derivable.success, derivable.error


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "settings is required for contractWrite"),
        ({"settings": "x"}, "settings must be an object for contractWrite"),
        ({"settings": {"name": "n"}}, "settings.runner is required for contractWrite"),
        (
            {"settings": {"runner": "0x12"}},
            "settings.runner must be a valid hex address for contractWrite",
        ),
    ],
)
async def test_settings_runner_messages(
    env: Env, variables: dict[str, JsonValue], message: str
) -> None:
    token = env.devnet.token("TUSD").address
    result = await env.run(
        fresh_address("o"), NodeKind.CONTRACT_WRITE, write_config(token, mint(token, 1)), variables
    )
    assert (result.success, result.error) == (False, message)


async def test_on_chain_nodes_refuse_a_run_without_an_owner(env: Env) -> None:
    wallet = await env.wallet(fresh_address("nobody"))
    config = EthTransferConfig(destination=wallet, amount="1")
    runner = env.stack.runners[NodeKind.ETH_TRANSFER]
    result = await runner(
        node(NodeKind.ETH_TRANSFER, config), context({"settings": {"runner": wallet}})
    )
    assert not result.success
    assert "needs the run's owner" in result.error


# --------------------------------------------------------------------------- ETH transfer


async def test_eth_transfer_real_max_and_simulated(env: Env) -> None:
    owner = fresh_address("payer")
    wallet = await env.wallet(owner)
    recipient = fresh_address("payee")
    funder = env.devnet.test_accounts[5].address
    await env.chain.send(funder, wallet, ONE_ETH)
    variables = {"settings": {"runner": wallet}, "payee": recipient}

    simulated = await env.run(
        owner,
        NodeKind.ETH_TRANSFER,
        EthTransferConfig(destination="{{payee}}", amount=str(ONE_ETH // 4)),
        variables,
        simulated=True,
    )
    assert simulated.success, simulated.error
    assert isinstance(simulated.metadata, dict)
    assert simulated.metadata["simulated"] is True
    assert await env.chain.balance(recipient) == 0
    assert await env.chain.code(wallet) == "0x"

    real = await env.run(
        owner,
        NodeKind.ETH_TRANSFER,
        EthTransferConfig(destination="{{payee}}", amount=str(ONE_ETH // 4)),
        variables,
    )
    assert real.success, real.error
    assert real.output == {
        "transfer": {"from": wallet, "to": recipient, "value": str(ONE_ETH // 4)}
    }
    assert isinstance(real.metadata, dict)
    assert str(real.metadata["transactionHash"]).startswith("0x")
    assert await env.chain.balance(recipient) == ONE_ETH // 4
    assert await env.chain.balance(wallet) == ONE_ETH - ONE_ETH // 4

    everything = await env.run(
        owner,
        NodeKind.ETH_TRANSFER,
        EthTransferConfig(destination=recipient, amount="MAX"),
        variables,
    )
    assert everything.success, everything.error
    assert await env.chain.balance(wallet) == 0
    assert await env.chain.balance(recipient) == ONE_ETH

    empty = await env.run(
        owner,
        NodeKind.ETH_TRANSFER,
        EthTransferConfig(destination=recipient, amount="max"),
        variables,
    )
    assert (empty.success, empty.error, empty.error_code) == (
        False,
        "wallet has zero balance",
        8003,
    )
    too_much = await env.run(
        owner,
        NodeKind.ETH_TRANSFER,
        EthTransferConfig(destination=recipient, amount="5"),
        variables,
    )
    assert too_much.error == "insufficient balance: transfer of 5 wei but wallet has 0 wei"


# --------------------------------------------------------------------------- balance


async def test_balance_node_lists_native_and_listed_tokens(env: Env) -> None:
    holder = env.devnet.test_accounts[2].address
    result = await env.run(holder, NodeKind.BALANCE, BalanceConfig(address=holder), {})
    assert result.success, result.error
    assert isinstance(result.output, list)
    by_symbol = {item["symbol"]: item for item in result.output if isinstance(item, dict)}
    assert set(by_symbol) == {"ETH", "TUSD", "TEST"}
    eth = by_symbol["ETH"]
    assert eth["tokenAddress"] == NATIVE_TOKEN_CHECKSUM
    assert eth["balance"] == str(await env.chain.balance(holder))
    (answer,) = await env.chain.read(env.devnet.price_feed, "latestAnswer()", [], [], ["int256"])
    assert eth["usdPrice"] == answer / 10**8
    tusd = by_symbol["TUSD"]
    assert tusd["balance"] == str(await env.token_balance(env.devnet.token("TUSD").address, holder))
    assert tusd["decimals"] == 6
    assert "usdValue" not in tusd

    # A fresh address: zero balances are left out unless asked for or tokens are named.
    empty = fresh_address("empty")
    nothing = await env.run(empty, NodeKind.BALANCE, BalanceConfig(address=empty), {})
    assert nothing.output == []
    named = await env.run(
        empty,
        NodeKind.BALANCE,
        BalanceConfig(address=empty, token_addresses=(env.devnet.token("TEST").address,)),
        {},
    )
    assert named.output == [
        {
            "symbol": "TEST",
            "name": "Test Token",
            "balance": "0",
            "balanceFormatted": "0",
            "decimals": 18,
            "tokenAddress": env.devnet.token("TEST").address.lower(),
        }
    ]

    # min_usd_value_cents: the native balance (thousands of ETH) passes, unpriced tokens do not.
    rich = await env.run(
        holder,
        NodeKind.BALANCE,
        BalanceConfig(address=holder, chain="31337", min_usd_value_cents=100),
        {},
    )
    assert [i["symbol"] for i in rich.output] == ["ETH"]  # type: ignore[index,union-attr]
    other_chain = await env.run(
        holder, NodeKind.BALANCE, BalanceConfig(address=holder, chain="sepolia"), {}
    )
    assert other_chain.error == (
        "chain sepolia is not served by this aggregator (it serves chain id 31337)"
    )


async def test_an_unfunded_wallet_without_paymaster_gets_the_aa21_message(env: Env) -> None:
    owner = fresh_address("broke")
    wallet = await env.wallet(owner)
    sender = env.stack.sender
    assert sender is not None
    sender.paymaster = None
    token = env.devnet.token("TUSD").address
    result = await env.run(
        owner,
        NodeKind.CONTRACT_WRITE,
        write_config(token, mint(wallet, 1)),
        {"settings": {"runner": wallet}},
    )
    assert (result.success, result.error, result.error_code) == (
        False,
        "Insufficient ETH balance for gas fees",
        8003,
    )
    assert await env.chain.code(wallet) == "0x"
    maximum = await env.run(
        owner,
        NodeKind.ETH_TRANSFER,
        EthTransferConfig(destination=owner, amount="MAX"),
        {"settings": {"runner": wallet}},
    )
    assert maximum.error.startswith("amount MAX needs a paymaster")
