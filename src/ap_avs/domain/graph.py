"""Scheduling a workflow's graph (pure): which nodes may run now, given what has finished.

Rules (PROTOCOL.md §7.3, kept): a node is ready when every predecessor node has finished,
successfully or not (edges from the trigger are not predecessors); a node fed by a branch
condition edge (source ``<branchId>.<conditionId>``) also needs one of its conditions to have
been chosen; a path whose branch was not chosen never runs, and neither does anything
downstream of it. Validation guarantees the graph is acyclic, so every run terminates.

Usage::

    schedule = Schedule(plan(nodes, edges, trigger.id))
    ready = schedule.start()
    ...
    ready = schedule.finish(node_id, chosen="<branchId>.<conditionId>" or None)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ap_avs.domain.nodes import Edge, Node


@dataclass(frozen=True, slots=True)
class Plan:
    """The static shape of a graph."""

    order: tuple[str, ...]
    """Node ids in declaration order (ready nodes start in this order)."""
    predecessors: Mapping[str, frozenset[str]]
    gates: Mapping[str, frozenset[str]]
    """Node id -> the branch pseudo-ids that open it."""
    successors: Mapping[str, tuple[str, ...]]
    """Node id or branch pseudo-id -> nodes that may become ready after it."""


def plan(nodes: Sequence[Node], edges: Iterable[Edge], trigger_id: str) -> Plan:
    """Build the plan of a validated graph."""
    ids = [n.id for n in nodes]
    known = set(ids)
    predecessors: dict[str, set[str]] = {i: set() for i in ids}
    gates: dict[str, set[str]] = {i: set() for i in ids}
    successors: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        if edge.target not in known:
            continue
        if edge.source == trigger_id:
            continue
        if edge.source in known:
            predecessors[edge.target].add(edge.source)
        else:
            gates[edge.target].add(edge.source)
        if edge.target not in successors[edge.source]:
            successors[edge.source].append(edge.target)
    return Plan(
        order=tuple(ids),
        predecessors={k: frozenset(v) for k, v in predecessors.items()},
        gates={k: frozenset(v) for k, v in gates.items()},
        successors={k: tuple(v) for k, v in successors.items()},
    )


class Schedule:
    """The moving state of one run over a :class:`Plan` (single-owner, not thread-safe)."""

    def __init__(self, shape: Plan) -> None:
        self._plan = shape
        self._started: set[str] = set()
        self._finished: set[str] = set()
        self._opened: set[str] = set()

    def _ready(self, node_id: str) -> bool:
        if node_id in self._started:
            return False
        if not self._plan.predecessors[node_id] <= self._finished:
            return False
        gates = self._plan.gates[node_id]
        return not gates or bool(gates & self._opened)

    def _take(self, candidates: Iterable[str]) -> list[str]:
        ready = [n for n in candidates if self._ready(n)]
        self._started.update(ready)
        return ready

    def start(self) -> list[str]:
        """Nodes that may run at once (no predecessors, no gates)."""
        return self._take(self._plan.order)

    def finish(self, node_id: str, chosen: str | None = None) -> list[str]:
        """Record that ``node_id`` finished (and which branch condition it chose, if any);
        return the nodes that became ready."""
        self._finished.add(node_id)
        candidates = list(self._plan.successors.get(node_id, ()))
        if chosen is not None:
            self._opened.add(chosen)
            candidates.extend(self._plan.successors.get(chosen, ()))
        order = {n: i for i, n in enumerate(self._plan.order)}
        return self._take(sorted(set(candidates), key=order.__getitem__))

    @property
    def started(self) -> frozenset[str]:
        return frozenset(self._started)
