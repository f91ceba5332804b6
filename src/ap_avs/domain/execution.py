"""Executions and their steps (pure): the record of one run and how its status is decided.

Status rules (SDK 2.16.0): every step succeeded → SUCCESS; one or more failed → PARTIAL_SUCCESS
with the error ``<k> of <n> steps failed: <names>`` (``n`` counts the trigger step); the run
could not execute at all → FAILED (or ERROR when the engine itself broke). Nothing here raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from ap_avs.domain.values import JsonValue


class ExecutionStatus(IntEnum):
    """Wire ``ExecutionStatus`` numbers."""

    UNSPECIFIED = 0
    PENDING = 1
    SUCCESS = 2
    FAILED = 3
    PARTIAL_SUCCESS = 4
    ERROR = 5


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an execution: the trigger (first) or one node run.

    ``kind`` is the wire enum name of the trigger or node type (``TRIGGER_TYPE_MANUAL``,
    ``NODE_TYPE_REST_API``, …); it also decides which typed output field carries ``output``.
    """

    id: str
    name: str
    kind: str
    success: bool
    start_at: int
    end_at: int
    output: JsonValue = None
    error: str = ""
    error_code: int = 0
    log: str = ""
    inputs: tuple[str, ...] = ()
    config: JsonValue = None
    metadata: JsonValue = None
    execution_context: JsonValue = None
    gas_used: str = ""
    gas_price: str = ""
    total_gas_cost: str = ""


@dataclass(frozen=True, slots=True)
class Fee:
    amount: str
    unit: str


@dataclass(frozen=True, slots=True)
class NodeCost:
    node_id: str
    cost_type: str
    fee: Fee
    gas_units: str = ""


@dataclass(frozen=True, slots=True)
class ValueFee:
    fee: Fee
    tier: int
    value_base: str
    classification_method: str
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class Execution:
    """A stored run of a workflow. Times in milliseconds; ``index`` is 0-based per workflow."""

    id: str
    workflow_id: str
    index: int
    status: ExecutionStatus
    start_at: int
    end_at: int = 0
    error: str = ""
    steps: tuple[Step, ...] = ()
    execution_fee: Fee | None = None
    cogs: tuple[NodeCost, ...] = ()
    value_fee: ValueFee | None = None
    trigger_kind: str = ""
    extra: dict[str, JsonValue] = field(default_factory=dict)


NO_STEPS = "no execution steps found"


def summarize(steps: Sequence[Step]) -> tuple[ExecutionStatus, str]:
    """The status and error of a finished run from its steps."""
    if not steps:
        return ExecutionStatus.FAILED, NO_STEPS
    failed = [s for s in steps if not s.success]
    if not failed:
        return ExecutionStatus.SUCCESS, ""
    names = ", ".join(s.name or s.id for s in failed)
    return ExecutionStatus.PARTIAL_SUCCESS, f"{len(failed)} of {len(steps)} steps failed: {names}"
