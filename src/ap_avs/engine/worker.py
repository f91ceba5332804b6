"""Queue workers: claim jobs in FIFO order and run them, a few at a time.

A job whose run raised is marked failed with the reason (not retried: the run already counted
and recorded what it could); a job whose workflow is gone is completed as dropped. At start-up,
jobs left in progress by a crash go back to the queue (``JobQueue.recover``), so every accepted
trigger runs (the execution id is fixed in the job, so a rerun overwrites, never duplicates).
"""

from __future__ import annotations

import asyncio
import logging

from ap_avs.engine.queue import JobQueue
from ap_avs.engine.runs import RunService

logger = logging.getLogger(__name__)


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
                logger.exception("job %s of workflow %s failed", job.id, job.workflow_id)
                await self._queue.fail(job, f"{type(exc).__name__}: {exc}")
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
