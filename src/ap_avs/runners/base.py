"""What every node runner receives and returns.

A runner is ``async def run(node: Node, ctx: RunContext) -> NodeResult``. It reads its node's
config, renders templates with ``ctx.render``, does its one job (an HTTP call, a script, a
contract call …) and returns a :class:`NodeResult`. A problem the user can fix (bad URL, HTTP
404, script error, unresolved variable) is a failed result, never an exception: the workflow
goes on with the other branches. Runners never touch the store or protobuf.

Raises (from helpers here):
    NodeFailure: inside a runner, to fail the node with a message; the executor turns it into
        a failed result.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

import httpx

from ap_avs.domain.nodes import Node
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ErrorCode
from ap_avs.sandbox import CODE_LIMITS, Evaluator, Limits

# The ErrorCode members steps use most, by their short names.
INVALID_REQUEST: Final = ErrorCode.INVALID_REQUEST
INVALID_TRIGGER_CONFIG: Final = ErrorCode.INVALID_TRIGGER_CONFIG
INVALID_NODE_CONFIG: Final = ErrorCode.INVALID_NODE_CONFIG
MISSING_REQUIRED_FIELD: Final = ErrorCode.MISSING_REQUIRED_FIELD
RPC_NODE_ERROR: Final = ErrorCode.RPC_NODE_ERROR
SIMULATION_ERROR: Final = ErrorCode.SIMULATION_ERROR
EXECUTION_ENGINE_ERROR: Final = ErrorCode.EXECUTION_ENGINE_ERROR

SIMULATION_PROVIDER = "tenderly"
"""The ``execution_context.provider`` of a simulated contract write and a simulated trigger:
upstream's literal, kept for clients, whatever tool the simulation used."""


class NodeFailure(Exception):
    """Fail the running node with ``message`` (shown to the user) and an ``error_code``."""

    def __init__(
        self, message: str, *, error_code: int = INVALID_REQUEST, output: JsonValue = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.output = output


@dataclass(frozen=True, slots=True)
class NodeResult:
    """What a node run produced.

    ``output`` goes into the step's typed output; ``data`` (defaults to ``output``) is what later
    nodes read as ``<name>.data``. ``branch`` is the chosen ``<branchId>.<conditionId>`` of a
    branch node (None: no path taken).
    """

    success: bool
    output: JsonValue = None
    error: str = ""
    error_code: int = 0
    log: str = ""
    metadata: JsonValue = None
    execution_context: JsonValue = None
    branch: str | None = None
    data: JsonValue = None
    has_data: bool = False
    gas_used: str = ""
    gas_price: str = ""
    total_gas_cost: str = ""

    @property
    def node_data(self) -> JsonValue:
        return self.data if self.has_data else self.output


def redact(text: str, secrets: Mapping[str, str] | Iterable[str]) -> str:
    """``text`` with every secret value (and its URL- and JSON-escaped forms) replaced by ``***``.

    Use it on every error or log text that may quote user input, URLs or remote answers.
    Longer secrets are replaced first, so a secret containing another is hidden whole.
    """
    values = secrets.values() if isinstance(secrets, Mapping) else secrets
    forms = {
        form
        for value in values
        if value
        for form in (
            value,
            urllib.parse.quote(value, safe=""),
            urllib.parse.quote_plus(value, safe=""),
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
        )
    }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def failed(
    message: str, *, error_code: int = INVALID_REQUEST, output: JsonValue = None
) -> NodeResult:
    return NodeResult(False, output=output, error=message, error_code=error_code)


class Renderer(Protocol):
    async def __call__(
        self,
        text: str,
        *,
        where: str,
        json_escape: bool = False,
        extra: Mapping[str, JsonValue] | None = None,
    ) -> str:
        """``text`` with every ``{{ expression }}`` replaced.

        Raises:
            NodeFailure: a template did not resolve (``could not resolve variable …``).
        """


class NodeInvoker(Protocol):
    """Runs another node (a loop body) through the registry, with extra variables;
    ``iteration`` = ``(loop node id, index)`` names the step in the journal."""

    def __call__(
        self,
        node: Node,
        extra: Mapping[str, JsonValue],
        /,
        *,
        iteration: tuple[str, int] | None = None,
    ) -> Awaitable[NodeResult]: ...


class StepLedger(Protocol):
    """The journal of the step a runner is running (``engine/journal.py`` implements it).

    Present (``RunContext.step``) in stored runs only; a runner with an external effect commits
    its intent with :meth:`intend` right before it sends, and reads :attr:`prior` to learn that
    an earlier attempt of the step (before a restart) committed an intent and no outcome.
    """

    @property
    def idempotency_key(self) -> str:
        """``<execution id>:<node id>[:<iteration>]``."""

    @property
    def nonce_key(self) -> int:
        """The 192-bit EntryPoint nonce key of this step's UserOp."""

    @property
    def attempt(self) -> int:
        """1 on the first run of the step; one more after each restart that found its intent."""

    @property
    def prior(self) -> JsonValue:
        """The identity of an earlier attempt's intent (None when there was none)."""

    async def intend(self, kind: str, identity: JsonValue) -> None:
        """Commit the intent: ``kind`` (``userop``/``http``) and what will be sent."""

    def reconciled(self) -> None:
        """The earlier attempt's effect was found to have happened (nothing sent again)."""

    def reached(self, point: str) -> None:
        """A point of the step was reached (``after-send``): for the test-only fault hook."""

    def note(self, text: str) -> None:
        """Add a line to the step's log (e.g. that it was resent after a restart)."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Engine-wide settings runners read."""

    http_timeout_seconds: float = 30.0
    max_response_bytes: int = 10 * 1024 * 1024
    max_loop_iterations: int = 1000
    loop_parallelism: int = 10
    default_iteration_timeout_seconds: float = 30.0
    chain_id: int = 0
    allow_private_urls: bool = True
    code_limits: Limits = CODE_LIMITS
    """Sandbox limits of a custom-code node (templates, branches and filters use the pool's)."""


@dataclass(frozen=True, slots=True)
class RunContext:
    """Everything a runner may use for one node run."""

    variables: Mapping[str, JsonValue]
    """The run's variables at the moment this node starts (read-only)."""
    render: Renderer
    evaluator: Evaluator
    http: httpx.AsyncClient
    options: EngineOptions
    run_node: NodeInvoker
    simulated: bool = False
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Secret values of this run (for runners that need e.g. an API key); never log them."""
    step: StepLedger | None = None
    """The step's journal in stored runs (effects sent at most once); None in simulations."""
    owner: str | None = None
    """Who the run acts for: the workflow's owner (deployed runs) or the authenticated caller
    (RunNodeWithInputs, SimulateTask). On-chain runners act only for this owner's wallets and
    refuse to run without one; ``settings.owner`` comes from the user and is never trusted."""


Runner = Callable[[Node, RunContext], Awaitable[NodeResult]]
"""``async def run(node, ctx) -> NodeResult``: what every runner module exposes."""
