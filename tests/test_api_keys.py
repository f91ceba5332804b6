"""API keys as records: issued with a 90-day default, listed, revoked; a revoked, expired or
unknown key is refused on its next call, by the server that revoked it and by one whose store
another process changed; ``ap-avs api-key`` and ``create-api-key`` from the command line."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
import pytest
import yaml
from eth_account import Account

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.auth import (
    MSG_API_KEY_INVALID,
    REASON_API_KEY_REVOKED,
    AuthFailure,
    KeyService,
    Principal,
)
from ap_avs.domain.api_keys import DEFAULT_LIFETIME, new_api_key
from ap_avs.domain.signin import format_signin_message
from ap_avs.engine.api_keys import ApiKeyService
from ap_avs.errors import InvalidArgument, NotFound, Unauthenticated
from ap_avs.ops import admin_call, admin_socket_path
from ap_avs.store.api_keys import ApiKeyRepo, decode, encode
from ap_avs.store.lmdb_kv import LmdbKV
from ap_avs.store.memory import MemoryKV
from ap_avs.testing import (
    TEST_CHAIN_ID,
    TEST_JWT_SECRET,
    aggregator_config,
    running_aggregator,
)
from ap_avs.version import __version__

NOW = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)
ALICE = Account.create().address
BOB = Account.create().address
LIVENESS = 60.0
"""Liveness guard for subprocesses (a start takes a few seconds here; 60 s is generous)."""


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def ms(self) -> int:
        return int(self.now.timestamp() * 1000)


def service(clock: Clock) -> tuple[ApiKeyService, KeyService]:
    keys = KeyService(jwt_secret=TEST_JWT_SECRET, chain_id=TEST_CHAIN_ID, now=clock)
    return ApiKeyService(ApiKeyRepo(MemoryKV()), keys, now_ms=clock.ms), keys


def signin(wallet: str, at: datetime) -> str:
    return format_signin_message(
        chain_id=TEST_CHAIN_ID,
        version=__version__,
        issued_at=at,
        expire_at=at + timedelta(days=1),
        wallet=wallet,
    )


# --- records and the use cases ------------------------------------------------------------


async def test_create_list_revoke_and_refuse() -> None:
    clock = Clock()
    api_keys, keys = service(clock)
    issued = await api_keys.create(ALICE, ["admin"], label="deploy bot")
    record = issued.record
    assert record.expires_at_ms - record.created_at_ms == DEFAULT_LIFETIME.total_seconds() * 1000
    assert (record.subject, record.roles, record.label) == (ALICE, ("admin",), "deploy bot")

    principal = keys.verify(issued.token)
    assert (principal.api_key, principal.key_id) == (True, record.jti)
    await api_keys.ensure_active(principal)  # accepted
    message = signin(BOB, NOW)
    assert keys.verify(await api_keys.get_key(message, issued.token)).address == BOB

    clock.now += timedelta(minutes=1)
    revoked = await api_keys.revoke(record.jti.upper())
    assert revoked.revoked_at_ms == clock.ms()
    with pytest.raises(AuthFailure) as info:
        await api_keys.ensure_active(keys.verify(issued.token))
    assert info.value.reason == REASON_API_KEY_REVOKED
    with pytest.raises(Unauthenticated, match=f"^{MSG_API_KEY_INVALID}$"):
        await api_keys.get_key(message, issued.token)

    clock.now += timedelta(minutes=1)
    again = await api_keys.revoke(record.jti)
    assert again.revoked_at_ms == revoked.revoked_at_ms  # the first revocation time stays
    [listed] = await api_keys.list()
    assert listed == revoked
    assert listed.state(clock.ms()) == "revoked"
    with pytest.raises(NotFound):
        await api_keys.revoke("01" + "x" * 24)
    with pytest.raises(NotFound):
        await api_keys.revoke("not a key id")


async def test_unknown_or_unrecorded_keys_are_refused() -> None:
    clock = Clock()
    api_keys, keys = service(clock)
    unrecorded = keys.create_api_key(ALICE, ["admin"])  # signed with the secret, never stored
    no_jti = Principal(address=ALICE, api_key=True, key_id="")
    for principal in (keys.verify(unrecorded), no_jti):
        with pytest.raises(AuthFailure):
            await api_keys.ensure_active(principal)
    with pytest.raises(Unauthenticated, match=f"^{MSG_API_KEY_INVALID}$"):
        await api_keys.get_key(signin(BOB, NOW), unrecorded)
    user = keys.user_key(ALICE)  # a sign-in key: stateless, no record needed
    await api_keys.ensure_active(keys.verify(user))


async def test_expiry_default_longer_and_past() -> None:
    clock = Clock()
    api_keys, _ = service(clock)
    long_lived = await api_keys.create(ALICE, ["readonly"], expires_at=NOW + timedelta(days=400))
    assert long_lived.record.expires_at_ms == int((NOW + timedelta(days=400)).timestamp() * 1000)
    short = await api_keys.create(ALICE, ["readonly"], expires_at=NOW + timedelta(days=1))
    clock.now += timedelta(days=2)
    assert not await api_keys.usable(short.record.jti)
    assert await api_keys.usable(long_lived.record.jti)
    assert short.record.state(clock.ms()) == "expired"
    with pytest.raises(InvalidArgument, match="in the future"):
        await api_keys.create(ALICE, ["readonly"], expires_at=NOW)
    with pytest.raises(InvalidArgument, match="unknown API key role"):
        await api_keys.create(ALICE, ["root"])


def test_record_round_trip() -> None:
    record = new_api_key(ALICE, ["admin", "readonly"], now_ms=1, label="ci ✓").revoke(5)
    assert decode(encode(record)) == record


# --- a running server ---------------------------------------------------------------------


async def list_secrets(target: str, key: str) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = avs_pb2_grpc.AggregatorStub(channel)
        await stub.ListSecrets(avs_pb2.ListSecretsReq(), metadata=(("authkey", key),), timeout=30)


async def refused(target: str, key: str) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await list_secrets(target, key)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    return info.value.details() or ""


async def test_revoked_through_the_console_is_refused_on_the_next_call(tmp_path: Path) -> None:
    cfg = aggregator_config(tmp_path / "db")
    async with running_aggregator(cfg) as server:
        socket_path = admin_socket_path(cfg.socket_path, cfg.db_path)
        created = await admin_call(
            socket_path, "api-key-create", {"subject": ALICE, "roles": ["readonly"]}
        )
        assert isinstance(created, dict)
        token, jti = str(created["token"]), str(created["id"])
        await list_secrets(server.target, token)
        await list_secrets(server.target, token)  # now remembered by the token cache
        await admin_call(socket_path, "api-key-revoke", {"id": jti})
        details = await refused(server.target, token)
        assert details == "User authentication error: " + REASON_API_KEY_REVOKED
        listed = await admin_call(socket_path, "api-keys")
        assert isinstance(listed, list)
        assert [(k["id"], k["state"]) for k in listed if isinstance(k, dict)] == [(jti, "revoked")]
        assert "token" not in listed[0]  # type: ignore[operator]


# --- the command line, and a second process on the same store ----------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ap_avs",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), LIVENESS)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_issue_revoke_and_a_revocation_written_by_another_process(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db"
    rpc, http = free_port(), free_port()
    cfg = tmp_path / "aggregator.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "db_path": str(db),  # no jwt_secret: development makes one for the store
                "rpc_bind_address": f"127.0.0.1:{rpc}",
                "http_bind_address": f"127.0.0.1:{http}",
                "socket_path": str(tmp_path / "admin.sock"),
                "smart_wallet": {"chain_id": TEST_CHAIN_ID},
            }
        )
    )
    target = f"127.0.0.1:{rpc}"
    # before the first start: the store is created for the key
    code, out, err = await cli(
        "api-key", "create", "-s", ALICE, "--role", "readonly", "--label", "first", "-c", str(cfg)
    )
    assert code == 0, err
    first = out.strip()
    assert "shown once" in err

    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ap_avs", "aggregator", "-c", str(cfg), stderr=asyncio.subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient() as client, asyncio.timeout(LIVENESS):
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{http}/up")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.returncode is None, "aggregator exited early"
                await asyncio.sleep(0.05)
        await list_secrets(target, first)

        # the older spelling, through the running server's console
        code, out, err = await cli("create-api-key", "-s", BOB, "--role", "admin", "-c", str(cfg))
        assert code == 0, err
        second = out.strip()
        await list_secrets(target, second)

        code, out, err = await cli("api-key", "list", "-c", str(cfg))
        assert code == 0, err
        listed = {k["label"]: k for k in json.loads(out)}
        assert {k["state"] for k in listed.values()} == {"active"}
        first_id, second_id = listed["first"]["id"], listed[""]["id"]

        code, out, err = await cli("api-key", "revoke", first_id, "-c", str(cfg))
        assert code == 0, err
        await refused(target, first)
        await list_secrets(target, second)

        # Another process opens the same LMDB store and revokes the second key there: the
        # server sees it on the next call, with no restart and no message.
        async with LmdbKV(db) as store:
            await ApiKeyRepo(store).revoke(second_id, int(datetime.now(UTC).timestamp() * 1000))
        await refused(target, second)

        code, out, err = await cli("api-key", "list", "-c", str(cfg))
        assert {k["state"] for k in json.loads(out)} == {"revoked"}
        code, _, err = await cli("api-key", "revoke", "01" + "z" * 24, "-c", str(cfg))
        assert code == 2
        assert "no API key" in err
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
        _, server_err = await asyncio.wait_for(server.communicate(), LIVENESS)
    assert server.returncode == 0, server_err.decode()[-2000:]
