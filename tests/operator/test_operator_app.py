"""Operator start-up: the key from config or an encrypted keystore, and clear config errors."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from ap_avs.config import OperatorConfig, load_settings
from ap_avs.errors import ConfigError
from ap_avs.operator import OperatorApp
from ap_avs.operator.app import KEY_PASSWORD_ENV, load_signer

KEY = Account.create()


def config(**values: Any) -> OperatorConfig:
    return load_settings(OperatorConfig, values, "test")


def keystore(tmp_path: Path, password: str) -> Path:
    path = tmp_path / "operator.ecdsa.key.json"
    encrypted = Account.encrypt(KEY.key, password, kdf="pbkdf2", iterations=2)
    path.write_text(json.dumps(encrypted))
    return path


async def test_raw_key() -> None:
    signer = await load_signer(config(ecdsa_private_key=KEY.key.hex()))
    assert signer.address == KEY.address


async def test_keystore_with_password_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(ecdsa_private_key_store_path=str(keystore(tmp_path, "s3cret")))
    monkeypatch.setenv(KEY_PASSWORD_ENV, "s3cret")
    assert (await load_signer(cfg)).address == KEY.address
    monkeypatch.setenv(KEY_PASSWORD_ENV, "wrong")
    with pytest.raises(ConfigError, match="cannot decrypt"):
        await load_signer(cfg)
    monkeypatch.delenv(KEY_PASSWORD_ENV)
    with pytest.raises(ConfigError, match=KEY_PASSWORD_ENV):
        await load_signer(cfg)
    assert (await load_signer(cfg, "s3cret")).address == KEY.address


async def test_missing_key_or_keystore() -> None:
    with pytest.raises(ConfigError, match="ecdsa_private_key"):
        await load_signer(config())
    with pytest.raises(ConfigError, match="cannot read keystore"):
        await load_signer(config(ecdsa_private_key_store_path="/nonexistent/key.json"))


async def test_a_taken_health_port_is_a_config_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = config(
            ecdsa_private_key=KEY.key.hex(),
            node_api_ip_port_address=f"127.0.0.1:{port}",
            db_path=str(tmp_path / "db"),
        )
        with pytest.raises(ConfigError, match="node_api_ip_port_address"):
            await asyncio.wait_for(OperatorApp(cfg).run(asyncio.Event()), 10)


async def test_time_only_operator_runs_and_stops(tmp_path: Path) -> None:
    """Without a chain RPC the operator still watches time triggers; stop ends it cleanly."""
    cfg = config(
        ecdsa_private_key=KEY.key.hex(),
        node_api_ip_port_address="127.0.0.1:0",
        aggregator_server_ip_port_address="127.0.0.1:1",  # nothing listens: it keeps retrying
        db_path=str(tmp_path / "db"),
    )
    app = OperatorApp(cfg)
    stop = asyncio.Event()
    task = asyncio.create_task(app.run(stop))
    await asyncio.wait_for(app.wait_started(), 10)
    assert app.roster is not None
    assert {k.name for k in app.roster.kinds} == {"CRON", "FIXED_TIME"}
    assert not app.connected
    stop.set()
    await asyncio.wait_for(task, 10)
