"""The custom-code node: run the user's JavaScript in the sandbox; its value is the output.

The source runs with ``Mode.CUSTOM_CODE`` (upstream's rule: ``import … from`` lines become
``require``; code with ``return``/``await`` is a function body, other code a script whose
completion value is the result) under ``options.code_limits`` (time and memory limits upstream
lacks), with every run variable as a JavaScript global (``trigger.data.amount``,
``fetchPrice.data.price``, ``apContext.configVars.key``). ``console`` lines become the step log.

**The source is not templated.** Upstream substitutes ``{{ … }}`` into the source text first,
so a string from a trigger or an HTTP answer becomes *code*; here the variables are globals and
need no templates, and ``{{`` stays as written (legitimate in strings, e.g. mustache text).
When such a source fails with a syntax error, the message adds a hint.
Not ported: upstream's unwrapping of a result object's ``data`` key into ``<name>.data``.

Fails with (INVALID_REQUEST unless noted): ``source is required`` (MISSING_REQUIRED_FIELD);
the JavaScript message (``Error: boom``, ``SyntaxError: … (line 3)``) or the limit that was hit
(``the script did not finish within 5,000 ms``); metadata ``{"errorKind": <kind>}`` says which
(``syntax``, ``runtime``, ``timeout``, ``memory``, …). Console lines written before a failure
are kept in the log.
"""

from __future__ import annotations

from typing import Final

from ap_avs.domain.nodes import CustomCodeConfig, Node
from ap_avs.errors import InvalidArgument
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.base import (
    INVALID_REQUEST,
    MISSING_REQUIRED_FIELD,
    NodeFailure,
    NodeResult,
    RunContext,
)
from ap_avs.sandbox import Mode, ScriptError, ScriptErrorKind

TEMPLATE_HINT: Final = (
    " (custom code does not expand {{ }} templates: run variables are JavaScript globals, "
    "so write trigger.data.amount rather than {{ trigger.data.amount }})"
)


def script_error_text(error: ScriptError, source: str) -> str:
    """The user-facing text of a script failure, with a hint when templates are the likely cause."""
    text = str(error)
    if error.kind is ScriptErrorKind.SYNTAX and "{{" in source:
        text += TEMPLATE_HINT
    return text


def script_failure(error: ScriptError, source: str) -> NodeResult:
    """The failed result of a script error: message, logs so far, and the kind in metadata."""
    return NodeResult(
        False,
        error=script_error_text(error, source),
        error_code=INVALID_REQUEST,
        log="\n".join(error.logs),
        metadata={"errorKind": error.kind.value},
    )


@reporting_failures
async def run(node: Node, ctx: RunContext) -> NodeResult:
    """Run the source of a custom-code node (see the module docstring)."""
    config = config_of(node, CustomCodeConfig)
    if not config.source.strip():
        raise NodeFailure("source is required", error_code=MISSING_REQUIRED_FIELD)
    try:
        result = await ctx.evaluator.evaluate(
            config.source, ctx.variables, ctx.options.code_limits, mode=Mode.CUSTOM_CODE
        )
    except ScriptError as error:
        return script_failure(error, config.source)
    except InvalidArgument as error:  # a variable name JavaScript cannot bind
        raise NodeFailure(error.message) from None
    return NodeResult(True, output=result.value, log="\n".join(result.logs))
