"""The loop runner, with a ``run_node`` that dispatches to the real REST, GraphQL and custom-code
runners (real sandbox, real HTTP server), and its pure planning and summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ap_avs.domain.nodes import (
    ContractWriteConfig,
    CustomCodeConfig,
    ExecutionMode,
    GraphQLQueryConfig,
    LoopConfig,
    LoopRunner,
    Node,
    NodeKind,
    RestApiConfig,
    RunnerConfig,
)
from ap_avs.runners import loop
from ap_avs.runners.base import (
    INVALID_REQUEST,
    MISSING_REQUIRED_FIELD,
    EngineOptions,
    NodeResult,
    RunContext,
    failed,
)
from ap_avs.runners.loop import (
    iteration_node,
    iteration_timeout,
    iteration_variables,
    loop_result,
    parallelism,
)

MakeContext = Callable[..., RunContext]


def out(result: NodeResult) -> Any:
    """The output, typed loosely for reading in asserts."""
    return result.output


def meta(result: NodeResult) -> Any:
    """The metadata, typed loosely for reading in asserts."""
    return result.metadata


SEQUENTIAL, PARALLEL = ExecutionMode.SEQUENTIAL, ExecutionMode.PARALLEL


def loop_node(
    kind: NodeKind,
    runner: RunnerConfig,
    *,
    items: str = "numbers.data",
    mode: ExecutionMode = SEQUENTIAL,
    iter_val: str = "item",
    iter_key: str = "idx",
    timeout: int = 0,
) -> Node:
    config = LoopConfig(
        input_variable=items,
        iter_val=iter_val,
        iter_key=iter_key,
        execution_mode=mode,
        iteration_timeout=timeout,
        runner=LoopRunner(kind, runner),
    )
    return Node(id="loop1", name="each", kind=NodeKind.LOOP, config=config)


def code(source: str) -> tuple[NodeKind, CustomCodeConfig]:
    return NodeKind.CUSTOM_CODE, CustomCodeConfig(source=source)


async def run_loop(make_ctx: MakeContext, node: Node, variables: Any, **options: Any) -> NodeResult:
    return await loop.run(node, make_ctx(variables, **options))


@pytest.mark.parametrize("mode", [SEQUENTIAL, PARALLEL])
async def test_custom_code_body_sees_item_and_index(
    make_ctx: MakeContext, mode: ExecutionMode
) -> None:
    node = loop_node(*code("return { v: item * 10 + idx, name: settings.name }"), mode=mode)
    variables = {"numbers": {"data": [1, 2, 3]}, "settings": {"name": "s"}}
    result = await run_loop(make_ctx, node, variables)
    assert result.success, result.error
    assert result.output == [{"v": 10, "name": "s"}, {"v": 21, "name": "s"}, {"v": 32, "name": "s"}]
    assert meta(result)["executionMode"] == ("sequential" if mode is SEQUENTIAL else "parallel")
    assert meta(result)["iterations"] == [
        {"index": 0, "success": True},
        {"index": 1, "success": True},
        {"index": 2, "success": True},
    ]


@pytest.mark.parametrize(("mode", "workers"), [(PARALLEL, 3), (SEQUENTIAL, 1)])
async def test_rest_body_order_and_concurrency(
    make_ctx: MakeContext,
    server: str,
    in_flight: dict[str, int],
    mode: ExecutionMode,
    workers: int,
) -> None:
    delays = [150, 10, 80, 40, 10, 60]
    runner = RestApiConfig(url="{{base}}/delay?ms={{item}}")
    node = loop_node(NodeKind.REST_API, runner, mode=mode, iter_key="")
    began = time.monotonic()
    result = await run_loop(
        make_ctx, node, {"numbers": {"data": delays}, "base": server}, loop_parallelism=3
    )
    elapsed = time.monotonic() - began
    assert result.success, result.error
    assert [step["data"] for step in out(result)] == [{"ms": ms} for ms in delays]
    assert [step["status"] for step in out(result)] == [200] * 6
    assert in_flight["max"] == workers
    if mode is SEQUENTIAL:
        assert elapsed >= sum(delays) / 1000


async def test_graphql_body_runs_inside_loops(make_ctx: MakeContext, server: str) -> None:
    runner = GraphQLQueryConfig(url=f"{server}/graphql", query="{ a }", variables={"n": "{{item}}"})
    node = loop_node(NodeKind.GRAPHQL_QUERY, runner, mode=PARALLEL)
    result = await run_loop(make_ctx, node, {"numbers": {"data": ["x", "y"]}})
    assert result.success, result.error
    assert [step["variables"] for step in out(result)] == [{"n": "x"}, {"n": "y"}]


@pytest.mark.parametrize("mode", [SEQUENTIAL, PARALLEL])
async def test_failures_are_counted_and_kept_per_item(
    make_ctx: MakeContext, mode: ExecutionMode
) -> None:
    node = loop_node(
        *code("if (item % 2 === 0) throw new Error('bad ' + item); return item"), mode=mode
    )
    result = await run_loop(make_ctx, node, {"numbers": {"data": [1, 2, 3, 4, 5]}})
    assert not result.success
    assert result.error == "2 of 5 iterations failed: Error: bad 2"
    assert result.error_code == INVALID_REQUEST
    assert result.output == [1, None, 3, None, 5]
    assert meta(result)["failed"] == 2
    assert meta(result)["total"] == 5
    failures = [r for r in meta(result)["iterations"] if not r["success"]]
    assert failures == [
        {
            "index": 1,
            "success": False,
            "error": "Error: bad 2",
            "errorCode": INVALID_REQUEST,
            "metadata": {"errorKind": "runtime"},
        },
        {
            "index": 3,
            "success": False,
            "error": "Error: bad 4",
            "errorCode": INVALID_REQUEST,
            "metadata": {"errorKind": "runtime"},
        },
    ]


async def test_iteration_logs_are_prefixed(make_ctx: MakeContext) -> None:
    node = loop_node(*code("console.log('saw', item); return item"))
    result = await run_loop(make_ctx, node, {"numbers": {"data": [7, 8]}})
    assert result.log == "iteration 0: saw 7\niteration 1: saw 8"


async def test_iteration_timeout(make_ctx: MakeContext, server: str) -> None:
    runner = RestApiConfig(url="{{base}}/delay?ms={{item}}")
    node = loop_node(NodeKind.REST_API, runner, mode=PARALLEL)
    result = await run_loop(
        make_ctx,
        node,
        {"numbers": {"data": [10, 1500, 20]}, "base": server},
        default_iteration_timeout_seconds=0.3,
    )
    assert not result.success  # without the timeout, the 1.5 s iteration would have succeeded
    assert result.error == "1 of 3 iterations failed: iteration 1 timed out after 0.3 s"
    assert out(result)[1] is None
    assert out(result)[0] is not None


async def test_iteration_cap(make_ctx: MakeContext) -> None:
    node = loop_node(*code("return item"))
    result = await run_loop(
        make_ctx, node, {"numbers": {"data": [1, 2, 3, 4]}}, max_loop_iterations=3
    )
    assert not result.success
    assert result.error == "the loop input has 4 items; at most 3 are allowed"
    ok = await run_loop(make_ctx, node, {"numbers": {"data": [1, 2, 3]}}, max_loop_iterations=3)
    assert ok.success


async def test_empty_input(make_ctx: MakeContext) -> None:
    result = await run_loop(make_ctx, loop_node(*code("return item")), {"numbers": {"data": []}})
    assert result.success
    assert result.output == []


@pytest.mark.parametrize(
    ("node", "code_", "message"),
    [
        (loop_node(*code("1"), items="numbers.one"), INVALID_REQUEST, "is an object, not a list"),
        (
            loop_node(*code("1"), items="nothing.here"),
            INVALID_REQUEST,
            "could not resolve input variable",
        ),
        (loop_node(*code("1"), iter_val=""), MISSING_REQUIRED_FIELD, "iter_val is required"),
    ],
)
async def test_errors(make_ctx: MakeContext, node: Node, code_: int, message: str) -> None:
    result = await run_loop(make_ctx, node, {"numbers": {"data": [1], "one": {"a": 1}}})
    assert not result.success
    assert result.error_code == code_
    assert message in result.error


# --------------------------------------------------------------------------- pure parts


def test_iteration_node_and_variables() -> None:
    node = loop_node(*code("1"))
    assert isinstance(node.config, LoopConfig)
    inner = iteration_node(node, node.config, 2)
    assert (inner.id, inner.name, inner.kind) == (
        "loop1_iter_2",
        "each_iter_2",
        NodeKind.CUSTOM_CODE,
    )
    assert inner.config == CustomCodeConfig(source="1")
    assert iteration_variables(node.config, 2, {"a": 1}) == {"item": {"a": 1}, "idx": 2}
    no_key = loop_node(*code("1"), iter_key="").config
    assert isinstance(no_key, LoopConfig)
    assert iteration_variables(no_key, 2, 5) == {"item": 5}


def test_planning() -> None:
    options = EngineOptions(loop_parallelism=4, default_iteration_timeout_seconds=30, chain_id=1)
    write = loop_node(NodeKind.CONTRACT_WRITE, ContractWriteConfig(), mode=PARALLEL).config
    parallel = loop_node(*code("1"), mode=PARALLEL).config
    sequential = loop_node(*code("1"), timeout=7).config
    assert isinstance(write, LoopConfig)
    assert isinstance(parallel, LoopConfig)
    assert isinstance(sequential, LoopConfig)
    assert (parallelism(write, options), parallelism(parallel, options)) == (1, 4)
    assert parallelism(sequential, options) == 1
    assert iteration_timeout(write, options) == 360
    assert iteration_timeout(write, EngineOptions(chain_id=11155111)) == 240
    assert iteration_timeout(parallel, options) == 30
    assert iteration_timeout(sequential, options) == 7


def test_loop_result_sums_gas() -> None:
    results = [
        NodeResult(True, output=1, gas_used="21000", total_gas_cost="42000"),
        failed("boom"),
        NodeResult(True, output=3, gas_used="9000", total_gas_cost="27000"),
    ]
    result = loop_result(results, "sequential")
    assert (result.gas_used, result.gas_price, result.total_gas_cost) == ("30000", "2", "69000")
    assert result.output == [1, None, 3]
    assert result.error == "1 of 3 iterations failed: boom"
    plain = loop_result([NodeResult(True, output=1)], "parallel")
    assert (plain.gas_used, plain.gas_price, plain.total_gas_cost) == ("", "", "")
