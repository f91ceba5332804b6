"""The branch node: take the first condition that holds, in order (PROTOCOL §7.8).

Each ``if`` (the first condition; later ones act as else-if) has its expression templated with
``ctx.render`` and then evaluated as one JavaScript expression in the sandbox, the run variables
being globals. Only the boolean ``true`` holds: any other value, an evaluation error or a
template that does not resolve counts as false and is recorded. An ``else`` is taken when it is
reached. Conditions after the taken one are not evaluated. The decisions are pure:
:func:`check_conditions`, :func:`label`, :func:`truth` and :func:`branch_result`.

Result: success with output ``{conditionId: "<branchId>.<conditionId>"}`` and ``branch`` set,
or, when nothing holds and there is no ``else``, success with no output and no branch (no path
runs). Metadata ``{conditionEvaluations: [{index, id, type, label, expression, result, taken,
error?}]}`` lists the evaluated conditions; ``expression`` is the text as configured (not the
rendered one, which could hold secret values). Upstream's dangerous-substring filter is not
ported: the sandbox isolates the expression.

Fails with (INVALID_NODE_CONFIG): ``branch needs at least one condition``, ``the first branch
condition must be an if``, ``branch condition … has unknown type …``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ap_avs.domain.nodes import BranchCondition, BranchConfig, Node
from ap_avs.domain.values import JsonValue
from ap_avs.errors import InvalidArgument
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.base import INVALID_NODE_CONFIG, NodeFailure, NodeResult, RunContext, redact
from ap_avs.sandbox import Mode

IF = "if"
ELSE = "else"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """How one condition was judged."""

    index: int
    condition: BranchCondition
    result: bool
    error: str | None = None

    @property
    def kind(self) -> str:
        return self.condition.type.strip().lower()

    def to_json(self, taken: bool) -> dict[str, JsonValue]:
        record: dict[str, JsonValue] = {
            "index": self.index,
            "id": self.condition.id,
            "type": self.kind,
            "label": label(self.index, self.kind),
            "expression": self.condition.expression,
            "result": self.result,
            "taken": taken,
        }
        if self.error is not None:
            record["error"] = self.error
        return record


def check_conditions(conditions: Sequence[BranchCondition]) -> None:
    """Raises NodeFailure (INVALID_NODE_CONFIG) when the conditions cannot be evaluated."""
    if not conditions:
        raise NodeFailure("branch needs at least one condition", error_code=INVALID_NODE_CONFIG)
    if conditions[0].type.strip().lower() != IF:
        raise NodeFailure(
            "the first branch condition must be an if", error_code=INVALID_NODE_CONFIG
        )
    for condition in conditions:
        if condition.type.strip().lower() not in (IF, ELSE):
            raise NodeFailure(
                f"branch condition {condition.id} has unknown type {condition.type!r} "
                "(use 'if' or 'else')",
                error_code=INVALID_NODE_CONFIG,
            )


def label(index: int, kind: str) -> str:
    """``If`` for the first condition, ``ElseIf`` for later ifs, ``Else`` for else."""
    if kind == ELSE:
        return "Else"
    return "If" if index == 0 else "ElseIf"


def truth(value: JsonValue) -> tuple[bool, str | None]:
    """Whether an expression's value holds, and why not when it is not a boolean."""
    if isinstance(value, bool):
        return value, None
    shown = json.dumps(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return False, f"the expression gave {shown}, not true or false"


def branch_result(node_id: str, evaluations: Sequence[Evaluation]) -> NodeResult:
    """The branch's result: the last evaluation is the taken one when it holds."""
    taken = evaluations[-1] if evaluations and evaluations[-1].result else None
    metadata: JsonValue = {
        "conditionEvaluations": [e.to_json(taken=e is taken) for e in evaluations]
    }
    if taken is None:
        return NodeResult(True, metadata=metadata, log="no condition held; no path taken")
    chosen = f"{node_id}.{taken.condition.id}"
    return NodeResult(
        True,
        output={"conditionId": chosen},
        metadata=metadata,
        branch=chosen,
        log=f"took {label(taken.index, taken.kind)} condition {taken.condition.id}",
    )


async def evaluate(index: int, condition: BranchCondition, ctx: RunContext) -> Evaluation:
    """Judge one condition (an else always holds)."""
    if condition.type.strip().lower() == ELSE:
        return Evaluation(index, condition, result=True)
    try:
        expression = await ctx.render(
            condition.expression, where=f"branch condition {condition.id}"
        )
    except NodeFailure as failure:
        return Evaluation(index, condition, False, redact(failure.message, ctx.secrets))
    if not expression.strip():
        return Evaluation(index, condition, False, "the expression is empty")
    try:
        value = (
            await ctx.evaluator.evaluate(expression, ctx.variables, mode=Mode.EXPRESSION)
        ).value
    except InvalidArgument as error:  # a ScriptError, or a variable JavaScript cannot bind
        return Evaluation(index, condition, False, redact(str(error), ctx.secrets))
    result, error_text = truth(value)
    return Evaluation(index, condition, result, error_text)


@reporting_failures
async def run(node: Node, ctx: RunContext) -> NodeResult:
    """Choose the branch path (see the module docstring)."""
    conditions = config_of(node, BranchConfig).conditions
    check_conditions(conditions)
    evaluations: list[Evaluation] = []
    for index, condition in enumerate(conditions):
        evaluations.append(await evaluate(index, condition, ctx))
        if evaluations[-1].result:
            break
    return branch_result(node.id, evaluations)
