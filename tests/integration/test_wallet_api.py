"""Wallet RPCs against the devnet: addresses from the real factory, limits, hiding, nonces."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from eth_account import Account

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.chain.aa import account_address
from ap_avs.devnet import DevnetState
from ap_avs.testing import aggregator_config, running_aggregator, user_key

pytestmark = pytest.mark.integration


@pytest.fixture
async def stub(devnet: DevnetState, tmp_path: Path) -> AsyncIterator[avs_pb2_grpc.AggregatorStub]:
    cfg = aggregator_config(
        tmp_path / "db",
        smart_wallet={
            "eth_rpc_url": devnet.rpc_url,
            "chain_id": devnet.chain_id,
            "factory_address": devnet.factory,
            "entrypoint_address": devnet.entrypoint,
            "max_wallets_per_owner": 3,
        },
    )
    async with (
        running_aggregator(cfg) as server,
        grpc.aio.insecure_channel(server.target) as channel,
    ):
        yield avs_pb2_grpc.AggregatorStub(channel)


def auth(owner: str) -> tuple[tuple[str, str]]:
    return (("authkey", user_key(owner)),)


async def test_get_wallet_derives_with_the_factory(
    stub: avs_pb2_grpc.AggregatorStub, devnet: DevnetState, artifacts_dir: Path
) -> None:
    owner = Account.create().address
    reply = await stub.GetWallet(avs_pb2.GetWalletReq(salt="0"), metadata=auth(owner))
    proxy = json.loads((artifacts_dir / "ERC1967Proxy.json").read_text())["bytecode"]
    expected = account_address(
        devnet.factory,
        devnet.account_implementation,
        owner,
        0,
        bytes.fromhex(proxy.removeprefix("0x")),
    )
    assert reply.address == expected
    assert reply.salt == "0"
    assert reply.factory_address == devnet.factory
    assert (reply.total_task_count, reply.enabled_task_count) == (0, 0)
    hexed = await stub.GetWallet(avs_pb2.GetWalletReq(salt="0x0"), metadata=auth(owner))
    assert hexed.address == expected


async def test_list_wallets_default_first_and_no_duplicates(
    stub: avs_pb2_grpc.AggregatorStub,
) -> None:
    owner = Account.create().address
    w1 = await stub.GetWallet(avs_pb2.GetWalletReq(salt="1"), metadata=auth(owner))
    await stub.GetWallet(avs_pb2.GetWalletReq(salt="1"), metadata=auth(owner))
    listed = await stub.ListWallets(avs_pb2.ListWalletReq(), metadata=auth(owner))
    salts = [w.salt for w in listed.items]
    assert salts == ["0", "1"]
    assert listed.items[1].address == w1.address
    only_one = await stub.ListWallets(avs_pb2.ListWalletReq(salt="1"), metadata=auth(owner))
    assert [w.salt for w in only_one.items] == ["1"]


async def test_wallet_limit_and_nothing_stored_beyond_it(
    stub: avs_pb2_grpc.AggregatorStub,
) -> None:
    owner = Account.create().address
    for salt in ("0", "1", "2"):
        await stub.GetWallet(avs_pb2.GetWalletReq(salt=salt), metadata=auth(owner))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetWallet(avs_pb2.GetWalletReq(salt="3"), metadata=auth(owner))
    assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert info.value.details() == "max smart wallet count reached for owner (limit=3)"
    listed = await stub.ListWallets(avs_pb2.ListWalletReq(), metadata=auth(owner))
    assert [w.salt for w in listed.items] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("salt", "factory", "message"),
    [
        ("abc", "", "invalid salt value: abc"),
        ("-1", "", "invalid salt value: must be a non-negative integer, got -1"),
        ("0", "0x1234", "invalid factory address"),
        ("0", "0x" + "0" * 40, "Factory address cannot be the zero address"),
    ],
)
async def test_get_wallet_rejects_bad_input(
    stub: avs_pb2_grpc.AggregatorStub, salt: str, factory: str, message: str
) -> None:
    owner = Account.create().address
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetWallet(
            avs_pb2.GetWalletReq(salt=salt, factory_address=factory), metadata=auth(owner)
        )
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == message
    assert list((await stub.ListWallets(avs_pb2.ListWalletReq(), metadata=auth(owner))).items)


async def test_set_wallet_hides_and_is_per_owner(stub: avs_pb2_grpc.AggregatorStub) -> None:
    alice, bob = Account.create().address, Account.create().address
    await stub.GetWallet(avs_pb2.GetWalletReq(salt="5"), metadata=auth(alice))
    hidden = await stub.SetWallet(
        avs_pb2.SetWalletReq(salt="5", is_hidden=True), metadata=auth(alice)
    )
    assert hidden.is_hidden
    listed = await stub.ListWallets(avs_pb2.ListWalletReq(salt="5"), metadata=auth(alice))
    assert [w.is_hidden for w in listed.items] == [True]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.SetWallet(avs_pb2.SetWalletReq(salt="5", is_hidden=True), metadata=auth(bob))
    assert info.value.code() is grpc.StatusCode.NOT_FOUND
    assert info.value.details() == "Wallet not found for the specified salt and factory."


async def test_get_nonce_reads_the_entrypoint(stub: avs_pb2_grpc.AggregatorStub) -> None:
    reply = await stub.GetNonce(avs_pb2.NonceRequest(owner="0x" + "42" * 20))
    assert reply.nonce == "0"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetNonce(avs_pb2.NonceRequest(owner="nope"))
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_chain_down_is_unavailable_and_stores_nothing(tmp_path: Path) -> None:
    cfg = aggregator_config(
        tmp_path / "db",
        smart_wallet={"eth_rpc_url": "http://127.0.0.1:9", "chain_id": 31337},
    )
    owner = Account.create().address
    async with (
        running_aggregator(cfg) as server,
        grpc.aio.insecure_channel(server.target) as channel,
    ):
        stub = avs_pb2_grpc.AggregatorStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetWallet(avs_pb2.GetWalletReq(salt="1"), metadata=auth(owner))
        assert info.value.code() is grpc.StatusCode.UNAVAILABLE
        assert "chain RPC is unavailable" in (info.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.ListWallets(avs_pb2.ListWalletReq(), metadata=auth(owner))
        assert info.value.code() is grpc.StatusCode.UNAVAILABLE
        assert (
            list(
                (
                    await stub.ListWallets(avs_pb2.ListWalletReq(salt="1"), metadata=auth(owner))
                ).items
            )
            == []
        )
