"""The ``ap-avs`` program as a user runs it: version, config errors, serve and stop on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import grpc
import httpx

from ap_avs.testing import TEST_JWT_SECRET

CLI = [sys.executable, "-m", "ap_avs"]


async def run(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_version() -> None:
    code, out, _ = await run("version")
    assert code == 0
    assert out.strip()


async def test_config_error_is_one_clear_line(tmp_path: Path) -> None:
    cfg = tmp_path / "a.yaml"
    cfg.write_text(f"jwt_secret: {TEST_JWT_SECRET}\nrpc_bind_address: bad\n")
    code, _, err = await run("aggregator", "-c", str(cfg))
    assert code == 2
    assert "config key 'rpc_bind_address'" in err
    assert "Traceback" not in err


async def test_aggregator_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    http_port = free_port()
    cfg = tmp_path / "a.yaml"
    cfg.write_text(
        f"jwt_secret: {TEST_JWT_SECRET}\n"
        f"db_path: {tmp_path / 'db'}\n"
        f"rpc_bind_address: 127.0.0.1:{free_port()}\n"
        f"http_bind_address: 127.0.0.1:{http_port}\n"
        "log_format: json\n"
        "smart_wallet:\n  chain_id: 31337\n"
    )
    proc = await asyncio.create_subprocess_exec(
        *CLI, "aggregator", "-c", str(cfg), stderr=asyncio.subprocess.PIPE
    )
    try:
        async with httpx.AsyncClient() as http, asyncio.timeout(30):
            while True:
                try:
                    if (await http.get(f"http://127.0.0.1:{http_port}/up")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.returncode is None, "aggregator exited early"
                await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert b"aggregator stopped" in err


async def test_create_api_key_prints_a_key_the_server_accepts(tmp_path: Path) -> None:
    from ap_avs._proto import avs_pb2, avs_pb2_grpc
    from ap_avs.testing import aggregator_config, running_aggregator

    cfg = tmp_path / "a.yaml"
    db = tmp_path / "db"
    cfg.write_text(
        f"jwt_secret: {TEST_JWT_SECRET}\ndb_path: {db}\nsmart_wallet:\n  chain_id: 31337\n"
    )
    subject = "0x" + "12" * 20
    code, out, err = await run(
        "create-api-key", "--role", "admin", "--subject", subject, "-c", str(cfg)
    )
    assert code == 0, err
    async with (
        running_aggregator(aggregator_config(db)) as server,
        grpc.aio.insecure_channel(server.target) as channel,
    ):
        stub = avs_pb2_grpc.AggregatorStub(channel)
        await stub.ListSecrets(avs_pb2.ListSecretsReq(), metadata=(("authkey", out.strip()),))

    code, _, err = await run(
        "create-api-key", "--role", "wizard", "--subject", subject, "-c", str(cfg)
    )
    assert code == 2
    assert "role" in err
