"""The executor: graph order, branch gating, failures that do not stop other branches,
concurrency, variables between nodes, and secret redaction (runners are test doubles)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest

from ap_avs.domain.execution import ExecutionStatus, summarize
from ap_avs.domain.nodes import (
    BranchCondition,
    BranchConfig,
    CustomCodeConfig,
    Edge,
    Lang,
    Node,
    NodeKind,
)
from ap_avs.domain.values import JsonValue
from ap_avs.engine.executor import Executor, RunState
from ap_avs.engine.templates import TemplateEngine
from ap_avs.runners.base import EngineOptions, NodeFailure, NodeResult, RunContext, Runner
from ap_avs.sandbox import Limits, SandboxPool

TRIGGER = "trig"


def code(node_id: str, source: str) -> Node:
    return Node(node_id, node_id, NodeKind.CUSTOM_CODE, CustomCodeConfig(Lang.JAVASCRIPT, source))


def branch(node_id: str, *conditions: tuple[str, str, str]) -> Node:
    return Node(
        node_id,
        node_id,
        NodeKind.BRANCH,
        BranchConfig(tuple(BranchCondition(i, t, e) for i, t, e in conditions)),
    )


async def fake_code(node: Node, ctx: RunContext) -> NodeResult:
    """'fail' fails, 'raise' raises, 'sleep:<s>' sleeps, 'echo:<template>' renders."""
    assert isinstance(node.config, CustomCodeConfig)
    source = node.config.source
    if source == "fail":
        raise NodeFailure("it failed on purpose")
    if source == "raise":
        raise RuntimeError("a bug")
    if source.startswith("sleep:"):
        await asyncio.sleep(float(source[6:]))
        return NodeResult(True, output=source)
    if source.startswith("echo:"):
        return NodeResult(True, output=await ctx.render(source[5:], where="source"))
    if source == "owner":
        return NodeResult(True, output=ctx.owner)
    return NodeResult(True, output=source)


async def fake_branch(node: Node, ctx: RunContext) -> NodeResult:
    assert isinstance(node.config, BranchConfig)
    for condition in node.config.conditions:
        if condition.type == "else" or ctx.variables.get(condition.expression) is True:
            chosen = f"{node.id}.{condition.id}"
            return NodeResult(True, output={"conditionId": chosen}, branch=chosen)
    return NodeResult(True)


@contextlib.asynccontextmanager
async def make_executor(code_runner: Runner = fake_code) -> AsyncIterator[Executor]:
    async with (
        SandboxPool(size=1, limits=Limits()) as pool,
        httpx.AsyncClient() as http,
    ):
        yield Executor(
            {NodeKind.CUSTOM_CODE: code_runner, NodeKind.BRANCH: fake_branch},
            TemplateEngine(pool),
            pool,
            http,
            EngineOptions(chain_id=31337),
        )


@pytest.fixture
async def executor() -> AsyncIterator[Executor]:
    async with make_executor() as made:
        yield made


def state(variables: Mapping[str, JsonValue] | None = None, **secrets: str) -> RunState:
    return RunState(dict(variables or {}), secrets=secrets)


async def test_chain_runs_in_order_and_passes_data(executor: Executor) -> None:
    nodes = [
        code("a", "first"),
        code("b", "echo:{{a.data}}-then"),
        code("c", "echo:{{ b.data.length }}"),
    ]
    edges = [Edge("e1", TRIGGER, "a"), Edge("e2", "a", "b"), Edge("e3", "b", "c")]
    steps = await executor.run_graph(nodes, edges, TRIGGER, state())
    assert [s.id for s in steps] == ["a", "b", "c"]
    assert [s.output for s in steps] == ["first", "first-then", "10"]
    assert steps[1].inputs == ("a.data", "a.input")
    assert steps[0].config == {"lang": "LANG_JAVASCRIPT", "source": "first"}


async def test_a_failure_does_not_stop_independent_branches(executor: Executor) -> None:
    nodes = [code("bad", "fail"), code("boom", "raise"), code("good", "ok"), code("after", "x")]
    edges = [
        Edge("e1", TRIGGER, "bad"),
        Edge("e2", TRIGGER, "boom"),
        Edge("e3", TRIGGER, "good"),
        Edge("e4", "bad", "after"),
    ]
    steps = await executor.run_graph(nodes, edges, TRIGGER, state())
    by_id = {s.id: s for s in steps}
    assert set(by_id) == {"bad", "boom", "good", "after"}
    assert by_id["bad"].error == "it failed on purpose"
    assert not by_id["boom"].success
    assert "a bug" not in by_id["boom"].error
    assert by_id["good"].success
    assert by_id["after"].success  # a failed predecessor still finishes
    status, error = summarize(steps)
    assert status is ExecutionStatus.PARTIAL_SUCCESS
    prefix, _, names = error.partition(": ")
    assert prefix == "2 of 4 steps failed"
    assert sorted(names.split(", ")) == ["bad", "boom"]  # in completion order


async def test_branch_gates_paths(executor: Executor) -> None:
    nodes = [
        branch("br", ("c1", "if", "flag"), ("c2", "else", "")),
        code("yes", "yes"),
        code("no", "no"),
        code("after_no", "after"),
    ]
    edges = [
        Edge("e1", TRIGGER, "br"),
        Edge("e2", "br.c1", "yes"),
        Edge("e3", "br.c2", "no"),
        Edge("e4", "no", "after_no"),
    ]
    taken = await executor.run_graph(nodes, edges, TRIGGER, state({"flag": True}))
    assert [s.id for s in taken] == ["br", "yes"]
    other = await executor.run_graph(nodes, edges, TRIGGER, state({"flag": False}))
    assert [s.id for s in other] == ["br", "no", "after_no"]


async def test_ready_nodes_run_concurrently() -> None:
    """Five ready nodes meet at a barrier of five: run one after another, the first would wait
    forever (and fail at the generous liveness guard); run together, all pass it."""
    barrier = asyncio.Barrier(5)
    events: list[str] = []

    async def meet(node: Node, ctx: RunContext) -> NodeResult:
        events.append(f"start {node.id}")
        await asyncio.wait_for(barrier.wait(), 10)
        events.append(f"end {node.id}")
        return NodeResult(True, output=node.id)

    nodes = [code(f"n{i}", "meet") for i in range(5)]
    edges = [Edge(f"e{i}", TRIGGER, f"n{i}") for i in range(5)]
    async with make_executor(meet) as executor:
        steps = await executor.run_graph(nodes, edges, TRIGGER, state())
    assert [s.success for s in steps] == [True] * 5
    assert all(e.startswith("start") for e in events[:5]), events  # all began before any ended


async def test_unresolved_template_fails_the_node_with_a_hint(executor: Executor) -> None:
    nodes = [code("a", "echo:{{missingNode.data.x}}")]
    steps = await executor.run_graph(nodes, [Edge("e", TRIGGER, "a")], TRIGGER, state())
    assert not steps[0].success
    assert steps[0].error == (
        "could not resolve variable missingNode.data.x in source. "
        "Make sure to run the 'missingNode' node first"
    )


async def test_secrets_are_redacted_from_steps(executor: Executor) -> None:
    variables = {"apContext": {"configVars": {"token": "sup3r-s3cret"}}}
    nodes = [code("a", "echo:key={{apContext.configVars.token}}")]
    run = state(variables, token="sup3r-s3cret")
    steps = await executor.run_graph(nodes, [Edge("e", TRIGGER, "a")], TRIGGER, run)
    assert steps[0].success
    assert steps[0].output == "key=***"
    assert "sup3r-s3cret" not in repr(run.variables["a"])


async def test_the_run_owner_reaches_every_runner_explicitly(executor: Executor) -> None:
    nodes = [code("a", "owner"), code("b", "sleep:0"), code("c", "owner")]
    edges = [Edge("e1", TRIGGER, "a"), Edge("e2", "a", "b"), Edge("e3", "b", "c")]
    mine = RunState({}, owner="0xowner")
    theirs = RunState({}, owner="0xother")
    ours, other = await asyncio.gather(
        executor.run_graph(nodes, edges, TRIGGER, mine),
        executor.run_graph(nodes, edges, TRIGGER, theirs),
    )
    assert [s.output for s in ours if s.id != "b"] == ["0xowner", "0xowner"]
    assert [s.output for s in other if s.id != "b"] == ["0xother", "0xother"]
    assert (await executor.run_graph(nodes[:1], edges[:1], TRIGGER, state()))[0].output is None
