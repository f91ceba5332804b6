"""Logging set-up and the context (workflow, execution, operator ids) stamped on every record.

Modules log through the standard library (``logger = logging.getLogger(__name__)``, lazy ``%s``
arguments). :func:`configure` routes those records through structlog, which renders them as JSON
lines or for a console and adds the values bound with :func:`log_context`. Only the daemons'
``app.py`` call :func:`configure`.

Usage::

    with log_context(task_id=task.id):
        logger.info("execution queued: %s", execution_id)
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_LEVELS["error"] = logging.ERROR


def configure(
    level: Literal["debug", "info", "warning", "error"] = "info",
    fmt: Literal["console", "json"] = "console",
) -> None:
    """Send all standard-library log records to stderr through structlog's renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
    for noisy in ("grpc", "uvicorn.access", "httpx", "httpcore", "web3", "asyncio"):
        logging.getLogger(noisy).setLevel(max(_LEVELS[level], logging.WARNING))


@contextmanager
def log_context(**values: str) -> Iterator[None]:
    """Bind ``values`` to every record logged inside the block (task-local, via contextvars)."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
