"""domain/workflow.py, nodes.py, triggers.py: status names, runnability, kind/config agreement."""

from __future__ import annotations

import dataclasses

import pytest

from ap_avs.domain.nodes import (
    CustomCodeConfig,
    LoopRunner,
    Node,
    NodeKind,
    RestApiConfig,
)
from ap_avs.domain.triggers import BlockTriggerConfig, CronTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.workflow import NOT_RUNNABLE_MESSAGE, TaskStatus, Workflow

NOW = 1_800_000_000_500


def workflow(**changes: object) -> Workflow:
    base = Workflow(
        id="w",
        owner="o",
        smart_wallet_address="0xrunner",
        start_at=0,
        expired_at=0,
        name="n",
        completed_at=0,
        max_execution=3,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "tr", TriggerKind.BLOCK, BlockTriggerConfig(1)),
        nodes=(),
        edges=(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_status_wire_names() -> None:
    assert [s.wire_name for s in TaskStatus] == [
        "Enabled",
        "Completed",
        "Failed",
        "Running",
        "Disabled",
    ]
    assert [int(s) for s in TaskStatus] == [0, 1, 2, 4, 5]
    assert TaskStatus.from_wire_name("Disabled") is TaskStatus.DISABLED
    with pytest.raises(ValueError, match="not a task status"):
        TaskStatus.from_wire_name("DISABLED")
    assert TaskStatus.COMPLETED.is_terminal
    assert TaskStatus.FAILED.is_terminal
    assert not TaskStatus.DISABLED.is_terminal


def test_kind_wire_names() -> None:
    assert NodeKind.REST_API.wire_name == "NODE_TYPE_REST_API"
    assert TriggerKind.FIXED_TIME.wire_name == "TRIGGER_TYPE_FIXED_TIME"


@pytest.mark.parametrize(
    ("changes", "runnable"),
    [
        ({}, True),
        ({"execution_count": 2}, True),
        ({"execution_count": 3}, False),
        ({"max_execution": 0, "execution_count": 10**6}, True),  # upstream's "unlimited"
        ({"expired_at": NOW}, False),  # truncated to whole seconds: ...000 < ...500
        ({"expired_at": NOW + 500}, True),  # 1_800_000_001_000
        ({"expired_at": NOW - 500}, False),  # 1_800_000_000_000
        ({"start_at": NOW + 1}, False),
        ({"start_at": NOW}, True),
        ({"status": TaskStatus.DISABLED}, True),  # status is not consulted
    ],
)
def test_is_runnable(changes: dict[str, object], runnable: bool) -> None:
    assert workflow(**changes).is_runnable(NOW) is runnable


def test_is_complete() -> None:
    assert not workflow(execution_count=2).is_complete(NOW)
    assert workflow(execution_count=3).is_complete(NOW)
    assert workflow(expired_at=NOW).is_complete(NOW)
    assert not workflow(expired_at=NOW + 1).is_complete(NOW)


def test_with_status_and_runs() -> None:
    wf = workflow()
    disabled = wf.with_status(TaskStatus.DISABLED)
    assert (disabled.status, disabled.completed_at) == (TaskStatus.DISABLED, 0)
    done = wf.with_status(TaskStatus.COMPLETED, now_ms=NOW)
    assert (done.status, done.completed_at) == (TaskStatus.COMPLETED, NOW)
    ran = wf.with_run_recorded(NOW).with_run_recorded(NOW + 1)
    assert (ran.execution_count, ran.last_ran_at) == (2, NOW + 1)
    assert wf.execution_count == 0  # frozen copies
    assert ran.runner == "0xrunner"
    assert "max execution" in NOT_RUNNABLE_MESSAGE


def test_kind_must_match_config() -> None:
    with pytest.raises(TypeError):
        Node("n", "x", NodeKind.BRANCH, RestApiConfig())
    with pytest.raises(TypeError):
        Trigger("t", "x", TriggerKind.CRON, BlockTriggerConfig())
    with pytest.raises(TypeError):
        LoopRunner(NodeKind.LOOP, RestApiConfig())
    assert LoopRunner(NodeKind.CUSTOM_CODE, CustomCodeConfig()).kind is NodeKind.CUSTOM_CODE
    assert Trigger("t", "x", TriggerKind.CRON, CronTriggerConfig()).kind is TriggerKind.CRON
