"""WorkflowRepo.enabled: every Enabled workflow, in id order, decoded as the caller iterates."""

from __future__ import annotations

import dataclasses

from test_workflow_repo import workflow

from ap_avs.domain.workflow import TaskStatus
from ap_avs.store import MemoryKV
from ap_avs.store.workflows import WorkflowRepo


async def test_enabled_yields_only_enabled_workflows_in_id_order() -> None:
    kv = MemoryKV()
    repo = WorkflowRepo(kv)
    made = [workflow(i) for i in range(6)]
    for i, wf in enumerate(reversed(made)):
        status = TaskStatus.DISABLED if i % 3 == 0 else TaskStatus.ENABLED
        await repo.create(dataclasses.replace(wf, status=status), max_active_per_owner=None)
    enabled = await repo.enabled()
    first = next(enabled)
    rest = list(enabled)
    expected = [wf.id for i, wf in enumerate(reversed(made)) if i % 3 != 0]
    assert [first.id] + [wf.id for wf in rest] == sorted(expected)
    assert all(wf.status is TaskStatus.ENABLED for wf in [first, *rest])
    assert list(enabled) == []  # a single pass
    await kv.close()
