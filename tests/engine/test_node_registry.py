"""A node kind added through the registry alone runs end to end.

The test defines a dummy ``ECHO`` kind (its config type, validation, stored form, display and
runner) in this file and registers it with one ``with_kind`` call; no shared table of the
project is edited. A workflow mixing it with a built-in kind is then validated, stored (the
store's JSON codec, both ways), run by the executor (real sandbox for the built-in custom-code
node) and shown as an execution on the wire. The wire's ``NodeType`` is fixed by the protocol,
so a node of the dummy kind itself has no ``TaskNode`` form; its steps do travel (their type is
a string).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from ap_avs.domain.execution import Execution, ExecutionStatus, summarize
from ap_avs.domain.node_kinds import BUILTIN_NODE_KINDS, NodeKindSpec
from ap_avs.domain.nodes import CustomCodeConfig, Edge, ExtraConfig, ExtraKind, Lang, Node, NodeKind
from ap_avs.domain.triggers import ManualTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.validation import WorkflowLimits, validate_new_workflow
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import WorkflowDraft
from ap_avs.domain.workflow_codec import workflow_from_json, workflow_to_json
from ap_avs.engine.executor import Executor, RunState
from ap_avs.engine.registry import NodeRegistry, default_registry
from ap_avs.engine.templates import TemplateEngine
from ap_avs.errors import CorruptDataError, InvalidArgument
from ap_avs.runners.base import EngineOptions, NodeResult, RunContext
from ap_avs.sandbox import Limits, SandboxPool
from ap_avs.store import codec
from ap_avs.wire import node_to_pb, value_to_json
from ap_avs.wire.executions import execution_to_pb

ECHO = ExtraKind("ECHO")
RUNNER = "0x71c7656ec7ab88b098defb751b7401b5f6d8976f"
OWNER = "0xeD39dD5f43e7a0d1e6DBAd7Bfd6c6EE399Ab514A"


@dataclass(frozen=True, slots=True)
class EchoConfig(ExtraConfig):
    """Repeat ``text`` (a template) ``times`` times."""

    text: str = ""
    times: int = 1


def echo_problems(config: EchoConfig, _: WorkflowLimits) -> Iterator[str]:
    if not config.text:
        yield "text is required"
    if not 1 <= config.times <= 5:
        yield f"times {config.times} must be between 1 and 5"


def echo_to_json(config: EchoConfig) -> JsonValue:
    return {"text": config.text, "times": config.times}


def echo_from_json(data: JsonValue) -> EchoConfig:
    if not isinstance(data, dict):
        raise CorruptDataError("echo config is not an object")
    text, times = data.get("text"), data.get("times")
    if not isinstance(text, str) or not isinstance(times, int):
        raise CorruptDataError("echo config needs text and times")
    return EchoConfig(text, times)


def echo_display(stored: JsonValue) -> JsonValue:
    assert isinstance(stored, dict)
    return {"say": stored["text"], "repeat": stored["times"]}


async def run_echo(node: Node, ctx: RunContext) -> NodeResult:
    assert isinstance(node.config, EchoConfig)
    text = await ctx.render(node.config.text, where="text")
    return NodeResult(True, output=[text] * node.config.times)


ECHO_SPEC = NodeKindSpec(
    kind=ECHO,
    config_type=EchoConfig,
    problems=echo_problems,
    to_json=echo_to_json,
    from_json=echo_from_json,
    display=echo_display,
)


def registry() -> NodeRegistry:
    """The built-in registry plus the dummy kind: the one line that adds it."""
    return default_registry().with_kind(ECHO_SPEC, run_echo)


def draft(*nodes: Node) -> WorkflowDraft:
    ids = ["trg", *(n.id for n in nodes)]
    return WorkflowDraft(
        trigger=Trigger("trg", "start", TriggerKind.MANUAL, ManualTriggerConfig(data={"n": 1})),
        nodes=nodes,
        edges=tuple(Edge(f"e{i}", a, b) for i, (a, b) in enumerate(itertools.pairwise(ids))),
        input_variables={"settings": {"name": "echo flow", "runner": RUNNER}},
    )


FIRST = Node("n1", "first", ECHO, EchoConfig("hello {{ start.data.n }}", times=2))
SECOND = Node("n2", "second", ECHO, EchoConfig("{{ first.data[1] }}!"))
COUNT = Node(
    "n3",
    "count",
    NodeKind.CUSTOM_CODE,
    CustomCodeConfig(Lang.JAVASCRIPT, "return first.data.length + second.data.length"),
)


def validate(d: WorkflowDraft, nodes: NodeRegistry) -> object:
    return validate_new_workflow(
        d, workflow_id="wf1", owner=OWNER, now_ms=1_800_000_000_000, kinds=nodes.kinds
    )


async def test_a_kind_added_through_the_registry_runs_end_to_end() -> None:
    nodes = registry()
    wf = validate_new_workflow(
        draft(FIRST, SECOND, COUNT),
        workflow_id="wf1",
        owner=OWNER,
        now_ms=1_800_000_000_000,
        kinds=nodes.kinds,
    )

    stored = codec.loads(codec.dumps(workflow_to_json(wf, nodes.kinds)))
    assert isinstance(stored, dict)
    assert isinstance(stored["nodes"], list)
    assert stored["nodes"][0] == {
        "id": "n1",
        "name": "first",
        "kind": "ECHO",
        "config": {"text": "hello {{ start.data.n }}", "times": 2},
    }
    loaded = workflow_from_json(stored, nodes.kinds)
    assert loaded == wf

    async with SandboxPool(size=1, limits=Limits()) as pool, httpx.AsyncClient() as http:
        executor = Executor(
            nodes.runners, TemplateEngine(pool), pool, http, EngineOptions(), kinds=nodes.kinds
        )
        state = RunState(variables={"start": {"data": {"n": 1}}})
        steps = await executor.run_graph(loaded.nodes, loaded.edges, "trg", state)

    by_name = {step.name: step for step in steps}
    assert [s.name for s in steps] == ["first", "second", "count"]
    assert all(s.success for s in steps), [s.error for s in steps]
    assert by_name["first"].output == ["hello 1", "hello 1"]
    assert by_name["second"].output == ["hello 1!"]
    assert by_name["count"].output == 3
    assert by_name["first"].kind == "NODE_TYPE_ECHO"
    assert by_name["first"].config == {"say": "hello {{ start.data.n }}", "repeat": 2}

    status, error = summarize(steps)
    execution = Execution("x1", wf.id, 0, status, start_at=1, end_at=2, steps=tuple(steps))
    pb = execution_to_pb(execution)
    assert status is ExecutionStatus.SUCCESS
    assert not error
    assert pb.steps[0].type == "NODE_TYPE_ECHO"
    assert value_to_json(pb.steps[0].config) == {"say": "hello {{ start.data.n }}", "repeat": 2}


def test_the_kind_validates_through_its_registration() -> None:
    nodes = registry()
    bad = Node("n1", "first", ECHO, EchoConfig("hi", times=9))
    with pytest.raises(InvalidArgument) as info:
        validate(draft(bad), nodes)
    assert info.value.message.endswith("node 'first' (id 'n1'): times 9 must be between 1 and 5")
    overlong = Node("n1", "first", ECHO, EchoConfig("x" * 70_000))
    with pytest.raises(InvalidArgument, match="text is longer than"):
        validate(draft(overlong), nodes)


def test_without_the_registration_the_kind_is_unknown() -> None:
    nodes = registry()
    wf = validate_new_workflow(
        draft(FIRST), workflow_id="wf1", owner=OWNER, now_ms=1, kinds=nodes.kinds
    )
    stored = workflow_to_json(wf, nodes.kinds)
    with pytest.raises(CorruptDataError, match="unknown node kind 'ECHO'"):
        workflow_from_json(stored)
    assert ECHO not in BUILTIN_NODE_KINDS.kinds
    assert ECHO not in default_registry().runners
    with pytest.raises(TypeError, match="no wire form"):
        node_to_pb(FIRST)


def test_a_kind_is_registered_once() -> None:
    with pytest.raises(ValueError, match="ECHO is registered twice"):
        registry().with_kind(ECHO_SPEC, run_echo)
    with pytest.raises(ValueError, match="REST_API is registered twice"):
        BUILTIN_NODE_KINDS.with_kind(BUILTIN_NODE_KINDS.spec(NodeKind.REST_API))
