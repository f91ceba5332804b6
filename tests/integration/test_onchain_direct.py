"""UserOps without a bundler: a chain stack built with no bundler URL sends ``handleOps`` from a
funded submitter key (``DirectSubmitter``). Writes from undeployed wallets with and without the
paymaster, a reverting call reported with its reason, AA21 for an unfunded wallet, and
concurrent writes through the per-wallet lanes and the one-transaction-at-a-time submitter."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

import pytest
import pytest_asyncio
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.aggregator.compose import ChainStack, build_chain_stack
from ap_avs.chain import ChainClient, aa
from ap_avs.chain.aa import DirectSubmitter, UserOpError
from ap_avs.chain.userops import SmartWallet, UserOpSender
from ap_avs.devnet import DevnetState
from ap_avs.domain.nodes import ContractWriteConfig, MethodCall, Node, NodeKind
from ap_avs.domain.values import JsonValue
from ap_avs.domain.wallets import Wallet
from ap_avs.runners.abi import encode_call
from ap_avs.runners.base import EngineOptions, NodeResult, RunContext
from ap_avs.runners.contract_read import PlannedCall
from ap_avs.runners.contract_write import account_call_data

from .support import Chain

pytestmark = pytest.mark.integration

ONE_ETH = 10**18
MINT: dict[str, JsonValue] = {
    "type": "function",
    "name": "mint",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [],
}
TRANSFER: dict[str, JsonValue] = {
    "type": "function",
    "name": "transfer",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [{"name": "", "type": "bool"}],
}
ERC20_ABI: tuple[JsonValue, ...] = (
    MINT,
    TRANSFER,
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
REVERT_REASON = "TestToken: transfer amount exceeds balance"
_serial = itertools.count()


def fresh_address(tag: str) -> str:
    return to_checksum_address(keccak(text=f"direct {tag} {next(_serial)} {time.time_ns()}")[12:])


def context(variables: Mapping[str, JsonValue], owner: str) -> RunContext:
    async def render(
        text: str,
        *,
        where: str,
        json_escape: bool = False,
        extra: Mapping[str, JsonValue] | None = None,
    ) -> str:
        return text  # the configs below hold no templates

    async def no_nested(node: Node, extra: Mapping[str, JsonValue]) -> NodeResult:
        raise AssertionError("not used by on-chain runners")

    return RunContext(
        variables=variables,
        render=render,
        evaluator=None,  # type: ignore[arg-type]
        http=None,  # type: ignore[arg-type]
        options=EngineOptions(chain_id=31337),
        run_node=no_nested,
        owner=owner,
    )


def write(token: str, *calls: MethodCall) -> ContractWriteConfig:
    return ContractWriteConfig(contract_address=token, contract_abi=ERC20_ABI, method_calls=calls)


def mint(to: str, amount: int) -> MethodCall:
    return MethodCall("mint", method_params=(to, str(amount)))


@dataclass
class Env:
    devnet: DevnetState
    client: ChainClient
    chain: Chain
    stack: ChainStack
    submitter: str

    @property
    def sender(self) -> UserOpSender:
        assert self.stack.sender is not None
        return self.stack.sender

    async def wallet(self, owner: str) -> str:
        return await self.client.smart_wallet_address(self.devnet.factory, owner, 0)

    async def write(self, owner: str, wallet: str, config: ContractWriteConfig) -> NodeResult:
        runner = self.stack.runners[NodeKind.CONTRACT_WRITE]
        node = Node(
            id=f"n{next(_serial)}", name="write", kind=NodeKind.CONTRACT_WRITE, config=config
        )
        return await runner(node, context({"settings": {"runner": wallet}}, owner))

    async def token_balance(self, token: str, holder: str) -> int:
        (balance,) = await self.chain.read(
            token, "balanceOf(address)", ["address"], [holder], ["uint256"]
        )
        return int(balance)

    async def transaction(self, tx_hash: object) -> Mapping[str, str]:
        tx = await self.chain.call("eth_getTransactionByHash", tx_hash)
        assert isinstance(tx, dict)
        return tx


MakeEnv = Callable[..., Awaitable[Env]]


@pytest_asyncio.fixture
async def make_env(devnet: DevnetState, chain: Chain) -> AsyncIterator[MakeEnv]:
    """Chain stacks without a bundler URL; the submitter is a funded test account."""
    client = ChainClient(devnet.rpc_url)
    stacks: list[ChainStack] = []
    submitter = devnet.test_accounts[2]

    async def lookup(owner: str, address: str) -> Wallet | None:
        return None

    async def derive(owner: str, factory: str, salt: int) -> str:
        return await client.smart_wallet_address(factory, owner, salt)

    async def default_wallet(owner: str) -> str:
        return await derive(owner, devnet.factory, 0)

    async def make(*, paymaster: bool = True) -> Env:
        stack = build_chain_stack(
            client,
            devnet.chain_id,
            lookup=lookup,
            derive=derive,
            default_wallet=default_wallet,
            factory=devnet.factory,
            entrypoint=devnet.entrypoint,
            bundler_url="",
            controller_key=devnet.controller.private_key,
            paymaster=devnet.paymaster if paymaster else None,
            confirm_timeout=10.0,
            submitter_key=submitter.private_key,
        )
        stacks.append(stack)
        return Env(devnet, client, chain, stack, submitter.address)

    try:
        yield make
    finally:
        for stack in stacks:
            await stack.aclose()
        await client.aclose()


async def test_a_stack_without_bundler_url_or_submitter_key_sends_nothing(
    devnet: DevnetState,
) -> None:
    async def lookup(owner: str, address: str) -> Wallet | None:
        return None

    async def derive(owner: str, factory: str = "", salt: int = 0) -> str:
        return owner

    async with ChainClient(devnet.rpc_url) as client:
        stack = build_chain_stack(
            client,
            devnet.chain_id,
            lookup=lookup,
            derive=derive,
            default_wallet=derive,
            factory=devnet.factory,
            entrypoint=devnet.entrypoint,
            bundler_url="",
            controller_key=devnet.controller.private_key,
            paymaster=devnet.paymaster,
        )
        assert stack.sender is None
        assert stack.services.withdrawals is None


async def test_sponsored_write_deploys_the_wallet_through_handle_ops(make_env: MakeEnv) -> None:
    env = await make_env()
    assert isinstance(env.sender._bundler, DirectSubmitter)
    owner = fresh_address("sponsored")
    wallet = await env.wallet(owner)
    recipient = fresh_address("recipient")
    token = env.devnet.token("TUSD").address
    assert await env.chain.code(wallet) == "0x"
    paymaster_deposit = await env.chain.read(
        env.devnet.entrypoint,
        "balanceOf(address)",
        ["address"],
        [env.devnet.paymaster],
        ["uint256"],
    )

    result = await env.write(
        owner, wallet, write(token, mint(wallet, 1_500_000), mint(recipient, 7))
    )

    assert result.success, result.error
    assert await env.chain.code(wallet) != "0x"
    assert await env.token_balance(token, wallet) == 1_500_000
    assert await env.token_balance(token, recipient) == 7
    assert await env.chain.balance(wallet) == 0  # the paymaster paid
    deposit_after = await env.chain.read(
        env.devnet.entrypoint,
        "balanceOf(address)",
        ["address"],
        [env.devnet.paymaster],
        ["uint256"],
    )
    assert deposit_after[0] < paymaster_deposit[0]
    assert isinstance(result.metadata, list)
    first, second = result.metadata
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert first["value"] == {"from": "0x" + "0" * 40, "to": wallet, "value": "1500000"}
    assert second["value"] == {"from": "0x" + "0" * 40, "to": recipient, "value": "7"}
    receipt = first["receipt"]
    assert isinstance(receipt, dict)
    assert receipt["success"] is True
    assert receipt["sender"] == wallet
    # Only this operation's execution logs: the two Transfer events.
    assert isinstance(receipt["logs"], list)
    assert len(receipt["logs"]) == 2
    tx = await env.transaction(first["transactionHash"])
    assert to_checksum_address(tx["from"]) == env.submitter
    assert to_checksum_address(tx["to"]) == env.devnet.entrypoint
    assert tx["input"].startswith("0x1fad948c")  # handleOps
    assert int(result.gas_used) > 0
    assert int(result.total_gas_cost) > 0


async def test_unsponsored_write_from_a_funded_undeployed_wallet(
    make_env: MakeEnv, chain: Chain
) -> None:
    env = await make_env(paymaster=False)
    assert not env.sender.sponsored
    owner = fresh_address("self-paying")
    wallet = await env.wallet(owner)
    token = env.devnet.token("TEST").address
    await chain.send(env.devnet.test_accounts[4].address, wallet, ONE_ETH)
    submitter_before = await chain.balance(env.submitter)

    result = await env.write(owner, wallet, write(token, mint(wallet, 42)))

    assert result.success, result.error
    assert await env.chain.code(wallet) != "0x"
    assert await env.token_balance(token, wallet) == 42
    # The wallet prefunded the EntryPoint; what the operation did not use stays its deposit.
    (deposit,) = await chain.read(
        env.devnet.entrypoint, "balanceOf(address)", ["address"], [wallet], ["uint256"]
    )
    paid = ONE_ETH - await chain.balance(wallet) - int(deposit)
    assert paid == int(result.total_gas_cost) > 0
    # The EntryPoint (beneficiary = submitter) refunded at least what the transaction cost,
    # and not much more.
    gained = await chain.balance(env.submitter) - submitter_before
    assert 0 <= gained < paid // 10


async def test_an_unfunded_wallet_without_paymaster_gets_the_aa21_message(
    make_env: MakeEnv,
) -> None:
    env = await make_env(paymaster=False)
    owner = fresh_address("broke")
    wallet = await env.wallet(owner)
    token = env.devnet.token("TUSD").address
    result = await env.write(owner, wallet, write(token, mint(wallet, 1)))
    assert (result.success, result.error, result.error_code) == (
        False,
        "Insufficient ETH balance for gas fees",
        8003,
    )
    assert await env.chain.code(wallet) == "0x"


async def test_a_reverting_call_lands_as_failed_with_its_reason(make_env: MakeEnv) -> None:
    env = await make_env()
    owner = fresh_address("reverter")
    wallet = await env.wallet(owner)
    token = env.devnet.token("TUSD").address
    transfer = MethodCall("transfer", method_params=(owner, "1"))

    result = await env.write(owner, wallet, write(token, transfer))

    assert not result.success
    assert result.error == f"transaction reverted on chain: {REVERT_REASON}"
    assert await env.chain.code(wallet) != "0x"  # included: the wallet was deployed

    # The sender's receipt: the EntryPoint's success flag and revert reason.
    call = account_call_data(
        token, 0, [PlannedCall("transfer", None, encode_call(TRANSFER, [owner, "1"]))]
    )
    sent = await env.sender.send(SmartWallet(wallet, owner, 0, env.devnet.factory), call)
    assert sent.receipt is not None
    assert (sent.receipt.success, sent.receipt.reason) == (False, REVERT_REASON)
    assert sent.receipt.nonce == 1
    assert sent.receipt.actual_gas_used > 0
    assert sent.receipt.user_op_hash == sent.user_op_hash == env.sender.user_op_hash(sent.op)


async def test_concurrent_writes_from_one_wallet_and_another_all_land(
    make_env: MakeEnv,
) -> None:
    env = await make_env()
    owner, other = fresh_address("busy"), fresh_address("other")
    wallet, other_wallet = await env.wallet(owner), await env.wallet(other)
    token = env.devnet.token("TUSD").address

    started = time.monotonic()
    results = await asyncio.gather(
        env.write(owner, wallet, write(token, mint(wallet, 10))),
        env.write(owner, wallet, write(token, mint(wallet, 20))),
        env.write(other, other_wallet, write(token, mint(other_wallet, 5))),
    )
    elapsed = time.monotonic() - started

    assert [r.error for r in results if not r.success] == []
    assert await env.token_balance(token, wallet) == 30
    assert await env.token_balance(token, other_wallet) == 5
    assert await env.client.entrypoint_nonce(env.devnet.entrypoint, wallet) == 2
    hashes = {r.metadata[0]["transactionHash"] for r in results}  # type: ignore[index,call-overload]
    assert len(hashes) == 3  # one handleOps transaction each
    print(f"3 direct UserOps in {elapsed:.2f} s")


async def test_entrypoint_refusals_carry_the_aa_code(make_env: MakeEnv) -> None:
    env = await make_env()
    submitter = env.sender._bundler
    assert isinstance(submitter, DirectSubmitter)
    owner = fresh_address("refused")
    wallet = SmartWallet(await env.wallet(owner), owner, 0, env.devnet.factory)
    token = env.devnet.token("TUSD").address
    call = account_call_data(
        token, 0, [PlannedCall("mint", None, encode_call(MINT, [wallet.address, "1"]))]
    )
    op = await env.sender.build(wallet, call)

    stranger = aa.sign_user_op(op, "0x" + "5a" * 32, env.devnet.entrypoint, env.devnet.chain_id)
    with pytest.raises(UserOpError) as bad_signature:
        await submitter.send(stranger)
    assert bad_signature.value.code == "AA24"
    assert aa.user_message(bad_signature.value) == aa.AA_MESSAGES["AA24"]

    await submitter.wait_for_receipt(await submitter.send(op), wait_seconds=5, poll_interval=0.05)
    with pytest.raises(UserOpError) as replayed:
        await submitter.estimate_gas(op.replace(init_code=b"", signature=aa.DUMMY_SIGNATURE))
    assert replayed.value.code == "AA25"
    assert aa.is_nonce_error(replayed.value)
