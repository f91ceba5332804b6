"""The ``aggregator.Node`` servicer: the API operators call (PROTOCOL.md §6, improved).

Thin methods: read the request, call dispatch or the job queue, build the response. Every
method but ``HealthCheck`` runs after :class:`~ap_avs.aggregator.operator_auth.NodeAuthInterceptor`
has authenticated the operator (:func:`~ap_avs.aggregator.operator_auth.current_operator`); an
address carried in a request must be that operator's.

* ``SyncMessages`` registers the stream with the dispatcher and relays its messages.
* ``NotifyTriggers`` is accepted only from one of the workflow's assigned operators (in quorum
  mode there are several), never from a suspended one, and goes through the
  :class:`~ap_avs.aggregator.verification.TriggerGate` (signature, verification against the
  chain and clock, evidence, quorum) and then :meth:`JobQueue.accept_trigger` (persistent
  dedup, one transaction). An operator that is not an assignee of a workflow that is gone or
  stopped is told to stop watching it.
* ``ReportEventOverload`` (assignee only) disables the workflow through :class:`WorkflowControl`.

Raises (as statuses, through the ErrorInterceptor): ``PermissionDenied`` (address mismatch,
not the assignee, suspended), ``InvalidArgument`` (bad task id, no trigger output or
occurrence), ``ReportRefused`` (a false report, kept as evidence), ``Unauthenticated`` (report
not signed by the operator), ``Unavailable`` (cannot verify now: retry), ``QuotaExceeded``
(reconnecting too fast), ``StoreError`` (retry: the report was not taken).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

import grpc
from google.protobuf import timestamp_pb2, wrappers_pb2

from ap_avs import wire as convert
from ap_avs._proto import node_pb2
from ap_avs.aggregator.dispatch import (
    Capabilities,
    Checkin,
    Dispatcher,
    MessageOp,
    OperatorMessage,
    OperatorRecords,
)
from ap_avs.aggregator.operator_auth import current_operator
from ap_avs.aggregator.verification import Report, TriggerGate
from ap_avs.auth.trigger_reports import data_digest
from ap_avs.clock import now_ms
from ap_avs.domain import ids
from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.workflow import TaskStatus
from ap_avs.engine.queue import (
    FiredTrigger,
    TriggerOutcome,
    TriggerVerdict,
    assess,
    derive_occurrence,
    occurrence_of,
)
from ap_avs.errors import ApAvsError, InvalidArgument, PermissionDenied, Unimplemented
from ap_avs.store.workflows import WorkflowRepo

logger = logging.getLogger(__name__)

Ctx = Any  # grpc.aio.ServicerContext

_MAX_DETAILS: Final = 500
STATUS_OF: Final = {
    TriggerVerdict.ACCEPTED: "enabled",
    TriggerVerdict.DEDUPLICATED: "deduplicated",
    TriggerVerdict.NOT_FOUND: "not_found",
    TriggerVerdict.DISABLED: "disabled",
    TriggerVerdict.EXHAUSTED: "exhausted",
    TriggerVerdict.EXPIRED: "expired",
    TriggerVerdict.NOT_STARTED: "not_started",
    TriggerVerdict.AWAITING_QUORUM: "awaiting_quorum",
}
"""NotifyTriggers ``status`` per verdict (§11 literals; ``disabled`` is ours: upstream ran
triggers of disabled workflows)."""


def _timestamp(now_ms: int) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(now_ms)
    return ts


class WorkflowControl(Protocol):
    """What the Node API needs from the workflow use cases (built by the lead's engine)."""

    async def disable_for_overload(self, workflow_id: str, reason: str) -> bool:
        """Disable an enabled workflow as a system action; True if it was disabled now."""
        ...


def message_for(outcome: TriggerOutcome) -> str:
    """The NotifyTriggers ``message`` of an outcome (upstream's texts where it had one)."""
    match outcome.verdict:
        case TriggerVerdict.ACCEPTED:
            return "Trigger processed successfully"
        case TriggerVerdict.DEDUPLICATED:
            return "Duplicate trigger suppressed"
        case TriggerVerdict.NOT_FOUND:
            return "Task no longer exists - operator should stop monitoring"
        case TriggerVerdict.EXHAUSTED:
            used = outcome.execution_count + outcome.queued_runs  # queued runs count too
            return f"Task has reached maximum executions ({used}/{outcome.max_execution})"
        case TriggerVerdict.EXPIRED:
            return "Task has expired"
        case TriggerVerdict.NOT_STARTED:
            return "Task has not reached start time"
        case TriggerVerdict.AWAITING_QUORUM:
            return "Trigger counted; waiting for more operators to report it"
    status = (outcome.status or TaskStatus.DISABLED).wire_name
    return f"Task is not enabled (status {status}) - operator should stop monitoring"


def fired_trigger_from_pb(request: node_pb2.NotifyTriggersReq) -> FiredTrigger:
    """The trigger output of a report, data as plain JSON (ints stay ints).

    Raises:
        InvalidArgument: no output and no trigger type, or data that is not JSON.
    """
    field = request.WhichOneof("trigger_output")
    if field is not None:
        output = getattr(request, field)
        data = convert.value_to_json(output.data, where=field) if output.HasField("data") else None
        return FiredTrigger(convert.TRIGGER_OF_OUTPUT_FIELD[field], data)
    try:
        return FiredTrigger(TriggerKind(request.trigger_type))
    except ValueError:
        raise InvalidArgument("NotifyTriggers needs a trigger output or trigger_type") from None


_WIRE_OPS: Final = {
    MessageOp.MONITOR: node_pb2.MonitorTaskTrigger,
    MessageOp.DISABLE: node_pb2.DisableTask,
    MessageOp.DELETE: node_pb2.DeleteTask,
    MessageOp.IMMEDIATE: node_pb2.ImmediateTrigger,
}


def message_to_pb(message: OperatorMessage) -> node_pb2.SyncMessagesResp:
    """The wire form of a dispatch message (``task_metadata`` only with a watched workflow)."""
    resp = node_pb2.SyncMessagesResp(id=message.workflow_id, op=_WIRE_OPS[message.op])
    if message.watched is not None:
        w = message.watched
        resp.task_metadata.CopyFrom(
            node_pb2.SyncMessagesResp.TaskMetadata(
                task_id=w.workflow_id,
                remain=w.max_execution,
                expired_at=w.expired_at,
                trigger=convert.trigger_to_pb(w.trigger),
                start_at=w.start_at,
            )
        )
    return resp


def _same_operator(claimed: str, operator: str, what: str) -> None:
    if claimed and claimed.lower() != operator.lower():
        raise PermissionDenied(f"{what} {claimed} is not the authenticated operator {operator}")


def _workflow_id(task_id: str) -> str:
    if not task_id:
        raise InvalidArgument("Missing task id in request")
    if not ids.is_ulid(task_id):
        raise InvalidArgument("invalid task id")
    return task_id.lower()


@dataclass(frozen=True, slots=True)
class NodeServices:
    """What the Node API calls, built by
    :func:`~ap_avs.aggregator.operator_side.build_node_side`."""

    dispatcher: Dispatcher
    gate: TriggerGate
    workflows: WorkflowRepo
    records: OperatorRecords
    control: WorkflowControl
    now_ms: Callable[[], int] = now_ms


class NodeApi:
    """Operator RPCs. Without services (not wired yet) only HealthCheck and Ack answer; the
    other methods are UNIMPLEMENTED."""

    def __init__(self, services: NodeServices | None = None) -> None:
        self._services = services
        self._now_ms = services.now_ms if services is not None else now_ms

    @property
    def _s(self) -> NodeServices:
        if self._services is None:
            raise Unimplemented("the operator API is not wired on this server")
        return self._services

    def _caller(self) -> str:
        """The authenticated operator (UNIMPLEMENTED first when the API is not wired)."""
        if self._services is None:
            raise Unimplemented("the operator API is not wired on this server")
        return current_operator()

    async def HealthCheck(
        self, request: node_pb2.HealthCheckRequest, context: Ctx
    ) -> node_pb2.HealthCheckResponse:
        return node_pb2.HealthCheckResponse(
            status="OK", message="Aggregator is running", timestamp=self._now_ms()
        )

    async def Ping(self, request: node_pb2.Checkin, context: Ctx) -> node_pb2.CheckinResp:
        operator = self._caller()
        _same_operator(request.address, operator, "Checkin address")
        now = self._now_ms()
        checkin = Checkin(
            address=operator,
            version=request.version,
            block_number=request.block_number,
            event_count=request.event_count,
            metrics_port=request.metricsPort,
            remote_ip=request.remoteIP or str(context.peer() or ""),
            uptime_seconds=request.status.uptime,
            queue_depth=request.status.queueDepth,
        )
        await self._s.records.save(checkin, now)
        return node_pb2.CheckinResp(updated_at=_timestamp(now))

    async def SyncMessages(
        self, request: node_pb2.SyncMessagesReq, context: Ctx
    ) -> AsyncIterator[node_pb2.SyncMessagesResp]:
        operator = self._caller()
        if request.address.lower() != operator.lower():
            raise PermissionDenied(
                f"SyncMessages address {request.address or '(empty)'} is not the authenticated "
                f"operator {operator}"
            )
        capabilities = Capabilities()
        if request.HasField("capabilities"):
            c = request.capabilities
            capabilities = Capabilities(c.event_monitoring, c.block_monitoring, c.time_monitoring)

        async def abort(reason: str) -> None:
            await context.abort(grpc.StatusCode.UNAVAILABLE, reason)

        conn = self._s.dispatcher.connect(operator, capabilities, abort)
        async for message in self._s.dispatcher.messages(conn):
            yield message_to_pb(message)

    async def Ack(self, request: node_pb2.AckMessageReq, context: Ctx) -> wrappers_pb2.BoolValue:
        return wrappers_pb2.BoolValue(value=True)

    async def NotifyTriggers(
        self, request: node_pb2.NotifyTriggersReq, context: Ctx
    ) -> node_pb2.NotifyTriggersResp:
        operator = self._caller()
        _same_operator(request.address, operator, "NotifyTriggers address")
        workflow_id = _workflow_id(request.task_id)
        now = self._now_ms()
        if self._s.dispatcher.is_suspended(operator):
            raise PermissionDenied(
                f"operator {operator} is suspended after invalid trigger reports"
            )
        if operator.lower() not in self._s.dispatcher.assignees(workflow_id):
            outcome = await self._not_assigned(workflow_id, operator, now)
        else:
            fired = fired_trigger_from_pb(request)
            occurrence = occurrence_of(workflow_id, request.trigger_request_id)
            occurrence = occurrence or derive_occurrence(fired)
            if occurrence is None:
                raise InvalidArgument(
                    "trigger_request_id is required: <taskId>:<occurrence> (block number, "
                    "tx hash and log index, or fire time)"
                )
            report = Report(
                operator=operator.lower(),
                workflow_id=workflow_id,
                request_id=request.trigger_request_id,
                occurrence=occurrence,
                fired=fired,
                digest=data_digest(fired.data),
                signature=request.signature,
                request=request.SerializeToString(),
            )
            outcome = await self._s.gate.accept(report)
        return node_pb2.NotifyTriggersResp(
            updated_at=_timestamp(now),
            remaining_executions=outcome.remaining_executions,
            task_still_enabled=outcome.still_enabled,
            status=STATUS_OF[outcome.verdict],
            message=message_for(outcome),
        )

    async def _not_assigned(self, workflow_id: str, operator: str, now: int) -> TriggerOutcome:
        """A stale watcher of a missing or stopped workflow is told to stop; one of a workflow
        assigned elsewhere is refused and sent a DisableTask on its stream."""
        wf = await self._s.workflows.get(workflow_id)
        if wf is None or wf.status is not TaskStatus.ENABLED:
            return assess(wf, now)
        self._s.dispatcher.disown(operator, workflow_id)  # it should not be watching this
        raise PermissionDenied(
            f"operator {operator} is not assigned to workflow {workflow_id}; "
            "only its assigned operator may report its triggers"
        )

    async def ReportEventOverload(
        self, request: node_pb2.EventOverloadAlert, context: Ctx
    ) -> node_pb2.EventOverloadResponse:
        operator = self._caller()
        _same_operator(request.operator_address, operator, "operator_address")
        workflow_id = _workflow_id(request.task_id)
        if operator.lower() not in self._s.dispatcher.assignees(workflow_id):
            wf = await self._s.workflows.get(workflow_id)
            if wf is not None and wf.status is TaskStatus.ENABLED:
                raise PermissionDenied(
                    f"operator {operator} is not assigned to workflow {workflow_id}; "
                    "only its assigned operator may report an overload"
                )
            return self._overload_response(False, "Task was already disabled or not found")
        reason = (
            f"event overload reported by operator {operator}: {request.events_detected} events "
            f"in block {request.block_number} exceed the safety limit {request.safety_limit}"
            + (f" (query {request.query_index})" if request.query_index else "")
            + (f": {request.details[:_MAX_DETAILS]}" if request.details else "")
        )
        try:
            disabled = await self._s.control.disable_for_overload(workflow_id, reason)
        except Exception as exc:  # reported in the response, as upstream (always gRPC OK)
            logger.exception("disabling workflow %s for overload failed", workflow_id)
            detail = exc.message if isinstance(exc, ApAvsError) else "internal error"
            return self._overload_response(False, f"Failed to disable task: {detail}")
        message = (
            "Task disabled due to event overload"
            if disabled
            else "Task was already disabled or not found"
        )
        return self._overload_response(disabled, message)

    def _overload_response(self, cancelled: bool, message: str) -> node_pb2.EventOverloadResponse:
        return node_pb2.EventOverloadResponse(
            task_cancelled=cancelled, message=message, timestamp=self._now_ms()
        )
