"""RunNodeWithInputs, RunTrigger and SimulateTask: run now, store nothing."""

from __future__ import annotations

import pytest
from google.protobuf import struct_pb2
from google.protobuf.json_format import MessageToDict

from ap_avs._proto import avs_pb2

from .test_execution_api import User, http_server, user

pytestmark = pytest.mark.integration
__all__ = ["http_server", "user"]


def value(data: object) -> struct_pb2.Value:
    v = struct_pb2.Value()
    v.struct_value.update({"x": data})
    return v.struct_value.fields["x"]


async def test_run_node_with_inputs(user: User) -> None:
    node = avs_pb2.TaskNode(
        id="n",
        name="calc",
        type=avs_pb2.NODE_TYPE_CUSTOM_CODE,
        custom_code=avs_pb2.CustomCodeNode(
            config=avs_pb2.CustomCodeNode.Config(
                lang=avs_pb2.LANG_JAVASCRIPT, source="return prev.data.n + 1"
            )
        ),
    )
    req = avs_pb2.RunNodeWithInputsReq(node=node)
    req.input_variables["prev"].CopyFrom(value({"data": {"n": 41}}))
    reply = await user.call("RunNodeWithInputs", req)
    assert reply.success
    assert MessageToDict(reply.custom_code.data) == 42
    bad = await user.call("RunNodeWithInputs", avs_pb2.RunNodeWithInputsReq(node=node))
    assert not bad.success
    assert "prev" in bad.error
    empty = await user.call("RunNodeWithInputs", avs_pb2.RunNodeWithInputsReq())
    assert (empty.success, empty.error) == (False, "node is required")


async def test_run_trigger_block_and_manual(user: User) -> None:
    block = await user.call(
        "RunTrigger",
        avs_pb2.RunTriggerReq(
            trigger=avs_pb2.TaskTrigger(
                id="t",
                name="blocks",
                type=avs_pb2.TRIGGER_TYPE_BLOCK,
                block=avs_pb2.BlockTrigger(config=avs_pb2.BlockTrigger.Config(interval=5)),
            )
        ),
    )
    assert block.success
    assert MessageToDict(block.block_trigger.data)["blockNumber"] >= 0
    manual = avs_pb2.TaskTrigger(id="t", name="go", type=avs_pb2.TRIGGER_TYPE_MANUAL)
    manual.manual.config.data.CopyFrom(value({"a": 1}))
    manual.manual.config.lang = avs_pb2.LANG_JSON
    reply = await user.call("RunTrigger", avs_pb2.RunTriggerReq(trigger=manual))
    assert reply.success
    assert MessageToDict(reply.manual_trigger.data) == {"a": 1}


async def test_simulate_a_whole_workflow(user: User, http_server: str) -> None:
    trigger = avs_pb2.TaskTrigger(id="t", name="go", type=avs_pb2.TRIGGER_TYPE_MANUAL)
    trigger.manual.config.data.CopyFrom(value({"items": [1, 5, 12, 30]}))
    trigger.manual.config.lang = avs_pb2.LANG_JSON
    nodes = [
        avs_pb2.TaskNode(
            id="code",
            name="numbers",
            type=avs_pb2.NODE_TYPE_CUSTOM_CODE,
            custom_code=avs_pb2.CustomCodeNode(
                config=avs_pb2.CustomCodeNode.Config(
                    lang=avs_pb2.LANG_JAVASCRIPT, source="return go.data.items"
                )
            ),
        ),
        avs_pb2.TaskNode(
            id="br",
            name="check",
            type=avs_pb2.NODE_TYPE_BRANCH,
            branch=avs_pb2.BranchNode(
                config=avs_pb2.BranchNode.Config(
                    conditions=[
                        avs_pb2.BranchNode.Condition(
                            id="big", type="if", expression="{{ numbers.data.length > 3 }}"
                        ),
                        avs_pb2.BranchNode.Condition(id="small", type="else"),
                    ]
                )
            ),
        ),
        avs_pb2.TaskNode(
            id="f",
            name="large",
            type=avs_pb2.NODE_TYPE_FILTER,
            filter=avs_pb2.FilterNode(
                config=avs_pb2.FilterNode.Config(
                    expression="value > 10", input_variable="{{numbers.data}}"
                )
            ),
        ),
        avs_pb2.TaskNode(
            id="l",
            name="notify",
            type=avs_pb2.NODE_TYPE_LOOP,
            loop=avs_pb2.LoopNode(
                config=avs_pb2.LoopNode.Config(
                    input_variable="{{large.data}}", iter_val="item", iter_key="i"
                ),
                rest_api=avs_pb2.RestAPINode(
                    config=avs_pb2.RestAPINode.Config(url=http_server + "/n/{{item}}", method="GET")
                ),
            ),
        ),
    ]
    edges = [
        avs_pb2.TaskEdge(id="e1", source="t", target="code"),
        avs_pb2.TaskEdge(id="e2", source="code", target="br"),
        avs_pb2.TaskEdge(id="e3", source="br.big", target="f"),
        avs_pb2.TaskEdge(id="e4", source="f", target="l"),
    ]
    req = avs_pb2.SimulateTaskReq(trigger=trigger, nodes=nodes, edges=edges)
    settings = struct_pb2.Value()
    settings.struct_value.update({"name": "sim", "runner": user.runner})
    req.input_variables["settings"].CopyFrom(settings)
    execution = await user.call("SimulateTask", req)
    assert execution.status == avs_pb2.EXECUTION_STATUS_SUCCESS, execution.error
    names = [s.name for s in execution.steps]
    assert names == ["go", "numbers", "check", "large", "notify"]
    steps = {s.name: s for s in execution.steps}
    assert MessageToDict(steps["large"].filter.data) == [12, 30]
    looped = MessageToDict(steps["notify"].loop.data)
    assert [item["data"]["path"] for item in looped] == ["/n/12", "/n/30"]
    count = await user.call("GetWorkflowCount", avs_pb2.GetWorkflowCountReq())
    assert count.total == 0
