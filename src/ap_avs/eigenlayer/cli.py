"""The operator's EigenLayer commands of ``ap-avs``: ``register``, ``deregister``, ``status`` and
``create-operator-key``.

``cli.py`` mounts them. Each reads the operator config (``-c``): its ``eigenlayer`` section names
the contracts and the operator set, the RPC is ``eigenlayer.eth_rpc_url`` (else ``eth_rpc_url``,
else ``target_chain.eth_rpc_url``), and the key is the keystore ``ecdsa_private_key_store_path``
(password in ``AP_AVS_ECDSA_KEY_PASSWORD``) or, in development, ``ecdsa_private_key``.
Errors print one line (``error: …``, the contracts' reasons decoded) and exit 2; ``status``
exits 1 while something is missing.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from eth_account import Account

from ap_avs.chain import ChainClient
from ap_avs.cli_exit import fail, run_or_fail
from ap_avs.config import OperatorConfig, OperatorEigenLayerConfig, load_operator_config
from ap_avs.eigenlayer._model import WAD, OperatorStanding
from ap_avs.eigenlayer._reader import EigenLayerReader
from ap_avs.eigenlayer._settings import target_of
from ap_avs.eigenlayer._writer import OperatorTransactions
from ap_avs.eigenlayer.keys import PASSWORD_ENV, create_keystore, load_operator_key
from ap_avs.eigenlayer.operator_flow import Outcome, RegisterOptions, deregister, register, status
from ap_avs.errors import ApAvsError, ConfigError, InvalidArgument

T = TypeVar("T")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="the operator's YAML configuration file")
]
DEFAULT_CONFIG = Path("config/operator.yaml")
KeystoreOption = Annotated[
    Path | None,
    typer.Option(
        "--keystore", help=f"encrypted key file (password in ${PASSWORD_ENV}); overrides config"
    ),
]


def _setup(config: Path) -> tuple[OperatorConfig, OperatorEigenLayerConfig, str]:
    try:
        cfg = load_operator_config(config)
        section = cfg.eigenlayer
        if section is None:
            raise ConfigError(
                f"{config} has no 'eigenlayer' section (contracts and operator set); "
                "see docs/operator.md"
            )
        url = section.eth_rpc_url or cfg.eth_rpc_url or cfg.target_chain.eth_rpc_url
        if not url:
            raise ConfigError("config key 'eigenlayer.eth_rpc_url': required (or eth_rpc_url)")
    except ApAvsError as exc:
        fail(exc)
        raise AssertionError("unreachable") from None
    return cfg, section, url


def _key(cfg: OperatorConfig, keystore: Path | None) -> str:
    raw = cfg.ecdsa_private_key.get_secret_value() if cfg.ecdsa_private_key else None
    try:
        key = load_operator_key(
            keystore=keystore or cfg.ecdsa_private_key_store_path or None,
            raw_key=raw,
            environment=cfg.environment,
        )
    except ApAvsError as exc:
        fail(exc)
        raise AssertionError("unreachable") from None
    address = Account.from_key(key).address
    if cfg.operator_address and cfg.operator_address.lower() != address.lower():
        fail(
            ConfigError(
                f"the key is for {address}, but operator_address in the config is "
                f"{cfg.operator_address}"
            )
        )
    return str(key)


def _percent(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text.removesuffix("%"))
    except InvalidOperation:
        fail(InvalidArgument(f"--allocate: {text!r} is not a percentage"))
        raise AssertionError("unreachable") from None


def render(standing: OperatorStanding) -> list[str]:
    """The standing as lines of text (``ap-avs status``)."""
    lines = [f"operator {standing.operator} at block {standing.block}"]
    if standing.registered:
        delay = f"allocation delay {standing.allocation_delay} blocks" + (
            "" if standing.allocation_delay_set else " (not in effect yet)"
        )
        lines.append(f"  EigenLayer operator   registered; {delay}")
    else:
        lines.append("  EigenLayer operator   not registered")
    lines.append(f"  operator set          {'member' if standing.member else 'not a member'}")
    for s in standing.strategies:
        share = Decimal(s.allocated_magnitude * 100) / Decimal(s.max_magnitude or WAD)
        pending = ""
        if s.effect_block and s.effect_block > standing.block:
            after = Decimal((s.allocated_magnitude + s.pending_diff) * 100) / Decimal(
                s.max_magnitude or WAD
            )
            pending = f" (changing to {after:.2f}% at block {s.effect_block})"
        verdict = "ok" if s.slashable >= s.minimum else "below minimum"
        lines.append(f"  strategy {s.strategy}")
        lines.append(
            f"    deposited {s.deposited}, delegated {s.delegated}, allocated {share:.2f}%{pending}"
        )
        lines.append(f"    slashable {s.slashable}, minimum {s.minimum}: {verdict}")
    return lines


def _report(outcome: Outcome) -> None:
    for sent in outcome.sent:
        typer.echo(f"sent: {sent.label} ({sent.tx_hash}, block {sent.block})")
    for skipped in outcome.skipped:
        typer.echo(f"skipped: {skipped}")
    for line in render(outcome.standing):
        typer.echo(line)
    if not outcome.steps:
        typer.echo("ready: a member with the minimum slashable stake; the aggregator admits it")
        return
    typer.echo("missing:")
    for number, step in enumerate(outcome.steps, 1):
        typer.echo(f"  {number}. {step.what}")
        if step.command:
            typer.echo(f"     {step.command}")


def _hint(config: Path) -> str:
    return f"-c {config}"


async def _mine_one(chain: ChainClient) -> None:
    await chain.request("evm_mine", [])


def register_command(
    config: ConfigOption = DEFAULT_CONFIG,
    deposit: Annotated[
        str | None,
        typer.Option(help="tokens to deposit into the strategy first (whole tokens, e.g. 1000)"),
    ] = None,
    allocate: Annotated[
        str | None,
        typer.Option(help="percentage of the strategy to allocate to the operator set (0-100)"),
    ] = None,
    join: Annotated[bool, typer.Option(help="register for the AVS's operator set")] = True,
    wait_seconds: Annotated[
        float, typer.Option(help="wait this long for the allocation delay to take effect")
    ] = 0.0,
    dev_mine: Annotated[
        bool,
        typer.Option(help="local chains only: mine blocks (evm_mine) instead of waiting"),
    ] = False,
    keystore: KeystoreOption = None,
) -> None:
    """Register the operator with EigenLayer and the AVS's operator set (what is missing)."""
    cfg, section, url = _setup(config)
    key = _key(cfg, keystore)
    options = RegisterOptions(
        deposit=deposit,
        allocate_percent=_percent(allocate),
        metadata_uri=section.metadata_uri,
        allocation_delay=section.allocation_delay,
        join=join,
        wait_seconds=wait_seconds if not dev_mine else max(wait_seconds, 30.0),
    )

    async def work() -> Outcome:
        async with ChainClient(url) as chain:
            target = target_of(section)
            reader = EigenLayerReader(chain, target)
            txs = OperatorTransactions(chain, target, key)
            advance = (lambda: _mine_one(chain)) if dev_mine else None
            return await register(reader, txs, options, advance=advance, config_hint=_hint(config))

    _report(run_or_fail(work))


def deregister_command(
    config: ConfigOption = DEFAULT_CONFIG,
    deallocate: Annotated[
        bool, typer.Option(help="also deallocate every configured strategy")
    ] = False,
    keystore: KeystoreOption = None,
) -> None:
    """Leave the AVS's operator set (the aggregator stops admitting the operator)."""
    cfg, section, url = _setup(config)
    key = _key(cfg, keystore)

    async def work() -> Outcome:
        async with ChainClient(url) as chain:
            target = target_of(section)
            reader = EigenLayerReader(chain, target)
            txs = OperatorTransactions(chain, target, key)
            return await deregister(reader, txs, deallocate=deallocate, config_hint=_hint(config))

    _report(run_or_fail(work))


def status_command(
    config: ConfigOption = DEFAULT_CONFIG,
    operator: Annotated[
        str | None, typer.Option(help="operator address (default: the configured key's)")
    ] = None,
    keystore: KeystoreOption = None,
) -> None:
    """Show the operator's EigenLayer standing and what is missing (exit 1 while not ready)."""
    cfg, section, url = _setup(config)
    address = operator or cfg.operator_address or Account.from_key(_key(cfg, keystore)).address

    async def work() -> Outcome:
        async with ChainClient(url) as chain:
            reader = EigenLayerReader(chain, target_of(section))
            return await status(reader, address, _hint(config))

    outcome = run_or_fail(work)
    _report(outcome)
    if outcome.steps:
        raise typer.Exit(1)


def create_key_command(
    keystore: Annotated[Path, typer.Option("--keystore", help="the key file to write")],
) -> None:
    """Create a new operator key in an encrypted keystore (password from the environment)."""
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        fail(ConfigError(f"set the keystore password in the environment variable {PASSWORD_ENV}"))
        return
    try:
        address = create_keystore(keystore, password)
    except ApAvsError as exc:
        fail(exc)
        return
    typer.echo(f"created {keystore} for operator {address}")
