"""`TriggerGate`: what happens to an assigned operator's trigger report before anything runs.

1. The report's signature (:mod:`ap_avs.auth.trigger_reports`) must be the operator's
   (``Unauthenticated`` otherwise; an unattributable report is not evidence).
2. A workflow that is gone, stopped, spent or out of its time window is answered at once
   (nothing would run).
3. Strict mode: the report is verified against the workflow's trigger and the aggregator's own
   chain and clock (:mod:`._checks`, :mod:`._chain`); the run's trigger output is the rebuilt
   one. A false report is stored as evidence (:mod:`ap_avs.store.evidence`) and refused with
   ``ReportRefused`` (INVALID_ARGUMENT); an operator reaching the threshold is suspended
   (``on_suspended``: the dispatcher moves its workflows). A report that cannot be judged now
   raises ``Unavailable``: nothing runs unverified. Off mode (development) passes reports on.
4. ``k == 1``: the run is queued (:meth:`JobQueue.accept_trigger`). ``k > 1``: the report is a
   vote (:mod:`._quorum`); the run is queued once ``k`` operators agree.

Raises:
    Unauthenticated: missing or foreign report signature (when signatures are required).
    ReportRefused: the report is false or disagrees with the quorum.
    Unavailable: the chain cannot be read now, or the block is not deep enough yet.
    StoreError: from the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ap_avs.aggregator.verification._chain import ChainVerifier
from ap_avs.aggregator.verification._checks import (
    TIME_KINDS,
    check_kind,
    data_object,
    verify_time,
)
from ap_avs.aggregator.verification._model import Report, VerificationSettings
from ap_avs.aggregator.verification._quorum import VoteResult, vote_in
from ap_avs.auth.trigger_reports import report_signer
from ap_avs.clock import now_ms
from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.queue import FiredTrigger, JobQueue, TriggerOutcome, TriggerVerdict, assess
from ap_avs.errors import ReportRefused, Unauthenticated, Unavailable
from ap_avs.store.evidence import Evidence, record_in
from ap_avs.store.kv import KV, Txn
from ap_avs.store.workflows import WorkflowRepo

logger = logging.getLogger(__name__)

OnSuspended = Callable[[str, str], None]
"""Called with (operator, reason) after a suspension was stored."""


class TriggerGate:
    """Verifies, records and queues operators' trigger reports (see the module docstring).

    Usage::

        gate = TriggerGate(kv, queue, WorkflowRepo(kv), settings, chain=ChainVerifier(...),
                           on_suspended=dispatcher.suspend)
        outcome = await gate.accept(report)
    """

    def __init__(
        self,
        kv: KV,
        queue: JobQueue,
        workflows: WorkflowRepo,
        settings: VerificationSettings,
        *,
        chain: ChainVerifier | None = None,
        on_suspended: OnSuspended | None = None,
        now_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._kv = kv
        self._queue = queue
        self._workflows = workflows
        self.settings = settings
        self._chain = chain
        self._on_suspended = on_suspended
        self.now_ms = now_ms

    def _check_signature(self, report: Report) -> None:
        if not self.settings.require_signature:
            return
        if not report.signature:
            raise Unauthenticated(
                "NotifyTriggers: the report must be signed by the operator in 'signature' "
                "(task id, trigger_request_id, trigger type and data digest)"
            )
        signer = report_signer(
            report.signature,
            operator=report.operator,
            task_id=report.workflow_id,
            occurrence=report.request_id,
            kind=report.fired.kind,
            digest=report.digest,
        )
        if signer is None or signer.lower() != report.operator:
            raise Unauthenticated(
                "NotifyTriggers: 'signature' is not the operator's signature of this report"
            )

    async def accept(self, report: Report) -> TriggerOutcome:
        """Verify ``report`` and queue (or vote for) its run. See the module docstring."""
        self._check_signature(report)
        now = self.now_ms()
        wf = await self._workflows.get(report.workflow_id)
        if wf is None or wf.status is not TaskStatus.ENABLED:
            return assess(wf, now)
        early = assess(wf, now)
        if early.verdict is not TriggerVerdict.ACCEPTED:
            return early
        try:
            fired = await self._verify(wf, report, now)
        except ReportRefused as exc:
            await self._refuse(report, exc.reason, now)
            raise
        if self.settings.quorum_k <= 1:
            return await self._queue.accept_trigger(
                wf.id, report.occurrence, fired, operator=report.operator, now_ms=now
            )
        return await self._vote(report, fired, now)

    async def _verify(self, wf: Workflow, report: Report, now: int) -> FiredTrigger:
        if not self.settings.strict:
            return report.fired
        check_kind(wf.trigger.kind, report.fired.kind)
        kind = wf.trigger.kind
        if kind in TIME_KINDS:
            return verify_time(
                wf,
                data_object(report.fired),
                report.occurrence,
                now_ms=now,
                skew_ms=self.settings.clock_skew_ms,
                max_age_ms=self.settings.max_report_age_ms,
            )
        if kind in (TriggerKind.BLOCK, TriggerKind.EVENT):
            if self._chain is None:
                raise Unavailable(
                    "the aggregator cannot verify chain triggers: no chain RPC is configured "
                    "(smart_wallet.eth_rpc_url)"
                )
            if kind is TriggerKind.BLOCK:
                return await self._chain.block(wf, report, now_ms=now)
            return await self._chain.event(wf, report, now_ms=now)
        raise ReportRefused("manual triggers are not reported by operators")

    async def _refuse(self, report: Report, reason: str, now: int) -> None:
        evidence = Evidence(
            operator=report.operator,
            workflow_id=report.workflow_id,
            occurrence=report.occurrence,
            trigger_kind=report.fired.kind.wire_name,
            reason=reason,
            request=report.request,
            signature=report.signature,
            at_ms=now,
        )

        def record(txn: Txn) -> bool:
            _, suspended = record_in(txn, evidence, suspend_after=self.settings.suspend_after)
            return suspended

        suspended = await self._kv.update(record)
        logger.warning(
            "refused a trigger report of operator %s for workflow %s (%s): %s",
            report.operator,
            report.workflow_id,
            report.occurrence,
            reason,
        )
        if suspended:
            self._suspended(report.operator, reason)

    def _suspended(self, operator: str, reason: str) -> None:
        logger.warning("operator %s suspended after invalid trigger reports (%s)", operator, reason)
        if self._on_suspended is not None:
            self._on_suspended(operator, reason)

    async def _vote(self, report: Report, fired: FiredTrigger, now: int) -> TriggerOutcome:
        def vote(txn: Txn) -> VoteResult:
            return vote_in(
                txn,
                self._queue,
                report,
                fired,
                k=self.settings.quorum_k,
                now_ms=now,
                suspend_after=self.settings.suspend_after,
            )

        result = await self._kv.update(vote)
        for operator, reason in result.suspended:
            self._suspended(operator, reason)
        if result.refused is not None:
            raise ReportRefused(result.refused)
        assert result.outcome is not None
        if result.outcome.verdict is TriggerVerdict.ACCEPTED:
            self._queue.wake()
        return result.outcome
