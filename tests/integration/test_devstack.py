"""The configs `make run` derives from a devnet are valid and point at it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ap_avs.config import AggregatorConfig, OperatorConfig, load_settings
from ap_avs.devnet import DevnetState
from ap_avs.devstack import (
    StackOptions,
    aggregator_settings,
    devnet_options,
    operator_settings,
)

pytestmark = pytest.mark.integration


def test_derived_configs_validate(devnet: DevnetState, tmp_path: Path) -> None:
    options = StackOptions(directory=tmp_path)
    agg = load_settings(AggregatorConfig, aggregator_settings(devnet, options), "derived")
    assert agg.smart_wallet.eth_rpc_url == devnet.rpc_url
    assert agg.smart_wallet.factory_address == devnet.factory
    assert agg.smart_wallet.chain_id == devnet.chain_id
    op = load_settings(OperatorConfig, operator_settings(devnet, options), "derived")
    assert op.operator_address in agg.approved_operators
    assert op.target_chain.eth_rpc_url == devnet.rpc_url


def test_make_run_on_sepolias_chain_id_places_the_sepolia_fixtures(tmp_path: Path) -> None:
    assert devnet_options(StackOptions(chain_id=11155111, directory=tmp_path)).sepolia_fixtures
    assert not devnet_options(StackOptions(directory=tmp_path)).sepolia_fixtures
    forced_off = StackOptions(chain_id=11155111, directory=tmp_path, sepolia_fixtures=False)
    assert not devnet_options(forced_off).sepolia_fixtures
    root = Path(__file__).resolve().parents[2]
    plan = subprocess.run(
        ["make", "-n", "run", "CHAIN_ID=11155111"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "ap-avs dev --chain-id 11155111" in plan
