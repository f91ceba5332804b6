"""The durable job queue: fired triggers and queued user runs waiting for the executor.

Owns the ``q:default:<state>:<jobId>`` jobs, the ``q:seq:default`` id sequence and the
``idem:<workflowId>:<occurrence>`` idempotency marks (PROTOCOL.md §6.6-6.7 with the quirks
fixed; LESSONS 7, 14 and 16). It also writes the ``trigger:<task>:<exec>`` pending marker of
every execution it queues, and binds ``pending:<task>:<exec>`` ids pre-allocated by a
non-blocking TriggerTask to the next trigger (``pending_bound:`` marks, one job per id).

* :meth:`JobQueue.accept_trigger` does everything in ONE transaction: idempotency check,
  re-read of the workflow (status Enabled and ``is_runnable``), execution id, pending marker,
  job, sequence and idempotency mark. A duplicate is refused across restarts.
* Runs waiting in the queue (``queued:<workflowId>``) count against the execution budget, so
  a fast trigger cannot queue more runs than ``max_execution`` allows (the executor still
  checks when a run starts: a claimed run counts only once it has begun).
* A job keeps the full trigger output (kind and JSON data, ints stay ints), the execution id
  and the trigger input variables, so a queued run sees exactly what a blocking run sees.
* Job ids are zero-padded (``keys.queue_job``), so byte order is FIFO.
* Workers :meth:`~JobQueue.claim` (q -> p), then :meth:`~JobQueue.complete` (p -> c) or
  :meth:`~JobQueue.fail` (p -> f, or back to q when retrying). :meth:`~JobQueue.recover` at
  start-up puts every in-progress job back: delivery is at least once, and the executor stays
  idempotent through the execution id. Completed and failed jobs are kept as a bounded history.

Usage::

    queue = JobQueue(kv)
    outcome = await queue.accept_trigger(wf_id, occurrence, FiredTrigger(TriggerKind.BLOCK, data))
    job = await queue.next_job()          # a worker: waits without polling
    ...
    await queue.complete(job)

Raises: ``StoreError`` (and its subclasses) from the store; ``CorruptDataError`` for a job
record that does not decode. Refusals (not found, disabled, exhausted, …) are outcomes, not
exceptions.
"""

from ap_avs.engine.queue._codec import JOB_TYPE
from ap_avs.engine.queue._model import (
    FiredTrigger,
    Job,
    JobSource,
    TriggerOutcome,
    TriggerVerdict,
    assess,
    derive_occurrence,
    judge,
    occurrence_of,
    outcome_for,
)
from ap_avs.engine.queue._store import (
    DEFAULT_HISTORY_LIMIT,
    PENDING_MARK,
    QUEUE,
    JobQueue,
    purge_idempotency,
)

__all__ = [
    "DEFAULT_HISTORY_LIMIT",
    "JOB_TYPE",
    "PENDING_MARK",
    "QUEUE",
    "FiredTrigger",
    "Job",
    "JobQueue",
    "JobSource",
    "TriggerOutcome",
    "TriggerVerdict",
    "assess",
    "derive_occurrence",
    "judge",
    "occurrence_of",
    "outcome_for",
    "purge_idempotency",
]
