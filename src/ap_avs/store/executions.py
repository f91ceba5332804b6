"""Stored executions: ``history:<workflow>:<execution>`` records, run bookkeeping and markers.

A run begins and ends with one transaction each. :meth:`ExecutionRepo.begin` counts the run on
the workflow and allocates its 0-based index; :meth:`ExecutionRepo.finish` stores the execution,
removes the queued-run markers and the run's step journal (``store/journal.py``), and completes
the workflow when its budget or time is spent, so a workflow, its executions and the journal
never disagree.

Raises:
    CorruptDataError: a stored execution that does not decode.
    StoreError: the store failed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from ap_avs.domain.execution import (
    Execution,
    ExecutionStatus,
    Fee,
    NodeCost,
    Step,
    ValueFee,
)
from ap_avs.domain.pagination import PageRequest
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec, keys, retired
from ap_avs.store import journal as step_journal
from ap_avs.store.kv import KV, ReadTxn, Txn
from ap_avs.store.workflows import find_workflow, write_workflow


def _encode(execution: Execution) -> bytes:
    data = asdict(execution)
    data["status"] = execution.status.name
    return codec.dumps(data)


def _fee(data: Any) -> Fee | None:
    return Fee(**data) if isinstance(data, dict) else None


def _decode(raw: bytes) -> Execution:
    data: Any = codec.loads(raw)
    try:
        if not isinstance(data, dict):
            raise TypeError("not an object")
        steps = tuple(
            Step(**{**s, "inputs": tuple(s.get("inputs", ()))})
            for s in data.get("steps", [])
            if isinstance(s, dict)
        )
        cogs = tuple(
            NodeCost(c["node_id"], c["cost_type"], Fee(**c["fee"]), c.get("gas_units", ""))
            for c in data.get("cogs", [])
            if isinstance(c, dict)
        )
        value_fee = data.get("value_fee")
        return Execution(
            id=data["id"],
            workflow_id=data["workflow_id"],
            index=data["index"],
            status=ExecutionStatus[data["status"]],
            start_at=data["start_at"],
            end_at=data.get("end_at", 0),
            error=data.get("error", ""),
            steps=steps,
            execution_fee=_fee(data.get("execution_fee")),
            cogs=cogs,
            value_fee=ValueFee(**{**value_fee, "fee": Fee(**value_fee["fee"])})
            if isinstance(value_fee, dict)
            else None,
            trigger_kind=data.get("trigger_kind", ""),
            extra=data.get("extra", {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptDataError(f"stored execution is malformed: {exc}") from None


@dataclass(frozen=True, slots=True)
class Begun:
    """A run that has been counted: the workflow after the count, and the run's index."""

    workflow: Workflow
    index: int


def run_failed(execution: Execution) -> bool:
    """A run that achieved nothing: it could not execute, or every node step failed."""
    if execution.status is ExecutionStatus.FAILED:
        return True
    nodes = execution.steps[1:]
    return execution.status is ExecutionStatus.PARTIAL_SUCCESS and all(not s.success for s in nodes)


@dataclass(frozen=True, slots=True)
class Finished:
    """What finishing a run changed: the stored execution, and the workflow if this run
    completed or disabled it."""

    execution: Execution
    completed: Workflow | None = None
    disabled: Workflow | None = None


class ExecutionRepo:
    """Run bookkeeping and execution records."""

    def __init__(self, kv: KV, *, before_commit: Callable[[], None] | None = None) -> None:
        """``before_commit`` is called inside the transaction that records a run, before it
        commits: the test-only fault hook (``ap_avs.faults``, point ``during-record``)."""
        self._kv = kv
        self._before_commit = before_commit

    async def begin(self, workflow_id: str, execution_id: str, now_ms: int) -> Begun | None:
        """Count a run on the workflow and allocate its index (None: no such workflow).

        Beginning the same execution again (a job rerun after a crash) counts nothing more and
        keeps its index, so every accepted trigger counts once; an execution already recorded
        is not begun again (None). A new run of a workflow that
        cannot run any more (budget spent, expired, not started) is refused (None).
        """

        def begin(txn: Txn) -> Begun | None:
            wf = find_workflow(txn, workflow_id)
            if wf is None:
                return None
            if txn.get(keys.history(workflow_id, execution_id)) is not None:
                return None  # finished already (a job rerun after a crash): nothing to do
            marker = keys.running(workflow_id, execution_id)
            if (begun := txn.get(marker)) is not None:
                return Begun(wf, codec.decode_int(begun))
            if not wf.is_runnable(now_ms):
                return None
            pending = keys.pending(workflow_id, execution_id)
            reserved = txn.get(pending)
            if reserved is not None:
                index = codec.decode_int(reserved)
                txn.delete(pending)
            else:
                counter = keys.execution_index_counter(workflow_id)
                current = txn.get(counter)
                index = codec.decode_int(current) if current is not None else 0
                txn.put(counter, codec.encode_int(index + 1))
            counted = wf.with_run_recorded(now_ms)
            write_workflow(txn, counted, previous=wf.status)
            txn.put(marker, codec.encode_int(index))
            return Begun(counted, index)

        return await self._kv.update(begin)

    async def reserve_index(self, workflow_id: str, execution_id: str) -> int:
        """Allocate the index of a run that starts later (``pending:`` marker)."""

        def reserve(txn: Txn) -> int:
            counter = keys.execution_index_counter(workflow_id)
            current = txn.get(counter)
            index = codec.decode_int(current) if current is not None else 0
            txn.put(counter, codec.encode_int(index + 1))
            txn.put(keys.pending(workflow_id, execution_id), codec.encode_int(index))
            txn.put(keys.trigger(workflow_id, execution_id), b"1")
            return index

        return await self._kv.update(reserve)

    async def mark_pending(self, workflow_id: str, execution_id: str) -> None:
        await self._kv.put(keys.trigger(workflow_id, execution_id), b"1")

    async def finish(
        self, execution: Execution, now_ms: int, *, disable_after: int | None = None
    ) -> Finished:
        """Store the execution, clear its markers, complete the workflow if it is spent, and
        disable it after ``disable_after`` failed runs in a row (LESSONS 16; the reason is added
        to this execution's error).
        """

        def finish(txn: Txn) -> Finished:
            wf_id = execution.workflow_id
            record = execution
            wf = find_workflow(txn, wf_id)
            streak_key = keys.failure_streak(wf_id)
            disabled = None
            if run_failed(execution):
                old = txn.get(streak_key)
                streak = (codec.decode_int(old) if old is not None else 0) + 1
                txn.put(streak_key, codec.encode_int(streak))
                if (
                    disable_after is not None
                    and streak >= disable_after
                    and wf is not None
                    and wf.status is TaskStatus.ENABLED
                ):
                    disabled = wf.with_status(TaskStatus.DISABLED)
                    write_workflow(txn, disabled, previous=wf.status)
                    txn.delete(streak_key)
                    note = f"workflow disabled after {streak} failed runs in a row"
                    record = replace(
                        execution, error=f"{execution.error}; {note}" if execution.error else note
                    )
            else:
                txn.delete(streak_key)
            txn.put(keys.history(wf_id, execution.id), _encode(record))
            txn.delete(keys.trigger(wf_id, execution.id))
            txn.delete(keys.pending(wf_id, execution.id))
            txn.delete(keys.running(wf_id, execution.id))
            step_journal.clear(txn, execution.id)
            if self._before_commit is not None:
                self._before_commit()
            if disabled is not None:
                return Finished(record, disabled=disabled)
            if wf is None or wf.status is not TaskStatus.ENABLED or not wf.is_complete(now_ms):
                return Finished(record)
            completed = wf.with_status(TaskStatus.COMPLETED, now_ms=now_ms)
            write_workflow(txn, completed, previous=wf.status)
            return Finished(record, completed=completed)

        return await self._kv.update(finish)

    async def get(self, workflow_id: str, execution_id: str) -> Execution | None:
        raw = await self._kv.get(keys.history(workflow_id, execution_id))
        return None if raw is None else _decode(raw)

    async def pending_index(self, workflow_id: str, execution_id: str) -> int | None:
        """The index of a queued run that has not finished; -1 when queued without one; None
        when it is not queued."""

        def read(txn: ReadTxn) -> int | None:
            if txn.get(keys.trigger(workflow_id, execution_id)) is None:
                return None
            reserved = txn.get(keys.pending(workflow_id, execution_id))
            return codec.decode_int(reserved) if reserved is not None else -1

        return await self._kv.view(read)

    async def count(self, workflow_ids: Sequence[str]) -> int:
        """Executions ever recorded for the workflows: stored plus removed by retention."""
        return await self._kv.view(lambda txn: retired.count_with_retired(txn, workflow_ids))

    async def summary(self, workflow_ids: Sequence[str], since_ms: int) -> retired.Summary:
        """Stats of the workflows' executions that started at or after ``since_ms`` (a whole
        hour: `retired.stats_since`), stored and removed, read in one snapshot."""
        return await self._kv.view(
            lambda txn: retired.summary_with_retired(txn, workflow_ids, since_ms)
        )

    async def retired_tally(self, workflow_id: str) -> retired.Tally:
        """How many of the workflow's executions retention removed, and the newest one."""
        return await self._kv.view(lambda txn: retired.read_tally(txn, workflow_id))

    async def all(self, workflow_ids: Sequence[str]) -> list[Execution]:
        found: list[Execution] = []
        for wf_id in sorted(set(workflow_ids)):
            found.extend(_decode(raw) for _, raw in await self._kv.scan(keys.history_prefix(wf_id)))
        return found

    async def page(
        self, workflow_ids: Sequence[str], request: PageRequest
    ) -> tuple[list[Execution], bool]:
        """Executions of the workflows, newest first, keyset-paginated on the execution id."""
        backwards = request.direction == "prev"
        want = request.limit + 1

        def read(txn: ReadTxn) -> tuple[list[Execution], bool]:
            found: list[tuple[str, bytes]] = []
            for wf_id in sorted(set(workflow_ids)):
                prefix = keys.history_prefix(wf_id)
                start = None if request.position is None else prefix + request.position.encode()
                rows = txn.scan(
                    prefix, start=start, include_start=False, reverse=not backwards, limit=want
                )
                found.extend((keys.parse_history(k).execution_id, v) for k, v in rows)
            pick = heapq.nsmallest if backwards else heapq.nlargest
            chosen = pick(want, found, key=lambda item: item[0])
            more = len(chosen) > request.limit
            chosen = chosen[: request.limit]
            if backwards:
                chosen.reverse()
            return [_decode(raw) for _, raw in chosen], more

        return await self._kv.view(read)


def execution_json(execution: Execution) -> JsonValue:
    """The stored JSON of an execution (for tools and backups)."""
    return codec.loads(_encode(execution))
