"""GetTokenMetadata, EstimateFees and WithdrawFunds over real gRPC (the servicer mixin behind the
production interceptors) against the devnet: literal messages, status codes, and the chain
effects of withdrawals."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from google.protobuf import struct_pb2
from prometheus_client import CollectorRegistry

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.aggregator.api_chain import ChainApi
from ap_avs.aggregator.compose import ChainStack
from ap_avs.aggregator.interceptors import AuthInterceptor, ErrorInterceptor, RpcMetrics
from ap_avs.aggregator.services import service_handler
from ap_avs.auth import KeyService
from ap_avs.chain import ChainClient
from ap_avs.devnet import DevnetState
from ap_avs.domain.wallets import Wallet
from ap_avs.testing import TEST_JWT_SECRET, user_key

from .support import Chain, devnet_chain_stack

pytestmark = pytest.mark.integration

ONE_ETH = 10**18
SERVICE = avs_pb2.DESCRIPTOR.services_by_name["Aggregator"]
_serial = [0]


def fresh_address(tag: str) -> str:
    _serial[0] += 1
    return to_checksum_address(keccak(text=f"{tag} {_serial[0]} {time.time_ns()}")[12:])


@dataclass
class Api:
    stub: avs_pb2_grpc.AggregatorStub
    devnet: DevnetState
    client: ChainClient
    chain: Chain
    stack: ChainStack
    stored: dict[tuple[str, str], Wallet]
    servicer: ChainApi

    async def wallet(self, owner: str, salt: int = 0) -> str:
        return await self.client.smart_wallet_address(self.devnet.factory, owner, salt)

    def store(self, owner: str, address: str, salt: int) -> None:
        self.stored[(owner.lower(), address.lower())] = Wallet(
            owner, address, self.devnet.factory, salt
        )

    async def token_balance(self, token: str, holder: str) -> int:
        (balance,) = await self.chain.read(
            token, "balanceOf(address)", ["address"], [holder], ["uint256"]
        )
        return int(balance)


def auth(owner: str) -> tuple[tuple[str, str]]:
    return (("authkey", user_key(owner)),)


@pytest_asyncio.fixture
async def api(devnet: DevnetState, chain: Chain) -> AsyncIterator[Api]:
    assert devnet.bundler_url is not None
    client = ChainClient(devnet.rpc_url)
    stored: dict[tuple[str, str], Wallet] = {}

    stack = devnet_chain_stack(devnet, client, stored)
    servicer = ChainApi(stack.services)
    server = grpc.aio.server(
        interceptors=[
            ErrorInterceptor(RpcMetrics(CollectorRegistry())),
            AuthInterceptor(KeyService(jwt_secret=TEST_JWT_SECRET, chain_id=devnet.chain_id)),
        ]
    )
    server.add_generic_rpc_handlers((service_handler(SERVICE, servicer),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Api(
                avs_pb2_grpc.AggregatorStub(channel),
                devnet,
                client,
                chain,
                stack,
                stored,
                servicer,
            )
    finally:
        await server.stop(None)
        await stack.aclose()
        await client.aclose()


async def rpc_error(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call  # type: ignore[misc]
    return failure.value.code(), failure.value.details() or ""


# --------------------------------------------------------------------------- GetTokenMetadata


async def test_token_metadata_from_the_list_the_chain_and_the_native_sentinel(
    api: Api, chain: Chain, artifacts_dir: Path
) -> None:
    owner = fresh_address("reader")
    tusd = api.devnet.token("TUSD").address
    listed = await api.stub.GetTokenMetadata(
        avs_pb2.GetTokenMetadataReq(address=tusd.upper().replace("0X", "0x")), metadata=auth(owner)
    )
    assert (listed.found, listed.source) == (True, "whitelist")
    assert (listed.token.id, listed.token.name, listed.token.symbol, listed.token.decimals) == (
        tusd.lower(),
        "Test USD",
        "TUSD",
        6,
    )

    native = await api.stub.GetTokenMetadata(
        avs_pb2.GetTokenMetadataReq(address="0x" + "E" * 40), metadata=auth(owner)
    )
    assert (native.found, native.source, native.token.symbol, native.token.name) == (
        True,
        "native",
        "ETH",
        "Ether",
    )
    assert (native.token.id, native.token.decimals) == ("0x" + "e" * 40, 18)

    # A token deployed now, in no list: read from the contract, then cached.
    bytecode = json.loads((artifacts_dir / "TestToken.json").read_text())["bytecode"]
    args = encode(["string", "string", "uint8"], ["Fresh Coin", "FRSH", 9])
    deployer = api.devnet.test_accounts[3].address
    tx = await chain.call(
        "eth_sendTransaction", {"from": deployer, "data": bytecode + args.hex(), "gas": "0x300000"}
    )
    while (receipt := await chain.call("eth_getTransactionReceipt", tx)) is None:  # noqa: ASYNC110 - polling the node
        await asyncio.sleep(0.01)
    fresh = receipt["contractAddress"]
    first = await api.stub.GetTokenMetadata(
        avs_pb2.GetTokenMetadataReq(address=fresh), metadata=auth(owner)
    )
    assert (first.found, first.source, first.token.name, first.token.symbol) == (
        True,
        "rpc",
        "Fresh Coin",
        "FRSH",
    )
    assert (first.token.id, first.token.decimals) == (fresh.lower(), 9)
    again = await api.stub.GetTokenMetadata(
        avs_pb2.GetTokenMetadataReq(address=fresh), metadata=auth(owner)
    )
    assert again == first

    # A contract without name/symbol: defaults; an account without code: not found.
    feed = await api.stub.GetTokenMetadata(
        avs_pb2.GetTokenMetadataReq(address=api.devnet.price_feed), metadata=auth(owner)
    )
    assert (feed.found, feed.token.name, feed.token.symbol, feed.token.decimals) == (
        True,
        "Unknown Token",
        "UNKNOWN",
        8,
    )
    nobody = await api.stub.GetTokenMetadata(
        avs_pb2.GetTokenMetadataReq(address=fresh_address("eoa")), metadata=auth(owner)
    )
    assert (nobody.found, nobody.HasField("token")) == (False, False)


@pytest.mark.parametrize(
    ("address", "message"),
    [("", "token address is required"), ("0x1234", "invalid token address format")],
)
async def test_token_metadata_rejects_bad_input(api: Api, address: str, message: str) -> None:
    call = api.stub.GetTokenMetadata(
        avs_pb2.GetTokenMetadataReq(address=address), metadata=auth(fresh_address("o"))
    )
    assert await rpc_error(call) == (grpc.StatusCode.INVALID_ARGUMENT, message)


async def test_token_metadata_needs_authentication(api: Api) -> None:
    code, _ = await rpc_error(
        api.stub.GetTokenMetadata(avs_pb2.GetTokenMetadataReq(address="0x" + "e" * 40))
    )
    assert code is grpc.StatusCode.UNAUTHENTICATED


# --------------------------------------------------------------------------- EstimateFees


def _fee_request(
    devnet: DevnetState, settings_runner: str, **changes: object
) -> avs_pb2.EstimateFeesReq:
    token = devnet.token("TUSD").address
    abi = struct_pb2.Value()
    abi.struct_value.update(
        {
            "type": "function",
            "name": "mint",
            "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
            "outputs": [],
        }
    )
    write = avs_pb2.TaskNode(
        id="write1",
        name="mintIt",
        type=avs_pb2.NODE_TYPE_CONTRACT_WRITE,
        contract_write=avs_pb2.ContractWriteNode(
            config=avs_pb2.ContractWriteNode.Config(
                contract_address=token,
                contract_abi=[abi],
                method_calls=[
                    avs_pb2.ContractWriteNode.MethodCall(
                        method_name="mint", method_params=["{{settings.runner}}", "1000"]
                    )
                ],
            )
        ),
    )
    transfer = avs_pb2.TaskNode(
        id="pay1",
        name="payIt",
        type=avs_pb2.NODE_TYPE_ETH_TRANSFER,
        eth_transfer=avs_pb2.ETHTransferNode(
            config=avs_pb2.ETHTransferNode.Config(destination=fresh_address("dest"), amount="0")
        ),
    )
    rest = avs_pb2.TaskNode(
        id="rest1",
        name="callIt",
        type=avs_pb2.NODE_TYPE_REST_API,
        rest_api=avs_pb2.RestAPINode(config=avs_pb2.RestAPINode.Config(url="https://x.test")),
    )
    settings = struct_pb2.Value()
    settings.struct_value.update({"name": "wf", "runner": settings_runner})
    request = avs_pb2.EstimateFeesReq(
        trigger=avs_pb2.TaskTrigger(
            id="t1",
            name="manual",
            type=avs_pb2.TRIGGER_TYPE_MANUAL,
            manual=avs_pb2.ManualTrigger(config=avs_pb2.ManualTrigger.Config()),
        ),
        nodes=[write, transfer, rest],
        created_at=1_700_000_000_000,
        expire_at=1_800_000_000_000,
        input_variables={"settings": settings},
    )
    for name, value in changes.items():
        if name == "nodes":
            del request.nodes[:]
            request.nodes.extend(value)  # type: ignore[arg-type]
        elif name == "trigger":
            request.ClearField("trigger")
        else:
            setattr(request, name, value)
    return request


async def test_estimate_fees_prices_nodes_and_wallet_creation(api: Api) -> None:
    owner = fresh_address("planner")
    wallet = await api.wallet(owner)
    block_before = await api.chain.call("eth_blockNumber")

    reply = await api.stub.EstimateFees(_fee_request(api.devnet, wallet), metadata=auth(owner))

    assert reply.success
    assert reply.chain_id == "31337"
    assert (reply.native_token.symbol, reply.native_token.decimals) == ("ETH", 18)
    assert (reply.execution_fee.amount, reply.execution_fee.unit) == ("0.020000", "USD")
    assert reply.pricing_model == "v1"
    assert list(reply.discounts) == []
    assert reply.value_fee.tier == avs_pb2.EXECUTION_TIER_1
    assert (reply.value_fee.fee.amount, reply.value_fee.fee.unit) == ("0.03", "PERCENTAGE")
    costs = {c.node_id: c for c in reply.cogs}
    assert set(costs) == {"_wallet_creation", "write1", "pay1"}
    creation = costs["_wallet_creation"]
    assert creation.cost_type == "wallet_creation"
    assert 150_000 < int(creation.gas_units) < 500_000
    gas_price = int(creation.fee.amount) // int(creation.gas_units)
    assert gas_price > 0
    for node_id in ("write1", "pay1"):
        cost = costs[node_id]
        assert (cost.cost_type, cost.fee.unit) == ("gas", "WEI")
        assert int(cost.fee.amount) == int(cost.gas_units) * gas_price
    assert int(costs["write1"].gas_units) > int(costs["pay1"].gas_units) > 90_000
    assert list(reply.warnings) == []
    # Nothing was sent.
    assert await api.chain.call("eth_blockNumber") == block_before
    assert await api.chain.code(wallet) == "0x"


async def test_estimate_fees_for_a_deployed_wallet_and_off_chain_workflows(api: Api) -> None:
    owner = fresh_address("deployed")
    wallet = await api.wallet(owner)
    create = keccak(text="createAccount(address,uint256)")[:4] + encode(
        ["address", "uint256"], [owner, 0]
    )
    await api.chain.send(api.devnet.test_accounts[3].address, api.devnet.factory, data=create)

    reply = await api.stub.EstimateFees(
        _fee_request(api.devnet, "", runner=wallet), metadata=auth(owner)
    )
    assert {c.node_id for c in reply.cogs} == {"write1", "pay1"}

    request = _fee_request(api.devnet, wallet)
    off_chain = [n for n in request.nodes if n.id == "rest1"]
    only_rest = await api.stub.EstimateFees(
        _fee_request(api.devnet, wallet, nodes=off_chain), metadata=auth(owner)
    )
    assert list(only_rest.cogs) == []
    assert only_rest.value_fee.reason == "Workflow has no on-chain execution nodes"
    assert only_rest.value_fee.fee.amount == "0"


async def test_estimate_fees_rejects_a_strangers_runner_and_bad_requests(api: Api) -> None:
    owner = fresh_address("me")
    theirs = await api.wallet(fresh_address("them"))
    code, message = await rpc_error(
        api.stub.EstimateFees(_fee_request(api.devnet, theirs), metadata=auth(owner))
    )
    assert code is grpc.StatusCode.NOT_FOUND
    assert message == (
        f"Failed to resolve runner address: runner {theirs} does not match any derived "
        f"address (salt:0 through salt:4) for owner {owner}"
    )
    mine = await api.wallet(owner)
    cases = [
        ({"trigger": None}, "trigger is required"),
        ({"nodes": []}, "at least one node is required"),
        ({"created_at": 0}, "created_at must be a positive timestamp"),
        ({"expire_at": -5}, "expire_at must be a positive timestamp"),
        ({"expire_at": 1_600_000_000_000}, "expire_at must be after created_at"),
    ]
    for changes, expected in cases:
        call = api.stub.EstimateFees(
            _fee_request(api.devnet, mine, **changes), metadata=auth(owner)
        )
        assert await rpc_error(call) == (grpc.StatusCode.INVALID_ARGUMENT, expected)


# --------------------------------------------------------------------------- WithdrawFunds


def _withdraw(
    recipient: str = "", amount: str = "", token: str = "", wallet: str = ""
) -> avs_pb2.WithdrawFundsReq:
    return avs_pb2.WithdrawFundsReq(
        recipient_address=recipient, amount=amount, token=token, smart_wallet_address=wallet
    )


async def test_withdraw_validation_messages_in_order(api: Api) -> None:
    owner = fresh_address("careless")
    good = fresh_address("recipient")
    mine = await api.wallet(owner)
    cases = [
        (_withdraw(), "recipient address is required"),
        (_withdraw(good), "amount is required"),
        (_withdraw(good, "1"), "token is required"),
        (_withdraw("0x12", "1", "ETH"), "invalid recipient address format"),
        (_withdraw(good, "-1", "ETH"), "invalid amount: must be a positive integer or 'max'"),
        (_withdraw(good, "1.5", "ETH"), "invalid amount: must be a positive integer or 'max'"),
        (_withdraw(good, "0", "ETH"), "invalid amount: must be a positive integer or 'max'"),
        (_withdraw(good, " MAX ", "ETH", "0xnope"), "invalid smart wallet address format"),
        (
            _withdraw(good, "1", "ETH"),
            "smart wallet address is required - must be obtained from getWallet() call first",
        ),
        (
            _withdraw(good, "1", "abc", mine),
            "failed to build withdrawal calldata: invalid token contract address: abc",
        ),
        (_withdraw(good, "max", "ETH", mine), "wallet has zero balance"),
        (_withdraw(good, "max", api.devnet.token("TUSD").address, mine), "token balance is zero"),
        (
            _withdraw(good, "5", api.devnet.token("TUSD").address, mine),
            "insufficient token balance: requested 5, but wallet has 0",
        ),
    ]
    for request, message in cases:
        call = api.stub.WithdrawFunds(request, metadata=auth(owner))
        assert await rpc_error(call) == (grpc.StatusCode.INVALID_ARGUMENT, message), message

    too_much = api.stub.WithdrawFunds(_withdraw(good, "5", "eth", mine), metadata=auth(owner))
    assert await rpc_error(too_much) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "insufficient balance: requested 5 wei but wallet has 0 wei",
    )
    theirs = await api.wallet(fresh_address("victim"))
    code, message = await rpc_error(
        api.stub.WithdrawFunds(_withdraw(good, "1", "ETH", theirs), metadata=auth(owner))
    )
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert message.startswith(f"invalid smart wallet address: smart wallet {theirs}")


async def test_withdraw_eth_explicit_then_max(api: Api) -> None:
    owner = fresh_address("saver")
    wallet = await api.wallet(owner, 3)
    api.store(owner, wallet, 3)  # as GetWallet(salt 3) would have
    recipient = fresh_address("cash out")
    await api.chain.send(api.devnet.test_accounts[4].address, wallet, ONE_ETH)

    part = await api.stub.WithdrawFunds(
        _withdraw(recipient, str(ONE_ETH // 4), "ETH", wallet), metadata=auth(owner)
    )
    assert (part.success, part.status, part.message) == (
        True,
        "confirmed",
        "withdrawal transaction confirmed",
    )
    assert part.user_op_hash.startswith("0x")
    assert len(part.transaction_hash) == 66
    assert abs(part.submitted_at - time.time()) < 60
    assert (part.smart_wallet_address, part.recipient_address, part.token) == (
        wallet,
        recipient,
        "ETH",
    )
    assert await api.chain.balance(recipient) == ONE_ETH // 4
    assert await api.chain.code(wallet) != "0x"  # deployed with its stored salt

    rest = await api.stub.WithdrawFunds(
        _withdraw(recipient, "max", "ETH", wallet), metadata=auth(owner)
    )
    assert (rest.success, rest.status, rest.amount) == (True, "confirmed", "max")
    assert await api.chain.balance(wallet) == 0  # the paymaster paid the gas, unreimbursed
    assert await api.chain.balance(recipient) == ONE_ETH


async def test_withdraw_erc20_explicit_then_max(api: Api) -> None:
    owner = fresh_address("holder")
    wallet = await api.wallet(owner)  # the implicit salt-0 wallet
    recipient = fresh_address("token out")
    token = api.devnet.token("TUSD").address
    mint = keccak(text="mint(address,uint256)")[:4] + encode(
        ["address", "uint256"], [wallet, 1_000_000]
    )
    await api.chain.send(api.devnet.test_accounts[4].address, token, data=mint)

    part = await api.stub.WithdrawFunds(
        _withdraw(recipient, "400000", token, wallet), metadata=auth(owner)
    )
    assert (part.success, part.status) == (True, "confirmed")
    assert await api.token_balance(token, recipient) == 400_000
    rest = await api.stub.WithdrawFunds(
        _withdraw(recipient, "MAX", token, wallet), metadata=auth(owner)
    )
    assert (rest.success, rest.status) == (True, "confirmed")
    assert await api.token_balance(token, recipient) == 1_000_000
    assert await api.token_balance(token, wallet) == 0


async def test_withdraw_without_smart_wallet_config_is_a_failed_precondition(api: Api) -> None:
    owner = fresh_address("early")
    wallet = await api.wallet(owner)
    api.servicer._chain_services = replace(api.stack.services, withdrawals=None)
    call = api.stub.WithdrawFunds(
        _withdraw(fresh_address("r"), "1", "ETH", wallet), metadata=auth(owner)
    )
    code, message = await rpc_error(call)
    assert code is grpc.StatusCode.FAILED_PRECONDITION
    assert message.startswith("smart wallet configuration not available")


async def test_withdraw_that_the_bundler_refuses_is_reported_as_failed(api: Api) -> None:
    owner = fresh_address("no paymaster")
    wallet = await api.wallet(owner)
    recipient = fresh_address("r")
    # Without a paymaster the wallet pays its own gas, and 1000 wei cannot (AA21).
    sender = api.stack.sender
    assert sender is not None
    sender.paymaster = None
    await api.chain.send(api.devnet.test_accounts[4].address, wallet, 1000)
    reply = await api.stub.WithdrawFunds(
        _withdraw(recipient, "1", "ETH", wallet), metadata=auth(owner)
    )
    assert (reply.success, reply.status) == (False, "failed")
    assert reply.message == (
        "failed to send withdrawal transaction: Insufficient ETH balance for gas fees"
    )
    assert reply.user_op_hash == ""
    assert reply.submitted_at > 0
    assert (reply.amount, reply.token, reply.smart_wallet_address) == ("1", "ETH", wallet)
    assert await api.chain.balance(recipient) == 0
