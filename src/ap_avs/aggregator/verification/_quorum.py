"""Quorum votes on one trigger occurrence, decided inside one store transaction.

The votes of an occurrence live in one record, ``votes:<workflowId>:<occurrence>``:
``{"decided": digest | null, "votes": {operator: {digest, kind, at, signature, request}}}``.
A vote is added (one per operator); when ``k`` distinct operators hold the same digest, the run
is queued in the same transaction (:meth:`JobQueue.accept_in`, so exactly once) and the digest
is recorded as decided. Every vote with another digest, earlier or later, is disagreement and
is stored as evidence against its operator (again in the same transaction); so is an operator
that reports the same occurrence twice with different data.

Nothing here does I/O; :func:`vote_in` is called by the gate inside ``kv.update``.
"""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass, field

from ap_avs.aggregator.verification._model import Report
from ap_avs.domain.values import JsonValue
from ap_avs.engine.queue import FiredTrigger, JobQueue, TriggerOutcome, TriggerVerdict, outcome_for
from ap_avs.store import codec, keys
from ap_avs.store.evidence import Evidence, record_in
from ap_avs.store.kv import Txn
from ap_avs.store.workflows import find_workflow


@dataclass(slots=True)
class VoteResult:
    outcome: TriggerOutcome | None = None
    refused: str | None = None
    """Why this report was refused (it disagrees); then ``outcome`` is None."""
    suspended: list[tuple[str, str]] = field(default_factory=list)
    """Operators suspended by evidence written here, with the reason."""


def _evidence(
    operator: str, report: Report, kind: str, request: bytes, signature: str, reason: str, at: int
) -> Evidence:
    return Evidence(
        operator=operator,
        workflow_id=report.workflow_id,
        occurrence=report.occurrence,
        trigger_kind=kind,
        reason=reason,
        request=request,
        signature=signature,
        at_ms=at,
    )


def vote_in(
    txn: Txn,
    queue: JobQueue,
    report: Report,
    fired: FiredTrigger,
    *,
    k: int,
    now_ms: int,
    suspend_after: int,
) -> VoteResult:
    """Count ``report``'s vote and queue the run when ``k`` operators agree."""
    key = keys.votes(report.workflow_id, report.occurrence)
    raw = txn.get(key)
    record = codec.loads(raw) if raw is not None else {"decided": None, "votes": {}}
    assert isinstance(record, dict)
    votes = record.get("votes")
    assert isinstance(votes, dict)
    decided = record.get("decided")
    result = VoteResult()
    kind = report.fired.kind.wire_name

    def refuse(operator: str, reason: str, request: bytes, signature: str, vote_kind: str) -> None:
        evidence = _evidence(operator, report, vote_kind, request, signature, reason, now_ms)
        _, suspended = record_in(txn, evidence, suspend_after=suspend_after)
        if suspended:
            result.suspended.append((operator, reason))

    mine = votes.get(report.operator)
    if isinstance(mine, dict) and mine.get("digest") != report.digest:
        reason = (
            f"reported occurrence {report.occurrence} again with different data "
            f"({mine.get('digest')} before, {report.digest} now)"
        )
        refuse(report.operator, reason, report.request, report.signature, kind)
        result.refused = reason
        return result
    if mine is None:
        vote: JsonValue = {
            "digest": report.digest,
            "kind": kind,
            "at": now_ms,
            "signature": report.signature,
            "request": base64.b64encode(report.request).decode(),
        }
        votes[report.operator] = vote
    if decided is None:
        tally = Counter(str(v.get("digest")) for v in votes.values() if isinstance(v, dict))
        if tally[report.digest] >= k:
            outcome = queue.accept_in(
                txn,
                report.workflow_id,
                report.occurrence,
                fired,
                operator=report.operator,
                now_ms=now_ms,
            )
            result.outcome = outcome
            if outcome.verdict in (TriggerVerdict.ACCEPTED, TriggerVerdict.DEDUPLICATED):
                decided = report.digest
                for operator, other in sorted(votes.items()):
                    if isinstance(other, dict) and other.get("digest") != decided:
                        refuse(
                            operator,
                            f"disagreed with {k} operators on occurrence {report.occurrence}",
                            base64.b64decode(str(other.get("request") or "")),
                            str(other.get("signature") or ""),
                            str(other.get("kind") or kind),
                        )
        else:
            wf = find_workflow(txn, report.workflow_id)
            result.outcome = outcome_for(wf, TriggerVerdict.AWAITING_QUORUM, now_ms)
    elif report.digest != decided:
        reason = f"disagreed with {k} operators on occurrence {report.occurrence}"
        if mine is None:
            refuse(report.operator, reason, report.request, report.signature, kind)
        result.refused = reason
    else:
        wf = find_workflow(txn, report.workflow_id)
        result.outcome = outcome_for(wf, TriggerVerdict.DEDUPLICATED, now_ms)
    record["decided"] = decided
    txn.put(key, codec.dumps(record))
    return result
