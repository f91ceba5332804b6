"""The filter runner with the real sandbox pool, and its input and expression rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ap_avs.domain.nodes import FilterConfig, Node, NodeKind
from ap_avs.runners import filter as filter_runner
from ap_avs.runners.base import (
    INVALID_NODE_CONFIG,
    INVALID_REQUEST,
    MISSING_REQUIRED_FIELD,
    NodeFailure,
    NodeResult,
    RunContext,
)
from ap_avs.runners.filter import predicate_source
from ap_avs.runners.items import as_items, unwrap_template

MakeContext = Callable[..., RunContext]


def meta(result: NodeResult) -> Any:
    """The metadata, typed loosely for reading in asserts."""
    return result.metadata


PRICES = [
    {"symbol": "A", "diff": 3, "tags": ["x"]},
    {"symbol": "B", "diff": -1, "tags": []},
    {"symbol": "C", "diff": 0.5, "tags": ["x", "y"]},
    {"symbol": "D", "diff": 0},
]
VARIABLES: dict[str, Any] = {
    "prices": {"data": PRICES},
    "settings": {"min": 1, "big": 2**60},
    "single": {"data": {"symbol": "S", "diff": 5}},
    "count": {"data": 3},
}


async def keep(
    make_ctx: MakeContext, expression: str, input_variable: str = "prices.data"
) -> NodeResult:
    config = FilterConfig(expression=expression, input_variable=input_variable)
    node = Node(id="f1", name="keep", kind=NodeKind.FILTER, config=config)
    return await filter_runner.run(node, make_ctx(VARIABLES))


def symbols(result: NodeResult) -> list[str]:
    assert result.success, result.error
    output: Any = result.output
    return [item["symbol"] for item in output]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("value.diff > 0", ["A", "C"]),  # upstream's quirk dropped everything here
        ("value.diff > 0;", ["A", "C"]),
        ("{{ value.diff > 0 }}", ["A", "C"]),
        ("return value.diff > 0", ["A", "C"]),
        ("if (value.diff < 0) { return true } return false", ["B"]),
        ("index % 2 === 0", ["A", "C"]),
        ("value.tags.length", ["A", "C"]),  # truthy keeps: 1 and 2; 0 and the error drop
        ("value.diff >= {{settings.min}}", ["A"]),
        ("_.includes(value.tags, 'y')", ["C"]),
        ("const d = value.diff;\nreturn d === 0", ["D"]),
    ],
)
async def test_expressions(make_ctx: MakeContext, expression: str, expected: list[str]) -> None:
    assert symbols(await keep(make_ctx, expression)) == expected


async def test_items_are_returned_unchanged_and_errors_recorded(make_ctx: MakeContext) -> None:
    result = await keep(make_ctx, "value.tags.length > 0 || settings.big > 0")
    assert result.output == PRICES[:3]
    assert result.metadata == {
        "total": 4,
        "kept": 3,
        "errors": [
            {"index": 3, "message": "TypeError: cannot read property 'length' of undefined"}
        ],
    }


async def test_secret_values_are_masked_in_item_errors(make_ctx: MakeContext) -> None:
    config = FilterConfig(
        expression="if (value.diff < 0) throw new Error('no ' + apContext.configVars.k); return 1",
        input_variable="prices.data",
    )
    node = Node(id="f1", name="keep", kind=NodeKind.FILTER, config=config)
    variables = {**VARIABLES, "apContext": {"configVars": {"k": "hunter2-secret"}}}
    result = await filter_runner.run(node, make_ctx(variables, secrets={"k": "hunter2-secret"}))
    assert symbols(result) == ["A", "C", "D"]
    assert meta(result)["errors"] == [{"index": 1, "message": "Error: no ***"}]
    assert result.log.endswith("failed on 1 item(s), e.g. item 1: Error: no ***")


@pytest.mark.parametrize(
    "input_variable", ["prices.data", "{{prices.data}}", " {{ prices.data }} "]
)
async def test_input_variable_forms(make_ctx: MakeContext, input_variable: str) -> None:
    assert symbols(await keep(make_ctx, "value.diff < 0", input_variable)) == ["B"]


async def test_input_as_javascript_expression(make_ctx: MakeContext) -> None:
    result = await keep(make_ctx, "true", "{{ prices.data.slice(2) }}")
    assert symbols(result) == ["C", "D"]


async def test_single_object_is_a_list_of_one(make_ctx: MakeContext) -> None:
    assert symbols(await keep(make_ctx, "value.diff > 1", "single.data")) == ["S"]


async def test_empty_list(make_ctx: MakeContext) -> None:
    result = await keep(make_ctx, "true", "{{ prices.data.slice(9) }}")
    assert result.success
    assert result.output == []


@pytest.mark.parametrize(
    ("expression", "input_variable", "code", "message"),
    [
        (
            "true",
            "count.data",
            INVALID_REQUEST,
            "input variable count.data is a number, not a list",
        ),
        ("true", "missing.data", INVALID_REQUEST, "could not resolve input variable missing.data"),
        (
            "true",
            "prices.nothing",
            INVALID_REQUEST,
            "could not resolve input variable prices.nothing",
        ),
        ("value.diff >", "prices.data", INVALID_NODE_CONFIG, "not valid JavaScript"),
        ("", "prices.data", MISSING_REQUIRED_FIELD, "expression and input_variable are required"),
        ("true", "{{ }}", MISSING_REQUIRED_FIELD, "required"),
    ],
)
async def test_errors(
    make_ctx: MakeContext, expression: str, input_variable: str, code: int, message: str
) -> None:
    result = await keep(make_ctx, expression, input_variable)
    assert not result.success
    assert result.error_code == code
    assert message in result.error


def test_predicate_source() -> None:
    assert predicate_source(" {{ value.a > 1 }} ") == "value.a > 1"
    assert predicate_source("value.a > {{ settings.min }};") == "value.a > (settings.min)"
    assert predicate_source("return value.ok;  ") == "return value.ok"


def test_unwrap_template_and_as_items() -> None:
    assert unwrap_template(" {{ a.b }} ") == "a.b"
    assert unwrap_template("a.b") == "a.b"
    assert unwrap_template("{{a}} + {{b}}") == "{{a}} + {{b}}"
    assert as_items([1], "x", single_object=False) == [1]
    assert as_items({"a": 1}, "x", single_object=True) == [{"a": 1}]
    with pytest.raises(NodeFailure, match="is an object, not a list"):
        as_items({"a": 1}, "x", single_object=False)
    with pytest.raises(NodeFailure, match="is a string"):
        as_items("abc", "x", single_object=True)
