"""How the off-chain runners turn problems into failed results, with secrets hidden.

Every runner here is wrapped in :func:`reporting_failures`: a :class:`NodeFailure` raised
anywhere inside becomes a failed :class:`NodeResult`, and the error and log texts of every
result are passed through :func:`redact` with the run's secret values, so a URL, a remote
answer or a script message can never show a secret. :func:`config_of` checks the node's
config type (a mismatch is a registry bug and raises ``TypeError``).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ap_avs.domain.nodes import Node
from ap_avs.runners.base import NodeFailure, NodeResult, RunContext, failed, redact

ConfigT = TypeVar("ConfigT")

RunnerFunction = Callable[[Node, RunContext], Awaitable[NodeResult]]


def config_of(node: Node, config_type: type[ConfigT]) -> ConfigT:
    """The node's config, checked to be a ``config_type``.

    Raises:
        TypeError: the registry sent the node to the wrong runner (a bug).
    """
    config = node.config
    if not isinstance(config, config_type):
        raise TypeError(f"node {node.id} has a {type(config).__name__}, not a {config_type}")
    return config


def reporting_failures(runner: RunnerFunction) -> RunnerFunction:
    """Wrap ``runner``: NodeFailure → failed result; secret values redacted from error and log."""

    @functools.wraps(runner)
    async def run(node: Node, ctx: RunContext) -> NodeResult:
        try:
            result = await runner(node, ctx)
        except NodeFailure as failure:
            result = failed(failure.message, error_code=failure.error_code, output=failure.output)
        if not ctx.secrets or not (result.error or result.log):
            return result
        return dataclasses.replace(
            result, error=redact(result.error, ctx.secrets), log=redact(result.log, ctx.secrets)
        )

    return run
