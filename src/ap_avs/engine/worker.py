"""Queue workers: claim jobs in FIFO order and run them, a few at a time.

A run's own failures (a node erroring, a bad runner wallet) are recorded in its execution, so a
job only fails when the machinery did. A transient failure (store busy, chain RPC down: an
error marked ``retryable``) goes back to the queue after a growing pause, up to
:data:`MAX_ATTEMPTS`; anything else is marked failed with the reason. A job whose workflow is
gone is completed as dropped. At start-up,
jobs left in progress by a crash go back to the queue (``JobQueue.recover``), so every accepted
trigger runs (the execution id is fixed in the job, so a rerun overwrites, never duplicates).
"""

from __future__ import annotations

import asyncio
import logging

from ap_avs.engine.queue import JobQueue
from ap_avs.engine.runs import RunService
from ap_avs.errors import ApAvsError

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 0.5


def is_transient(error: BaseException) -> bool:
    return isinstance(error, ApAvsError) and error.retryable


class Workers:
    """``count`` concurrent workers over one queue."""

    def __init__(self, queue: JobQueue, runs: RunService, count: int = 4) -> None:
        self._queue = queue
        self._runs = runs
        self._count = count
        self.processed = 0

    async def _work(self) -> None:
        while True:
            job = await self._queue.next_job()
            try:
                await self._runs.run(
                    job.workflow_id, job.execution_id, job.trigger, job.input_variables
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                if is_transient(exc) and job.attempts < MAX_ATTEMPTS:
                    logger.warning("job %s will be retried: %s", job.id, reason)
                    await asyncio.sleep(BACKOFF_SECONDS * 2 ** (job.attempts - 1))
                    await self._queue.fail(job, reason, retry=True)
                else:
                    logger.exception("job %s of workflow %s failed", job.id, job.workflow_id)
                    await self._queue.fail(job, reason)
            else:
                await self._queue.complete(job)
            self.processed += 1

    async def run(self) -> None:
        """Recover interrupted jobs, then work until cancelled."""
        recovered = await self._queue.recover()
        if recovered:
            logger.info("re-queued %s jobs interrupted by a restart", recovered)
        async with asyncio.TaskGroup() as group:
            for n in range(self._count):
                group.create_task(self._work(), name=f"worker-{n}")
