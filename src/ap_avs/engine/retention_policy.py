"""Retention's vocabulary and its pure decisions: policies, which executions go, reports.

Nothing here does I/O: `RetentionSettings.policy_for` picks a workflow's policy (its override
field by field over the default), :func:`removable` how many of a page of the oldest execution
ids go, and the report types say what a pass or a workflow deletion removed (`read_purge`
reads a stored ``purge:`` record). Raises: `read_purge` raises ``CorruptDataError`` or
``ValueError`` for a record that does not decode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ap_avs.domain import ids
from ap_avs.domain.values import JsonValue
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec, keys

DAY_MS: Final = 86_400_000


# --- policy (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Policy:
    """How long one workflow's executions are kept (None: that limit is off)."""

    max_age_ms: int | None = None
    keep_last: int | None = None


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    """Retention of one deployment (built from the ``retention`` config section)."""

    default: Policy = Policy(30 * DAY_MS, 10_000)
    overrides: Mapping[str, Policy] = field(default_factory=dict)
    """Per workflow id; a field left None falls back to ``default``."""
    idempotency_window_ms: int = 7 * DAY_MS
    stats_ms: int = 400 * DAY_MS
    report_ms: int = 30 * DAY_MS
    evidence_ms: int = 180 * DAY_MS
    interval_seconds: float = 300.0
    batch: int = 64
    pause_seconds: float = 0.01
    census_interval_seconds: float = 600.0
    enabled: bool = True

    def policy_for(self, workflow_id: str) -> Policy:
        own = self.overrides.get(workflow_id)
        if own is None:
            return self.default
        return Policy(
            own.max_age_ms if own.max_age_ms is not None else self.default.max_age_ms,
            own.keep_last if own.keep_last is not None else self.default.keep_last,
        )


def removable(ids_oldest_first: Sequence[str], excess: int, cutoff_ms: int | None) -> int:
    """How many of these oldest execution ids go: at least ``excess`` (beyond the newest-N
    count) and every one whose id time is before ``cutoff_ms``, at most all of them."""
    aged = 0
    if cutoff_ms is not None:
        floor = ids.floor_id(max(0, cutoff_ms))
        for execution_id in ids_oldest_first:
            if execution_id >= floor or not ids.is_ulid(execution_id):
                break
            aged += 1
    return min(len(ids_oldest_first), max(excess, aged))


# --- reports ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What deleting one workflow removed."""

    workflow_id: str
    deleted_at_ms: int
    done_at_ms: int | None
    removed: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "workflow_id": self.workflow_id,
            "deleted_at_ms": self.deleted_at_ms,
            "done_at_ms": self.done_at_ms,
            "removed": dict(self.removed),
            "total": self.total,
        }


def read_purge(key: bytes, raw: bytes) -> tuple[PurgeReport, str | None]:
    """A stored ``purge:`` record as a report, and the deleted workflow's owner."""
    data: Any = codec.loads(raw)
    if not isinstance(data, dict):
        raise CorruptDataError(f"purge record {key!r} is not an object")
    found = data.get("removed")
    removed: dict[str, Any] = found if isinstance(found, dict) else {}
    owner = data.get("owner")
    done = data.get("done_at")
    report = PurgeReport(
        keys.parse_purge(key),
        int(data.get("deleted_at") or 0),
        done if isinstance(done, int) else None,
        {str(k): int(v) for k, v in removed.items()},
    )
    return report, owner if isinstance(owner, str) else None


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one retention pass removed, and the oldest records it kept."""

    started_ms: int
    finished_ms: int
    removed: Mapping[str, int]
    purges: tuple[PurgeReport, ...] = ()
    oldest_execution_ms: int | None = None
    oldest_idempotency_mark_ms: int | None = None

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "started_ms": self.started_ms,
            "finished_ms": self.finished_ms,
            "removed": dict(self.removed),
            "purges": [p.to_json() for p in self.purges],
            "oldest_kept_ms": {
                "history": self.oldest_execution_ms,
                "idem": self.oldest_idempotency_mark_ms,
            },
        }


def policy_json(policy: Policy) -> dict[str, JsonValue]:
    return {"max_age_ms": policy.max_age_ms, "keep_last": policy.keep_last}
