"""Running without storing: one node (RunNodeWithInputs), one trigger (RunTrigger), or a whole
draft workflow (SimulateTask).

Nothing here writes to the store, and every run is in simulation mode: on-chain runners
estimate or call, they never send a UserOp (LESSONS 24). Off-chain nodes (REST, GraphQL,
custom code) run for real, as a user testing a workflow expects.

Raises:
    InvalidArgument: a draft a run cannot follow (settings, names, event templates, graph;
        see :func:`ap_avs.domain.validation.validate_simulation`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ap_avs.chain import ChainClient
from ap_avs.chain.tokens import read_erc20_metadata
from ap_avs.clock import now_ms
from ap_avs.domain import ids
from ap_avs.domain.erc20 import Erc20Metadata
from ap_avs.domain.events import EventIndex, Log
from ap_avs.domain.execution import Execution, ExecutionStatus, Step, summarize
from ap_avs.domain.manual_data import manual_data_problem
from ap_avs.domain.nodes import Node
from ap_avs.domain.sample_event import sample_event_data
from ap_avs.domain.trigger_data import (
    block_data,
    event_data,
    is_erc20_transfer,
    parse_header,
    parse_log,
    time_data,
)
from ap_avs.domain.triggers import (
    EventTriggerConfig,
    ManualTriggerConfig,
    Trigger,
    TriggerKind,
)
from ap_avs.domain.validation import WorkflowLimits, validate_simulation
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import WorkflowDraft
from ap_avs.engine.executor import Executor, RunState
from ap_avs.engine.node_view import single_node_view
from ap_avs.engine.queue import FiredTrigger
from ap_avs.engine.runs import FeeRates, fees, trigger_step
from ap_avs.engine.secrets import RunSecrets
from ap_avs.engine.variables import run_variables
from ap_avs.errors import ApAvsError, Unavailable
from ap_avs.runners.base import INVALID_TRIGGER_CONFIG, RPC_NODE_ERROR, SIMULATION_PROVIDER

EVENT_SEARCH_BLOCKS = 5000


@dataclass(frozen=True, slots=True)
class TriggerRun:
    """What evaluating a trigger now gave."""

    success: bool
    data: JsonValue = None
    error: str = ""
    error_code: int = 0
    metadata: JsonValue = None


async def _token_or_none(chain: ChainClient, address: str) -> Erc20Metadata | None:
    try:
        return await read_erc20_metadata(chain, address)
    except Unavailable:
        return None


class Simulator:
    """RunNodeWithInputs, RunTrigger and SimulateTask for authenticated owners."""

    def __init__(
        self,
        executor: Executor,
        secrets: RunSecrets,
        chain: ChainClient | None,
        limits: WorkflowLimits,
        rates: FeeRates | None = None,
    ) -> None:
        self._executor = executor
        self._secrets = secrets
        self._chain = chain
        self._limits = limits
        self._rates = rates or FeeRates()

    async def run_node(
        self, owner: str, node: Node, input_variables: Mapping[str, JsonValue]
    ) -> Step:
        """One node with the given variables (plus the owner's secrets), simulated; shown as
        RunNodeWithInputs answers it (:func:`ap_avs.engine.node_view.single_node_view`)."""
        secrets = await self._secrets.load(owner, None)
        variables: dict[str, JsonValue] = dict(input_variables)
        variables["apContext"] = {"configVars": dict(secrets)}
        state = RunState(variables, simulated=True, secrets=secrets, owner=owner)
        step, _ = await self._executor.run_step(node, state)
        return single_node_view(step)

    async def run_trigger(
        self, trigger: Trigger, trigger_input: Mapping[str, JsonValue]
    ) -> TriggerRun:
        """Evaluate a trigger now: what it would output if it fired."""
        config = trigger.config
        if trigger.kind in (TriggerKind.CRON, TriggerKind.FIXED_TIME):
            return TriggerRun(True, time_data(now_ms()))
        if isinstance(config, ManualTriggerConfig):
            if config.data is None:
                return TriggerRun(False, error="ManualTrigger data is required and cannot be null")
            problem = manual_data_problem(config)
            if problem is not None:
                return TriggerRun(False, error=problem, error_code=INVALID_TRIGGER_CONFIG)
            return TriggerRun(True, config.data)
        if self._chain is None:
            return TriggerRun(
                False, error="the chain RPC is not configured", error_code=RPC_NODE_ERROR
            )
        try:
            if trigger.kind is TriggerKind.BLOCK:
                return TriggerRun(True, await self._latest_block())
            if isinstance(config, EventTriggerConfig):
                return await self._latest_event(trigger.id, config)
        except ApAvsError as exc:
            return TriggerRun(False, error=exc.message, error_code=RPC_NODE_ERROR)
        return TriggerRun(False, error=f"unsupported trigger type: {trigger.kind.wire_name}")

    async def _latest_block(self) -> JsonValue:
        assert self._chain is not None
        block = await self._chain.request("eth_getBlockByNumber", ["latest", False])
        if not isinstance(block, dict):
            raise ApAvsError("the chain returned no latest block")
        return block_data(parse_header(block))

    async def _latest_event(self, trigger_id: str, config: EventTriggerConfig) -> TriggerRun:
        """The most recent log in the last blocks that satisfies a query and its conditions, else
        a sample log built locally (:mod:`ap_avs.domain.sample_event`)."""
        chain = self._chain
        assert chain is not None
        index = EventIndex()
        index.add(trigger_id, config.queries)
        head = await chain.block_number()
        start = max(0, head - EVENT_SEARCH_BLOCKS)
        logs: list[Log] = []
        for wanted in index.log_filters():
            params: dict[str, JsonValue] = {"fromBlock": hex(start), "toBlock": hex(head)}
            if wanted.addresses is not None:
                params["address"] = list(wanted.addresses)
            if wanted.topic0 is not None:
                params["topics"] = [list(wanted.topic0)]
            found = await chain.request("eth_getLogs", [params])
            logs.extend(parse_log(raw) for raw in found or [] if isinstance(raw, dict))
        logs.sort(key=lambda log: (log.block_number, log.log_index), reverse=True)
        for log in logs:
            for match in index.match(log):
                timestamp = log.block_timestamp
                if timestamp is None:
                    raw = await chain.request(
                        "eth_getBlockByNumber", [hex(log.block_number), False]
                    )
                    timestamp = parse_header(raw).timestamp if isinstance(raw, dict) else None
                token = None
                if is_erc20_transfer(log):
                    token = await _token_or_none(chain, log.address)
                data = event_data(
                    match,
                    chain_id=await chain.chain_id(),
                    block_timestamp=timestamp,
                    token=token,
                )
                return TriggerRun(True, data)
        if not config.queries:
            return TriggerRun(
                False,
                error="event trigger must have at least one query",
                error_code=INVALID_TRIGGER_CONFIG,
            )
        reason = f"no matching event in the last {EVENT_SEARCH_BLOCKS} blocks: a sample log"
        return TriggerRun(
            True, sample_event_data(config.queries[0], block_number=head, reason=reason)
        )

    async def simulate(self, owner: str, draft: WorkflowDraft) -> Execution:
        """SimulateTask: check what a run needs (not CreateTask's full validation), fire the
        trigger now, run the graph simulated, return the execution (never stored)."""
        started = now_ms()
        wf = validate_simulation(
            draft, workflow_id=ids.new_id(now_ms=started), owner=owner, limits=self._limits
        )
        fired = await self.run_trigger(wf.trigger, {})
        secrets = await self._secrets.load(owner, None)
        first = trigger_step(wf, FiredTrigger(wf.trigger.kind, fired.data), started, simulated=True)
        steps = [
            dataclasses.replace(
                first,
                success=fired.success,
                error=fired.error,
                error_code=fired.error_code,
                end_at=now_ms(),
                execution_context={
                    "is_simulated": True,
                    "provider": SIMULATION_PROVIDER,
                    "chain_id": self._executor.options.chain_id,
                },
            )
        ]
        if fired.success:
            variables = run_variables(wf, fired.data, trigger_input={}, secrets=secrets)
            state = RunState(variables, simulated=True, secrets=secrets, owner=owner)
            steps += await self._executor.run_graph(wf.nodes, wf.edges, wf.trigger.id, state)
        status, error = summarize(steps)
        if not fired.success:
            status, error = ExecutionStatus.FAILED, f"trigger {wf.trigger.name}: {fired.error}"
        fee, cogs, value = fees(wf, steps, self._rates)
        return Execution(
            id=ids.new_id(now_ms=started),
            workflow_id=wf.id,
            index=0,
            status=status,
            start_at=started,
            end_at=now_ms(),
            error=error,
            steps=tuple(steps),
            execution_fee=fee,
            cogs=cogs,
            value_fee=value,
            trigger_kind=wf.trigger.kind.wire_name,
        )
