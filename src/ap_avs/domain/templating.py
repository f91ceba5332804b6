"""The shape of ``{{ … }}`` templates, and the simple resolver used at creation time.

Two jobs, both pure:

* :func:`template_problem` checks that every template in a string is well formed: each ``{{``
  is closed by a ``}}``, holds a non-blank expression, nests no other ``{{``, and respects the
  length and count limits. A ``}}`` with no ``{{`` before it is plain text (JSON bodies and
  scripts end objects with ``}}``).
* :func:`render` substitutes templates through a :data:`TemplateResolver`.
  :func:`simple_resolver` is the resolver used when a workflow is created: it evaluates only
  dotted paths into the input variables (``settings.runner``, ``tokens[0].address``,
  ``headers.X-Api-Key``) and renders anything else as ``undefined``, as upstream renders an
  expression it cannot evaluate. When the JavaScript template engine exists, pass its resolver
  instead; nothing else changes.

Nothing here raises.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Final, TypeAlias

from ap_avs.domain.values import JsonValue

OPEN: Final = "{{"
CLOSE: Final = "}}"
UNDEFINED: Final = "undefined"

TemplateResolver: TypeAlias = Callable[[str], str]
"""Maps a template expression (without braces, stripped) to the text that replaces it."""

_PATH: Final = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z0-9_$-]+|\[[0-9]+\])*")
_SEGMENT: Final = re.compile(r"\.([A-Za-z0-9_$-]+)|\[([0-9]+)\]")


def iter_templates(text: str) -> Iterator[tuple[int, int, str]]:
    """Each template of ``text`` as ``(start, end, expression)``; stops at the first broken one.

    ``text[start:end]`` is the template with its braces; ``expression`` is what lies between.
    An unclosed ``{{`` yields ``(start, -1, rest)``.
    """
    position = 0
    while (start := text.find(OPEN, position)) != -1:
        close = text.find(CLOSE, start + len(OPEN))
        if close == -1:
            yield start, -1, text[start + len(OPEN) :]
            return
        yield start, close + len(CLOSE), text[start + len(OPEN) : close]
        position = close + len(CLOSE)


def template_problem(text: str, *, max_length: int, max_count: int) -> str | None:
    """Why the templates in ``text`` are malformed, or ``None`` when they are fine."""
    for count, (start, end, expression) in enumerate(iter_templates(text), start=1):
        if end == -1:
            return f"unclosed template '{{{{' at character {start}"
        if OPEN in expression:
            return f"nested '{{{{' inside the template at character {start}"
        if not expression.strip():
            return f"empty template at character {start}"
        if len(expression) > max_length:
            return f"template at character {start} is longer than {max_length} characters"
        if count > max_count:
            return f"more than {max_count} templates in one value"
    return None


def render(text: str, resolve: TemplateResolver) -> str:
    """``text`` with every template replaced by ``resolve(expression.strip())``.

    Malformed templates are left as they are (check with :func:`template_problem` first).
    """
    parts: list[str] = []
    position = 0
    for start, end, expression in iter_templates(text):
        if end == -1:
            break
        parts.append(text[position:start])
        parts.append(resolve(expression.strip()))
        position = end
    parts.append(text[position:])
    return "".join(parts)


def simple_resolver(variables: Mapping[str, JsonValue]) -> TemplateResolver:
    """A resolver that looks dotted paths up in ``variables``; anything else is ``undefined``."""

    def resolve(expression: str) -> str:
        value = lookup_path(expression, variables)
        return UNDEFINED if isinstance(value, Missing) else to_text(value)

    return resolve


class Missing:
    """The path does not exist (distinct from a JSON null)."""


MISSING: Final = Missing()


def lookup_path(expression: str, variables: Mapping[str, JsonValue]) -> JsonValue | Missing:
    """The value at a dotted path such as ``settings.tokens[0].address``, or :data:`MISSING`.

    A numeric segment (``.0`` or ``[0]``) indexes a list; other segments read object keys.
    """
    if not _PATH.fullmatch(expression):
        return MISSING
    head = re.match(r"[A-Za-z_$][A-Za-z0-9_$]*", expression)
    assert head is not None  # guaranteed by _PATH
    if head.group() not in variables:
        return MISSING
    value: JsonValue = variables[head.group()]
    for match in _SEGMENT.finditer(expression, head.end()):
        key = match.group(1) if match.group(1) is not None else match.group(2)
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return MISSING
    return value


def to_text(value: JsonValue) -> str:
    """How a resolved value reads inside a string: objects and lists as compact JSON, null as
    ``null``, booleans in lower case, integral numbers without a fraction."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
