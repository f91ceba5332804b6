"""Pure preparation of what a worker evaluates: the wrapped source and the variables as JSON.

Wrapping keeps the user's first line on line 1, so syntax errors report the user's line numbers.

Raises:
    InvalidArgument: a variable name that JavaScript cannot bind.
    TypeError: a variable value that is not JSON (a caller bug).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from ap_avs.errors import InvalidArgument
from ap_avs.sandbox.model import JsonValue, Mode

MAX_SAFE_INTEGER = 2**53 - 1
"""Larger integers cannot be JavaScript numbers exactly; they cross as decimal strings."""

_RESERVED_NAMES = frozenset({"undefined", "NaN", "Infinity"})
_LONG_DIGITS = re.compile(r"\d{16,}")
_IMPORT_FROM = re.compile(
    r"""^[ \t]*import[ \t]+(?P<clause>[^'";]+?)[ \t]+from[ \t]*"""
    r"""(?P<q>['"])(?P<module>[^'"\n]+)(?P=q)[ \t]*;?""",
    re.MULTILINE,
)
_IMPORT_BARE = re.compile(
    r"""^[ \t]*import[ \t]*(?P<q>['"])(?P<module>[^'"\n]+)(?P=q)[ \t]*;?""", re.MULTILINE
)
_IMPORT_ALIAS = re.compile(r"\s+as\s+")


def prepare(code: str, mode: Mode) -> str:
    """Return the text a worker evaluates as a script for ``code`` read in ``mode``."""
    if mode is Mode.CUSTOM_CODE:
        code, mode = custom_code(code)
    if mode is Mode.EXPRESSION:
        return "(" + code.rstrip().rstrip(";") + "\n)"
    if mode is Mode.FUNCTION_BODY:
        return "(async function () {" + code + "\n})()"
    return code


def custom_code(code: str) -> tuple[str, Mode]:
    """Apply upstream's custom-code rule: rewrite imports, then choose the mode.

    ``import _ from 'lodash'`` becomes ``const _ = require('lodash');`` (named and namespace
    imports likewise, newlines kept). Code that had imports or contains ``return`` or ``await``
    (plain substrings, as upstream) is a function body; anything else is a script whose
    completion value is the result.
    """
    rewritten = _IMPORT_FROM.sub(_import_from, code)
    rewritten = _IMPORT_BARE.sub(lambda m: f"require({m['q']}{m['module']}{m['q']});", rewritten)
    if rewritten != code or "return" in code or "await" in code:
        return rewritten, Mode.FUNCTION_BODY
    return code, Mode.SCRIPT


def _import_from(match: re.Match[str]) -> str:
    clause = match["clause"].strip()
    module = f"require({match['q']}{match['module']}{match['q']})"
    newlines = "\n" * match.group(0).count("\n")
    default, _, rest = clause.partition(",") if not clause.startswith("{") else ("", "", clause)
    default, rest = default.strip(), rest.strip()
    parts: list[str] = []
    if default.startswith("* as "):
        parts.append(f"const {default[5:].strip()} = {module};")
    elif default:
        parts.append(f"const {default} = {module};")
    source = default or module
    if rest.startswith("* as "):
        parts.append(f"const {rest[5:].strip()} = {source};")
    elif rest.startswith("{"):
        names = _IMPORT_ALIAS.sub(": ", " ".join(rest.split()))
        parts.append(f"const {names} = {source};")
    return " ".join(parts) + newlines


def encode_variables(variables: Mapping[str, JsonValue]) -> str:
    """Return ``variables`` as JSON text for the worker, by the boundary rules.

    Integers beyond ±(2**53 - 1) become decimal strings (as BigInt results do), NaN and
    ±Infinity become null, tuples become arrays. Everything else maps one to one.

    Raises:
        InvalidArgument: A name is ``undefined``, ``NaN`` or ``Infinity`` (read-only globals).
        TypeError: A value is not JSON.
    """
    for name in variables:
        if name in _RESERVED_NAMES:
            raise InvalidArgument(f"a variable cannot be named {name!r}")
    try:
        text = json.dumps(variables, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_clean(dict(variables)), separators=(",", ":"))
    if _LONG_DIGITS.search(text):
        return json.dumps(_clean(dict(variables)), separators=(",", ":"))
    return text


def _clean(value: object) -> JsonValue:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _clean(item) for key, item in value.items()}
    raise TypeError(f"a sandbox variable must be JSON, not {type(value).__name__}")
