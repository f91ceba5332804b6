"""Validation of a workflow's shape: names, ids, edges, cycles and reachability.

Upstream checked names at creation and found graph errors only when a run compiled the graph
(PROTOCOL.md §7.3); here every rule runs at creation:

* the trigger and every node have a non-empty id, all distinct; no node id equals a branch
  condition's pseudo-id ``"<branchId>.<conditionId>"``;
* names are JavaScript identifiers (upstream's literal message), distinct from each other, from
  the trigger name, from the input variables and from the names the runtime binds;
* every edge has a distinct id; its source is the trigger id, a node id or a branch condition
  pseudo-id; its target is a node id (never the trigger); no two edges join the same pair;
* the graph is acyclic and every node is reachable from the trigger.

Raises :class:`~ap_avs.errors.InvalidArgument`, naming the node (name and id) or the edge.
"""

from __future__ import annotations

from collections.abc import Mapping

from ap_avs.domain._checks import INVALID_REQUEST, INVALID_WORKFLOW, invalid, node_subject
from ap_avs.domain._limits import WorkflowLimits
from ap_avs.domain.names import name_problem
from ap_avs.domain.nodes import BranchConfig, Edge, Node
from ap_avs.domain.triggers import Trigger
from ap_avs.domain.values import JsonValue

_WHITE, _GREY, _BLACK = 0, 1, 2


def check_names(
    trigger: Trigger,
    nodes: tuple[Node, ...],
    input_variables: Mapping[str, JsonValue],
    limits: WorkflowLimits,
) -> None:
    """Check the trigger name and the node names.

    Raises:
        InvalidArgument: ``trigger name validation failed: …`` or ``node name validation
            failed: …`` (upstream's wording), or a clash between two names.
    """
    problem = name_problem(trigger.name, max_length=limits.max_name_length)
    if problem is not None:
        raise invalid(
            f"trigger name validation failed: {problem} (trigger id '{trigger.id}')",
            code=INVALID_REQUEST,
        )
    owners: dict[str, str] = {trigger.name: "the trigger"}
    for key in input_variables:
        owners.setdefault(key, f"the input variable '{key}'")
    if trigger.name in input_variables:
        raise invalid(
            f"trigger name '{trigger.name}' collides with the input variable of that name",
            code=INVALID_REQUEST,
        )
    for node in nodes:
        problem = name_problem(node.name, max_length=limits.max_name_length)
        if problem is not None:
            raise invalid(
                f"node name validation failed: {problem} (node id '{node.id}')",
                code=INVALID_REQUEST,
            )
        if node.name in owners:
            raise invalid(
                f"{node_subject(node)}: the name is already used by {owners[node.name]}",
                code=INVALID_REQUEST,
            )
        owners[node.name] = f"node id '{node.id}'"


def check_graph(
    trigger: Trigger, nodes: tuple[Node, ...], edges: tuple[Edge, ...], limits: WorkflowLimits
) -> None:
    """Check ids, edges, cycles and reachability.

    Raises:
        InvalidArgument: the first problem found.
    """
    by_id = _node_ids(trigger, nodes)
    gates = _condition_gates(trigger, nodes, by_id)
    if len(edges) > limits.max_edges:
        raise invalid(f"more than {limits.max_edges} edges", code=INVALID_WORKFLOW)
    successors: dict[str, list[str]] = {trigger.id: [], **{node_id: [] for node_id in by_id}}
    seen_ids: set[str] = set()
    seen_pairs: dict[tuple[str, str], str] = {}
    for edge in edges:
        where = f"edge '{edge.id}'"
        if not edge.id:
            raise invalid(
                f"edge {edge.source} -> {edge.target} has an empty id", code=INVALID_WORKFLOW
            )
        if edge.id in seen_ids:
            raise invalid(f"{where}: the id is used by another edge", code=INVALID_WORKFLOW)
        seen_ids.add(edge.id)
        source = edge.source if edge.source in successors else gates.get(edge.source)
        if source is None:
            raise invalid(
                f"{where}: source '{edge.source}' is neither the trigger, a node nor a branch "
                "condition",
                code=INVALID_WORKFLOW,
            )
        if edge.target == trigger.id:
            raise invalid(f"{where}: an edge cannot lead into the trigger", code=INVALID_WORKFLOW)
        if edge.target not in by_id:
            raise invalid(f"{where}: target '{edge.target}' is not a node", code=INVALID_WORKFLOW)
        pair = (edge.source, edge.target)
        if pair in seen_pairs:
            raise invalid(
                f"{where}: duplicates edge '{seen_pairs[pair]}' ({edge.source} -> {edge.target})",
                code=INVALID_WORKFLOW,
            )
        seen_pairs[pair] = edge.id
        successors[source].append(edge.target)
    _check_acyclic(successors, by_id)
    _check_reachable(trigger.id, successors, by_id)


def _node_ids(trigger: Trigger, nodes: tuple[Node, ...]) -> dict[str, Node]:
    if not trigger.id:
        raise invalid(f"trigger '{trigger.name}' has an empty id", code=INVALID_REQUEST)
    by_id: dict[str, Node] = {}
    for node in nodes:
        if not node.id:
            raise invalid(f"node '{node.name}' has an empty id", code=INVALID_REQUEST)
        if node.id == trigger.id:
            raise invalid(f"{node_subject(node)}: the id is the trigger's id", code=INVALID_REQUEST)
        if node.id in by_id:
            raise invalid(
                f"{node_subject(node)}: the id is used by another node", code=INVALID_REQUEST
            )
        by_id[node.id] = node
    return by_id


def _condition_gates(
    trigger: Trigger, nodes: tuple[Node, ...], by_id: Mapping[str, Node]
) -> dict[str, str]:
    """Each branch condition pseudo-id, mapped to its branch node id."""
    gates: dict[str, str] = {}
    for node in nodes:
        if isinstance(node.config, BranchConfig):
            for condition in node.config.conditions:
                gate = f"{node.id}.{condition.id}"
                if gate in by_id or gate == trigger.id:
                    raise invalid(
                        f"{node_subject(node)}: condition '{condition.id}' makes the edge source "
                        f"'{gate}' ambiguous with a node or trigger id",
                        code=INVALID_WORKFLOW,
                    )
                gates[gate] = node.id
    return gates


def _check_acyclic(successors: Mapping[str, list[str]], by_id: Mapping[str, Node]) -> None:
    colour = dict.fromkeys(successors, _WHITE)
    for start in successors:
        if colour[start] != _WHITE:
            continue
        colour[start] = _GREY
        stack = [(start, iter(successors[start]))]
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[current] = _BLACK
                stack.pop()
            elif colour[child] == _GREY:
                raise invalid(
                    f"the graph has a cycle through {node_subject(by_id[child])}",
                    code=INVALID_WORKFLOW,
                )
            elif colour[child] == _WHITE:
                colour[child] = _GREY
                stack.append((child, iter(successors[child])))


def _check_reachable(
    root: str, successors: Mapping[str, list[str]], by_id: Mapping[str, Node]
) -> None:
    reached = {root}
    pending = [root]
    while pending:
        for child in successors[pending.pop()]:
            if child not in reached:
                reached.add(child)
                pending.append(child)
    for node_id, node in by_id.items():
        if node_id not in reached:
            raise invalid(
                f"{node_subject(node)} is not reachable from the trigger", code=INVALID_WORKFLOW
            )
