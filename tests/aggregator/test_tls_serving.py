"""An aggregator serving TLS with a certificate from a private CA made in the test: the Python
client and the operator daemon connect and verify it; a plaintext client, a client that does not
trust the CA, and (with a client CA) a client without a certificate are refused; HTTP is HTTPS."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from eth_account import Account
from tls_certs import (
    Pki,
    make_pki,
)  # beside this file (a top-level `tests` package of a dependency shadows ours)

from ap_avs._proto import avs_pb2
from ap_avs.client import AvsClient
from ap_avs.config import OperatorConfig, load_settings
from ap_avs.operator import OperatorApp
from ap_avs.ops import admin_call, admin_socket_path
from ap_avs.testing import RunningAggregator, aggregator_config, running_aggregator, user_key

OWNER = Account.create().address
LIVENESS = 30.0
"""Liveness guard: a local TLS handshake and stream take well under a second; 30 s is generous."""


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@pytest.fixture
async def server(tmp_path: Path, pki: Pki) -> AsyncIterator[RunningAggregator]:
    tls = {"cert_file": str(pki.server.cert), "key_file": str(pki.server.key)}
    async with running_aggregator(aggregator_config(tmp_path / "db", tls=tls)) as running:
        yield running


async def list_secrets(client: AvsClient) -> None:
    await client.call("ListSecrets", avs_pb2.ListSecretsReq(), deadline=LIVENESS)


async def test_python_client_over_tls_and_plaintext_refused(
    server: RunningAggregator, pki: Pki
) -> None:
    port = server.rpc_port
    key = user_key(OWNER)
    async with AvsClient(f"https://127.0.0.1:{port}", auth_key=key, ca_file=pki.ca.cert) as ok:
        await list_secrets(ok)
        # sign-in works too (GetSignatureFormat and GetKey over TLS)
        account = Account.create()
        await ok.sign_in(account.key)
        await list_secrets(ok)
    async with AvsClient(f"localhost:{port}", tls=True, auth_key=key, ca_file=pki.ca.cert) as ok:
        await list_secrets(ok)

    refused = {
        "plaintext": AvsClient(f"127.0.0.1:{port}", auth_key=key),
        "untrusted CA": AvsClient(
            f"https://127.0.0.1:{port}", auth_key=key, ca_file=pki.other_ca.cert
        ),
        "wrong name": AvsClient(
            f"https://127.0.0.1:{port}", auth_key=key, ca_file=pki.ca.cert, server_name="evil.test"
        ),
    }
    for what, client in refused.items():
        async with client:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await client.call("ListSecrets", avs_pb2.ListSecretsReq(), deadline=5)
            assert info.value.code() is grpc.StatusCode.UNAVAILABLE, what


async def test_http_side_is_https(server: RunningAggregator, pki: Pki) -> None:
    trust = ssl.create_default_context(cafile=str(pki.ca.cert))
    async with httpx.AsyncClient(verify=trust, timeout=LIVENESS) as http:
        response = await http.get(f"https://127.0.0.1:{server.http_port}/up")
        assert response.status_code == 200
    async with httpx.AsyncClient(timeout=LIVENESS) as plain:
        with pytest.raises(httpx.TransportError):
            await plain.get(f"http://127.0.0.1:{server.http_port}/up")


async def test_operator_daemon_connects_over_tls(
    server: RunningAggregator, pki: Pki, tmp_path: Path
) -> None:
    operator = Account.create()
    cfg = load_settings(
        OperatorConfig,
        {
            "ecdsa_private_key": operator.key.hex(),
            "aggregator_server_ip_port_address": f"https://127.0.0.1:{server.rpc_port}",
            "aggregator_tls": {"ca_file": str(pki.ca.cert)},
            "node_api_ip_port_address": "127.0.0.1:0",
            "db_path": str(tmp_path / "operator"),
        },
        "test",
    )
    app = OperatorApp(cfg, ping_interval=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(app.run(stop))
    try:
        socket = admin_socket_path(server.app.config.socket_path, server.app.config.db_path)
        async with asyncio.timeout(LIVENESS):
            while True:
                listed = await admin_call(socket, "operators")
                assert isinstance(listed, list)
                seen = [op for op in listed if isinstance(op, dict) and op.get("connected")]
                if app.connected and any(
                    str(op.get("address", "")).lower() == operator.address.lower() for op in seen
                ):
                    break
                assert not task.done(), "the operator stopped"
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, LIVENESS)


async def test_client_certificates_when_a_client_ca_is_set(tmp_path: Path, pki: Pki) -> None:
    tls = {
        "cert_file": str(pki.server.cert),
        "key_file": str(pki.server.key),
        "client_ca_file": str(pki.ca.cert),
    }
    async with running_aggregator(aggregator_config(tmp_path / "db", tls=tls)) as server:
        target = f"https://127.0.0.1:{server.rpc_port}"
        async with AvsClient(target, auth_key=user_key(OWNER), ca_file=pki.ca.cert) as anonymous:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await anonymous.call("ListSecrets", avs_pb2.ListSecretsReq(), deadline=5)
            assert info.value.code() is grpc.StatusCode.UNAVAILABLE

        operator = Account.create()
        cfg = load_settings(
            OperatorConfig,
            {
                "ecdsa_private_key": operator.key.hex(),
                "aggregator_server_ip_port_address": f"127.0.0.1:{server.rpc_port}",
                "aggregator_tls": {
                    "enabled": True,
                    "ca_file": str(pki.ca.cert),
                    "cert_file": str(pki.client.cert),
                    "key_file": str(pki.client.key),
                },
                "node_api_ip_port_address": "127.0.0.1:0",
                "db_path": str(tmp_path / "operator"),
            },
            "test",
        )
        app = OperatorApp(cfg, ping_interval=0.2)
        stop = asyncio.Event()
        task = asyncio.create_task(app.run(stop))
        try:
            async with asyncio.timeout(LIVENESS):
                while not app.connected:
                    assert not task.done(), "the operator stopped"
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(task, LIVENESS)
