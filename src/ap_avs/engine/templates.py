"""The one template resolver: ``{{ expression }}`` in any string, for every node, loop and
simulation (LESSONS 17).

An expression that is a plain path (``settings.runner``, ``fetchPrice.data.items[0]``,
``headers.X-Api-Key``) is looked up directly (falling back to JavaScript for what a lookup does
not know, such as ``name.length``); anything else is evaluated as a JavaScript
expression in the sandbox with the run's variables (only the top-level names it mentions are
sent). Values render as text: strings as they are, numbers plainly, objects and arrays as compact
JSON. With ``json_escape`` (a template inside a JSON string literal) the text is JSON-escaped.

Raises:
    NodeFailure: an expression evaluated to ``undefined``/``null`` or failed: ``could not
        resolve variable <expr> in <where>. Make sure to run the '<name>' node first``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

from ap_avs.domain.templating import Missing, iter_templates, lookup_path, to_text
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ErrorCode
from ap_avs.runners.base import NodeFailure
from ap_avs.sandbox import Evaluator, Limits, ScriptError

_PATH: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z0-9_$-]+|\[[0-9]+\])*")
_IDENTIFIER: Final = re.compile(r"(?<![.\w$])([A-Za-z_$][A-Za-z0-9_$]*)")
_NO_HINT: Final = frozenset({"settings", "trigger", "context", "apContext", "secrets", "env"})


def _unresolved(expression: str, where: str) -> NodeFailure:
    first = re.split(r"[.\[]", expression.strip(), maxsplit=1)[0]
    message = f"could not resolve variable {expression} in {where}"
    if first and first not in _NO_HINT and _PATH.fullmatch(first):
        message += f". Make sure to run the '{first}' node first"
    return NodeFailure(message, error_code=ErrorCode.INVALID_REQUEST)


class TemplateEngine:
    """Renders templates against a run's variables."""

    def __init__(self, evaluator: Evaluator, limits: Limits | None = None) -> None:
        self._evaluator = evaluator
        self._limits = limits

    async def value(self, expression: str, variables: Mapping[str, JsonValue]) -> JsonValue:
        """The value of one expression; ``None`` when it is undefined, null or fails."""
        expression = expression.strip()
        if _PATH.fullmatch(expression):
            found = lookup_path(expression, variables)
            if not isinstance(found, Missing):
                return found
            head = re.match(r"[A-Za-z_$][A-Za-z0-9_$]*", expression)
            if head is None or head.group() not in variables:
                return None  # the variable does not exist: JavaScript would not find it either
        names = {m.group(1) for m in _IDENTIFIER.finditer(expression)}
        scope = {name: variables[name] for name in names if name in variables}
        try:
            result = await self._evaluator.evaluate(expression, scope, self._limits)
        except ScriptError:
            return None
        return result.value

    async def render(
        self,
        text: str,
        variables: Mapping[str, JsonValue],
        *,
        where: str,
        json_escape: bool = False,
    ) -> str:
        """``text`` with every template replaced.

        Raises:
            NodeFailure: a template did not resolve.
        """
        if "{{" not in text:
            return text
        pieces: list[str] = []
        position = 0
        for start, end, expression in iter_templates(text):
            if end == -1:
                raise NodeFailure(
                    f"unclosed template '{{{{' in {where}", error_code=ErrorCode.INVALID_REQUEST
                )
            value = await self.value(expression, variables)
            if value is None:
                raise _unresolved(expression.strip(), where)
            rendered = to_text(value)
            if json_escape:
                rendered = json.dumps(rendered)[1:-1]
            pieces.append(text[position:start])
            pieces.append(rendered)
            position = end
        pieces.append(text[position:])
        return "".join(pieces)
