"""Executions, steps and fired triggers between the wire and the domain.

The step's typed output field (``manual_trigger``, ``rest_api``, ``custom_code`` …) is chosen
from the step kind, so every step carries its output in the field clients read for its type.
"""

from __future__ import annotations

from typing import Any, Final

from ap_avs._proto import avs_pb2
from ap_avs.domain.execution import Execution, Fee, Step
from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.values import JsonValue
from ap_avs.errors import InvalidArgument
from ap_avs.wire import (
    TRIGGER_OF_OUTPUT_FIELD,
    TRIGGER_OUTPUT_FIELD,
    json_to_value,
    value_to_json,
)

STEP_OUTPUT_FIELD: Final = {
    **{kind.wire_name: field for kind, field in TRIGGER_OUTPUT_FIELD.items()},
    "NODE_TYPE_ETH_TRANSFER": "eth_transfer",
    "NODE_TYPE_CONTRACT_WRITE": "contract_write",
    "NODE_TYPE_CONTRACT_READ": "contract_read",
    "NODE_TYPE_GRAPHQL_QUERY": "graphql",
    "NODE_TYPE_REST_API": "rest_api",
    "NODE_TYPE_CUSTOM_CODE": "custom_code",
    "NODE_TYPE_BRANCH": "branch",
    "NODE_TYPE_FILTER": "filter",
    "NODE_TYPE_LOOP": "loop",
    "NODE_TYPE_BALANCE": "balance",
}


def _fee(target: Any, fee: Fee) -> None:
    target.amount = fee.amount
    target.unit = fee.unit


def step_to_pb(step: Step) -> avs_pb2.Execution.Step:
    pb = avs_pb2.Execution.Step(
        id=step.id,
        success=step.success,
        log=step.log,
        error=step.error,
        start_at=step.start_at,
        end_at=step.end_at,
        inputs=list(step.inputs),
        type=step.kind,
        name=step.name,
        gas_used=step.gas_used,
        gas_price=step.gas_price,
        total_gas_cost=step.total_gas_cost,
        error_code=step.error_code,  # type: ignore[arg-type]
    )
    if step.config is not None:
        pb.config.CopyFrom(json_to_value(step.config))
    if step.metadata is not None:
        pb.metadata.CopyFrom(json_to_value(step.metadata))
    if step.execution_context is not None:
        pb.execution_context.CopyFrom(json_to_value(step.execution_context))
    field = STEP_OUTPUT_FIELD.get(step.kind)
    if field is not None:
        getattr(pb, field).data.CopyFrom(json_to_value(step.output))
    return pb


def execution_to_pb(execution: Execution) -> avs_pb2.Execution:
    pb = avs_pb2.Execution(
        id=execution.id,
        start_at=execution.start_at,
        end_at=execution.end_at,
        status=int(execution.status),  # type: ignore[arg-type]
        error=execution.error,
        index=execution.index,
        steps=[step_to_pb(s) for s in execution.steps],
    )
    if execution.execution_fee is not None:
        _fee(pb.execution_fee, execution.execution_fee)
    for cost in execution.cogs:
        item = pb.cogs.add(node_id=cost.node_id, cost_type=cost.cost_type, gas_units=cost.gas_units)
        _fee(item.fee, cost.fee)
    if execution.value_fee is not None:
        value = execution.value_fee
        _fee(pb.value_fee.fee, value.fee)
        pb.value_fee.tier = value.tier  # type: ignore[assignment]
        pb.value_fee.value_base = value.value_base
        pb.value_fee.classification_method = value.classification_method
        pb.value_fee.confidence = value.confidence
        pb.value_fee.reason = value.reason
    return pb


def fired_trigger_from_pb(request: Any) -> tuple[TriggerKind | None, JsonValue]:
    """The trigger kind and output data of a TriggerTaskReq or NotifyTriggersReq.

    The kind comes from ``trigger_type``, else from the ``trigger_output`` oneof; None when the
    request names neither (the caller uses the workflow's own kind).

    Raises:
        InvalidArgument: ``trigger_type`` is not a known kind.
    """
    kind: TriggerKind | None = None
    if request.trigger_type:
        try:
            kind = TriggerKind(request.trigger_type)
        except ValueError:
            raise InvalidArgument(f"unknown trigger_type {request.trigger_type}") from None
    which = request.WhichOneof("trigger_output")
    data = None
    if which is not None:
        output = getattr(request, which)
        if output.HasField("data"):
            data = value_to_json(output.data, where=f"{which}.data")
        if kind is None:
            kind = TRIGGER_OF_OUTPUT_FIELD[which]
    return kind, data
