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
from ap_avs.config import load_aggregator_config, load_operator_config
from ap_avs.daemon import run_until_signal
from ap_avs.errors import ApAvsError
from ap_avs.version import __version__

app = typer.Typer(
    name="ap-avs",
    help="Ava Protocol automation AVS: aggregator, operator and tools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="YAML configuration file")]


def _fail(exc: ApAvsError) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(2)


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
        _fail(exc)
        return
    log.configure(cfg.log_level, cfg.log_format)

    async def main(stop: asyncio.Event) -> None:
        await AggregatorApp(cfg).run(stop)

    try:
        run_until_signal(main)
    except ApAvsError as exc:
        _fail(exc)


@app.command()
def operator(config: ConfigOption = Path("config/operator.yaml")) -> None:
    """Run an operator daemon."""
    try:
        cfg = load_operator_config(config)
    except ApAvsError as exc:
        _fail(exc)
        return
    log.configure(cfg.log_level, cfg.log_format)
    typer.echo("the operator daemon is not built yet", err=True)
    raise typer.Exit(1)


def main() -> None:
    """Entry point of the ``ap-avs`` console script."""
    app()
