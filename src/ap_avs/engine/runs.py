"""Running a stored workflow once: count the run, execute the graph, record the execution.

Used for every real run: queued runs from operators' trigger reports and TriggerTask, blocking
TriggerTask runs. The trigger data given here is exactly what the trigger produced (the queue
stores it whole), so queued and blocking runs see the same variables (LESSONS 14). Every run
has a step journal (``engine/journal.py``) keyed by its execution id, so a run repeated after a
crash sends no effect twice; the journal is removed in the transaction that records the run.

Raises:
    EffectInDoubt: a step's effect was sent and its outcome is unknown; nothing is recorded and
        the caller retries the run later (it then reconciles the step).
    StoreError: the store failed.
Otherwise nothing on purpose: a run that cannot execute is recorded as a FAILED execution; a
workflow that no longer exists gives ``None`` (the caller drops the job).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from ap_avs.clock import now_ms
from ap_avs.domain.execution import (
    Execution,
    ExecutionStatus,
    Fee,
    NodeCost,
    Step,
    ValueFee,
    summarize,
)
from ap_avs.domain.nodes import NodeKind
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import Workflow
from ap_avs.engine.executor import Executor, RunState, redact
from ap_avs.engine.journal import RunJournal
from ap_avs.engine.queue import FiredTrigger
from ap_avs.engine.secrets import RunSecrets
from ap_avs.engine.variables import run_variables, trigger_config_json
from ap_avs.engine.workflow_events import WorkflowEventKind, WorkflowEvents
from ap_avs.errors import ApAvsError
from ap_avs.faults import FaultHook
from ap_avs.log import log_context
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.journal import JournalRepo

logger = logging.getLogger(__name__)

ON_CHAIN = frozenset({NodeKind.ETH_TRANSFER, NodeKind.CONTRACT_WRITE})
WalletCheck = Callable[[str, str], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class FeeRates:
    execution_fee_usd: float = 0.02
    tier_1_percent: float = 0.03


def has_on_chain_nodes(wf: Workflow) -> bool:
    for node in wf.nodes:
        if node.kind in ON_CHAIN:
            return True
        runner = getattr(node.config, "runner", None)
        if runner is not None and runner.kind in ON_CHAIN:
            return True
    return False


def fees(
    wf: Workflow, steps: list[Step], rates: FeeRates
) -> tuple[Fee, tuple[NodeCost, ...], ValueFee]:
    """Execution fee, costs of goods per on-chain step, and the value fee (PROTOCOL §7.2.13)."""
    cogs = tuple(
        NodeCost(s.id, "gas", Fee(s.total_gas_cost, "WEI"), s.gas_used)
        for s in steps
        if s.total_gas_cost not in ("", "0")
    )
    if has_on_chain_nodes(wf):
        value = ValueFee(
            Fee(f"{rates.tier_1_percent:.2f}", "PERCENTAGE"),
            1,
            "input_token_value",
            "rule_based",
            1.0,
            "V1 default: workflow contains on-chain execution nodes",
        )
    else:
        value = ValueFee(
            Fee("0", "PERCENTAGE"),
            0,
            "",
            "rule_based",
            1.0,
            "Workflow has no on-chain execution nodes",
        )
    return Fee(f"{rates.execution_fee_usd:.6f}", "USD"), cogs, value


def trigger_step(wf: Workflow, trigger: FiredTrigger, at_ms: int, *, simulated: bool) -> Step:
    return Step(
        id=wf.trigger.id,
        name=wf.trigger.name,
        kind=trigger.kind.wire_name,
        success=True,
        start_at=at_ms,
        end_at=at_ms,
        output=trigger.data,
        log=f"{'Simulated trigger' if simulated else 'Trigger'}: {wf.trigger.name} executed "
        "successfully",
        config=trigger_config_json(wf),
    )


class RunService:
    """Executes stored workflows and records their executions."""

    def __init__(
        self,
        repo: ExecutionRepo,
        executor: Executor,
        secrets: RunSecrets,
        events: WorkflowEvents,
        wallet_check: WalletCheck,
        rates: FeeRates | None = None,
        *,
        disable_after: int | None = None,
        journal: JournalRepo | None = None,
        fault: FaultHook | None = None,
    ) -> None:
        """``journal`` None runs without a step journal (benchmarks measure its cost);
        ``fault`` is the test-only fault hook (``ap_avs.faults``)."""
        self._repo = repo
        self._journal = journal
        self._fault = fault
        self._disable_after = disable_after
        self._executor = executor
        self._secrets = secrets
        self._events = events
        self._wallet_check = wallet_check
        self._rates = rates or FeeRates()

    async def _runner_problem(self, wf: Workflow) -> str | None:
        if not has_on_chain_nodes(wf):
            return None
        try:
            owned = await self._wallet_check(wf.owner, wf.smart_wallet_address)
        except ApAvsError as exc:
            return f"failed to validate wallet ownership for owner {wf.owner}: {exc.message}"
        return None if owned else "task smart wallet address does not belong to owner"

    async def run(
        self,
        workflow_id: str,
        execution_id: str,
        trigger: FiredTrigger,
        trigger_input: Mapping[str, JsonValue] | None = None,
    ) -> Execution | None:
        """Run the workflow once and store the execution; None when the workflow is gone or
        cannot run any more."""
        with log_context(task_id=workflow_id, execution_id=execution_id):
            started = now_ms()
            begun = await self._repo.begin(workflow_id, execution_id, started)
            if begun is None:
                logger.info("workflow is gone or cannot run any more; run dropped")
                return None
            wf = begun.workflow
            secrets = await self._secrets.load(wf.owner, wf.id)
            steps = [trigger_step(wf, trigger, started, simulated=False)]
            problem = await self._runner_problem(wf)
            if problem is None:
                variables = run_variables(
                    wf, trigger.data, trigger_input=trigger_input or {}, secrets=secrets
                )
                journal = (
                    RunJournal(
                        self._journal,
                        execution_id,
                        fault=self._fault,
                        secrets=list(secrets.values()),
                    )
                    if self._journal is not None
                    else None
                )
                state = RunState(
                    variables, simulated=False, secrets=secrets, journal=journal, owner=wf.owner
                )
                steps += await self._executor.run_graph(wf.nodes, wf.edges, wf.trigger.id, state)
                status, error = summarize(steps)
            else:
                status, error = ExecutionStatus.FAILED, problem
            fee, cogs, value = fees(wf, steps, self._rates)
            secret_values = [v for v in secrets.values() if len(v) >= 4]
            execution = Execution(
                id=execution_id,
                workflow_id=wf.id,
                index=begun.index,
                status=status,
                start_at=started,
                end_at=now_ms(),
                error=str(redact(error, secret_values)),
                steps=tuple(steps),
                execution_fee=fee,
                cogs=cogs,
                value_fee=value,
                trigger_kind=trigger.kind.wire_name,
            )
            finished = await self._repo.finish(
                execution, now_ms(), disable_after=self._disable_after
            )
            if finished.completed is not None:
                self._events.publish(WorkflowEventKind.COMPLETED, finished.completed)
            if finished.disabled is not None:
                logger.warning("workflow disabled after repeated failed runs")
                self._events.publish(WorkflowEventKind.DISABLED, finished.disabled)
            logger.info("execution %s finished: %s", execution_id, status.name)
            return finished.execution
