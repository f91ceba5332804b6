"""The branch runner with the real sandbox pool, and its pure decisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ap_avs.domain.nodes import BranchCondition, BranchConfig, Node, NodeKind
from ap_avs.runners import branch
from ap_avs.runners.base import INVALID_NODE_CONFIG, NodeResult, RunContext
from ap_avs.runners.branch import Evaluation, branch_result, label, truth

MakeContext = Callable[..., RunContext]


def meta(result: NodeResult) -> Any:
    """The metadata, typed loosely for reading in asserts."""
    return result.metadata


VARIABLES: dict[str, Any] = {
    "trigger": {"data": {"amount": 12, "name": "ada"}},
    "price": {"data": {"usd": 1999.5}},
}


def conditions(*items: tuple[str, str, str]) -> tuple[BranchCondition, ...]:
    return tuple(BranchCondition(id=i, type=t, expression=e) for i, t, e in items)


async def choose(make_ctx: MakeContext, *items: tuple[str, str, str]) -> NodeResult:
    node = Node(
        id="b1", name="decide", kind=NodeKind.BRANCH, config=BranchConfig(conditions(*items))
    )
    return await branch.run(node, make_ctx(VARIABLES))


def evaluations(result: NodeResult) -> list[dict[str, Any]]:
    records = meta(result)["conditionEvaluations"]
    assert isinstance(records, list)
    return records


async def test_first_true_if_wins(make_ctx: MakeContext) -> None:
    result = await choose(
        make_ctx,
        ("a", "if", "trigger.data.amount > 10"),
        ("b", "if", "true"),
        ("c", "else", ""),
    )
    assert result.success
    assert result.output == {"conditionId": "b1.a"}
    assert result.branch == "b1.a"
    assert evaluations(result) == [
        {
            "index": 0,
            "id": "a",
            "type": "if",
            "label": "If",
            "expression": "trigger.data.amount > 10",
            "result": True,
            "taken": True,
        }
    ]


async def test_else_if_with_template_then_else(make_ctx: MakeContext) -> None:
    result = await choose(
        make_ctx,
        ("a", "if", "trigger.data.amount > 100"),
        ("b", "if", "{{price.data.usd}} > 1000 && '{{trigger.data.name}}' === 'ada'"),
        ("c", "else", ""),
    )
    assert result.branch == "b1.b"
    records = evaluations(result)
    assert [(r["label"], r["result"], r["taken"]) for r in records] == [
        ("If", False, False),
        ("ElseIf", True, True),
    ]


async def test_non_boolean_error_and_unresolved_template_count_as_false(
    make_ctx: MakeContext,
) -> None:
    result = await choose(
        make_ctx,
        ("a", "if", "trigger.data.amount"),
        ("b", "if", "nope.value > 1"),
        ("c", "if", "{{missing.thing}} > 1"),
        ("d", "if", "   "),
        ("e", "else", ""),
    )
    assert result.success
    assert result.branch == "b1.e"
    records = evaluations(result)
    assert [r["result"] for r in records] == [False, False, False, False, True]
    assert records[0]["error"] == "the expression gave 12, not true or false"
    assert "nope" in records[1]["error"]
    assert "could not resolve variable missing.thing" in records[2]["error"]
    assert records[3]["error"] == "the expression is empty"
    assert records[4] == {
        "index": 4,
        "id": "e",
        "type": "else",
        "label": "Else",
        "expression": "",
        "result": True,
        "taken": True,
    }


async def test_nothing_true_and_no_else(make_ctx: MakeContext) -> None:
    result = await choose(make_ctx, ("a", "if", "false"), ("b", "if", "1 > 2"))
    assert result.success
    assert result.output is None
    assert result.branch is None
    assert [r["taken"] for r in evaluations(result)] == [False, False]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ((), "at least one condition"),
        ((("a", "else", ""),), "first branch condition must be an if"),
        ((("a", "if", "true"), ("b", "elif", "true")), "unknown type 'elif'"),
    ],
)
async def test_config_errors(make_ctx: MakeContext, items: Any, message: str) -> None:
    result = await choose(make_ctx, *items)
    assert not result.success
    assert result.error_code == INVALID_NODE_CONFIG
    assert message in result.error


def test_label_and_truth() -> None:
    assert [label(0, "if"), label(2, "if"), label(3, "else")] == ["If", "ElseIf", "Else"]
    assert truth(True) == (True, None)
    assert truth(False) == (False, None)
    assert truth("true") == (False, 'the expression gave "true", not true or false')
    assert truth(None)[0] is False
    long = truth(list(range(100)))[1]
    assert long is not None
    assert long.endswith("..., not true or false")


def test_branch_result_takes_the_last_evaluation_only_when_it_holds() -> None:
    a = BranchCondition(id="a", type="if", expression="x")
    b = BranchCondition(id="b", type="if", expression="y")
    taken = branch_result("n", [Evaluation(0, a, False), Evaluation(1, b, True)])
    assert taken.branch == "n.b"
    none = branch_result("n", [Evaluation(0, a, False), Evaluation(1, b, False)])
    assert none.branch is None
    assert none.output is None
    assert none.success
