"""Read-only views of a store for operators of the service: operators, recent executions, raw
keys and values as text. Shared by the admin console and the telemetry page.

* :func:`operator_statuses` joins the stored ``operator:`` records (last Ping: version, block,
  events) with the live dispatcher (connected streams, assignments), the accountability
  records (refused reports counted under ``evidence_count:``, ``suspended:``) and, when
  operators are admitted by EigenLayer stake, each one's membership and allocated stake.
  Without a dispatcher (a stopped store) ``connected`` is unknown (None) and assignments come
  from ``assign:`` keys.
* :func:`executions_since` counts ``history:`` records whose execution id (a ULID, so its first
  ten characters are its time) is at or after a moment. History keys are ordered by workflow
  first, so it skips from workflow to workflow: one seek to find the next workflow id and one
  range scan from the cut-off id, i.e. O(workflows with history + recent executions) seeks, not
  a walk of every execution. ``max_workflows`` bounds the work; the result says if it stopped.

Raises: ``StoreError`` from the store.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from ap_avs.domain.values import JsonValue
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec, keys
from ap_avs.store.evidence import EvidenceRepo
from ap_avs.store.kv import KV

_CROCKFORD: Final = "0123456789abcdefghjkmnpqrstvwxyz"
_HISTORY: Final = b"history:"
_YIELD_EVERY: Final = 256


class OperatorDirectory(Protocol):
    """The live view of operators (the aggregator's `Dispatcher` is one)."""

    def live_operators(self) -> Mapping[str, object]: ...

    def assigned_to(self, address: str) -> set[str]: ...


class StakeFacts(Protocol):
    """What admission by stake last read of one operator (`admission.Verdict` is one)."""

    @property
    def member(self) -> bool: ...

    @property
    def slashable(self) -> Mapping[str, int]: ...

    @property
    def refusal(self) -> str | None: ...

    @property
    def block(self) -> int: ...


class StakeDirectory(Protocol):
    """Admission by EigenLayer stake (`admission.StakeAdmission` is one)."""

    def verdict(self, address: str) -> StakeFacts | None: ...


@dataclass(frozen=True, slots=True)
class StakeStatus:
    """An operator's EigenLayer standing as admission last read it."""

    admitted: bool
    member: bool
    slashable: tuple[tuple[str, int], ...]
    """Allocated, slashable stake per strategy (shares)."""
    block: int
    refusal: str | None

    @classmethod
    def of(cls, facts: StakeFacts) -> StakeStatus:
        return cls(
            admitted=facts.refusal is None,
            member=facts.member,
            slashable=tuple(sorted(facts.slashable.items())),
            block=facts.block,
            refusal=facts.refusal,
        )

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "admitted": self.admitted,
            "member": self.member,
            "slashable": {strategy: str(amount) for strategy, amount in self.slashable},
            "block": self.block,
            "refusal": self.refusal,
        }


@dataclass(frozen=True, slots=True)
class OperatorStatus:
    """One operator as the telemetry page and the admin console show it."""

    address: str
    connected: bool | None
    """None: unknown (no server running)."""
    version: str
    last_seen_ms: int | None
    block_number: int
    events_seen: int
    assigned: tuple[str, ...]
    invalid_reports: int = 0
    """Refused trigger reports (evidence records) counted against the operator."""
    suspended: bool = False
    stake: StakeStatus | None = None
    """None: admission by stake is off, or this operator was not read yet."""

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "address": self.address,
            "connected": self.connected,
            "version": self.version,
            "last_seen_ms": self.last_seen_ms,
            "block_number": self.block_number,
            "events_seen": self.events_seen,
            "assigned_workflows": len(self.assigned),
            "assigned": list(self.assigned),
            "invalid_reports": self.invalid_reports,
            "suspended": self.suspended,
            "eigenlayer": self.stake.to_json() if self.stake is not None else None,
        }


def _int(record: Mapping[str, JsonValue], name: str) -> int:
    value = record.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _last_seen(record: Mapping[str, JsonValue]) -> int | None:
    ms = _int(record, "last_ping_ms") or _int(record, "last_ping") * 1000
    return ms or None


async def _stored_assignments(kv: KV) -> dict[str, list[str]]:
    by_operator: dict[str, list[str]] = {}
    for key, raw in await kv.scan(keys.ASSIGNMENTS):
        try:
            workflow_id = keys.parse_assign(key)
        except ValueError:
            continue
        by_operator.setdefault(raw.decode(errors="replace").lower(), []).append(workflow_id)
    return by_operator


async def operator_statuses(
    kv: KV, directory: OperatorDirectory | None = None, stake: StakeDirectory | None = None
) -> list[OperatorStatus]:
    """Every operator with a stored record or a live stream: connected first, then by the time
    they were last seen (newest first); with ``stake``, each one's EigenLayer standing."""
    records: dict[str, Mapping[str, JsonValue]] = {}
    for key, raw in await kv.scan(keys.OPERATORS):
        try:
            record = codec.loads(raw)
        except CorruptDataError:
            continue
        if isinstance(record, dict):
            address = key[len(keys.OPERATORS) :].decode(errors="replace").lower()
            records[address] = record
    live = {a.lower() for a in directory.live_operators()} if directory is not None else set()
    stored = await _stored_assignments(kv) if directory is None else {}
    evidence = EvidenceRepo(kv)
    counts = await evidence.counts()
    suspended = set(await evidence.suspended())
    found: list[OperatorStatus] = []
    for address in sorted(records.keys() | live | counts.keys() | suspended):
        stored_record = records.get(address, {})
        shown = stored_record.get("address")
        if directory is not None:
            assigned = tuple(sorted(directory.assigned_to(address)))
        else:
            assigned = tuple(sorted(stored.get(address, ())))
        found.append(
            OperatorStatus(
                address=shown if isinstance(shown, str) and shown else address,
                connected=(address in live) if directory is not None else None,
                version=str(stored_record.get("version") or ""),
                last_seen_ms=_last_seen(stored_record),
                block_number=_int(stored_record, "block_number"),
                events_seen=_int(stored_record, "event_count"),
                assigned=assigned,
                invalid_reports=counts.get(address, 0),
                suspended=address in suspended,
                stake=_stake(stake, address),
            )
        )
    found.sort(key=lambda op: (not op.connected, -(op.last_seen_ms or 0), op.address))
    return found


def _stake(stake: StakeDirectory | None, address: str) -> StakeStatus | None:
    facts = stake.verdict(address) if stake is not None else None
    return StakeStatus.of(facts) if facts is not None else None


def ulid_floor(ms: int) -> str:
    """The smallest lower-case ULID whose time is ``ms``: every id made at ``ms`` or later sorts
    at or after it."""
    if not 0 <= ms < 1 << 48:
        raise ValueError(f"a ULID time must be 0 <= ms < 2**48, got {ms}")
    digits = []
    for _ in range(10):
        digits.append(_CROCKFORD[ms & 31])
        ms >>= 5
    return "".join(reversed(digits)) + "0" * 16


@dataclass(frozen=True, slots=True)
class RecentExecutions:
    count: int
    complete: bool
    """False when ``max_workflows`` stopped the count early (then it is a lower bound)."""


async def executions_since(
    kv: KV, since_ms: int, *, max_workflows: int = 100_000
) -> RecentExecutions:
    """How many ``history:`` records have an execution id at or after ``since_ms``."""
    cut = ulid_floor(max(0, since_ms)).encode()
    count = 0
    start: bytes | None = None
    after = False  # whether `start` itself is skipped
    for seen in range(max_workflows + 1):
        head = await kv.scan_keys(_HISTORY, start=start, include_start=not after, limit=1)
        if not head:
            return RecentExecutions(count, True)
        if seen == max_workflows:
            return RecentExecutions(count, False)
        workflow_part, sep, _ = head[0][len(_HISTORY) :].partition(b":")
        if not sep:  # not a history key of ours; step over it
            start, after = head[0], True
            continue
        prefix = _HISTORY + workflow_part + b":"
        count += len(await kv.scan_keys(prefix, start=prefix + cut))
        start, after = _HISTORY + workflow_part + b";", False  # ';' follows ':': past them all
        if seen % _YIELD_EVERY == _YIELD_EVERY - 1:
            await asyncio.sleep(0)  # inline reads never suspend: let the loop breathe
    return RecentExecutions(count, False)


def key_text(key: bytes) -> str:
    """A key as text (bytes that are not UTF-8 as ``\\xNN``)."""
    return key.decode(errors="backslashreplace")


def value_json(raw: bytes) -> dict[str, JsonValue]:
    """A stored value for display: ``{"json": …}`` when it is JSON, ``{"text": …}`` when it is
    UTF-8 text, else ``{"base64": …}``; always with its ``size``."""
    shown: dict[str, JsonValue] = {"size": len(raw)}
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        shown["base64"] = base64.b64encode(raw).decode()
        return shown
    try:
        shown["json"] = codec.loads(raw)
    except CorruptDataError:
        shown["text"] = text
    return shown
