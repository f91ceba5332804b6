"""Authentication over real gRPC: bad user keys refused by every authenticated RPC, sign-in
keys capped in lifetime, API-key impersonation only for admin keys, and operator RPC
signatures checked (forged, misdirected, stale, replayed) on every Node RPC.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from google.protobuf.message_factory import GetMessageClass

from ap_avs._proto import avs_pb2, avs_pb2_grpc, node_pb2, node_pb2_grpc
from ap_avs.auth import KeyService
from ap_avs.auth.operator_requests import HEADER_OPERATOR, HEADER_TIMESTAMP, OperatorSigner
from ap_avs.domain.signin import format_signin_message
from ap_avs.testing import (
    TEST_CHAIN_ID,
    TEST_JWT_SECRET,
    RunningAggregator,
    aggregator_config,
    running_aggregator,
)
from ap_avs.version import __version__

from .support import NODE, SERVICE, channel, now_ms

PUBLIC = {"GetKey", "GetSignatureFormat", "GetNonce"}
OTHER_SECRET = "another-secret-for-forgeries-0123456789abcdef"
LIFETIME_HOURS = 1


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any]) -> str:
    """A token with ``alg: none`` and no signature."""
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def signed(claims: dict[str, Any], secret: str, alg: str = "HS256") -> str:
    """An HMAC-signed token, built by hand (any key length, any HS algorithm)."""
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = f"{header}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret.encode(), body.encode(), digest).digest()
    return f"{body}.{b64(mac)}"


def claims(sub: str, **changes: Any) -> dict[str, Any]:
    base = {
        "iss": "AvaProtocol",
        "sub": sub,
        "aud": [str(TEST_CHAIN_ID)],
        "exp": int(time.time()) + 600,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def bad_keys(sub: str) -> dict[str, str | None]:
    secret = TEST_JWT_SECRET
    now = int(time.time())
    past = datetime.now(UTC) - timedelta(days=3660)
    return {
        "missing": None,
        "empty": "",
        "garbage": "not.a.jwt",
        "forged (other secret)": signed(claims(sub), OTHER_SECRET),
        "forged admin (other secret)": signed(claims(sub, roles=["admin"]), OTHER_SECRET),
        "alg none": unsigned(claims(sub)),
        "alg none admin": unsigned(claims(sub, roles=["admin"])),
        "alg HS512": signed(claims(sub), secret, "HS512"),
        "expired": signed(claims(sub, exp=now - 5), secret),
        "expired API key": KeyService(
            jwt_secret=secret, chain_id=TEST_CHAIN_ID, now=lambda: past
        ).create_api_key(sub, ["admin"]),
        "API key with no record": KeyService(
            jwt_secret=secret, chain_id=TEST_CHAIN_ID
        ).create_api_key(sub, ["admin"]),
        "API key with no jti": signed(claims(sub, roles=["admin"]), secret),
        "no exp": signed(claims(sub, exp=None), secret),
        "not yet valid": signed(claims(sub, nbf=now + 600), secret),
        "wrong audience": signed(claims(sub, aud=["999"]), secret),
        "no audience": signed(claims(sub, aud=None), secret),
        "zero subject": signed(claims("0x" + "0" * 40), secret),
        "non-address subject": signed(claims("apikey"), secret),
        "lifetime beyond the cap": signed(claims(sub, exp=now + 365 * 86_400), secret),
    }


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningAggregator]:
    config = aggregator_config(tmp_path / "db", max_key_lifetime_hours=LIFETIME_HOURS)
    async with running_aggregator(config) as running:
        yield running


async def call(ch: grpc.aio.Channel, method: str, key: str | None, request: Any = None) -> Any:
    desc = SERVICE.methods_by_name[method]
    request = request or GetMessageClass(desc.input_type)()
    stub = ch.unary_unary(
        f"/aggregator.Aggregator/{method}",
        request_serializer=type(request).SerializeToString,
        response_deserializer=GetMessageClass(desc.output_type).FromString,
    )
    metadata = (("authkey", key),) if key is not None else ()
    return await stub(request, metadata=metadata, timeout=30)


async def test_every_authenticated_rpc_refuses_every_bad_key(server: RunningAggregator) -> None:
    owner = Account.create().address
    methods = [m.name for m in SERVICE.methods if m.name not in PUBLIC]
    problems = []
    async with channel(server.target) as ch:
        await call(ch, "ListSecrets", signed(claims(owner), TEST_JWT_SECRET))  # the control
        for what, key in bad_keys(owner).items():
            for method in methods:
                try:
                    await call(ch, method, key)
                except grpc.aio.AioRpcError as exc:
                    prefix = (
                        "User Auth key is invalid: "
                        if method == "CreateTask"
                        else "User authentication error: "
                    )
                    details = exc.details() or ""
                    if exc.code() is grpc.StatusCode.UNAUTHENTICATED and details.startswith(prefix):
                        continue
                    problems.append(f"{what} / {method}: {exc.code().name} {details}")
                else:
                    problems.append(f"{what} / {method}: accepted")
    assert not problems, "\n".join(problems)


def signin(message_wallet: str, *, days: int) -> str:
    now = datetime.now(UTC).replace(microsecond=0)
    return format_signin_message(
        chain_id=TEST_CHAIN_ID,
        version=__version__,
        issued_at=now,
        expire_at=now + timedelta(days=days),
        wallet=message_wallet,
    )


async def test_sign_in_keys_are_capped_and_api_keys_impersonate_only_as_admin(
    server: RunningAggregator,
) -> None:
    me, other = Account.create(), Account.create()
    assert server.app.api_keys is not None
    api_keys = server.app.api_keys
    async with channel(server.target) as ch:
        stub = avs_pb2_grpc.AggregatorStub(ch)
        # a message valid for a year yields a key living at most the configured maximum
        message = signin(me.address, days=365)
        signature = me.sign_message(encode_defunct(text=message)).signature.hex()
        key = (
            await stub.GetKey(avs_pb2.GetKeyReq(message=message, signature="0x" + signature))
        ).key
        exp = jwt.decode(key, options={"verify_signature": False})["exp"]
        assert exp <= time.time() + LIFETIME_HOURS * 3600 + 5
        await call(ch, "ListSecrets", key)  # and it works

        # someone else's signature, or a readonly API key, cannot mint a key for my wallet
        stolen = other.sign_message(encode_defunct(text=message)).signature.hex()
        readonly = (await api_keys.create(other.address, ["readonly"])).token
        for sig in ("0x" + stolen, readonly):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.GetKey(avs_pb2.GetKeyReq(message=message, signature=sig))
            assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED, sig[:20]
        # an admin API key can (upstream's operator tooling relies on it)
        admin = await api_keys.create(other.address, ["admin"])
        minted = await stub.GetKey(avs_pb2.GetKeyReq(message=message, signature=admin.token))
        assert jwt.decode(minted.key, options={"verify_signature": False})["sub"] == me.address
        # and no longer once revoked (an admin key without its record mints nothing)
        await api_keys.revoke(admin.record.jti)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetKey(avs_pb2.GetKeyReq(message=message, signature=admin.token))
        assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
        assert info.value.details() == "User authentication error: API key is invalid"


# --- operator signatures --------------------------------------------------------------------

NODE_METHODS = [m.name for m in NODE.methods if m.name != "HealthCheck"]


def node_request(method: str, address: str) -> Any:
    desc = NODE.methods_by_name[method]
    request = GetMessageClass(desc.input_type)()
    if hasattr(request, "address"):
        request.address = address
    return request


async def node_call(ch: grpc.aio.Channel, method: str, request: Any, metadata: Any) -> Any:
    """One Node call (a stream is read to its first message or error); the status code."""
    stub = node_pb2_grpc.NodeStub(ch)
    try:
        if method == "SyncMessages":  # refused at once, or open (and quiet) for a second
            call = stub.SyncMessages(request, metadata=metadata)
            try:
                code = await asyncio.wait_for(call.code(), 1.0)
                return code, await call.details() or ""
            except TimeoutError:
                return grpc.StatusCode.OK, ""
            finally:
                call.cancel()
        await getattr(stub, method)(request, metadata=metadata, timeout=10)
    except grpc.aio.AioRpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


def with_header(metadata: Any, name: str, value: str) -> Any:
    return tuple((k, value if k == name else v) for k, v in metadata)


async def test_operator_rpcs_check_signatures_and_refuse_replays(
    server: RunningAggregator,
) -> None:
    me, impostor = (
        OperatorSigner(Account.create().key.hex()),
        OperatorSigner(Account.create().key.hex()),
    )
    problems: list[str] = []
    async with channel(server.target) as ch:
        for method in NODE_METHODS:
            path = f"/aggregator.Node/{method}"
            request = node_request(method, me.address)
            bad = {
                "unsigned": (),
                "forged (impostor's signature)": with_header(
                    impostor.metadata(path, now_ms()), HEADER_OPERATOR, me.address
                ),
                "signed for another method": me.metadata("/aggregator.Node/HealthCheck", now_ms()),
                "stale": me.metadata(path, now_ms() - 60_000),
                "from the future": me.metadata(path, now_ms() + 60_000),
                "timestamp edited": with_header(
                    me.metadata(path, now_ms()), HEADER_TIMESTAMP, str(now_ms() + 1)
                ),
            }
            for what, metadata in bad.items():
                code, details = await node_call(ch, method, request, metadata)
                if code is not grpc.StatusCode.UNAUTHENTICATED or not details:
                    problems.append(f"{method} {what}: {code.name} {details}")
            once = me.metadata(path, now_ms())
            first, _ = await node_call(ch, method, request, once)
            if first is grpc.StatusCode.UNAUTHENTICATED:
                problems.append(f"{method}: a good signature was refused")
            again, details = await node_call(ch, method, request, once)
            if again is not grpc.StatusCode.UNAUTHENTICATED or "replayed" not in details:
                problems.append(f"{method} replayed: {again.name} {details}")
    assert not problems, "\n".join(problems)


async def test_a_replay_after_an_aggregator_restart_is_refused(tmp_path: Path) -> None:
    config = aggregator_config(tmp_path / "db")
    me = OperatorSigner(Account.create().key.hex())
    checkin = node_pb2.Checkin(address=me.address)
    async with running_aggregator(config) as server, channel(server.target) as ch:
        captured = me.metadata("/aggregator.Node/Ping", now_ms())
        assert (await node_call(ch, "Ping", checkin, captured))[0] is grpc.StatusCode.OK
    async with running_aggregator(config) as server, channel(server.target) as ch:
        code, details = await node_call(ch, "Ping", checkin, captured)
    assert code is grpc.StatusCode.UNAUTHENTICATED, details
