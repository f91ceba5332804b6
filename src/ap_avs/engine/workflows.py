"""Workflow use cases: create, read, list, enable/disable, cancel, delete and count.

Each change is one transaction in :class:`ap_avs.store.workflows.WorkflowRepo`, decided by a pure
function over the current record, and is published on :class:`WorkflowEvents` after it commits
(operator dispatch listens there; nothing here waits on operators).

Raises:
    InvalidArgument: a bad request (literal messages of PROTOCOL.md §2.8-2.10, §11).
    NotFound: ``task not found`` (missing, or someone else's: the two look the same).
    QuotaExceeded: the owner's active-workflow cap.
    Unavailable: the chain RPC is down when wallet ownership must be derived.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ap_avs.domain import ids
from ap_avs.domain.addresses import is_address
from ap_avs.domain.pagination import CURSOR_MESSAGE, PageInfo, PageRequest, page_info
from ap_avs.domain.validation import WorkflowLimits, validate_new_workflow
from ap_avs.domain.workflow import TaskStatus, Workflow, WorkflowDraft
from ap_avs.engine.wallets import WalletService
from ap_avs.engine.workflow_events import WorkflowEventKind, WorkflowEvents
from ap_avs.errors import InvalidArgument, NotFound
from ap_avs.store.workflows import WorkflowRepo

logger = logging.getLogger(__name__)

TASK_NOT_FOUND = "task not found"
MISSING_TASK_ID = "Missing task id in request"
INVALID_WALLET = "invalid smart account address"
MISSING_WALLET = "Missing smart_wallet_address"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer of SetTaskEnabled and DeleteTask (always gRPC OK)."""

    success: bool
    status: str
    message: str
    workflow_id: str
    previous_status: str = ""
    at_ms: int = 0


@dataclass(frozen=True, slots=True)
class WorkflowPage:
    items: list[Workflow]
    page: PageInfo


def decide_enable(wf: Workflow, enabled: bool, now_ms: int) -> tuple[Outcome, Workflow]:
    """Pure: what SetTaskEnabled does to ``wf`` (PROTOCOL.md §2.14)."""
    previous = wf.status.wire_name
    if wf.status.is_terminal:
        message = f"Cannot toggle task from terminal status: {previous}"
        return Outcome(False, "error", message, wf.id, previous), wf
    if wf.status is TaskStatus.RUNNING:
        if enabled:
            return Outcome(True, "enabled", "Task is already running", wf.id, previous, now_ms), wf
        return Outcome(False, "error", "Cannot disable a running task", wf.id, previous), wf
    target = TaskStatus.ENABLED if enabled else TaskStatus.DISABLED
    word = "enabled" if enabled else "disabled"
    if wf.status is target:
        return Outcome(True, word, f"Task is already {word}", wf.id, previous, now_ms), wf
    outcome = Outcome(True, word, f"Task {word} successfully", wf.id, previous, now_ms)
    return outcome, wf.with_status(target)


def decide_delete(wf: Workflow, now_ms: int) -> tuple[Outcome, Workflow | None]:
    """Pure: what DeleteTask does to ``wf`` (None: delete it)."""
    previous = wf.status.wire_name
    if wf.status is TaskStatus.RUNNING:
        message = "Only non executing task can be deleted"
        return Outcome(False, "cannot_delete", message, wf.id, previous), wf
    return Outcome(True, "deleted", "Task deleted successfully", wf.id, previous, now_ms), None


class WorkflowService:
    """Workflows of authenticated owners."""

    def __init__(
        self,
        repo: WorkflowRepo,
        wallets: WalletService,
        events: WorkflowEvents,
        limits: WorkflowLimits,
        *,
        max_active_per_owner: int | None,
    ) -> None:
        self._repo = repo
        self._wallets = wallets
        self._events = events
        self._limits = limits
        self._max_active = max_active_per_owner

    async def _owned(self, owner: str, workflow_id: str) -> Workflow:
        if not workflow_id:
            raise InvalidArgument(MISSING_TASK_ID)
        if not ids.is_ulid(workflow_id):
            raise NotFound(TASK_NOT_FOUND)
        wf = await self._repo.get(workflow_id.lower())
        if wf is None or wf.owner.lower() != owner.lower():
            raise NotFound(TASK_NOT_FOUND)
        return wf

    async def create(self, owner: str, draft: WorkflowDraft, now_ms: int) -> Workflow:
        """CreateTask: validate everything, check the runner is the caller's, store."""
        wf = validate_new_workflow(
            draft,
            workflow_id=ids.new_id(now_ms=now_ms),
            owner=owner,
            now_ms=now_ms,
            limits=self._limits,
        )
        if not await self._wallets.owns(owner, wf.smart_wallet_address):
            raise InvalidArgument(INVALID_WALLET)
        await self._repo.create(wf, max_active_per_owner=self._max_active)
        self._events.publish(WorkflowEventKind.CREATED, wf)
        return wf

    async def get(self, owner: str, workflow_id: str) -> Workflow:
        return await self._owned(owner, workflow_id)

    async def owns(self, owner: str, workflow_id: str) -> bool:
        return ids.is_ulid(workflow_id) and await self._repo.owns(owner, workflow_id.lower())

    async def checked_wallets(self, owner: str, wallets: list[str]) -> list[str]:
        """``wallets`` when each is one of the owner's (ListTasks checks them before the page
        arguments).

        Raises:
            InvalidArgument: none given, an empty one, or one that is not the owner's address.
        """
        if not wallets or any(not w for w in wallets):
            raise InvalidArgument(MISSING_WALLET)
        for wallet in wallets:
            if not is_address(wallet) or not await self._wallets.owns(owner, wallet):
                raise InvalidArgument(INVALID_WALLET)
        return wallets

    async def page(self, owner: str, wallets: list[str], request: PageRequest) -> WorkflowPage:
        """ListTasks: the workflows of the caller's ``wallets``, newest first."""
        checked = await self.checked_wallets(owner, wallets)
        if request.position is not None and not ids.is_ulid(request.position):
            raise InvalidArgument(CURSOR_MESSAGE)
        items, more = await self._repo.page(owner, checked, request)
        return WorkflowPage(items, page_info(request, [wf.id for wf in items], more))

    async def set_enabled(
        self, owner: str, workflow_id: str, enabled: bool, now_ms: int
    ) -> Outcome:
        """SetTaskEnabled; a missing or foreign workflow is a soft ``not_found``."""
        try:
            await self._owned(owner, workflow_id)
        except NotFound:
            return Outcome(False, "not_found", "Task not found", workflow_id)
        decided: list[Outcome] = []

        def decide(wf: Workflow) -> Workflow:
            outcome, updated = decide_enable(wf, enabled, now_ms)
            decided.append(outcome)
            return updated

        change = await self._repo.change(workflow_id.lower(), decide)
        if change is None or change.after is None:
            return Outcome(False, "not_found", "Task not found", workflow_id)
        if change.after.status != change.before.status:
            kind = WorkflowEventKind.ENABLED if enabled else WorkflowEventKind.DISABLED
            self._events.publish(kind, change.after)
        return decided[-1]

    async def delete(self, owner: str, workflow_id: str, now_ms: int) -> Outcome:
        """DeleteTask; a missing or foreign workflow is a soft ``not_found``."""
        try:
            await self._owned(owner, workflow_id)
        except NotFound:
            return Outcome(False, "not_found", "Task not found", workflow_id)
        decided: list[Outcome] = []

        def decide(wf: Workflow) -> Workflow | None:
            outcome, updated = decide_delete(wf, now_ms)
            decided.append(outcome)
            return updated

        change = await self._repo.change(workflow_id.lower(), decide, now_ms=now_ms)
        if change is None:
            return Outcome(False, "not_found", "Task not found", workflow_id)
        if change.after is None:
            self._events.publish(WorkflowEventKind.DELETED, change.before)
        return decided[-1]

    async def cancel(self, owner: str, workflow_id: str, now_ms: int) -> bool:
        """CancelTask (older clients): stop the workflow for good (status Completed).

        Returns False when it was already Completed or Failed.
        """
        await self._owned(owner, workflow_id)

        def decide(wf: Workflow) -> Workflow:
            if wf.status.is_terminal:
                return wf
            return wf.with_status(TaskStatus.COMPLETED, now_ms=now_ms)

        change = await self._repo.change(workflow_id.lower(), decide)
        if change is None or change.after is None or change.after == change.before:
            return False
        self._events.publish(WorkflowEventKind.CANCELLED, change.after)
        return True

    async def disable_for_overload(self, workflow_id: str, reason: str) -> bool:
        """Disable an enabled workflow as a system action (an operator reported an event
        overload); True when it was disabled by this call."""

        def decide(wf: Workflow) -> Workflow:
            return wf.with_status(TaskStatus.DISABLED) if wf.status is TaskStatus.ENABLED else wf

        change = await self._repo.change(workflow_id, decide)
        if change is None or change.after is None or change.after == change.before:
            return False
        logger.warning("workflow %s disabled: %s", workflow_id, reason)
        self._events.publish(WorkflowEventKind.DISABLED, change.after)
        return True

    async def count(self, owner: str, addresses: list[str]) -> int:
        """GetWorkflowCount: all of the caller's workflows, or those of the wallets given that
        the caller owns (others are skipped)."""
        if not addresses:
            return await self._repo.count(owner)
        owned = [a for a in addresses if is_address(a) and await self._wallets.owns(owner, a)]
        return await self._repo.count(owner, owned) if owned else 0
