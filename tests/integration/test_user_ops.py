"""UserOperations through alto on the devnet: signed by the controller or the owner, with and
without the verifying paymaster, and refused when a stranger signs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak

from ap_avs.chain import aa
from ap_avs.chain.aa import DUMMY_SIGNATURE, BundlerClient, UserOperation, UserOpError
from ap_avs.devnet import DevnetState

from .support import Chain

pytestmark = pytest.mark.integration

ONE_ETH = 10**18
_USER_OP_TUPLE = "(address,uint256,bytes,bytes,uint256,uint256,uint256,uint256,uint256,bytes,bytes)"


@pytest_asyncio.fixture
async def bundler(devnet: DevnetState) -> AsyncIterator[BundlerClient]:
    assert devnet.bundler_url is not None
    async with BundlerClient(devnet.bundler_url, devnet.entrypoint) as client:
        yield client


def _recipient(tag: int) -> str:
    """A fresh address with no balance, different for each test."""
    return "0x" + keccak(text=f"recipient {tag}")[12:].hex()


async def _wallet(devnet: DevnetState, chain: Chain, owner: str, salt: int) -> str:
    (address,) = await chain.read(
        devnet.factory,
        "getAddress(address,uint256)",
        ["address", "uint256"],
        [owner, salt],
        ["address"],
    )
    return str(address)


async def _fees(chain: Chain) -> tuple[int, int]:
    block = await chain.call("eth_getBlockByNumber", "latest", False)
    priority = int(await chain.call("eth_maxPriorityFeePerGas"), 16)
    return 2 * int(block["baseFeePerGas"], 16) + priority, priority


async def _prepare(
    devnet: DevnetState,
    chain: Chain,
    bundler: BundlerClient,
    *,
    owner: str,
    salt: int,
    call_data: bytes,
    sponsored: bool = False,
    estimate: bool = True,
) -> UserOperation:
    """An unsigned op for ``owner``'s wallet, gas estimated (or fixed), sponsored when asked."""
    sender = await _wallet(devnet, chain, owner, salt)
    deployed = await chain.code(sender) != "0x"
    (nonce,) = await chain.read(
        devnet.entrypoint,
        "getNonce(address,uint192)",
        ["address", "uint192"],
        [sender, 0],
        ["uint256"],
    )
    max_fee, priority = await _fees(chain)
    op = UserOperation(
        sender=sender,
        nonce=nonce,
        init_code=b"" if deployed else aa.init_code(devnet.factory, owner, salt),
        call_data=call_data,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=priority,
        signature=DUMMY_SIGNATURE,
    )
    valid_until = int(time.time()) + 15 * 60
    if sponsored:
        op = op.replace(paymaster_and_data=aa.paymaster_and_data(devnet.paymaster, valid_until, 0))
    if estimate:
        op = (await bundler.estimate_gas(op)).apply(op)
    else:
        op = aa.GasEstimate(100_000, 1_000_000, 100_000).apply(op)
    if sponsored:
        (sender_nonce,) = await chain.read(
            devnet.paymaster, "senderNonce(address)", ["address"], [sender], ["uint256"]
        )
        op = aa.sponsor_user_op(
            op,
            devnet.controller.private_key,
            chain_id=devnet.chain_id,
            paymaster=devnet.paymaster,
            sender_nonce=sender_nonce,
            valid_until=valid_until,
        )
    return op


def _sign(devnet: DevnetState, op: UserOperation, key: str) -> UserOperation:
    return aa.sign_user_op(op, key, devnet.entrypoint, devnet.chain_id)


async def test_controller_signed_op_deploys_the_wallet_and_sends_eth(
    devnet: DevnetState, chain: Chain, bundler: BundlerClient
) -> None:
    owner, funder = devnet.test_accounts[0].address, devnet.test_accounts[1].address
    recipient = _recipient(1)
    call = aa.execute_calldata(recipient, ONE_ETH // 10, b"")
    await chain.send(funder, await _wallet(devnet, chain, owner, 101), ONE_ETH)
    op = await _prepare(devnet, chain, bundler, owner=owner, salt=101, call_data=call)
    assert await chain.code(op.sender) == "0x"
    assert op.init_code[:20].hex() == devnet.factory[2:].lower()

    op_hash = await bundler.send(_sign(devnet, op, devnet.controller.private_key))
    receipt = await bundler.wait_for_receipt(op_hash, wait_seconds=20)

    assert receipt.success, receipt
    assert receipt.sender.lower() == op.sender.lower()
    assert receipt.user_op_hash == op_hash
    assert "0x" + aa.user_op_hash(op, devnet.entrypoint, devnet.chain_id).hex() == op_hash
    assert await chain.code(op.sender) != "0x"
    assert await chain.balance(recipient) == ONE_ETH // 10
    # The wallet paid for its own gas; the EntryPoint keeps the unused prefund as its deposit.
    (deposit,) = await chain.read(
        devnet.entrypoint, "balanceOf(address)", ["address"], [op.sender], ["uint256"]
    )
    spent = ONE_ETH // 10 + receipt.actual_gas_cost
    assert await chain.balance(op.sender) + deposit == ONE_ETH - spent
    (wallet_owner,) = await chain.read(op.sender, "owner()", [], [], ["address"])
    assert wallet_owner.lower() == owner.lower()


async def test_paymaster_pays_the_gas(
    devnet: DevnetState, chain: Chain, bundler: BundlerClient
) -> None:
    owner, funder = devnet.test_accounts[0].address, devnet.test_accounts[1].address
    recipient = _recipient(2)
    amount = ONE_ETH // 4
    call = aa.execute_calldata(recipient, amount, b"")
    # Exactly the amount sent: nothing is left for gas.
    await chain.send(funder, await _wallet(devnet, chain, owner, 102), amount)
    op = await _prepare(
        devnet, chain, bundler, owner=owner, salt=102, call_data=call, sponsored=True
    )
    (deposit_before,) = await chain.read(
        devnet.entrypoint, "balanceOf(address)", ["address"], [devnet.paymaster], ["uint256"]
    )

    op_hash = await bundler.send(_sign(devnet, op, devnet.controller.private_key))
    receipt = await bundler.wait_for_receipt(op_hash, wait_seconds=20)

    assert receipt.success, receipt
    assert await chain.balance(recipient) == amount
    assert await chain.balance(op.sender) == 0
    (deposit_after,) = await chain.read(
        devnet.entrypoint, "balanceOf(address)", ["address"], [devnet.paymaster], ["uint256"]
    )
    assert deposit_before - deposit_after == receipt.actual_gas_cost > 0


async def test_owner_signed_op_works_and_batches_token_transfers(
    devnet: DevnetState, chain: Chain, bundler: BundlerClient
) -> None:
    owner = devnet.test_accounts[2]
    token = devnet.token("TUSD")
    recipient = _recipient(3)
    transfer = keccak(text="transfer(address,uint256)")[:4]
    call = aa.execute_batch_with_values_calldata(
        [token.address, recipient],
        [0, 12345],
        [transfer + encode(["address", "uint256"], [recipient, 7 * 10**6]), b""],
    )
    sender = await _wallet(devnet, chain, owner.address, 103)
    await chain.send(owner.address, sender, ONE_ETH)
    await chain.send(
        owner.address,
        token.address,
        data=transfer + encode(["address", "uint256"], [sender, 10 * 10**6]),
    )
    op = await _prepare(devnet, chain, bundler, owner=owner.address, salt=103, call_data=call)

    op_hash = await bundler.send(_sign(devnet, op, owner.private_key))
    receipt = await bundler.wait_for_receipt(op_hash, wait_seconds=20)

    assert receipt.success, receipt
    (balance,) = await chain.read(
        token.address, "balanceOf(address)", ["address"], [recipient], ["uint256"]
    )
    assert balance == 7 * 10**6
    assert await chain.balance(recipient) == 12345


async def test_stranger_signed_op_is_refused_with_aa24(
    devnet: DevnetState, chain: Chain, bundler: BundlerClient
) -> None:
    owner, funder = devnet.test_accounts[3].address, devnet.test_accounts[1].address
    call = aa.execute_calldata(_recipient(4), 1, b"")
    await chain.send(funder, await _wallet(devnet, chain, owner, 104), ONE_ETH)
    op = await _prepare(devnet, chain, bundler, owner=owner, salt=104, call_data=call)
    stranger = Account.from_key(keccak(text="stranger"))

    with pytest.raises(UserOpError, match="AA24") as refused:
        await bundler.send(_sign(devnet, op, stranger.key.hex()))

    assert refused.value.code == "AA24"
    assert not refused.value.retryable
    assert await chain.code(op.sender) == "0x"


async def test_reverted_call_returns_an_unsuccessful_receipt(
    devnet: DevnetState, chain: Chain, bundler: BundlerClient
) -> None:
    owner, funder = devnet.test_accounts[4].address, devnet.test_accounts[1].address
    call = aa.execute_calldata(_recipient(5), 5 * ONE_ETH, b"")  # more than the wallet holds
    await chain.send(funder, await _wallet(devnet, chain, owner, 105), ONE_ETH)
    # Estimation of a failing call cannot succeed: give the op fixed gas limits.
    op = await _prepare(
        devnet, chain, bundler, owner=owner, salt=105, call_data=call, estimate=False
    )

    op_hash = await bundler.send(_sign(devnet, op, devnet.controller.private_key))
    receipt = await bundler.wait_for_receipt(op_hash, wait_seconds=20)

    assert not receipt.success
    assert await chain.code(op.sender) != "0x"  # deployment and gas payment still happened
    assert await chain.balance(_recipient(5)) == 0


async def test_hashes_match_the_contracts(devnet: DevnetState, chain: Chain) -> None:
    owner = devnet.test_accounts[5].address
    sender = await _wallet(devnet, chain, owner, 106)
    until = int(time.time()) + 900
    op = UserOperation(
        sender=sender,
        nonce=3,
        init_code=aa.init_code(devnet.factory, owner, 106),
        call_data=aa.execute_calldata(_recipient(6), 1, b"\x01\x02\x03"),
        call_gas_limit=100_000,
        verification_gas_limit=500_000,
        pre_verification_gas=50_000,
        max_fee_per_gas=3 * 10**9,
        max_priority_fee_per_gas=10**9,
        paymaster_and_data=aa.paymaster_and_data(devnet.paymaster, until, 0),
        signature=DUMMY_SIGNATURE,
    )
    values = (
        op.sender,
        op.nonce,
        op.init_code,
        op.call_data,
        op.call_gas_limit,
        op.verification_gas_limit,
        op.pre_verification_gas,
        op.max_fee_per_gas,
        op.max_priority_fee_per_gas,
        op.paymaster_and_data,
        op.signature,
    )
    (on_chain,) = await chain.read(
        devnet.entrypoint,
        f"getUserOpHash({_USER_OP_TUPLE})",
        [_USER_OP_TUPLE],
        [values],
        ["bytes32"],
    )
    assert on_chain == aa.user_op_hash(op, devnet.entrypoint, devnet.chain_id)

    (pm_on_chain,) = await chain.read(
        devnet.paymaster,
        f"getHash({_USER_OP_TUPLE},uint48,uint48)",
        [_USER_OP_TUPLE, "uint48", "uint48"],
        [values, until, 0],
        ["bytes32"],
    )
    local = aa.verifying_paymaster_hash(
        op, chain_id=devnet.chain_id, paymaster=devnet.paymaster, sender_nonce=0, valid_until=until
    )
    assert pm_on_chain == local


async def test_factory_and_direct_execute_permissions(devnet: DevnetState, chain: Chain) -> None:
    owner, stranger = devnet.test_accounts[5], devnet.test_accounts[1]
    create = keccak(text="createAccount(address,uint256)")[:4]
    create_call = create + encode(["address", "uint256"], [owner.address, 107])
    wallet = await _wallet(devnet, chain, owner.address, 107)
    await chain.send(stranger.address, devnet.factory, data=create_call)  # anyone may deploy
    assert await chain.code(wallet) != "0x"
    # createAccount on a deployed wallet returns it instead of failing.
    raw = await chain.call(
        "eth_call", {"to": devnet.factory, "data": "0x" + create_call.hex()}, "latest"
    )
    assert raw[-40:] == wallet[2:].lower()
    await chain.send(owner.address, wallet, ONE_ETH)

    for caller, tag in ((owner.address, 7), (devnet.controller.address, 8)):
        await chain.send(caller, wallet, data=aa.execute_calldata(_recipient(tag), 1000, b""))
        assert await chain.balance(_recipient(tag)) == 1000
    refused = aa.execute_calldata(_recipient(9), 1000, b"")
    tx = {"from": stranger.address, "to": wallet, "data": "0x" + refused.hex()}
    with pytest.raises(RuntimeError, match="not EntryPoint, owner or controller"):
        await chain.call("eth_call", tx, "latest")
