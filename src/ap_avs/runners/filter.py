"""The filter node: keep the items of a list for which an expression holds (PROTOCOL §7.8).

``input_variable`` names the list (see :mod:`ap_avs.runners.items`; one object counts as a
list of one). The whole list is filtered in **one** sandbox evaluation: the predicate is built
once in JavaScript with parameters ``value`` and ``index`` (the run variables are globals) and
called per item; a truthy result keeps the item, an item whose call throws is dropped and the
error recorded.

How the expression is read (:func:`predicate_source`, pure, plus a parse attempt in JS):

* One ``{{ … }}`` wrapping the whole expression is removed; templates *inside* it become
  parenthesised JavaScript (``value.amount > {{ settings.min }}`` →
  ``value.amount > (settings.min)``), since every variable is a global anyway. Inside a string
  literal a template is therefore not expanded.
* The text is first compiled as an expression (``return (<expr>)``); only when that does not
  parse is it compiled as a function body, so ``value.diff > 0`` filters as meant (upstream
  wrapped only texts without ``if``/``return`` substrings, which lost ``value.diff > 0``) and
  ``if (value.ok) return true; return false`` still works. A body must ``return``.

Output: the kept items, as given (not round-tripped through JavaScript). Metadata
``{total, kept, errors?: [{index, message}]}`` (at most 10 errors).

Fails with: ``expression and input_variable are required`` (MISSING_REQUIRED_FIELD); the
input errors of ``_items``; ``filter expression is not valid JavaScript: …``
(INVALID_NODE_CONFIG); a sandbox limit (``the script did not finish within …``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from ap_avs.domain.nodes import FilterConfig, Node
from ap_avs.domain.values import JsonValue
from ap_avs.errors import InvalidArgument
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.base import (
    INVALID_NODE_CONFIG,
    MISSING_REQUIRED_FIELD,
    NodeFailure,
    NodeResult,
    RunContext,
    redact,
)
from ap_avs.runners.items import resolve_items, unwrap_template
from ap_avs.sandbox import Mode

MAX_RECORDED_ERRORS: Final = 10
_TEMPLATE: Final = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_ITEMS: Final = "__apFilterItems"
_SOURCE: Final = "__apFilterSource"

FILTER_JS: Final = f"""
const source = {_SOURCE};
let predicate;
try {{
  predicate = new Function("value", "index", "return (" + source + "\\n);");
}} catch (expressionError) {{
  try {{
    predicate = new Function("value", "index", source);
  }} catch (bodyError) {{
    return {{ syntax: String(bodyError) }};
  }}
}}
const kept = [];
const errors = [];
{_ITEMS}.forEach((value, index) => {{
  try {{
    if (predicate(value, index)) kept.push(index);
  }} catch (error) {{
    if (errors.length < {MAX_RECORDED_ERRORS}) errors.push({{ index, message: String(error) }});
  }}
}});
return {{ kept, errors }};
"""
"""Compiles the predicate once, then runs it over the items; returns kept indexes."""


def predicate_source(expression: str) -> str:
    """The JavaScript text of a filter expression: outer ``{{ }}`` removed, inner templates
    turned into parenthesised expressions, trailing semicolons dropped."""
    text = _TEMPLATE.sub(lambda m: f"({m.group(1).strip()})", unwrap_template(expression))
    return text.strip().rstrip(";").rstrip()


def filter_result(
    items: list[JsonValue], reply: JsonValue, secrets: Mapping[str, str] | None = None
) -> NodeResult:
    """The result for the sandbox's ``reply`` to :data:`FILTER_JS` over ``items``; secret
    values are masked in the recorded item errors."""
    if not isinstance(reply, dict):
        raise TypeError(f"unexpected filter reply {reply!r}")
    if isinstance(reply.get("syntax"), str):
        raise NodeFailure(
            f"filter expression is not valid JavaScript: {reply['syntax']}",
            error_code=INVALID_NODE_CONFIG,
        )
    kept = reply.get("kept")
    errors = reply.get("errors") or []
    if not isinstance(kept, list) or not isinstance(errors, list):
        raise TypeError(f"unexpected filter reply {reply!r}")
    errors = [_masked(error, secrets or {}) for error in errors]
    output: list[JsonValue] = [items[i] for i in kept if isinstance(i, int)]
    metadata: dict[str, JsonValue] = {"total": len(items), "kept": len(output)}
    log = f"kept {len(output)} of {len(items)} items"
    if errors:
        metadata["errors"] = errors
        first = errors[0] if isinstance(errors[0], dict) else {}
        log += (
            f"; the expression failed on {len(errors)} item(s), e.g. item "
            f"{first.get('index')}: {first.get('message')}"
        )
    return NodeResult(True, output=output, metadata=metadata, log=log)


def _masked(error: JsonValue, secrets: Mapping[str, str]) -> JsonValue:
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return {**error, "message": redact(str(error["message"]), secrets)}
    return error


@reporting_failures
async def run(node: Node, ctx: RunContext) -> NodeResult:
    """Filter the input list (see the module docstring)."""
    config = config_of(node, FilterConfig)
    if not config.expression.strip() or not config.input_variable.strip():
        raise NodeFailure(
            "expression and input_variable are required", error_code=MISSING_REQUIRED_FIELD
        )
    items = await resolve_items(config.input_variable, ctx, single_object=True)
    source = predicate_source(config.expression)
    variables = {**ctx.variables, _ITEMS: items, _SOURCE: source}
    try:
        reply = await ctx.evaluator.evaluate(FILTER_JS, variables, mode=Mode.FUNCTION_BODY)
    except InvalidArgument as error:
        raise NodeFailure(f"filter expression failed: {error}") from None
    return filter_result(items, reply.value, ctx.secrets)
