"""The local stack of ``make run``: devnet, aggregator and operator in one process tree.

It starts the devnet (``devnet.py``) with EigenLayer, registers and stakes its one operator
(member of the AVS's operator set with stake allocated), writes ``.devnet/devnet.json`` and the
configs derived from it (``aggregator.yaml``, ``operator.yaml``, both with the ``eigenlayer``
section, so the aggregator admits operators by stake), runs the aggregator in this event loop,
prints how to connect, and stops everything in reverse order when ``stop`` is set.

Raises:
    DevnetError: the chain or the bundler could not start.
    ConfigError: a listen address is taken, or the operator could not be staked.
    ContractRefused: an EigenLayer step of the operator was refused.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ap_avs.aggregator.app import AggregatorApp
from ap_avs.chain import ChainClient
from ap_avs.config import (
    AggregatorConfig,
    EigenLayerConfig,
    load_aggregator_config,
    load_operator_config,
)
from ap_avs.devnet import DevnetOptions, DevnetState, start_devnet
from ap_avs.eigenlayer import EigenLayerReader, OperatorTransactions, target_of
from ap_avs.eigenlayer.operator_flow import Outcome, RegisterOptions, register
from ap_avs.errors import ConfigError
from ap_avs.operator import OperatorApp


@dataclass(frozen=True, slots=True)
class StackOptions:
    """Where the stack listens and keeps its files."""

    chain_id: int = 31337
    rpc_port: int = 0
    block_time: float | None = None
    directory: Path = Path(".devnet")
    grpc_address: str = "127.0.0.1:2206"
    http_address: str = "127.0.0.1:1323"
    operator_health_address: str = "127.0.0.1:9010"
    sepolia_fixtures: bool | None = None
    """Place Sepolia's tokens and feed; None: exactly when ``chain_id`` is Sepolia's."""


SEPOLIA_CHAIN_ID = 11155111


def devnet_options(options: StackOptions) -> DevnetOptions:
    """The devnet of the stack (pure): on Sepolia's chain id it carries Sepolia's fixtures
    (USDC, LINK, WETH and the ETH/USD feed at their Sepolia addresses) unless told otherwise,
    as ``ap-avs devnet --sepolia-fixtures`` does."""
    fixtures = options.sepolia_fixtures
    if fixtures is None:
        fixtures = options.chain_id == SEPOLIA_CHAIN_ID
    return DevnetOptions(
        chain_id=options.chain_id,
        port=options.rpc_port,
        block_time=options.block_time,
        state_file=options.directory / "devnet.json",
        log_dir=options.directory / "logs",
        sepolia_fixtures=fixtures,
        eigenlayer=True,
    )


#: Slashable stake (STAKE, 18 decimals) the devnet's aggregator requires, and what ``make run``
#: deposits and allocates for its operator.
DEVNET_MINIMUM_STAKE = 100 * 10**18
DEVNET_OPERATOR_DEPOSIT = "1000"


def eigenlayer_settings(state: DevnetState) -> dict[str, Any] | None:
    """The ``eigenlayer`` config section for a devnet with EigenLayer (None without)."""
    el = state.eigenlayer
    if el is None:
        return None
    return {
        "eth_rpc_url": state.rpc_url,
        "delegation_manager": el.delegation_manager,
        "strategy_manager": el.strategy_manager,
        "allocation_manager": el.allocation_manager,
        "avs_directory": el.avs_directory,
        "permission_controller": el.permission_controller,
        "avs": el.avs,
        "operator_set_id": el.operator_set_id,
        "strategies": [{"address": el.strategy, "minimum_stake": DEVNET_MINIMUM_STAKE}],
        "refresh_seconds": 30.0,
        "event_poll_seconds": 1.0,
    }


def aggregator_settings(state: DevnetState, options: StackOptions) -> dict[str, Any]:
    """The aggregator configuration for a devnet (pure: the caller writes it). With EigenLayer
    on the devnet, operators are admitted by stake; without, by the allow-list."""
    eigenlayer = eigenlayer_settings(state)
    admission: dict[str, Any] = (
        {"eigenlayer": eigenlayer}
        if eigenlayer is not None
        else {"approved_operators": [state.test_accounts[-1].address]}
    )
    return {
        "environment": "development",
        "rpc_bind_address": options.grpc_address,
        "http_bind_address": options.http_address,
        "db_path": str(options.directory / "aggregator-db"),
        "jwt_secret": secrets.token_hex(32),
        "secrets_key": secrets.token_hex(32),
        **admission,
        "engine": {"allow_private_urls": True},
        "smart_wallet": {
            "eth_rpc_url": state.rpc_url,
            "eth_ws_url": state.ws_url,
            "chain_id": state.chain_id,
            "bundler_url": state.bundler_url or "",
            "factory_address": state.factory,
            "entrypoint_address": state.entrypoint,
            "paymaster_address": state.paymaster,
            "controller_private_key": state.controller.private_key,
        },
    }


def operator_settings(state: DevnetState, options: StackOptions) -> dict[str, Any]:
    """The operator configuration for a devnet (pure)."""
    operator = state.test_accounts[-1]
    settings: dict[str, Any] = {
        "environment": "development",
        "operator_address": operator.address,
        "ecdsa_private_key": operator.private_key,
        "aggregator_server_ip_port_address": options.grpc_address,
        "node_api_ip_port_address": options.operator_health_address,
        "db_path": str(options.directory / "operator-db"),
        "target_chain": {"eth_rpc_url": state.rpc_url, "eth_ws_url": state.ws_url},
    }
    eigenlayer = eigenlayer_settings(state)
    if eigenlayer is not None:
        del eigenlayer["refresh_seconds"], eigenlayer["event_poll_seconds"]
        settings["eigenlayer"] = eigenlayer
    return settings


async def stake_operator(state: DevnetState, private_key: str) -> Outcome:
    """Register ``private_key``'s account as an EigenLayer operator, deposit and allocate all of
    it, and register it for the AVS's operator set (what ``make run`` does for its operator).
    Blocks are mined (evm_mine) while the allocation delay takes effect.

    Raises:
        ContractRefused: a step was refused.
    """
    section = eigenlayer_settings(state)
    if section is None:
        raise ConfigError("this devnet has no EigenLayer (DevnetOptions.eigenlayer)")
    config = EigenLayerConfig(**section)
    async with ChainClient(state.rpc_url) as chain:
        target = target_of(config)
        options = RegisterOptions(
            deposit=DEVNET_OPERATOR_DEPOSIT, allocate_percent=Decimal(100), wait_seconds=30.0
        )

        async def mine() -> None:
            await chain.request("evm_mine", [])

        return await register(
            EigenLayerReader(chain, target),
            OperatorTransactions(chain, target, private_key),
            options,
            advance=mine,
        )


def _set_of(state: DevnetState) -> str:
    el = state.eigenlayer
    return "(none)" if el is None else f"{el.operator_set_id} of AVS {el.avs}"


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    path.chmod(0o600)


async def run_stack(options: StackOptions, stop: asyncio.Event) -> None:
    """Run the whole local stack until ``stop`` is set."""
    started = time.monotonic()
    async with start_devnet(devnet_options(options)) as state:
        staked = await stake_operator(state, state.test_accounts[-1].private_key)
        if staked.steps:
            raise ConfigError(f"the devnet operator is not admitted: {staked.steps[0].what}")
        agg_path = options.directory / "aggregator.yaml"
        _write_yaml(agg_path, aggregator_settings(state, options))
        _write_yaml(options.directory / "operator.yaml", operator_settings(state, options))
        config: AggregatorConfig = load_aggregator_config(agg_path)
        app = AggregatorApp(config)
        aggregator = asyncio.create_task(app.run(stop), name="aggregator")
        waiting = asyncio.create_task(app.wait_serving())
        done, _ = await asyncio.wait({aggregator, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if aggregator in done:
            waiting.cancel()
            aggregator.result()
            return
        operator_config = load_operator_config(options.directory / "operator.yaml")
        operator = asyncio.create_task(
            OperatorApp.from_config(operator_config).run(stop), name="operator"
        )
        user = state.test_accounts[0]
        print(
            f"""
ready in {time.monotonic() - started:.1f} s

  aggregator (gRPC)   {options.grpc_address}   services aggregator.Aggregator, aggregator.Node
  status (HTTP)       http://{options.http_address}/up   /metrics
  chain RPC           {state.rpc_url}   (chain id {state.chain_id})
  bundler             {state.bundler_url}
  funded test EOA     {user.address}   key {user.private_key}
  operator            {operator_config.operator_address}   health http://{options.operator_health_address}/up
  EigenLayer          operator set {_set_of(state)}, {DEVNET_OPERATOR_DEPOSIT} STAKE allocated
                      .venv/bin/ap-avs status -c {options.directory / "operator.yaml"}
  telemetry           http://{options.http_address}/telemetry

  JS SDK:  new Client({{ endpoint: "{options.grpc_address}" }})
  API key: .venv/bin/ap-avs create-api-key --role admin --subject {user.address} -c {agg_path}

Ctrl-C stops everything.""",
            flush=True,
        )
        await asyncio.gather(aggregator, operator)
