"""What to do with the matches of one block range: fire, hold back (cooldown) or report an
overload. Pure.

Rules, applied block by block in log order:

* **Overload**: a query matching more logs in one block than its ``max_events_per_block`` (or
  the operator's per-query default), or a workflow matching more than the operator's total
  limit, fires nothing in that block; an :class:`EventOverload` is reported instead (the
  aggregator then disables the workflow), and the workflow fires nothing more in this range.
* **Cooldown** (LESSONS.md 8): after a firing, a workflow does not fire again until
  ``cooldown_seconds`` of *chain* time have passed (block timestamps, so catching up old
  blocks behaves as live); unset = :data:`DEFAULT_COOLDOWN_SECONDS`, 0 = no cooldown.

The data each firing carries is built by :mod:`ap_avs.domain.trigger_data`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from ap_avs.domain.events import Match
from ap_avs.operator.model import EventOverload

DEFAULT_COOLDOWN_SECONDS: Final = 300


@dataclass(frozen=True, slots=True)
class BlockMatches:
    """The matches of one block, in log order, with the block's timestamp (seconds)."""

    number: int
    timestamp: int
    matches: Sequence[Match]


@dataclass(frozen=True, slots=True)
class Decision:
    fire: tuple[Match, ...]
    overloads: tuple[EventOverload, ...]
    last_fired: dict[str, int] = field(default_factory=dict)
    """The cooldown state after these firings: workflow id -> block timestamp (s)."""


def decide(
    blocks: Sequence[BlockMatches],
    *,
    cooldowns: Mapping[str, int | None],
    last_fired: Mapping[str, int],
    max_per_query: int,
    max_per_workflow: int,
) -> Decision:
    """Apply overload limits and cooldowns to ``blocks`` (ascending).

    Args:
        blocks: Matches grouped by block.
        cooldowns: Each workflow's ``cooldown_seconds`` (``None`` = default).
        last_fired: When each workflow last fired (block timestamp, seconds).
        max_per_query: Default per-query, per-block limit when a query sets none.
        max_per_workflow: Limit of matches per workflow and block, all queries together.
    """
    fired: list[Match] = []
    overloads: list[EventOverload] = []
    state = dict(last_fired)
    overloaded: set[str] = set()
    for block in blocks:
        per_query = Counter((m.query.workflow_id, m.query.index) for m in block.matches)
        per_workflow = Counter(m.query.workflow_id for m in block.matches)
        queries = {(m.query.workflow_id, m.query.index): m.query for m in block.matches}
        for (workflow_id, index), count in sorted(per_query.items()):
            if workflow_id in overloaded:
                continue
            query = queries[(workflow_id, index)]
            limit = query.max_events_per_block or max_per_query
            total = per_workflow[workflow_id]
            if count > limit or total > max_per_workflow:
                over_query = count > limit
                overloaded.add(workflow_id)
                overloads.append(
                    EventOverload(
                        workflow_id=workflow_id,
                        block_number=block.number,
                        events_detected=count if over_query else total,
                        safety_limit=limit if over_query else max_per_workflow,
                        query_index=index,
                        details=(
                            f"query {index} matched {count} logs in block {block.number} "
                            f"(limit {limit})"
                            if over_query
                            else f"{total} logs matched in block {block.number} "
                            f"(limit {max_per_workflow} per workflow)"
                        ),
                    )
                )
        for match in block.matches:
            workflow_id = match.query.workflow_id
            if workflow_id in overloaded:
                continue
            cooldown = cooldowns.get(workflow_id)
            cooldown = DEFAULT_COOLDOWN_SECONDS if cooldown is None else cooldown
            previous = state.get(workflow_id)
            if cooldown and previous is not None and block.timestamp - previous < cooldown:
                continue
            fired.append(match)
            state[workflow_id] = block.timestamp
    return Decision(tuple(fired), tuple(overloads), state)
