"""Sign-in, authentication and secrets over gRPC against an in-process aggregator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.cipher import SecretCipher
from ap_avs.domain.secrets import SecretRef, SecretValue
from ap_avs.store import MemoryKV
from ap_avs.store.secrets import SecretRepo
from ap_avs.testing import RunningAggregator, aggregator_config, running_aggregator, user_key

ALICE = Account.create()
BOB = Account.create()


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningAggregator]:
    async with running_aggregator(aggregator_config(tmp_path / "db")) as running:
        yield running


@pytest.fixture
async def stub(server: RunningAggregator) -> AsyncIterator[avs_pb2_grpc.AggregatorStub]:
    async with grpc.aio.insecure_channel(server.target) as channel:
        yield avs_pb2_grpc.AggregatorStub(channel)


def auth(account: object) -> tuple[tuple[str, str]]:
    return (("authkey", user_key(account.address)),)  # type: ignore[attr-defined]


async def sign_in(stub: avs_pb2_grpc.AggregatorStub, account: object) -> str:
    fmt = await stub.GetSignatureFormat(avs_pb2.GetSignatureFormatReq(wallet=account.address))  # type: ignore[attr-defined]
    signed = Account.sign_message(encode_defunct(text=fmt.message), account.key)  # type: ignore[attr-defined]
    reply = await stub.GetKey(
        avs_pb2.GetKeyReq(message=fmt.message, signature="0x" + signed.signature.hex())
    )
    assert reply.key.count(".") == 2
    assert reply.address == ""
    assert reply.expiry == 0
    return str(reply.key)


async def test_sign_in_then_use_the_key(stub: avs_pb2_grpc.AggregatorStub) -> None:
    key = await sign_in(stub, ALICE)
    reply = await stub.ListSecrets(avs_pb2.ListSecretsReq(), metadata=(("authkey", key),))
    assert list(reply.items) == []


async def test_signature_format_validates_the_wallet(stub: avs_pb2_grpc.AggregatorStub) -> None:
    for wallet, message in (
        ("", "Wallet address is required"),
        ("0x12", "Invalid Ethereum wallet address format"),
        ("0x" + "0" * 40, "Wallet address cannot be the zero address"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetSignatureFormat(avs_pb2.GetSignatureFormatReq(wallet=wallet))
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert info.value.details() == message


async def test_wrong_signer_is_refused(stub: avs_pb2_grpc.AggregatorStub) -> None:
    fmt = await stub.GetSignatureFormat(avs_pb2.GetSignatureFormatReq(wallet=ALICE.address))
    signed = Account.sign_message(encode_defunct(text=fmt.message), BOB.key)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetKey(
            avs_pb2.GetKeyReq(message=fmt.message, signature="0x" + signed.signature.hex())
        )
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert info.value.details() == "User Auth key is invalid"


@pytest.mark.parametrize(
    ("metadata", "details"),
    [
        ((), "User authentication error: missing auth header"),
        ((("authkey", "garbage"),), "User authentication error: User Auth key is invalid"),
    ],
)
async def test_authenticated_rpcs_need_a_key(
    stub: avs_pb2_grpc.AggregatorStub, metadata: tuple[tuple[str, str], ...], details: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ListSecrets(avs_pb2.ListSecretsReq(), metadata=metadata)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert info.value.details() == details


async def test_create_task_uses_its_own_auth_prefix(stub: avs_pb2_grpc.AggregatorStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateTask(avs_pb2.CreateTaskReq())
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert info.value.details() == "User Auth key is invalid: missing auth header"


async def test_secret_lifecycle(stub: avs_pb2_grpc.AggregatorStub) -> None:
    created = await stub.CreateSecret(
        avs_pb2.CreateOrUpdateSecretReq(name="api_token", secret="s3cr3t-value"),
        metadata=auth(ALICE),
    )
    assert created.success
    assert (created.secret_name, created.scope) == ("api_token", "user")
    assert created.created_at > 0

    listed = await stub.ListSecrets(
        avs_pb2.ListSecretsReq(include_timestamps=True, include_created_by=True),
        metadata=auth(ALICE),
    )
    assert [s.name for s in listed.items] == ["api_token"]
    assert listed.items[0].created_by == ALICE.address
    assert "s3cr3t-value" not in str(listed)

    updated = await stub.UpdateSecret(
        avs_pb2.CreateOrUpdateSecretReq(name="api_token", secret="new"), metadata=auth(ALICE)
    )
    assert updated.success
    assert updated.updated_at >= created.created_at

    deleted = await stub.DeleteSecret(
        avs_pb2.DeleteSecretReq(name="api_token"), metadata=auth(ALICE)
    )
    assert (deleted.success, deleted.status, deleted.scope) == (True, "deleted", "user")
    again = await stub.DeleteSecret(avs_pb2.DeleteSecretReq(name="api_token"), metadata=auth(ALICE))
    assert (again.success, again.status, again.message) == (True, "not_found", "Secret not found")
    assert (
        list((await stub.ListSecrets(avs_pb2.ListSecretsReq(), metadata=auth(ALICE))).items) == []
    )


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("", "v", "secret name is required"),
        ("ap_reserved", "v", "reserved"),
        ("AP_RESERVED", "v", "reserved"),
        ("bad-name", "v", "letters, digits and underscores"),
        ("x" * 256, "v", "at most 255"),
        ("fine", "", "secret value is required"),
    ],
)
async def test_bad_secrets_are_refused_and_not_stored(
    stub: avs_pb2_grpc.AggregatorStub, name: str, value: str, fragment: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CreateSecret(
            avs_pb2.CreateOrUpdateSecretReq(name=name, secret=value), metadata=auth(ALICE)
        )
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert fragment in (info.value.details() or "")
    assert (
        list((await stub.ListSecrets(avs_pb2.ListSecretsReq(), metadata=auth(ALICE))).items) == []
    )


async def test_update_of_a_missing_secret_is_not_found(stub: avs_pb2_grpc.AggregatorStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.UpdateSecret(
            avs_pb2.CreateOrUpdateSecretReq(name="nothing", secret="v"), metadata=auth(ALICE)
        )
    assert info.value.code() is grpc.StatusCode.NOT_FOUND


async def test_workflow_scope_may_name_any_workflow(stub: avs_pb2_grpc.AggregatorStub) -> None:
    made = await stub.CreateSecret(
        avs_pb2.CreateOrUpdateSecretReq(
            name="k", secret="v", workflow_id="01jd0000000000000000000000"
        ),
        metadata=auth(ALICE),
    )
    assert (made.success, made.scope) == (True, "workflow")


async def test_users_see_only_their_own_secrets(stub: avs_pb2_grpc.AggregatorStub) -> None:
    await stub.CreateSecret(
        avs_pb2.CreateOrUpdateSecretReq(name="shared_name", secret="alice"), metadata=auth(ALICE)
    )
    assert list((await stub.ListSecrets(avs_pb2.ListSecretsReq(), metadata=auth(BOB))).items) == []
    gone = await stub.DeleteSecret(avs_pb2.DeleteSecretReq(name="shared_name"), metadata=auth(BOB))
    assert gone.status == "not_found"
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.UpdateSecret(
            avs_pb2.CreateOrUpdateSecretReq(name="shared_name", secret="bob"), metadata=auth(BOB)
        )
    mine = await stub.ListSecrets(avs_pb2.ListSecretsReq(), metadata=auth(ALICE))
    assert [s.name for s in mine.items] == ["shared_name"]


async def test_secret_pagination_both_ways(stub: avs_pb2_grpc.AggregatorStub) -> None:
    names = [f"s{i:02d}" for i in range(7)]
    for name in names:
        await stub.CreateSecret(
            avs_pb2.CreateOrUpdateSecretReq(name=name, secret="v"), metadata=auth(ALICE)
        )
    first = await stub.ListSecrets(avs_pb2.ListSecretsReq(limit=3), metadata=auth(ALICE))
    assert [s.name for s in first.items] == names[:3]
    assert first.page_info.has_next_page
    assert not first.page_info.has_previous_page
    second = await stub.ListSecrets(
        avs_pb2.ListSecretsReq(limit=3, after=first.page_info.end_cursor), metadata=auth(ALICE)
    )
    assert [s.name for s in second.items] == names[3:6]
    assert second.page_info.has_previous_page
    back = await stub.ListSecrets(
        avs_pb2.ListSecretsReq(limit=3, before=second.page_info.start_cursor), metadata=auth(ALICE)
    )
    assert [s.name for s in back.items] == names[:3]
    last = await stub.ListSecrets(
        avs_pb2.ListSecretsReq(limit=3, after=second.page_info.end_cursor), metadata=auth(ALICE)
    )
    assert [s.name for s in last.items] == names[6:]
    assert not last.page_info.has_next_page

    for bad in ("not-base64!", "e30=", "bm90IGpzb24="):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.ListSecrets(avs_pb2.ListSecretsReq(after=bad), metadata=auth(ALICE))
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert (info.value.details() or "").startswith("Invalid pagination cursor.")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ListSecrets(avs_pb2.ListSecretsReq(limit=-1), metadata=auth(ALICE))
    assert info.value.details() == "item per page is not valid"


async def test_values_are_sealed_at_rest() -> None:
    kv = MemoryKV()
    repo = SecretRepo(kv, SecretCipher.derive("a key for this test only"))
    ref = SecretRef(ALICE.address, "token")
    await repo.put(ref, SecretValue("plain-text-value"), now_ms=1, by=ALICE.address)
    raw = b"".join(v for _, v in await kv.scan(b"secret:"))
    assert b"plain-text-value" not in raw
    assert await repo.open(ref) == SecretValue("plain-text-value")
    other = SecretRepo(kv, SecretCipher.derive("another key"))
    from ap_avs.errors import CorruptDataError

    with pytest.raises(CorruptDataError):
        await other.open(ref)
    assert "plain-text-value" not in repr(SecretValue("plain-text-value"))


async def test_the_store_file_holds_no_secret_in_clear(tmp_path: Path) -> None:
    db = tmp_path / "db"
    value = "very-distinctive-secret-value-0123456789"
    async with (
        running_aggregator(aggregator_config(db)) as running,
        grpc.aio.insecure_channel(running.target) as channel,
    ):
        stub = avs_pb2_grpc.AggregatorStub(channel)
        await stub.CreateSecret(
            avs_pb2.CreateOrUpdateSecretReq(name="token", secret=value), metadata=auth(ALICE)
        )
    raw = b"".join(p.read_bytes() for p in db.iterdir() if p.is_file())
    assert b"token" in raw  # the record is there ...
    assert value.encode() not in raw  # ... but its value is sealed
    key_file = db / "secrets.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    first_key = key_file.read_bytes()
    async with running_aggregator(aggregator_config(db)):
        pass
    assert key_file.read_bytes() == first_key
