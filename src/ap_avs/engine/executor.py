"""Running a workflow's graph: every node through the runner registry, ready nodes at once.

The executor owns one run's moving parts: the variables (each finished node adds
``<name> = {input, data}``), the :class:`~ap_avs.domain.graph.Schedule` that says what may run
next, a bound on concurrent nodes, and the steps it records in completion order. A node that
fails (or raises) becomes a failed step; independent branches go on. Secret values are redacted
from everything a step records. It touches the store only through a run's step journal
(``engine/journal.py``): a node with an external effect (:data:`EFFECT_KINDS`) whose outcome an
earlier attempt of the run recorded is not run again (the recorded result is reused), and a
new outcome is committed as soon as the node returns. A step that was in flight at a crash and
could not be settled raises :class:`~ap_avs.errors.EffectInDoubt` out of the run (the worker
retries the run later) instead of being recorded with a guess.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace

import httpx

from ap_avs.clock import now_ms
from ap_avs.domain.execution import Step
from ap_avs.domain.graph import Schedule, plan
from ap_avs.domain.node_kinds import BUILTIN_NODE_KINDS, NodeKinds
from ap_avs.domain.nodes import AnyNodeKind, Edge, Node, NodeKind
from ap_avs.domain.values import JsonValue
from ap_avs.engine.journal import RunJournal, StepLog, with_notes
from ap_avs.engine.templates import TemplateEngine
from ap_avs.errors import EffectInDoubt
from ap_avs.runners.base import (
    EXECUTION_ENGINE_ERROR,
    EngineOptions,
    NodeFailure,
    NodeResult,
    RunContext,
    Runner,
)
from ap_avs.sandbox import Evaluator

logger = logging.getLogger(__name__)

MAX_CONCURRENT_NODES = 16
EFFECT_KINDS = frozenset(
    {NodeKind.REST_API, NodeKind.GRAPHQL_QUERY, NodeKind.ETH_TRANSFER, NodeKind.CONTRACT_WRITE}
)
"""Node kinds whose runners act on the world; their steps are journaled in stored runs."""
REDACTED = "***"


def redact(value: JsonValue, secrets: Sequence[str]) -> JsonValue:
    """``value`` with every occurrence of a secret value replaced by ``***`` (deep)."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: redact(v, secrets) for k, v in value.items()}
    return value


VISIBLE_PARTS = ("data", "input", "headers", "pathParams")
"""The parts of a map variable a step lists as ``<name>.<part>`` when the map has them."""


def visible_inputs(variables: Mapping[str, JsonValue], own_name: str) -> tuple[str, ...]:
    """Names of the variables a step could read: for a map, ``<name>.data``, ``<name>.input``,
    ``<name>.headers``, ``<name>.pathParams`` for each key it has, and the bare name when it has
    neither ``data`` nor ``input``; other values by name. The step's own name and
    ``triggerConfig`` are left out; the secrets show as ``apContext.configVars``."""
    names: list[str] = []
    for key, value in variables.items():
        if key in (own_name, "triggerConfig"):
            continue
        if key == "apContext":
            names.append("apContext.configVars")
            continue
        if isinstance(value, dict):
            names.extend(f"{key}.{part}" for part in VISIBLE_PARTS if part in value)
            if "data" in value or "input" in value:
                continue
        names.append(key)
    return tuple(sorted(names))


@dataclass
class RunState:
    """One run's variables and options, shared by the nodes of that run."""

    variables: MutableMapping[str, JsonValue]
    simulated: bool = False
    secrets: Mapping[str, str] = field(default_factory=dict)
    journal: RunJournal | None = None
    """The run's step journal (stored runs); None for simulations."""
    owner: str | None = None
    """Who the run acts for (passed to every runner as ``RunContext.owner``)."""

    @property
    def secret_values(self) -> list[str]:
        return sorted((v for v in self.secrets.values() if len(v) >= 4), key=len, reverse=True)


class Executor:
    """Runs nodes and graphs; built once by the composition root."""

    def __init__(
        self,
        runners: Mapping[AnyNodeKind, Runner],
        templates: TemplateEngine,
        evaluator: Evaluator,
        http: httpx.AsyncClient,
        options: EngineOptions,
        *,
        kinds: NodeKinds = BUILTIN_NODE_KINDS,
    ) -> None:
        """``runners`` and ``kinds`` come from one :class:`~ap_avs.engine.registry.NodeRegistry`
        (``kinds`` says how a step shows its node's config)."""
        self._runners = runners
        self._kinds = kinds
        self._templates = templates
        self._evaluator = evaluator
        self._http = http
        self.options = options

    def _context(
        self, state: RunState, variables: Mapping[str, JsonValue], step: StepLog | None = None
    ) -> RunContext:
        async def render(
            text: str,
            *,
            where: str,
            json_escape: bool = False,
            extra: Mapping[str, JsonValue] | None = None,
        ) -> str:
            scope = variables if not extra else {**variables, **extra}
            return await self._templates.render(text, scope, where=where, json_escape=json_escape)

        async def run_node(
            node: Node,
            extra: Mapping[str, JsonValue],
            /,
            *,
            iteration: tuple[str, int] | None = None,
        ) -> NodeResult:
            return await self.invoke(node, state, {**variables, **extra}, iteration=iteration)

        return RunContext(
            variables=variables,
            render=render,
            evaluator=self._evaluator,
            http=self._http,
            options=self.options,
            run_node=run_node,
            simulated=state.simulated,
            secrets=state.secrets,
            step=step,
            owner=state.owner,
        )

    async def invoke(
        self,
        node: Node,
        state: RunState,
        variables: Mapping[str, JsonValue],
        *,
        iteration: tuple[str, int] | None = None,
    ) -> NodeResult:
        """Run one node through its runner; problems become a failed result.

        ``iteration`` = ``(loop node id, index)`` for a loop's body. In a stored run a node of
        :data:`EFFECT_KINDS` goes through the step journal.

        Raises:
            EffectInDoubt: an effect's outcome is unknown (the run must be retried).
            StoreError: the journal could not be written.
        """
        step = None
        if state.journal is not None and node.kind in EFFECT_KINDS:
            node_id, index = iteration if iteration is not None else (node.id, None)
            step = await state.journal.open(node_id, index)
            recorded = step.recorded()
            if recorded is not None:
                note = "recorded before a restart; the step was not run again"
                logger.info("step %s: %s", step.id.idempotency_key, note)
                return replace(recorded, log=with_notes(recorded.log, [note]))
        result = await self._call_runner(node, state, variables, step)
        if step is None:
            return result
        if step.in_doubt():
            raise EffectInDoubt(
                f"step {step.id.idempotency_key} was in flight at a restart and could not be "
                f"reconciled: {result.error or 'no outcome'}"
            )
        result = replace(result, log=with_notes(result.log, step.notes))
        await step.finish(result)
        return result

    async def _call_runner(
        self,
        node: Node,
        state: RunState,
        variables: Mapping[str, JsonValue],
        step: StepLog | None,
    ) -> NodeResult:
        runner = self._runners.get(node.kind)
        if runner is None:
            return NodeResult(
                False,
                error=f"node type {node.kind.wire_name} is not supported by this server",
                error_code=EXECUTION_ENGINE_ERROR,
            )
        try:
            return await runner(node, self._context(state, variables, step))
        except NodeFailure as failure:
            return NodeResult(
                False, output=failure.output, error=failure.message, error_code=failure.error_code
            )
        except EffectInDoubt:
            raise
        except Exception:
            logger.exception("runner for %s failed unexpectedly", node.kind.wire_name)
            return NodeResult(
                False,
                error=f"internal error while running node '{node.name}'",
                error_code=EXECUTION_ENGINE_ERROR,
            )

    async def run_step(self, node: Node, state: RunState) -> tuple[Step, NodeResult]:
        """Run one node and record it as a step (redacted)."""
        started = now_ms()
        snapshot = dict(state.variables)
        result = await self.invoke(node, state, snapshot)
        secrets = state.secret_values
        step = Step(
            id=node.id,
            name=node.name,
            kind=node.kind.wire_name,
            success=result.success,
            start_at=started,
            end_at=now_ms(),
            output=redact(result.output, secrets),
            error=str(redact(result.error, secrets)),
            error_code=result.error_code if not result.success else 0,
            log=str(redact(result.log, secrets)),
            inputs=visible_inputs(snapshot, node.name),
            config=self._kinds.display(node),
            metadata=redact(result.metadata, secrets),
            execution_context=result.execution_context
            if result.execution_context is not None
            else {
                "is_simulated": False,
                "provider": "chain_rpc",
                "chain_id": self.options.chain_id,
            },
            gas_used=result.gas_used,
            gas_price=result.gas_price,
            total_gas_cost=result.total_gas_cost,
        )
        return step, result

    async def run_graph(
        self, nodes: Sequence[Node], edges: Sequence[Edge], trigger_id: str, state: RunState
    ) -> list[Step]:
        """Run every reachable node of the graph; steps in completion order."""
        by_id = {n.id: n for n in nodes}
        schedule = Schedule(plan(nodes, edges, trigger_id))
        steps: list[Step] = []
        gate = asyncio.Semaphore(MAX_CONCURRENT_NODES)
        running: dict[asyncio.Task[tuple[Step, NodeResult]], Node] = {}

        async def limited(node: Node) -> tuple[Step, NodeResult]:
            async with gate:
                return await self.run_step(node, state)

        def launch(ids: list[str]) -> None:
            for node_id in ids:
                node = by_id[node_id]
                running[asyncio.create_task(limited(node), name=f"node {node.name}")] = node

        launch(schedule.start())
        try:
            while running:
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    node = running.pop(task)
                    step, result = task.result()
                    steps.append(step)
                    state.variables[node.name] = {
                        "input": step.config,
                        "data": redact(result.node_data, state.secret_values),
                    }
                    launch(schedule.finish(node.id, result.branch if result.success else None))
        finally:
            for task in running:
                task.cancel()
        return steps
