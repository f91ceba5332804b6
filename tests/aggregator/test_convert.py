"""aggregator/convert.py: wire <-> domain for every trigger and node kind, and Value rules."""

from __future__ import annotations

import math
from typing import Any

import pytest
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict, ParseDict
from hypothesis import given
from hypothesis import strategies as st

from ap_avs import wire as convert
from ap_avs._proto import avs_pb2
from ap_avs.domain.nodes import NodeKind
from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.domain.workflow_codec import workflow_from_json, workflow_to_json
from ap_avs.errors import InvalidArgument
from ap_avs.store import codec
from ap_avs.wire import (
    MAX_VALUE_DEPTH,
    json_to_value,
    node_from_pb,
    node_to_pb,
    trigger_from_pb,
    trigger_to_pb,
    value_to_json,
    workflow_from_create_req,
    workflow_to_pb,
)

ADDR = "0x1111111111111111111111111111111111111111"
TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
ABI = [
    {
        "type": "function",
        "name": "transfer",
        "inputs": [{"name": "to", "type": "address"}, {"name": "v", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
        "stateMutability": "nonpayable",
    }
]
CALL = {
    "methodName": "transfer",
    "callData": "0xa9059cbb",
    "applyToFields": ["v"],
    "methodParams": ["{{settings.to}}", "1"],
}

ETH_TRANSFER = {"config": {"destination": ADDR, "amount": "1000"}}
CONTRACT_WRITE = {
    "config": {
        "contractAddress": ADDR,
        "callData": "0x",
        "contractAbi": ABI,
        "methodCalls": [CALL, {"methodName": "approve", "methodParams": []}],
        "isSimulated": False,
        "value": "0",
        "gasLimit": "210000",
    }
}
CONTRACT_READ = {
    "config": {"contractAddress": ADDR, "contractAbi": ABI, "methodCalls": [CALL]},
}
GRAPHQL = {
    "config": {"url": "https://example.org/graphql", "query": "{ a }", "variables": {"x": "1"}}
}
REST = {
    "config": {
        "url": "https://example.org/{{settings.path}}",
        "headers": {"Content-Type": "application/json"},
        "body": '{"a": "{{trigger.data.x}}"}',
        "method": "POST",
        "options": {"summarize": True, "depth": [1, 2.5, None, "s"]},
    }
}
CUSTOM_CODE = {"config": {"lang": "LANG_JAVASCRIPT", "source": "return 1 + 1;"}}

TRIGGERS: dict[str, dict[str, Any]] = {
    "manual": {
        "id": "t1",
        "name": "manualTrigger",
        "type": "TRIGGER_TYPE_MANUAL",
        "manual": {
            "config": {
                "data": {"k": [1, "two", {"three": None}], "f": 1.5},
                "headers": {"X-A": "b"},
                "pathParams": {"p": "q"},
                "lang": "LANG_JSON",
            }
        },
    },
    "fixed_time": {
        "id": "t1",
        "name": "at",
        "type": "TRIGGER_TYPE_FIXED_TIME",
        "fixedTime": {"config": {"epochs": ["1900000000000", "1900000060000"]}},
    },
    "cron": {
        "id": "t1",
        "name": "every",
        "type": "TRIGGER_TYPE_CRON",
        "cron": {"config": {"schedules": ["*/5 * * * *", "0 12 * * 1"]}},
    },
    "block": {
        "id": "t1",
        "name": "blocks",
        "type": "TRIGGER_TYPE_BLOCK",
        "block": {"config": {"interval": "10"}},
    },
    "event": {
        "id": "t1",
        "name": "transfers",
        "type": "TRIGGER_TYPE_EVENT",
        "event": {
            "config": {
                "queries": [
                    {
                        "addresses": [ADDR],
                        "topics": [TOPIC, "", "0x" + "0" * 24 + ADDR[2:]],
                        "maxEventsPerBlock": 5,
                        "contractAbi": ABI,
                        "conditions": [
                            {
                                "fieldName": "v",
                                "operator": "gt",
                                "value": "0",
                                "fieldType": "uint256",
                            }
                        ],
                        "methodCalls": [CALL],
                    },
                    {"addresses": [ADDR]},
                ],
                "cooldownSeconds": 0,
            }
        },
    },
}


def _node(
    node_id: str, name: str, node_type: str, field: str, body: dict[str, Any]
) -> dict[str, Any]:
    return {"id": node_id, "name": name, "type": node_type, field: body}


def _loop(node_id: str, runner_field: str, runner: dict[str, Any]) -> dict[str, Any]:
    body = {
        "config": {
            "inputVariable": "{{settings.items}}",
            "iterVal": "item",
            "iterKey": "index",
            "executionMode": "EXECUTION_MODE_PARALLEL",
            "iterationTimeout": 30,
        },
        runner_field: runner,
    }
    return _node(node_id, f"loop_{runner_field}", "NODE_TYPE_LOOP", "loop", body)


NODES: list[dict[str, Any]] = [
    _node("n1", "send", "NODE_TYPE_ETH_TRANSFER", "ethTransfer", ETH_TRANSFER),
    _node("n2", "write", "NODE_TYPE_CONTRACT_WRITE", "contractWrite", CONTRACT_WRITE),
    _node("n3", "read", "NODE_TYPE_CONTRACT_READ", "contractRead", CONTRACT_READ),
    _node("n4", "gql", "NODE_TYPE_GRAPHQL_QUERY", "graphqlQuery", GRAPHQL),
    _node("n5", "rest", "NODE_TYPE_REST_API", "restApi", REST),
    _node("n6", "code", "NODE_TYPE_CUSTOM_CODE", "customCode", CUSTOM_CODE),
    _node(
        "n7",
        "branch1",
        "NODE_TYPE_BRANCH",
        "branch",
        {
            "config": {
                "conditions": [
                    {"id": "a", "type": "if", "expression": "{{code.data}} > 1"},
                    {"id": "b", "type": "else", "expression": ""},
                ]
            }
        },
    ),
    _node(
        "n8",
        "filter1",
        "NODE_TYPE_FILTER",
        "filter",
        {"config": {"expression": "value > 1", "inputVariable": "{{code.data}}"}},
    ),
    _node(
        "n9",
        "balances",
        "NODE_TYPE_BALANCE",
        "balance",
        {
            "config": {
                "address": ADDR,
                "chain": "sepolia",
                "includeSpam": True,
                "includeZeroBalances": True,
                "minUsdValueCents": "150",
                "tokenAddresses": [ADDR],
            }
        },
    ),
    _loop("l1", "ethTransfer", ETH_TRANSFER),
    _loop("l2", "contractWrite", CONTRACT_WRITE),
    _loop("l3", "contractRead", CONTRACT_READ),
    _loop("l4", "graphqlDataQuery", GRAPHQL),
    _loop("l5", "restApi", REST),
    _loop("l6", "customCode", CUSTOM_CODE),
]

TASK: dict[str, Any] = {
    "id": "01j0000000000000000000000a",
    "owner": "0xeD39dD5f43e7a0d1e6DBAd7Bfd6c6EE399Ab514A",
    "smartWalletAddress": ADDR,
    "startAt": "1800000000000",
    "expiredAt": "1900000000000",
    "name": "rich",
    "completedAt": "1850000000000",
    "maxExecution": "100",
    "executionCount": "3",
    "lastRanAt": "1840000000000",
    "status": "Disabled",
    "nodes": NODES,
    "edges": [
        {"id": "e1", "source": "t1", "target": "n1"},
        {"id": "e2", "source": "n7.a", "target": "n8"},
    ],
    "inputVariables": {
        "settings": {"name": "rich", "runner": ADDR, "chain_id": 11155111, "n": 1.25},
        "items": [1, 2, 3],
        "nothing": None,
    },
}


def _task(trigger: str) -> avs_pb2.Task:
    task: avs_pb2.Task = ParseDict({**TASK, "trigger": TRIGGERS[trigger]}, avs_pb2.Task())
    return task


def _roundtrip(pb: avs_pb2.Task) -> avs_pb2.Task:
    req = avs_pb2.CreateTaskReq(
        trigger=pb.trigger, nodes=pb.nodes, edges=pb.edges, input_variables=pb.input_variables
    )
    draft = workflow_from_create_req(req)
    assert draft.trigger is not None
    wf = Workflow(
        id=pb.id,
        owner=pb.owner,
        smart_wallet_address=pb.smart_wallet_address,
        start_at=pb.start_at,
        expired_at=pb.expired_at,
        name=pb.name,
        completed_at=pb.completed_at,
        max_execution=pb.max_execution,
        execution_count=pb.execution_count,
        last_ran_at=pb.last_ran_at,
        status=TaskStatus(pb.status),
        trigger=draft.trigger,
        nodes=draft.nodes,
        edges=draft.edges,
        input_variables=draft.input_variables,
    )
    return workflow_to_pb(wf)


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_task_round_trip_is_lossless(trigger: str) -> None:
    pb = _task(trigger)
    again = _roundtrip(pb)
    assert MessageToDict(again) == MessageToDict(pb)
    assert again == pb


def test_fixture_covers_every_kind() -> None:
    pb = _task("manual")
    kinds = {node_from_pb(node).kind for node in pb.nodes}
    assert kinds == set(NodeKind)
    runners = {node_from_pb(n).config.runner.kind for n in pb.nodes if n.HasField("loop")}  # type: ignore[union-attr]
    assert len(runners) == 6
    assert {trigger_from_pb(_task(t).trigger).kind for t in TRIGGERS} == set(TriggerKind)


@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
def test_stored_json_round_trip(trigger: str) -> None:
    pb = _task(trigger)
    draft = workflow_from_create_req(avs_pb2.CreateTaskReq(trigger=pb.trigger, nodes=pb.nodes))
    assert draft.trigger is not None
    wf = Workflow(
        id=pb.id,
        owner=pb.owner,
        smart_wallet_address=pb.smart_wallet_address,
        start_at=1,
        expired_at=2,
        name="n",
        completed_at=0,
        max_execution=10,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=draft.trigger,
        nodes=draft.nodes,
        edges=(),
        input_variables=workflow_from_create_req(
            avs_pb2.CreateTaskReq(input_variables=pb.input_variables)
        ).input_variables,
    )
    stored = codec.loads(codec.dumps(workflow_to_json(wf)))
    assert workflow_from_json(stored) == wf
    assert workflow_to_pb(workflow_from_json(stored)) == workflow_to_pb(wf)


def test_list_items_leave_out_what_is_not_asked_for() -> None:
    full = _roundtrip(_task("cron"))
    wf_pb = workflow_to_pb(
        workflow_from_json(
            workflow_to_json(
                Workflow(
                    id="x",
                    owner="o",
                    smart_wallet_address="w",
                    start_at=0,
                    expired_at=0,
                    name="n",
                    completed_at=0,
                    max_execution=1,
                    execution_count=0,
                    last_ran_at=0,
                    status=TaskStatus.ENABLED,
                    trigger=trigger_from_pb(full.trigger),
                    nodes=tuple(node_from_pb(n) for n in full.nodes),
                    edges=(),
                    input_variables={"a": 1},
                )
            )
        ),
        include_nodes=False,
        include_edges=False,
        include_input_variables=False,
    )
    assert not wf_pb.nodes
    assert not wf_pb.edges
    assert not wf_pb.input_variables
    assert wf_pb.trigger == full.trigger


# --- shape errors name the trigger or node ------------------------------------------------------


def _trigger(data: dict[str, Any]) -> avs_pb2.TaskTrigger:
    trigger: avs_pb2.TaskTrigger = ParseDict(data, avs_pb2.TaskTrigger())
    return trigger


def _task_node(data: dict[str, Any]) -> avs_pb2.TaskNode:
    task_node: avs_pb2.TaskNode = ParseDict(data, avs_pb2.TaskNode())
    return task_node


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"id": "t1", "name": "tr"},
            "Invalid task argument: trigger 'tr' (id 't1'): trigger config is required",
        ),
        (
            {"id": "t1", "name": "tr", "type": "TRIGGER_TYPE_CRON", "block": {"config": {}}},
            "trigger 'tr' (id 't1'): type TRIGGER_TYPE_CRON does not match its block config",
        ),
        (
            {"id": "t1", "name": "tr", "type": 42, "block": {"config": {}}},
            "type 42 does not match its block config",
        ),
        (
            {"id": "t1", "name": "tr", "block": {}},
            "trigger 'tr' (id 't1'): block trigger config is required but missing",
        ),
        (
            {"id": "t1", "name": "tr", "manual": {"config": {"lang": 9}}},
            "trigger 'tr' (id 't1'): unknown lang 9",
        ),
    ],
)
def test_malformed_triggers_are_rejected(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        trigger_from_pb(_trigger(data))
    assert message in info.value.message
    assert info.value.error_code == 3001


def test_unspecified_trigger_type_is_taken_from_the_oneof() -> None:
    trigger = trigger_from_pb(_trigger({"id": "t", "name": "b", "block": {"config": {}}}))
    assert trigger.kind is TriggerKind.BLOCK
    assert trigger_to_pb(trigger).type == avs_pb2.TRIGGER_TYPE_BLOCK


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id": "n1", "name": "x"}, "node 'x' (id 'n1'): node config is required"),
        (
            {"id": "n1", "name": "x", "type": "NODE_TYPE_REST_API", "filter": {"config": {}}},
            "node 'x' (id 'n1'): type NODE_TYPE_REST_API does not match its filter config",
        ),
        ({"id": "n1", "name": "x", "restApi": {}}, "rest_api config is required but missing"),
        (
            {"id": "n1", "name": "x", "loop": {"config": {}}},
            "node 'x' (id 'n1'): loop runner is required",
        ),
        (
            {"id": "n1", "name": "x", "loop": {"config": {}, "restApi": {}}},
            "loop runner rest_api config is required but missing",
        ),
        (
            {
                "id": "n1",
                "name": "x",
                "loop": {"config": {"executionMode": 7}, "customCode": {"config": {}}},
            },
            "unknown execution_mode 7",
        ),
        ({"id": "n1", "name": "x", "customCode": {"config": {"lang": 12}}}, "unknown lang 12"),
    ],
)
def test_malformed_nodes_are_rejected(data: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        node_from_pb(_task_node(data))
    assert message in info.value.message
    assert info.value.error_code == 3002


def test_null_data_and_options_read_as_unset() -> None:
    trigger = _trigger(
        {"id": "t", "name": "m", "manual": {"config": {"data": None, "lang": "LANG_JSON"}}}
    )
    assert trigger.manual.config.HasField("data")
    again = trigger_to_pb(trigger_from_pb(trigger))
    assert not again.manual.config.HasField("data")
    node = _task_node(
        {"id": "n", "name": "r", "restApi": {"config": {"url": "u", "options": None}}}
    )
    assert not node_to_pb(node_from_pb(node)).rest_api.config.HasField("options")


def test_create_request_keeps_the_ignored_fields_and_no_trigger() -> None:
    req = avs_pb2.CreateTaskReq(name="ignored", smart_wallet_address="0xabc", max_execution=-1)
    draft = workflow_from_create_req(req)
    assert draft.trigger is None
    assert (draft.name, draft.smart_wallet_address, draft.max_execution) == ("ignored", "0xabc", -1)


# --- google.protobuf.Value rules ----------------------------------------------------------------


def _number(x: float) -> struct_pb2.Value:
    return struct_pb2.Value(number_value=x)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (5.0, 5),
        (-0.0, 0),
        (1.5, 1.5),
        (2.0**53 - 1, 2**53 - 1),
        (2.0**53, 2.0**53),
        (-(2.0**53), -(2.0**53)),
        (1e300, 1e300),
    ],
)
def test_integral_numbers_read_as_int_below_2_53(number: float, expected: float) -> None:
    got = value_to_json(_number(number))
    assert got == expected
    assert type(got) is type(expected)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_rejected(number: float) -> None:
    with pytest.raises(InvalidArgument, match="is not a JSON number"):
        value_to_json(_number(number), where="input_variables.x")


def test_scalars_and_null() -> None:
    assert value_to_json(struct_pb2.Value(bool_value=True)) is True
    assert value_to_json(struct_pb2.Value(string_value="s")) == "s"
    assert value_to_json(struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)) is None
    assert value_to_json(struct_pb2.Value()) is None  # no kind set
    assert json_to_value(None).WhichOneof("kind") == "null_value"
    assert json_to_value(True).WhichOneof("kind") == "bool_value"
    assert json_to_value(3).number_value == 3.0
    assert json_to_value(2**60).number_value == float(2**60)  # rounded, as upstream


def test_empty_containers_keep_their_kind() -> None:
    assert json_to_value({}).WhichOneof("kind") == "struct_value"
    assert json_to_value([]).WhichOneof("kind") == "list_value"
    assert value_to_json(json_to_value({"a": [], "b": {}})) == {"a": [], "b": {}}


def test_non_json_values_are_rejected() -> None:
    with pytest.raises(InvalidArgument, match="is not a string"):
        json_to_value({1: "x"})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgument, match="set is not a JSON value"):
        json_to_value({"a": {1}})  # type: ignore[dict-item]


def _nested_value(depth: int) -> struct_pb2.Value:
    root = struct_pb2.Value()
    current = root
    for _ in range(depth):
        current = current.list_value.values.add()
    current.number_value = 1
    return root


def test_depth_limit_both_directions() -> None:
    ok = _nested_value(MAX_VALUE_DEPTH)
    data = value_to_json(ok)
    assert json_to_value(data) == ok
    with pytest.raises(InvalidArgument, match=f"deeper than {MAX_VALUE_DEPTH}"):
        value_to_json(_nested_value(MAX_VALUE_DEPTH + 1), where="input_variables.bomb")
    bomb: Any = 1
    for _ in range(MAX_VALUE_DEPTH + 1):
        bomb = [bomb]
    with pytest.raises(InvalidArgument, match="deeper than"):
        json_to_value(bomb)


def test_depth_bomb_in_a_request_is_an_invalid_argument() -> None:
    req = avs_pb2.CreateTaskReq()
    req.input_variables["bomb"].CopyFrom(_nested_value(5000))
    with pytest.raises(InvalidArgument, match=r"input_variables\.bomb: nested deeper than 64"):
        workflow_from_create_req(req)


_json_scalars = (
    st.none()
    | st.booleans()
    | st.text(max_size=8)
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


def _normalised(data: Any) -> Any:
    if isinstance(data, float) and data.is_integer() and abs(data) < 2**53:
        return int(data)
    if isinstance(data, list):
        return [_normalised(item) for item in data]
    if isinstance(data, dict):
        return {key: _normalised(item) for key, item in data.items()}
    return data


@given(_json)
def test_random_json_round_trips_through_value(data: Any) -> None:
    value = json_to_value(data)
    back = value_to_json(value)
    assert back == _normalised(data)
    assert value_to_json(json_to_value(back)) == back  # stable (-0.0 reads as 0)
    assert codec.loads(codec.dumps(back)) == back


def test_module_has_no_pb_types_in_domain() -> None:
    draft = workflow_from_create_req(avs_pb2.CreateTaskReq(trigger=_task("event").trigger))
    assert draft.trigger is not None
    assert type(draft.trigger.config).__module__ == "ap_avs.domain.triggers"
    assert convert.MAX_VALUE_DEPTH == 64
