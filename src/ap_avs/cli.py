"""The ``ap-avs`` command line: one verb per daemon or tool, as upstream's binary has.

Each command loads its configuration (which never connects to anything), sets up logging and
hands over to the daemon's ``app.py``. Configuration errors print one clear line and exit 2.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from ap_avs import log
from ap_avs.cli_exit import fail
from ap_avs.config import load_aggregator_config, load_operator_config
from ap_avs.daemon import run_until_signal
from ap_avs.eigenlayer import cli as el_cli
from ap_avs.errors import ApAvsError
from ap_avs.ops import cli as ops_cli
from ap_avs.version import __version__

app = typer.Typer(
    name="ap-avs",
    help="Ava Protocol automation AVS: aggregator, operator and tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="YAML configuration file")]


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def aggregator(config: ConfigOption = Path("config/aggregator.yaml")) -> None:
    """Run the aggregator (gRPC on rpc_bind_address, HTTP status on http_bind_address)."""
    from ap_avs.aggregator.app import AggregatorApp

    try:
        cfg = load_aggregator_config(config)
    except ApAvsError as exc:
        fail(exc)
        return
    log.configure(cfg.log_level, cfg.log_format)

    async def main(stop: asyncio.Event) -> None:
        await AggregatorApp(cfg).run(stop)

    try:
        run_until_signal(main)
    except ApAvsError as exc:
        fail(exc)


@app.command()
def operator(config: ConfigOption = Path("config/operator.yaml")) -> None:
    """Run an operator daemon."""
    try:
        cfg = load_operator_config(config)
    except ApAvsError as exc:
        fail(exc)
        return
    log.configure(cfg.log_level, cfg.log_format)
    from ap_avs.operator import OperatorApp

    async def main(stop: asyncio.Event) -> None:
        await OperatorApp.from_config(cfg).run(stop)

    try:
        run_until_signal(main)
    except ApAvsError as exc:
        fail(exc)


@app.command()
def devnet(
    chain_id: Annotated[int, typer.Option(help="chain id of the local chain")] = 31337,
    port: Annotated[int, typer.Option(help="RPC port; 0 picks a free one")] = 0,
    block_time: Annotated[
        float | None, typer.Option(help="seconds per block; default: mine on demand")
    ] = None,
    state: Annotated[Path, typer.Option(help="where to write the JSON state")] = Path(
        ".devnet/devnet.json"
    ),
    sepolia_fixtures: Annotated[
        bool, typer.Option(help="also place Sepolia's USDC/LINK/WETH and ETH/USD feed")
    ] = False,
    eigenlayer: Annotated[
        bool, typer.Option(help="also deploy EigenLayer's core and the AVS's operator set")
    ] = False,
) -> None:
    """Run a local chain with the account-abstraction contracts and a bundler."""
    from ap_avs.devnet import DevnetError, DevnetOptions, run_devnet

    log.configure("info", "console")
    options = DevnetOptions(
        chain_id=chain_id,
        port=port,
        block_time=block_time,
        state_file=state,
        sepolia_fixtures=sepolia_fixtures,
        eigenlayer=eigenlayer,
    )
    try:
        run_until_signal(lambda stop: run_devnet(options, stop))
    except DevnetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def faucet(
    ctx: typer.Context,
    address: Annotated[
        str | None, typer.Argument(help="the address to fund (an EOA or a smart wallet)")
    ] = None,
    eth: Annotated[
        str | None, typer.Option(help="ETH to add (default 1 when no --token is given)")
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="fund this EOA's smart wallets (with --salts)")
    ] = None,
    salts: Annotated[str, typer.Option(help="wallet salts of --owner: 0-9, 3 or 0,2,5")] = "0",
    state: Annotated[Path, typer.Option(help="the devnet's state file")] = Path(
        ".devnet/devnet.json"
    ),
) -> None:
    """Fund an address, or an owner's smart wallets, on the local devnet.

    Tokens: add `--token SYMBOL AMOUNT` (repeatable), e.g. `--token TUSD 100 --token TEST 1.5`.
    """
    from ap_avs.devnet.faucet import (
        FaucetError,
        fund,
        load_state,
        parse_salts,
        parse_token_args,
        plan_grants,
        wallet_addresses,
    )

    try:
        tokens = parse_token_args(ctx.args)
        if (address is None) == (owner is None):
            raise FaucetError("give either an ADDRESS or --owner EOA (with --salts)")
        try:
            devnet_state = load_state(state.read_text())
        except OSError as exc:
            raise FaucetError(f"cannot read {state} (is `make run` up?): {exc}") from None

        async def main() -> None:
            targets = (
                [address]
                if address is not None
                else await wallet_addresses(devnet_state, str(owner), parse_salts(salts))
            )
            grants = plan_grants(devnet_state, targets, eth, tokens)
            for funded in await fund(devnet_state, grants):
                held = "".join(f"  {units} {symbol}" for symbol, units in funded.tokens)
                typer.echo(f"{funded.address}  {funded.eth_wei} wei{held}")

        asyncio.run(main())
    except FaucetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def dev(
    chain_id: Annotated[int, typer.Option(help="chain id of the local chain")] = 31337,
    rpc_port: Annotated[int, typer.Option(help="chain RPC port; 0 picks a free one")] = 0,
    directory: Annotated[Path, typer.Option(help="where state and configs go")] = Path(".devnet"),
    sepolia_fixtures: Annotated[
        bool | None,
        typer.Option(
            "--sepolia-fixtures/--no-sepolia-fixtures",
            help="place Sepolia's USDC/LINK/WETH and ETH/USD feed (default: on chain 11155111)",
        ),
    ] = None,
) -> None:
    """Run the whole local stack (what `make run` does): devnet, aggregator, operator."""
    from ap_avs.devnet import DevnetError
    from ap_avs.devstack import StackOptions, run_stack

    log.configure("info", "console")
    options = StackOptions(
        chain_id=chain_id,
        rpc_port=rpc_port,
        directory=directory,
        sepolia_fixtures=sepolia_fixtures,
    )
    try:
        run_until_signal(lambda stop: run_stack(options, stop))
    except DevnetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except ApAvsError as exc:
        fail(exc)


app.command("create-api-key", help="Same as `api-key create`.")(ops_cli.api_key_create)

app.command("register")(el_cli.register_command)
app.command("deregister")(el_cli.deregister_command)
app.command("status")(el_cli.status_command)
app.command("create-operator-key")(el_cli.create_key_command)
app.command("backup")(ops_cli.backup)
app.command("restore")(ops_cli.restore)
app.command("migrate")(ops_cli.migrate)
app.add_typer(ops_cli.api_key_app, name="api-key")
app.add_typer(ops_cli.admin_app, name="admin")


def main() -> None:
    """Entry point of the ``ap-avs`` console script."""
    app()
