"""Deciding who watches what: pure functions over assignments, capabilities and loads.

Rules (LESSONS 1-3, PROTOCOL.md §6.4 improved): every watched workflow goes to exactly one live
operator able to watch its trigger; an existing assignment to a live, capable operator is kept
(stable), as is one to an operator still inside its start-up grace (``held``); the rest go to the
least loaded capable operator (ties by address); optionally, loads are then evened out so that
no operator has two more than another that could take one of its workflows.

Nothing here does I/O or raises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping

from ap_avs.aggregator.dispatch._model import Capabilities, Capability

Plan = dict[str, str | None]
"""Workflow id -> new operator (None: nobody) for each workflow whose assignment changes."""


def least_loaded(
    needed: Capability, live: Mapping[str, Capabilities], load: Mapping[str, int]
) -> str | None:
    """The live operator with the fewest workflows that has ``needed``; None if none has."""
    capable = [op for op, caps in live.items() if caps.has(needed)]
    return min(capable, key=lambda op: (load.get(op, 0), op), default=None)


def choose(
    needed: Capability,
    current: str | None,
    live: Mapping[str, Capabilities],
    load: Mapping[str, int],
    held: Collection[str] = (),
) -> str | None:
    """The operator for one workflow: keep ``current`` if it may keep it, else the least loaded."""
    if current is not None and (current in held or (current in live and live[current].has(needed))):
        return current
    return least_loaded(needed, live, load)


def plan(
    assignments: Mapping[str, str],
    needs: Mapping[str, Capability],
    live: Mapping[str, Capabilities],
    held: Collection[str] = (),
    *,
    balance: bool = True,
) -> Plan:
    """The changes that bring ``assignments`` in line with the rules above.

    Args:
        assignments: Current workflow -> operator.
        needs: Every workflow that must be watched -> the capability it needs. Assignments of
            workflows not in here are dropped.
        live: Connected operators and their capabilities.
        held: Operators not connected whose assignments are kept for now (start-up grace).
        balance: Also even out loads among live operators.
    """
    final: dict[str, str] = {}
    load: Counter[str] = Counter()
    homeless: list[str] = []
    for wf in sorted(needs):
        current = assignments.get(wf)
        keep = choose(needs[wf], current, live, load, held) if current is not None else None
        if keep is not None and keep == current:
            final[wf] = keep
            load[keep] += 1
        else:
            homeless.append(wf)
    for wf in homeless:
        op = least_loaded(needs[wf], live, load)
        if op is not None:
            final[wf] = op
            load[op] += 1
    if balance and len(live) > 1:
        _balance(final, needs, live, load)
    changes: Plan = {}
    for wf in sorted(set(assignments) | set(final)):
        if assignments.get(wf) != final.get(wf):
            changes[wf] = final.get(wf)
    return changes


def _balance(
    final: dict[str, str],
    needs: Mapping[str, Capability],
    live: Mapping[str, Capabilities],
    load: Counter[str],
) -> None:
    """Move workflows from heavier to lighter live operators while a move lowers the spread
    (each move lowers the sum of squared loads, so this ends)."""
    pools: dict[tuple[str, Capability], list[str]] = {}
    for wf, op in sorted(final.items()):
        if op in live:
            pools.setdefault((op, needs[wf]), []).append(wf)
    while True:
        moved = False
        for heavy in sorted(live, key=lambda op: (-load[op], op)):
            for capability in Capability:
                pool = pools.get((heavy, capability))
                if not pool:
                    continue
                light = least_loaded(
                    capability, {op: c for op, c in live.items() if op != heavy}, load
                )
                if light is None or load[heavy] - load[light] < 2:
                    continue
                wf = pool.pop()
                final[wf] = light
                pools.setdefault((light, capability), []).append(wf)
                load[heavy] -= 1
                load[light] += 1
                moved = True
                break
            if moved:
                break
        if not moved:
            return


def plan_replicas(
    primaries: Mapping[str, str],
    needs: Mapping[str, Capability],
    current: Mapping[str, tuple[str, ...]],
    live: Mapping[str, Capabilities],
    extra: int,
) -> dict[str, tuple[str, ...]]:
    """The extra watchers of each workflow in quorum mode (``n - 1`` besides its primary).

    A current replica is kept while it is live, capable and not the primary; the rest are
    filled with the least loaded capable live operators (load = primaries plus replicas, ties
    by address). A workflow with fewer capable operators gets fewer replicas. Workflows without
    a primary get none.
    """
    if extra <= 0:
        return {}
    load: Counter[str] = Counter(primaries.values())
    chosen: dict[str, list[str]] = {}
    for wf in sorted(needs):
        primary = primaries.get(wf)
        if primary is None:
            continue
        keep = [
            op
            for op in current.get(wf, ())
            if op != primary and op in live and live[op].has(needs[wf])
        ][:extra]
        chosen[wf] = keep
        load.update(keep)
    replicas: dict[str, tuple[str, ...]] = {}
    for wf in sorted(chosen):
        members = chosen[wf]
        primary = primaries[wf]
        while len(members) < extra:
            candidates = {
                op: caps
                for op, caps in live.items()
                if op != primary and op not in members and caps.has(needs[wf])
            }
            op = least_loaded(needs[wf], candidates, load)
            if op is None:
                break
            members.append(op)
            load[op] += 1
        if members:
            replicas[wf] = tuple(members)
    return replicas
