"""`JobQueue`: the queue's transactions on the KV and the workers' wake-up.

See the package docstring for what it owns and guarantees.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Final

from ap_avs.clock import now_ms
from ap_avs.domain.ids import new_id
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import Workflow
from ap_avs.engine.queue._codec import decode_job, encode_job
from ap_avs.engine.queue._model import (
    FiredTrigger,
    Job,
    JobSource,
    TriggerOutcome,
    TriggerVerdict,
    judge,
    outcome_for,
)
from ap_avs.store import codec, keys
from ap_avs.store.keys import QueueState
from ap_avs.store.kv import KV, ReadTxn, Txn
from ap_avs.store.workflows import find_workflow

QUEUE: Final = "default"
DEFAULT_HISTORY_LIMIT: Final = 1000
_PRUNE_EVERY: Final = 32
PENDING_MARK: Final = b"1"
"""Value of ``trigger:<task>:<exec>`` while the execution waits (upstream PENDING)."""


def _next_job_id(txn: Txn) -> int:
    seq = keys.queue_seq(QUEUE)
    raw = txn.get(seq)
    job_id = (codec.decode_int(raw) if raw is not None else 0) + 1
    txn.put(seq, codec.encode_int(job_id))
    return job_id


def _take_pending_id(txn: Txn, workflow_id: str) -> tuple[str, int] | None:
    """The lowest pre-allocated execution id not yet bound to a job, and its index.

    The ``pending:`` key stays (the executor reads the index from it and deletes it); a
    ``pending_bound:`` mark keeps a second trigger from taking the same id (upstream reused it
    until the run ended).
    """
    for key, value in txn.scan(keys.pending_prefix(workflow_id)):
        execution_id = keys.parse_pending(key).execution_id
        if txn.get(keys.pending_bound(workflow_id, execution_id)) is None:
            return execution_id, codec.decode_int(value)
    return None


def _queued(txn: ReadTxn, workflow_id: str) -> int:
    raw = txn.get(keys.queued(workflow_id))
    return codec.decode_int(raw) if raw is not None else 0


def _count_queued(txn: Txn, workflow_id: str, delta: int) -> None:
    """Adjust the number of the workflow's jobs waiting in state ``q``."""
    value = _queued(txn, workflow_id) + delta
    if value > 0:
        txn.put(keys.queued(workflow_id), codec.encode_int(value))
    else:
        txn.delete(keys.queued(workflow_id))


def _enqueue(txn: Txn, draft: Job) -> Job:
    """Write ``draft`` as a new pending job with the next id, and its execution's marker."""
    job = replace(draft, id=_next_job_id(txn))
    _count_queued(txn, job.workflow_id, +1)
    txn.put(keys.trigger(job.workflow_id, job.execution_id), PENDING_MARK)
    if job.execution_index is not None:
        bound = keys.pending_bound(job.workflow_id, job.execution_id)
        txn.put(bound, codec.encode_int(job.id))
    txn.put(keys.queue_job(QUEUE, QueueState.PENDING, job.id), encode_job(job))
    return job


def purge_idempotency(txn: Txn, workflow_id: str) -> int:
    """Delete every idempotency mark of a workflow (call it in the delete transaction)."""
    marks = txn.scan_keys(keys.idem_prefix(workflow_id))
    for key in marks:
        txn.delete(key)
    return len(marks)


class JobQueue:
    """The ``default`` queue in the KV, with an in-process wake-up for workers."""

    def __init__(
        self,
        kv: KV,
        *,
        clock: Callable[[], int] = now_ms,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
    ) -> None:
        self._kv = kv
        self._clock = clock
        self._history_limit = history_limit
        self._wake = asyncio.Event()

    # --- producers -------------------------------------------------------------------------

    async def accept_trigger(
        self,
        workflow_id: str,
        occurrence: str,
        trigger: FiredTrigger,
        *,
        operator: str | None = None,
        now_ms: int | None = None,
    ) -> TriggerOutcome:
        """Queue one run for a trigger occurrence, at most once per (workflow, occurrence).

        Nothing is written unless the verdict is ``ACCEPTED`` (a missing workflow also has its
        stale idempotency marks purged).
        """
        now = self._clock() if now_ms is None else now_ms
        candidate = new_id(now_ms=now)

        def accept(txn: Txn) -> TriggerOutcome:
            return self.accept_in(
                txn, workflow_id, occurrence, trigger, operator=operator, now_ms=now, id_=candidate
            )

        outcome = await self._kv.update(accept)
        if outcome.verdict is TriggerVerdict.ACCEPTED:
            self.wake()
        return outcome

    def accept_in(
        self,
        txn: Txn,
        workflow_id: str,
        occurrence: str,
        trigger: FiredTrigger,
        *,
        operator: str | None,
        now_ms: int,
        id_: str | None = None,
    ) -> TriggerOutcome:
        """:meth:`accept_trigger` inside the caller's transaction (a quorum decides in the same
        one); call :meth:`wake` after it committed with an ACCEPTED outcome."""
        now = now_ms
        mark = keys.idem(workflow_id, occurrence)
        wf = find_workflow(txn, workflow_id)
        if wf is None:
            purge_idempotency(txn, workflow_id)
            return outcome_for(None, TriggerVerdict.NOT_FOUND, now)
        queued = _queued(txn, workflow_id)
        if txn.get(mark) is not None:
            return outcome_for(wf, TriggerVerdict.DEDUPLICATED, now, queued=queued)
        verdict = judge(wf, now, queued=queued)
        if verdict is not TriggerVerdict.ACCEPTED:
            return outcome_for(wf, verdict, now, queued=queued)
        pending = _take_pending_id(txn, workflow_id)
        candidate = id_ or new_id(now_ms=now)
        execution_id, index = pending if pending is not None else (candidate, None)
        job = _enqueue(
            txn,
            Job(
                id=0,
                workflow_id=wf.id,
                execution_id=execution_id,
                trigger=trigger,
                execution_index=index,
                source=JobSource.OPERATOR,
                occurrence=occurrence,
                operator=operator,
                enqueued_at=now,
            ),
        )
        record: JsonValue = {"execution_id": execution_id, "job_id": job.id, "at": now}
        txn.put(mark, codec.dumps(record))
        return _accepted(wf, job, now, queued + 1)

    def wake(self) -> None:
        """Wake a waiting worker (after a job was queued through :meth:`accept_in`)."""
        self._wake.set()

    async def enqueue_run(
        self,
        workflow_id: str,
        trigger: FiredTrigger,
        *,
        input_variables: Mapping[str, JsonValue] | None = None,
        now_ms: int | None = None,
    ) -> TriggerOutcome:
        """Queue a user-requested run (non-blocking TriggerTask): same path, no idempotency
        mark, a new execution id. Refused when the workflow is gone, Completed or Failed, or
        not runnable; a Disabled workflow may be run by its owner (as upstream's TriggerTask,
        which does not check the status). The caller checks ownership before."""
        now = self._clock() if now_ms is None else now_ms
        execution_id = new_id(now_ms=now)
        variables = dict(input_variables or {})

        def enqueue(txn: Txn) -> TriggerOutcome:
            wf = find_workflow(txn, workflow_id)
            queued = _queued(txn, workflow_id)
            verdict = judge(wf, now, queued=queued, user_run=True)
            if wf is None or verdict is not TriggerVerdict.ACCEPTED:
                return outcome_for(wf, verdict, now, queued=queued)
            draft = Job(
                id=0,
                workflow_id=wf.id,
                execution_id=execution_id,
                trigger=trigger,
                input_variables=variables,
                source=JobSource.USER,
                enqueued_at=now,
            )
            return _accepted(wf, _enqueue(txn, draft), now, queued + 1)

        outcome = await self._kv.update(enqueue)
        if outcome.verdict is TriggerVerdict.ACCEPTED:
            self._wake.set()
        return outcome

    # --- workers ---------------------------------------------------------------------------

    async def claim(self) -> Job | None:
        """Move the oldest pending job to in-progress and return it; None when there is none."""
        job, _ = await self._claim()
        return job

    async def _claim(self) -> tuple[Job | None, bool]:
        def claim(txn: Txn) -> tuple[Job | None, bool]:
            rows = txn.scan(keys.queue_prefix(QUEUE, QueueState.PENDING), limit=2)
            if not rows:
                return None, False
            key, raw = rows[0]
            job = decode_job(raw)
            job = replace(job, attempts=job.attempts + 1)
            txn.delete(key)
            _count_queued(txn, job.workflow_id, -1)
            txn.put(keys.queue_job(QUEUE, QueueState.IN_PROGRESS, job.id), encode_job(job))
            return job, len(rows) > 1

        return await self._kv.update(claim)

    async def next_job(self) -> Job:
        """Wait (without polling) until a job can be claimed, and claim it."""
        while True:
            self._wake.clear()
            job, more = await self._claim()
            if more:
                self._wake.set()  # let another waiting worker take the next one
            if job is not None:
                return job
            await self._wake.wait()

    async def complete(self, job: Job) -> bool:
        """Move ``job`` from in-progress to the completed history and drop its pending marker
        (harmless if the executor did already). False if it was not in progress."""
        return await self._finish(job, QueueState.COMPLETE, None, retry=False)

    async def fail(self, job: Job, reason: str, *, retry: bool = False) -> bool:
        """Record ``job`` as failed (kept in the bounded history, pending marker dropped so the
        execution does not stay PENDING forever), or with ``retry`` put it back at the head of
        the queue. False if it was not in progress."""
        state = QueueState.PENDING if retry else QueueState.FAILED
        done = await self._finish(job, state, reason, retry=retry)
        if done and retry:
            self._wake.set()
        return done

    async def _finish(self, job: Job, state: QueueState, error: str | None, *, retry: bool) -> bool:
        now = self._clock()
        limit = self._history_limit

        def finish(txn: Txn) -> bool:
            raw = txn.get(keys.queue_job(QUEUE, QueueState.IN_PROGRESS, job.id))
            if raw is None:
                return False
            stored = decode_job(raw)
            txn.delete(keys.queue_job(QUEUE, QueueState.IN_PROGRESS, job.id))
            if error is not None:
                stored = replace(stored, last_error=error)
            record = encode_job(stored, done_at=None if retry else now)
            txn.put(keys.queue_job(QUEUE, state, job.id), record)
            if retry:
                _count_queued(txn, job.workflow_id, +1)
            else:
                txn.delete(keys.trigger(job.workflow_id, job.execution_id))
                txn.delete(keys.pending_bound(job.workflow_id, job.execution_id))
                if job.id % _PRUNE_EVERY == 0:
                    _prune(txn, keys.queue_prefix(QUEUE, state), limit)
            return True

        return await self._kv.update(finish)

    async def recover(self) -> int:
        """Put every in-progress job back in the queue (call once at start-up, before workers
        run); returns how many. Their original ids keep them at the head, in order."""

        def recover(txn: Txn) -> int:
            rows = txn.scan(keys.queue_prefix(QUEUE, QueueState.IN_PROGRESS))
            for key, raw in rows:
                txn.delete(key)
                job_id = keys.parse_queue_job(key).job_id
                txn.put(keys.queue_job(QUEUE, QueueState.PENDING, job_id), raw)
                _count_queued(txn, decode_job(raw).workflow_id, +1)
            return len(rows)

        moved = await self._kv.update(recover)
        if moved:
            self._wake.set()
        return moved

    # --- inspection ------------------------------------------------------------------------

    async def depth(self, state: QueueState = QueueState.PENDING) -> int:
        """Number of jobs in ``state`` (pending by default)."""
        return await self._kv.count(keys.queue_prefix(QUEUE, state))

    async def jobs(self, state: QueueState, *, limit: int | None = None) -> list[Job]:
        """Jobs in ``state``, oldest first."""
        rows = await self._kv.scan(keys.queue_prefix(QUEUE, state), limit=limit)
        return [decode_job(raw) for _, raw in rows]

    async def forget_workflow(self, workflow_id: str) -> int:
        """Delete the idempotency marks of a deleted workflow; returns how many."""
        return await self._kv.update(lambda txn: purge_idempotency(txn, workflow_id))

    async def is_duplicate(self, workflow_id: str, occurrence: str) -> bool:
        """Whether the occurrence was accepted before (a read, for diagnostics)."""

        def seen(txn: ReadTxn) -> bool:
            return txn.get(keys.idem(workflow_id, occurrence)) is not None

        return await self._kv.view(seen)


def _prune(txn: Txn, prefix: bytes, limit: int) -> None:
    excess = txn.count(prefix) - limit
    if excess > 0:
        for key in txn.scan_keys(prefix, limit=excess):
            txn.delete(key)


def _accepted(wf: Workflow, job: Job, now: int, queued: int) -> TriggerOutcome:
    base = outcome_for(wf, TriggerVerdict.ACCEPTED, now, queued=queued)
    return replace(base, execution_id=job.execution_id, job_id=job.id)
