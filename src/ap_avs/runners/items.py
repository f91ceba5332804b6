"""The list a filter or loop node works on: its ``input_variable`` resolved against the run.

``input_variable`` is a dotted path into the variables (``fetchTokens.data.items``), optionally
wrapped in ``{{ }}``. A path is looked up directly; any other text (``{{ tokens.slice(1) }}``)
is evaluated as one JavaScript expression in the sandbox with the variables as globals.
:func:`unwrap_template` and :func:`as_items` are pure.

Fails with: ``input_variable is required`` (MISSING_REQUIRED_FIELD);
``could not resolve input variable <x>`` (INVALID_REQUEST), with the JavaScript message when it
was evaluated; ``input variable <x> is a number, not a list`` (INVALID_REQUEST).
"""

from __future__ import annotations

from ap_avs.domain.templating import CLOSE, OPEN, Missing, lookup_path
from ap_avs.domain.values import JsonValue
from ap_avs.errors import InvalidArgument
from ap_avs.runners.base import MISSING_REQUIRED_FIELD, NodeFailure, RunContext
from ap_avs.sandbox import Mode


def unwrap_template(text: str) -> str:
    """``text`` without surrounding blanks and without one ``{{ … }}`` wrapping the whole."""
    text = text.strip()
    inner = text[len(OPEN) : -len(CLOSE)]
    if text.startswith(OPEN) and text.endswith(CLOSE) and OPEN not in inner and CLOSE not in inner:
        return inner.strip()
    return text


def describe_type(value: JsonValue) -> str:
    """The JSON type of ``value`` with its article, for messages (``a number``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def as_items(value: JsonValue, expression: str, *, single_object: bool) -> list[JsonValue]:
    """``value`` as the list to work on (one object → ``[object]`` when ``single_object``).

    Raises:
        NodeFailure: any other value.
    """
    if isinstance(value, list):
        return value
    if single_object and isinstance(value, dict):
        return [value]
    wanted = "a list or an object" if single_object else "a list"
    raise NodeFailure(f"input variable {expression} is {describe_type(value)}, not {wanted}")


async def resolve_items(text: str, ctx: RunContext, *, single_object: bool) -> list[JsonValue]:
    """The list named by ``input_variable`` ``text``.

    Raises:
        NodeFailure: see the module docstring.
    """
    expression = unwrap_template(text)
    if not expression:
        raise NodeFailure("input_variable is required", error_code=MISSING_REQUIRED_FIELD)
    value = lookup_path(expression, ctx.variables)
    if isinstance(value, Missing):
        try:
            result = await ctx.evaluator.evaluate(expression, ctx.variables, mode=Mode.EXPRESSION)
        except InvalidArgument as error:
            raise NodeFailure(f"could not resolve input variable {expression}: {error}") from None
        if result.value is None:
            raise NodeFailure(f"could not resolve input variable {expression}")
        value = result.value
    return as_items(value, expression, single_object=single_object)
