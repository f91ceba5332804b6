"""domain/workflow_codec.py: the stored JSON of a workflow, and corrupt records."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ap_avs.domain.nodes import (
    ContractWriteConfig,
    CustomCodeConfig,
    Edge,
    ExecutionMode,
    Lang,
    LoopConfig,
    LoopRunner,
    MethodCall,
    Node,
    NodeKind,
    RestApiConfig,
)
from ap_avs.domain.triggers import (
    EventQuery,
    EventTriggerConfig,
    ManualTriggerConfig,
    Trigger,
    TriggerKind,
)
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.domain.workflow_codec import (
    node_from_json,
    node_to_json,
    trigger_from_json,
    workflow_from_json,
    workflow_to_json,
)
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec

WRITE = ContractWriteConfig(
    contract_address="0xabc",
    method_calls=(MethodCall("transfer", call_data=None, method_params=("1",)),),
    is_simulated=False,
    value=None,
    gas_limit="0",
)
LOOP = LoopConfig(
    input_variable="{{x}}",
    iter_val="v",
    iter_key="",
    execution_mode=ExecutionMode.PARALLEL,
    iteration_timeout=5,
    runner=LoopRunner(NodeKind.CUSTOM_CODE, CustomCodeConfig(Lang.JAVASCRIPT, "return v")),
)
WF = Workflow(
    id="01jabc",
    owner="0xOwner",
    smart_wallet_address="0xWallet",
    start_at=1,
    expired_at=2,
    name="wf",
    completed_at=3,
    max_execution=4,
    execution_count=5,
    last_ran_at=6,
    status=TaskStatus.FAILED,
    trigger=Trigger(
        "t",
        "tr",
        TriggerKind.EVENT,
        EventTriggerConfig(queries=(EventQuery(addresses=("0xabc",)),), cooldown_seconds=None),
    ),
    nodes=(
        Node("n1", "write", NodeKind.CONTRACT_WRITE, WRITE),
        Node("n2", "loop", NodeKind.LOOP, LOOP),
        Node("n3", "rest", NodeKind.REST_API, RestApiConfig(url="u", options={"a": [1]})),
    ),
    edges=(Edge("e", "t", "n1"),),
    input_variables={"settings": {"name": "wf"}, "n": None},
)


def stored() -> dict[str, Any]:
    data = codec.loads(codec.dumps(workflow_to_json(WF)))
    assert isinstance(data, dict)
    return data


def test_round_trip() -> None:
    assert workflow_from_json(stored()) == WF


def test_stable_camel_case_keys_and_enum_names() -> None:
    data = stored()
    assert list(data) == [
        "version",
        "id",
        "owner",
        "smartWalletAddress",
        "startAt",
        "expiredAt",
        "name",
        "completedAt",
        "maxExecution",
        "executionCount",
        "lastRanAt",
        "status",
        "trigger",
        "nodes",
        "edges",
        "inputVariables",
    ]
    assert data["version"] == 1
    assert data["status"] == "FAILED"
    assert data["trigger"]["kind"] == "EVENT"
    assert "cooldownSeconds" not in data["trigger"]["config"]  # None is left out
    write = data["nodes"][0]
    assert write["kind"] == "CONTRACT_WRITE"
    assert write["config"]["isSimulated"] is False
    assert write["config"]["gasLimit"] == "0"
    assert "value" not in write["config"]
    assert "callData" not in write["config"]["methodCalls"][0]
    loop = data["nodes"][1]["config"]
    assert loop["executionMode"] == "PARALLEL"
    assert loop["runner"] == {
        "kind": "CUSTOM_CODE",
        "config": {"lang": "JAVASCRIPT", "source": "return v"},
    }


def test_absent_defaulted_keys_read_their_defaults() -> None:
    data: Any = node_to_json(Node("n", "r", NodeKind.REST_API, RestApiConfig(url="u")))
    del data["config"]["body"], data["config"]["headers"], data["config"]["method"]
    assert node_from_json(data).config == RestApiConfig(url="u")
    manual: dict[str, Any] = {"id": "t", "name": "m", "kind": "MANUAL", "config": {"lang": "JSON"}}
    assert trigger_from_json(manual).config == ManualTriggerConfig(lang=Lang.JSON)


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    *parents, last = path.split("/")
    target: Any = data
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is KeyError:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("version", 2, "unknown format version 2"),
        ("version", KeyError, "version: missing"),
        ("id", KeyError, "workflow.id: missing"),
        ("startAt", "1", "workflow.startAt: expected int, got str"),
        ("startAt", True, "expected int, got bool"),
        ("status", "ACTIVE", "unknown TaskStatus 'ACTIVE'"),
        ("status", 0, "expected str"),
        ("trigger", [], "trigger is not an object"),
        ("trigger/kind", "TIMER", "unknown TriggerKind"),
        ("trigger/config/queries/0/addresses", ["a", 1], "expected a list of strings"),
        ("nodes/2/kind", "ETH_TRANSFER", "destination: missing"),  # a config of another kind
        ("nodes/1/config/runner/kind", "BRANCH", "does not decode"),  # not a loop runner
        ("nodes/1/config/executionMode", "FAST", "unknown ExecutionMode"),
        ("nodes/2/config/headers", {"a": 1}, "expected an object of strings"),
        ("edges/0", "e", "edge is not an object"),
        ("inputVariables", [], "expected dict"),
    ],
)
def test_corrupt_records(path: str, value: Any, problem: str) -> None:
    with pytest.raises(CorruptDataError, match=problem):
        workflow_from_json(_set(stored(), path, value))


@pytest.mark.parametrize("data", [None, 1, "x", [], {"version": 1}])
def test_not_a_workflow(data: Any) -> None:
    with pytest.raises(CorruptDataError):
        workflow_from_json(data)


def test_fixed_time_epochs_must_be_integers() -> None:
    trig: dict[str, Any] = {
        "id": "t",
        "name": "f",
        "kind": "FIXED_TIME",
        "config": {"epochs": [1, 2.5]},
    }
    with pytest.raises(CorruptDataError, match="expected a list of integers"):
        trigger_from_json(trig)
