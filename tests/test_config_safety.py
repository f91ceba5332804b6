"""Production refuses unsafe settings at start, each named with what to do; development keeps
working with no secrets set."""

from __future__ import annotations

import asyncio
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

from ap_avs.config import AggregatorConfig, load_aggregator_config, load_settings
from ap_avs.config_safety import check_production, secret_problem
from ap_avs.errors import ConfigError
from ap_avs.testing import aggregator_config, running_aggregator

ROOT = Path(__file__).resolve().parents[1]
GOOD_SECRET = (
    "87c0b5d30b4297237410f204b5a5ed35ffa398bbd7ab9843ae4e8448b94ab630"  # openssl rand -hex 32
)
OPERATOR = "0x" + "ab" * 20


def production(**overrides: Any) -> AggregatorConfig:
    data: dict[str, Any] = {
        "environment": "production",
        "jwt_secret": GOOD_SECRET,
        "approved_operators": [OPERATOR],
        "rpc_bind_address": "127.0.0.1:2206",
        "http_bind_address": "127.0.0.1:1323",
    }
    data.update(overrides)
    return load_settings(AggregatorConfig, data, "test")


def test_a_safe_production_config_starts_quietly() -> None:
    assert check_production(production()) == []


@pytest.mark.parametrize(
    ("overrides", "key", "advice"),
    [
        ({"jwt_secret": None}, "jwt_secret", "required in production"),
        (
            {"jwt_secret": "change-me-to-a-long-random-string"},
            "jwt_secret",
            "known placeholder",
        ),
        ({"jwt_secret": "please-changeme-" + "x9" * 10}, "jwt_secret", "known placeholder"),
        ({"jwt_secret": "a1b2c3d4e5f6a7b8c9d0"}, "jwt_secret", "is 20 bytes"),
        ({"jwt_secret": "a" * 48}, "jwt_secret", "low in entropy"),
        ({"jwt_secret": "0123456789" * 4}, "jwt_secret", "low in entropy"),
        ({"jwt_secret": "passwordpasswordpasswordpassword"}, "jwt_secret", "low in entropy"),
        ({"jwt_secret": "Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3"}, "jwt_secret", "low in entropy"),
        ({"approved_operators": []}, "approved_operators", "list the operator addresses"),
        ({"rpc_bind_address": "0.0.0.0:2206"}, "rpc_bind_address", "set tls.cert_file"),
        ({"rpc_bind_address": "10.1.2.3:2206"}, "rpc_bind_address", "allow_plaintext_public"),
        ({"http_bind_address": "[::]:1323"}, "http_bind_address", "bind to 127.0.0.1"),
        ({"http_bind_address": "example.org:1323"}, "http_bind_address", "TLS is not configured"),
    ],
)
def test_each_unsafe_setting_is_refused_naming_its_key(
    overrides: dict[str, Any], key: str, advice: str
) -> None:
    with pytest.raises(ConfigError) as info:
        check_production(production(**overrides))
    message = info.value.message
    assert f"config key '{key}'" in message
    assert advice in message
    assert message.count("config key") == 1  # only this setting is unsafe


def test_every_problem_is_listed_at_once() -> None:
    cfg = production(jwt_secret=None, approved_operators=[], rpc_bind_address="0.0.0.0:2206")
    with pytest.raises(ConfigError) as info:
        check_production(cfg)
    for key in ("jwt_secret", "approved_operators", "rpc_bind_address"):
        assert f"config key '{key}'" in info.value.message


def test_public_plaintext_allowed_behind_a_proxy_with_a_warning() -> None:
    cfg = production(
        rpc_bind_address="0.0.0.0:2206", http_bind_address="", allow_plaintext_public=True
    )
    warnings = check_production(cfg)
    assert len(warnings) == 1
    assert "rpc_bind_address" in warnings[0]
    assert "TLS ends in front" in warnings[0]


def test_public_address_with_tls_is_fine() -> None:
    tls = {"cert_file": "/etc/ap-avs/cert.pem", "key_file": "/etc/ap-avs/key.pem"}
    cfg = production(rpc_bind_address="0.0.0.0:2206", http_bind_address="[::]:1323", tls=tls)
    assert check_production(cfg) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "[::1]"])
def test_loopback_addresses_need_no_tls(host: str) -> None:
    assert check_production(production(rpc_bind_address=f"{host}:2206")) == []


def test_development_checks_nothing() -> None:
    cfg = load_settings(
        AggregatorConfig,
        {"rpc_bind_address": "0.0.0.0:2206", "jwt_secret": "change-me-to-a-long-random-string"},
        "test",
    )
    assert check_production(cfg) == []


def test_the_example_configs_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    example = ROOT / "config" / "aggregator.example.yaml"
    monkeypatch.setenv("AP_AVS_ENVIRONMENT", "production")
    monkeypatch.setenv("AP_AVS_APPROVED_OPERATORS", f'["{OPERATOR}"]')
    cfg = load_aggregator_config(example)
    assert cfg.environment == "production"
    with pytest.raises(ConfigError) as info:
        check_production(cfg)
    assert "config key 'jwt_secret': is a known placeholder" in info.value.message


def test_generated_secrets_pass() -> None:
    for _ in range(200):
        assert secret_problem(secrets.token_hex(32)) is None
        assert secret_problem(secrets.token_urlsafe(32)) is None


async def test_the_program_exits_2_naming_the_key(tmp_path: Path) -> None:
    text = (ROOT / "config" / "aggregator.example.yaml").read_text()
    text = text.replace("environment: development", "environment: production")
    text = text.replace("./data/aggregator", str(tmp_path / "db"))
    assert "environment: production" in text
    cfg = tmp_path / "aggregator.yaml"
    cfg.write_text(text)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ap_avs",
        "aggregator",
        "-c",
        str(cfg),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    message = err.decode()
    assert proc.returncode == 2, message
    assert "config key 'jwt_secret': is a known placeholder" in message
    assert "config key 'approved_operators'" in message
    assert "Traceback" not in message
    assert not (tmp_path / "db").exists()  # refused before anything was created


async def test_development_starts_with_no_secrets_and_keeps_its_generated_ones(
    tmp_path: Path,
) -> None:
    cfg = aggregator_config(tmp_path / "db", jwt_secret=None)
    async with running_aggregator(cfg):
        pass
    first = (tmp_path / "db" / "jwt.secret").read_bytes()
    assert len(first) == 32
    assert (tmp_path / "db" / "jwt.secret").stat().st_mode & 0o777 == 0o600
    async with running_aggregator(cfg):
        pass
    assert (tmp_path / "db" / "jwt.secret").read_bytes() == first


async def test_production_refusal_stops_an_in_process_start(tmp_path: Path) -> None:
    cfg = aggregator_config(tmp_path / "db", environment="production", jwt_secret=None)
    with pytest.raises(ConfigError, match="config key 'jwt_secret'"):
        async with running_aggregator(cfg):
            pass


def test_eigenlayer_admission_replaces_the_allow_list() -> None:
    """With operators admitted by stake, an empty allow-list is no longer a refusal."""
    eigenlayer = {
        "delegation_manager": "0x" + "01" * 20,
        "strategy_manager": "0x" + "02" * 20,
        "allocation_manager": "0x" + "03" * 20,
        "avs": "0x" + "04" * 20,
        "strategies": [{"address": "0x" + "05" * 20, "minimum_stake": 1}],
    }
    assert check_production(production(approved_operators=[], eigenlayer=eigenlayer)) == []
    with pytest.raises(ConfigError, match="config key 'approved_operators'"):
        check_production(production(approved_operators=[]))
