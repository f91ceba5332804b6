"""Workflows (create requests, stored tasks) between the wire and the domain."""

from __future__ import annotations

from ap_avs._proto import avs_pb2
from ap_avs.domain.workflow import Workflow, WorkflowDraft
from ap_avs.wire._nodes import (
    edge_from_pb,
    edge_to_pb,
    node_from_pb,
    node_to_pb,
)
from ap_avs.wire._triggers import (
    trigger_from_pb,
    trigger_to_pb,
)
from ap_avs.wire._values import (
    _fill_value,
    _read_map,
)

# --- workflows --------------------------------------------------------------------------------


def workflow_from_create_req(req: avs_pb2.CreateTaskReq) -> WorkflowDraft:
    """The unvalidated draft of a ``CreateTaskReq``.

    Raises:
        InvalidArgument: a trigger or node does not have the shape of a domain value (see the
            module docstring), or an input variable is too deep.
    """
    return WorkflowDraft(
        trigger=trigger_from_pb(req.trigger) if req.HasField("trigger") else None,
        nodes=tuple(node_from_pb(node) for node in req.nodes),
        edges=tuple(edge_from_pb(edge) for edge in req.edges),
        start_at=req.start_at,
        expired_at=req.expired_at,
        max_execution=req.max_execution,
        smart_wallet_address=req.smart_wallet_address,
        name=req.name,
        input_variables=_read_map(req.input_variables, "input_variables"),
    )


def workflow_to_pb(
    wf: Workflow,
    *,
    include_nodes: bool = True,
    include_edges: bool = True,
    include_input_variables: bool = True,
) -> avs_pb2.Task:
    """The ``Task`` message of a workflow; list items leave out nodes, edges or variables."""
    pb = avs_pb2.Task(
        id=wf.id,
        owner=wf.owner,
        smart_wallet_address=wf.smart_wallet_address,
        start_at=wf.start_at,
        expired_at=wf.expired_at,
        name=wf.name,
        completed_at=wf.completed_at,
        max_execution=wf.max_execution,
        execution_count=wf.execution_count,
        last_ran_at=wf.last_ran_at,
        status=wf.status.wire_name,
        trigger=trigger_to_pb(wf.trigger),
    )
    if include_nodes:
        pb.nodes.extend(node_to_pb(node) for node in wf.nodes)
    if include_edges:
        pb.edges.extend(edge_to_pb(edge) for edge in wf.edges)
    if include_input_variables:
        for key, value in wf.input_variables.items():
            _fill_value(pb.input_variables[key], value, f"input_variables.{key}", 0)
    return pb
