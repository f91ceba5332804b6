"""WorkflowRepo: status moves keep exactly one t: key; keyset pages walk 250 workflows both ways."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import Edge, Node, NodeKind, RestApiConfig
from ap_avs.domain.pagination import PageRequest, decode_cursor, page_info
from ap_avs.domain.triggers import ManualTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.errors import QuotaExceeded
from ap_avs.store import MemoryKV, keys
from ap_avs.store.workflows import WorkflowRepo

OWNER = "0x" + "aa" * 20
WALLET_A = "0x" + "0a" * 20
WALLET_B = "0x" + "0b" * 20


def workflow(index: int, wallet: str = WALLET_A) -> Workflow:
    return Workflow(
        id=new_id(now_ms=1_700_000_000_000 + index),
        owner=OWNER,
        smart_wallet_address=wallet,
        start_at=0,
        expired_at=0,
        name=f"w{index}",
        completed_at=0,
        max_execution=10,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "trigger", TriggerKind.MANUAL, ManualTriggerConfig()),
        nodes=(Node("n", "call", NodeKind.REST_API, RestApiConfig(url="http://127.0.0.1/")),),
        edges=(Edge("e", "t", "n"),),
    )


@pytest.fixture
async def repo() -> AsyncIterator[WorkflowRepo]:
    kv = MemoryKV()
    yield WorkflowRepo(kv)
    await kv.close()


async def walk_forward(repo: WorkflowRepo, wallets: list[str], limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    request = PageRequest(limit)
    while True:
        items, more = await repo.page(OWNER, wallets, request)
        ids = [w.id for w in items]
        if ids:
            pages.append(ids)
        info = page_info(request, ids, more)
        if not info.has_next_page:
            return pages
        request = PageRequest(limit, decode_cursor(info.end_cursor), "next")


async def walk_backward(
    repo: WorkflowRepo, wallets: list[str], limit: int, start: str
) -> list[list[str]]:
    pages: list[list[str]] = []
    request = PageRequest(limit, start, "prev")
    while True:
        items, more = await repo.page(OWNER, wallets, request)
        ids = [w.id for w in items]
        if ids:
            pages.append(ids)
        info = page_info(request, ids, more)
        if not info.has_previous_page:
            return pages
        request = PageRequest(limit, decode_cursor(info.start_cursor), "prev")


@pytest.mark.parametrize("limit", [1, 7, 50, 250, 1000])
async def test_250_workflows_forward_and_backward(repo: WorkflowRepo, limit: int) -> None:
    created = [workflow(i, WALLET_A if i % 3 else WALLET_B) for i in range(250)]
    for wf in created:
        await repo.create(wf, max_active_per_owner=None)
    newest_first = sorted((wf.id for wf in created), reverse=True)

    forward = await walk_forward(repo, [WALLET_A, WALLET_B], limit)
    assert [i for page in forward for i in page] == newest_first
    assert all(len(page) == limit for page in forward[:-1])

    oldest = newest_first[-1]
    backward = await walk_backward(repo, [WALLET_A, WALLET_B], limit, oldest)
    walked = [i for page in reversed(backward) for i in page]
    assert walked == newest_first[:-1]
    for page in backward:
        assert page == sorted(page, reverse=True)


async def test_one_wallet_only_and_empty(repo: WorkflowRepo) -> None:
    for i in range(6):
        await repo.create(workflow(i, WALLET_A if i < 4 else WALLET_B), max_active_per_owner=None)
    items, more = await repo.page(OWNER, [WALLET_B], PageRequest(10))
    assert [w.name for w in items] == ["w5", "w4"]
    assert not more
    assert await repo.page(OWNER, ["0x" + "0c" * 20], PageRequest(10)) == ([], False)


async def test_status_moves_keep_one_record(repo: WorkflowRepo) -> None:
    wf = workflow(1)
    await repo.create(wf, max_active_per_owner=None)
    await repo.change(wf.id, lambda w: w.with_status(TaskStatus.DISABLED))
    kv = repo._kv  # the test looks at the raw keys on purpose
    present = [s for s in TaskStatus if await kv.get(keys.task(s, wf.id)) is not None]
    assert present == [TaskStatus.DISABLED]
    index = await kv.get(keys.user_task(OWNER, WALLET_A, wf.id))
    assert index == b"5"

    def boom(w: Workflow) -> Workflow:
        raise RuntimeError("decided to fail")

    with pytest.raises(RuntimeError):
        await repo.change(wf.id, boom)
    stored = await repo.get(wf.id)
    assert stored is not None
    assert stored.status is TaskStatus.DISABLED


async def test_active_cap_counts_only_enabled(repo: WorkflowRepo) -> None:
    first, second = workflow(1), workflow(2)
    await repo.create(first, max_active_per_owner=1)
    with pytest.raises(QuotaExceeded):
        await repo.create(second, max_active_per_owner=1)
    assert await repo.get(second.id) is None
    await repo.change(first.id, lambda w: w.with_status(TaskStatus.DISABLED))
    await repo.create(second, max_active_per_owner=1)
    disabled = dataclasses.replace(workflow(3), status=TaskStatus.DISABLED)
    await repo.create(disabled, max_active_per_owner=1)
    assert await repo.count(OWNER) == 3
