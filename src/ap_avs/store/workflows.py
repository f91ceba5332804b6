"""Stored workflows: ``t:<status>:<id>`` records and the ``u:<owner>:<wallet>:<id>`` index.

Every change that touches both keys happens in one transaction, so a workflow always has exactly
one ``t:`` key, under the letter of its status, and its ``u:`` entry holds that same status.
Status changes go through :meth:`WorkflowRepo.change`, which reads the current record and applies
a pure decision inside the transaction.

Raises:
    QuotaExceeded: creating a workflow beyond the owner's active-workflow cap.
    CorruptDataError: a stored record that does not decode.
    StoreError: the store failed.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from ap_avs.domain.pagination import PageRequest
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.domain.workflow_codec import workflow_from_json, workflow_to_json
from ap_avs.errors import QuotaExceeded
from ap_avs.store import codec, keys
from ap_avs.store.kv import KV, ReadTxn, Txn

T = TypeVar("T")


def _encode(wf: Workflow) -> bytes:
    return codec.dumps(workflow_to_json(wf))


def _decode(raw: bytes) -> Workflow:
    return workflow_from_json(codec.loads(raw))


def find_workflow(txn: ReadTxn, workflow_id: str) -> Workflow | None:
    """The workflow with this id, whatever its status (inside a transaction)."""
    for status in TaskStatus:
        raw = txn.get(keys.task(status, workflow_id))
        if raw is not None:
            return _decode(raw)
    return None


def write_workflow(txn: Txn, wf: Workflow, previous: TaskStatus | None = None) -> None:
    """Store ``wf`` and its index entry, removing its record under ``previous`` status."""
    if previous is not None and previous != wf.status:
        txn.delete(keys.task(previous, wf.id))
    txn.put(keys.task(wf.status, wf.id), _encode(wf))
    index = keys.user_task(wf.owner, wf.smart_wallet_address, wf.id)
    txn.put(index, codec.encode_int(int(wf.status)))


@dataclass(frozen=True, slots=True)
class Change:
    """A workflow before and after one transactional change (``after`` None: deleted)."""

    before: Workflow
    after: Workflow | None


class WorkflowRepo:
    """Reads and writes workflows; multi-key changes are single transactions."""

    def __init__(self, kv: KV) -> None:
        self._kv = kv

    async def create(self, wf: Workflow, *, max_active_per_owner: int | None) -> None:
        """Store a new workflow.

        Raises:
            QuotaExceeded: the owner already has ``max_active_per_owner`` enabled workflows.
        """
        enabled = codec.encode_int(int(TaskStatus.ENABLED))

        def create(txn: Txn) -> None:
            if max_active_per_owner is not None and wf.status is TaskStatus.ENABLED:
                rows = txn.scan(keys.user_task_prefix(wf.owner))
                active = sum(1 for _, value in rows if value == enabled)
                if active >= max_active_per_owner:
                    raise QuotaExceeded(
                        f"active workflow limit reached: at most {max_active_per_owner} enabled "
                        "workflows per owner; disable or delete one first"
                    )
            write_workflow(txn, wf)

        await self._kv.update(create)

    async def get(self, workflow_id: str) -> Workflow | None:
        return await self._kv.view(lambda txn: find_workflow(txn, workflow_id))

    async def enabled(self) -> Iterator[Workflow]:
        """Every workflow in status Enabled, in id order (start-up of operator dispatch).

        Each record is decoded as the caller reaches it and its stored bytes are released, so a
        caller that keeps a little of each workflow never holds them all (100,000 enabled
        workflows: 170 MB less resident memory after start-up, docs/decisions/
        20261128-performance.md).
        """
        rows = await self._kv.scan(keys.task_prefix(TaskStatus.ENABLED))
        rows.reverse()

        def decoded() -> Iterator[Workflow]:
            while rows:
                yield _decode(rows.pop()[1])

        return decoded()

    async def change(
        self,
        workflow_id: str,
        decide: Callable[[Workflow], Workflow | None],
        *,
        now_ms: int = 0,
    ) -> Change | None:
        """Apply ``decide`` to the current record in one transaction.

        ``decide`` returns the new record (possibly in another status) or None to delete the
        workflow; it may raise to abort with nothing written. Returns None when there is no
        such workflow. Deleting also writes the workflow's ``purge:`` record (deleted at
        ``now_ms``): retention then removes the rest of its records in batches.
        """

        def change(txn: Txn) -> Change | None:
            current = find_workflow(txn, workflow_id)
            if current is None:
                return None
            updated = decide(current)
            if updated is None:
                txn.delete(keys.task(current.status, current.id))
                txn.delete(keys.user_task(current.owner, current.smart_wallet_address, current.id))
                record: dict[str, JsonValue] = {
                    "owner": current.owner.lower(),
                    "deleted_at": now_ms,
                    "done_at": None,
                }
                txn.put(keys.purge(current.id), codec.dumps(record))
            elif updated != current:
                write_workflow(txn, updated, previous=current.status)
            return Change(current, updated)

        return await self._kv.update(change)

    async def owned_ids(self, owner: str) -> list[str]:
        """Ids of every workflow of ``owner``, any wallet and status."""
        rows = await self._kv.scan_keys(keys.user_task_prefix(owner))
        return [keys.parse_user_task(key).task_id for key in rows]

    async def owns(self, owner: str, workflow_id: str) -> bool:
        wf = await self.get(workflow_id)
        return wf is not None and wf.owner.lower() == owner.lower()

    async def count(self, owner: str, wallets: list[str] | None = None) -> int:
        """Workflows of ``owner`` (in ``wallets`` when given), any status."""
        if wallets is None:
            return await self._kv.count(keys.user_task_prefix(owner))
        total = 0
        for wallet in {w.lower() for w in wallets}:
            total += await self._kv.count(keys.user_task_prefix(owner, wallet))
        return total

    async def page(
        self, owner: str, wallets: list[str], request: PageRequest
    ) -> tuple[list[Workflow], bool]:
        """One page of the workflows of ``wallets``, newest first, and whether more exist in
        the direction of travel (keyset pagination on the workflow id)."""
        backwards = request.direction == "prev"
        want = request.limit + 1

        def read(txn: ReadTxn) -> tuple[list[Workflow], bool]:
            found: list[tuple[str, int]] = []
            for wallet in sorted({w.lower() for w in wallets}):
                prefix = keys.user_task_prefix(owner, wallet)
                start = None if request.position is None else prefix + request.position.encode()
                rows = txn.scan(
                    prefix, start=start, include_start=False, reverse=not backwards, limit=want
                )
                for key, value in rows:
                    found.append((keys.parse_user_task(key).task_id, codec.decode_int(value)))
            chosen = (heapq.nsmallest if backwards else heapq.nlargest)(want, found)
            more = len(chosen) > request.limit
            chosen = chosen[: request.limit]
            if backwards:
                chosen.reverse()
            items = []
            for task_id, status in chosen:
                raw = txn.get(keys.task(status, task_id))
                if raw is not None:
                    items.append(_decode(raw))
            return items, more

        return await self._kv.view(read)
