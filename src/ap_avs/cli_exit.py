"""How every ``ap-avs`` command ends on an error: the message on stderr and exit status 2.

Shared by the command modules (``cli.py``, ``ops/cli.py``, ``eigenlayer/cli.py``), so a
refusal reads the same whichever command gave it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn, TypeVar

import typer

from ap_avs.errors import ApAvsError

T = TypeVar("T")


def fail(exc: ApAvsError) -> NoReturn:
    """Print ``error: <message>`` and exit with status 2."""
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(2)


def run_or_fail(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` to completion; an ``ApAvsError`` ends the command with :func:`fail`."""
    try:
        return asyncio.run(work())
    except ApAvsError as exc:
        fail(exc)
