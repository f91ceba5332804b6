"""The store integrity check: the invariants the repositories keep, verified on one snapshot.

Checked (each broken one is a line in `IntegrityReport.problems`):

* every ``t:<s>:<id>`` record decodes, carries its key's id and status, and there is exactly one
  ``t:`` key per workflow id;
* every workflow has its ``u:<owner>:<wallet>:<id>`` entry holding the same status, and every
  ``u:`` entry has its ``t:`` record under that status;
* counters agree: ``queued:<id>`` equals the workflow's pending jobs in the queue; a workflow's
  ``executionCount`` equals its ``history:`` records plus those retention removed (its
  ``retired:`` tally) plus its ``running:`` markers (a run counts when it begins and is
  recorded when it ends); ``execution_index_counter:<id>`` is not below
  ``executionCount`` (every counted run took an index).

:func:`check` and :func:`key_counts` are synchronous over a `ReadTxn` (one consistent view, a
copy in a thread or ``kv.view``); :func:`check_store` runs the check on a `KV`. They walk the
whole store: use them offline, on snapshots or on a stopped store.

Raises: ``StoreError`` from the store; a record that does not decode is a problem, not an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import TaskStatus
from ap_avs.domain.workflow_codec import workflow_from_json
from ap_avs.engine.queue import QUEUE
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec, keys
from ap_avs.store.keys import QueueState
from ap_avs.store.kv import KV, ReadTxn
from ap_avs.store.retired import read_tally

MAX_PROBLEMS: Final = 200
"""Problems listed in full; the rest are only counted."""
_PAGE: Final = 4096
_USER_TASKS: Final = b"u:"
_QUEUED: Final = keys.queued("x")[:-1]  # b"queued:"
_PENDING_JOBS: Final = keys.queue_prefix(QUEUE, QueueState.PENDING)


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """What :func:`check` found."""

    workflows: int
    by_status: dict[str, int]
    user_entries: int
    executions: int
    pending_jobs: int
    problems: tuple[str, ...]
    problem_count: int

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "ok": self.ok,
            "workflows": self.workflows,
            "by_status": {name: count for name, count in self.by_status.items()},
            "user_entries": self.user_entries,
            "executions": self.executions,
            "pending_jobs": self.pending_jobs,
            "problem_count": self.problem_count,
            "problems": [problem for problem in self.problems],
        }


@dataclass(slots=True)
class _Problems:
    items: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(text)


@dataclass(frozen=True, slots=True)
class _Stored:
    status: TaskStatus
    owner: str
    wallet: str
    execution_count: int


def walk(txn: ReadTxn, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Every item under ``prefix``, read in pages (memory stays bounded)."""
    start: bytes | None = None
    while True:
        page = txn.scan(prefix, start=start, include_start=start is None, limit=_PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        start = page[-1][0]


def walk_keys(txn: ReadTxn, prefix: bytes) -> Iterator[bytes]:
    """Every key under ``prefix``, read in pages."""
    start: bytes | None = None
    while True:
        page = txn.scan_keys(prefix, start=start, include_start=start is None, limit=_PAGE)
        yield from page
        if len(page) < _PAGE:
            return
        start = page[-1]


def family(key: bytes) -> str:
    """The family of a key: its text up to the first ``:`` (``t``, ``u``, ``history``, …)."""
    head, _, _ = key.partition(b":")
    return head.decode(errors="backslashreplace")


def key_counts(txn: ReadTxn) -> dict[str, int]:
    """How many keys each family has, in family order."""
    counts = Counter(family(key) for key in walk_keys(txn, b""))
    return dict(sorted(counts.items()))


def _workflows(txn: ReadTxn, problems: _Problems) -> dict[str, _Stored]:
    found: dict[str, _Stored] = {}
    seen: dict[str, list[TaskStatus]] = {}
    for key, raw in walk(txn, keys.TASKS):
        try:
            status, task_id = keys.parse_task(key)
        except ValueError as exc:
            problems.add(f"{_show(key)}: not a task key ({exc})")
            continue
        seen.setdefault(task_id, []).append(TaskStatus(status))
        try:
            wf = workflow_from_json(codec.loads(raw))
        except CorruptDataError as exc:
            problems.add(f"{_show(key)}: the record does not decode ({exc})")
            continue
        if wf.id != task_id:
            problems.add(f"{_show(key)}: the record carries id {wf.id!r}")
        if wf.status != status:
            problems.add(f"{_show(key)}: the record has status {wf.status.name}")
        found[task_id] = _Stored(
            TaskStatus(status), wf.owner, wf.smart_wallet_address, wf.execution_count
        )
    for task_id, statuses in seen.items():
        if len(statuses) > 1:
            letters = ", ".join(keys.status_letter(s) for s in statuses)
            problems.add(f"workflow {task_id}: {len(statuses)} t: keys (statuses {letters})")
    return found


def _user_entries(txn: ReadTxn, workflows: dict[str, _Stored], problems: _Problems) -> int:
    indexed: set[str] = set()
    entries = 0
    for key, raw in walk(txn, _USER_TASKS):
        entries += 1
        try:
            owner, wallet, task_id = keys.parse_user_task(key)
            status = TaskStatus(codec.decode_int(raw))
        except (ValueError, CorruptDataError) as exc:
            problems.add(f"{_show(key)}: not a valid u: entry ({exc})")
            continue
        indexed.add(task_id)
        if txn.get(keys.task(status, task_id)) is None:
            problems.add(f"{_show(key)}: no t: record under status {status.name}")
        stored = workflows.get(task_id)
        if stored is not None and (owner, wallet) != (
            stored.owner.lower(),
            stored.wallet.lower(),
        ):
            problems.add(f"{_show(key)}: the workflow belongs to {stored.owner}/{stored.wallet}")
    for task_id, stored in workflows.items():
        if task_id in indexed:
            continue
        try:
            entry = keys.user_task(stored.owner, stored.wallet, task_id)
        except ValueError:
            problems.add(f"workflow {task_id}: owner or wallet is not an address")
            continue
        problems.add(f"workflow {task_id}: no u: entry ({_show(entry)})")
    return entries


def _queued(txn: ReadTxn, problems: _Problems) -> int:
    pending: Counter[str] = Counter()
    for key, raw in walk(txn, _PENDING_JOBS):
        try:
            record = codec.loads(raw)
        except CorruptDataError:
            record = None
        workflow_id = record.get("n") if isinstance(record, dict) else None
        if not isinstance(workflow_id, str):
            problems.add(f"{_show(key)}: a job without a workflow id")
            continue
        pending[workflow_id] += 1
    counters: dict[str, int] = {}
    for key, raw in walk(txn, _QUEUED):
        workflow_id = key[len(_QUEUED) :].decode(errors="backslashreplace")
        try:
            counters[workflow_id] = codec.decode_int(raw)
        except CorruptDataError:
            problems.add(f"{_show(key)}: not a decimal counter")
    for workflow_id in sorted(pending.keys() | counters.keys()):
        jobs, counted = pending.get(workflow_id, 0), counters.get(workflow_id, 0)
        if jobs != counted:
            problems.add(f"workflow {workflow_id}: queued: says {counted}, the queue holds {jobs}")
    return sum(pending.values())


def _executions(txn: ReadTxn, workflows: dict[str, _Stored], problems: _Problems) -> int:
    total = 0
    for task_id, stored in workflows.items():
        recorded = txn.count(keys.history_prefix(task_id))
        running = txn.count(keys.running_prefix(task_id))
        try:
            removed = read_tally(txn, task_id).count
        except CorruptDataError:
            problems.add(f"workflow {task_id}: the retired tally does not decode")
            removed = 0
        total += recorded
        if recorded + removed + running != stored.execution_count:
            problems.add(
                f"workflow {task_id}: executionCount is {stored.execution_count}, but "
                f"{recorded} executions are recorded, {removed} removed by retention and "
                f"{running} running"
            )
        raw = txn.get(keys.execution_index_counter(task_id))
        try:
            allocated = codec.decode_int(raw) if raw is not None else 0
        except CorruptDataError:
            problems.add(f"workflow {task_id}: execution_index_counter is not a decimal")
            continue
        if allocated < stored.execution_count:
            problems.add(
                f"workflow {task_id}: execution_index_counter {allocated} is below "
                f"executionCount {stored.execution_count}"
            )
    return total


def check(txn: ReadTxn) -> IntegrityReport:
    """Check the invariants listed in the module docstring on one consistent view."""
    problems = _Problems()
    workflows = _workflows(txn, problems)
    entries = _user_entries(txn, workflows, problems)
    pending = _queued(txn, problems)
    executions = _executions(txn, workflows, problems)
    by_status = Counter(stored.status.name.lower() for stored in workflows.values())
    return IntegrityReport(
        workflows=len(workflows),
        by_status=dict(sorted(by_status.items())),
        user_entries=entries,
        executions=executions,
        pending_jobs=pending,
        problems=tuple(problems.items),
        problem_count=problems.count,
    )


async def check_store(kv: KV) -> IntegrityReport:
    """:func:`check` on one snapshot of ``kv`` (it walks the whole store: not while serving)."""
    return await kv.view(check)


def _show(key: bytes) -> str:
    return key.decode(errors="backslashreplace")
