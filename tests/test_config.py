"""Configuration loading: upstream keys accepted, every error names its key, env overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from ap_avs.config import (
    DEFAULT_FACTORY,
    load_aggregator_config,
    load_operator_config,
)
from ap_avs.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SECRET = "a-test-secret-of-enough-length"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_example_files_load() -> None:
    agg = load_aggregator_config(ROOT / "config" / "aggregator.example.yaml")
    assert agg.rpc_host_port == ("127.0.0.1", 2206)
    assert agg.http_host_port == ("127.0.0.1", 1323)
    assert agg.smart_wallet.factory_address == DEFAULT_FACTORY
    op = load_operator_config(ROOT / "config" / "operator.example.yaml")
    assert op.aggregator_server_ip_port_address == "127.0.0.1:2206"


def test_defaults_from_a_minimal_file(tmp_path: Path) -> None:
    cfg = load_aggregator_config(write(tmp_path, f"jwt_secret: {SECRET}\n"))
    assert cfg.rpc_bind_address == "127.0.0.1:2206"
    assert cfg.smart_wallet.max_wallets_per_owner == 2000
    assert cfg.jwt_secret is not None
    assert cfg.jwt_secret.get_secret_value() == SECRET
    assert SECRET not in repr(cfg)


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("jwt_secret: x\n", "jwt_secret", "at least 16"),
        ("tls:\n  cert_file: a.pem\n", "tls", "cert_file and key_file go together"),
        ("tls:\n  client_ca_file: ca.pem\n", "tls", "needs cert_file and key_file"),
        ("aggregator_tls: true\n", "aggregator_tls", "unknown key"),
        (f"jwt_secret: {SECRET}\nrpc_bind_addres: x\n", "rpc_bind_addres", "unknown key"),
        (f"jwt_secret: {SECRET}\nrpc_bind_address: nonsense\n", "rpc_bind_address", "host:port"),
        (
            f"jwt_secret: {SECRET}\nsmart_wallet:\n  factory_address: 0x12\n",
            "smart_wallet.factory_address",
            "20-byte hex address",
        ),
        (
            f"jwt_secret: {SECRET}\nsmart_wallet:\n  max_wallets_per_owner: 5000\n",
            "smart_wallet.max_wallets_per_owner",
            "at most 2000",
        ),
        (
            f"jwt_secret: {SECRET}\nsmart_wallet:\n  controller_private_key: '0xzz'\n",
            "smart_wallet.controller_private_key",
            "private key",
        ),
        (f"jwt_secret: {SECRET}\nenvironment: staging\n", "environment", ""),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_aggregator_config(write(tmp_path, text))
    assert f"config key '{key}'" in info.value.message
    assert reason in info.value.message


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_aggregator_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_aggregator_config(write(tmp_path, "a: [\n"))
    with pytest.raises(ConfigError, match="mapping"):
        load_aggregator_config(write(tmp_path, "- 1\n- 2\n"))


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AP_AVS_RPC_BIND_ADDRESS", "127.0.0.1:3000")
    monkeypatch.setenv("AP_AVS_SMART_WALLET__BUNDLER_URL", "http://127.0.0.1:4337")
    cfg = load_aggregator_config(write(tmp_path, f"jwt_secret: {SECRET}\n"))
    assert cfg.rpc_host_port == ("127.0.0.1", 3000)
    assert cfg.smart_wallet.bundler_url == "http://127.0.0.1:4337"


def test_bad_environment_value_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AP_AVS_HTTP_BIND_ADDRESS", "nope")
    with pytest.raises(ConfigError, match="config key 'http_bind_address'"):
        load_aggregator_config(write(tmp_path, f"jwt_secret: {SECRET}\n"))


def test_unquoted_hex_stays_a_string(tmp_path: Path) -> None:
    address = "0x00000000000000000000000000000000000000Ab"
    cfg = load_aggregator_config(
        write(tmp_path, f"jwt_secret: {SECRET}\nsmart_wallet:\n  factory_address: {address}\n")
    )
    assert cfg.smart_wallet.factory_address == address


def test_retention_overrides_stay_within_the_limits() -> None:
    from ap_avs.config import AggregatorConfig, load_settings
    from ap_avs.errors import ConfigError

    base = {"jwt_secret": "x" * 16}
    wf = "01JD5X3M6Y8Q2W4E6R8T0Y2V4Z"
    ok = load_settings(
        AggregatorConfig,
        {**base, "retention": {"workflows": {wf: {"executions_per_workflow": 50}}}},
        "test",
    )
    assert ok.retention.workflows[wf.lower()].executions_per_workflow == 50
    assert ok.retention.execution_max_age_days == 30
    assert ok.retention.executions_per_workflow == 10_000
    for bad, message in (
        ({wf: {"execution_max_age_days": 366}}, "at most max_override_days"),
        ({wf: {"executions_per_workflow": 100_001}}, "at most max_override_executions"),
        ({"not-an-id": {}}, "is not a workflow id"),
        ({wf: {"executions_per_workflow": 0}}, "greater than 0"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_settings(AggregatorConfig, {**base, "retention": {"workflows": bad}}, "test")


def test_idempotency_marks_must_outlive_the_report_window() -> None:
    from ap_avs.config import AggregatorConfig, load_settings

    data = {
        "retention": {"idempotency_window_hours": 48},
        "verification": {"max_report_age_hours": 72},
    }
    with pytest.raises(
        ConfigError, match=r"must be longer than verification\.max_report_age_hours"
    ):
        load_settings(AggregatorConfig, data, "test")
    fine = {
        "retention": {"idempotency_window_hours": 96},
        "verification": {"max_report_age_hours": 72},
    }
    assert load_settings(AggregatorConfig, fine, "test").verification.max_report_age_hours == 72
