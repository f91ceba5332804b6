"""Names of triggers, nodes and loop variables: JavaScript identifiers the runtime can bind.

Templates and scripts read ``<name>.data``, so every name must be a JavaScript identifier
(upstream's regex ``^[a-zA-Z_$][a-zA-Z0-9_$]*$``) and not a reserved word in lower, Title or
UPPER case. Beyond upstream, :data:`RUNTIME_NAMES` lists variables and globals the runtime
binds itself, which a node name would shadow. Functions return a problem text or ``None``;
nothing here raises.
"""

from __future__ import annotations

import re
from typing import Final

_IDENTIFIER: Final = re.compile(r"[a-zA-Z_$][a-zA-Z0-9_$]*")

_KEYWORDS: Final = (
    *("await", "break", "case", "catch", "class", "const", "continue", "debugger", "default"),
    *("delete", "do", "else", "enum", "export", "extends", "false", "finally", "for"),
    *("function", "if", "implements", "import", "in", "instanceof", "interface", "let", "new"),
    *("null", "package", "private", "protected", "public", "return", "static", "super"),
    *("switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with"),
    *("yield", "arguments", "eval", "undefined"),
)

RESERVED_WORDS: Final = frozenset(
    form for word in _KEYWORDS for form in (word, word.capitalize(), word.upper())
)
"""JavaScript reserved words (and ``arguments``, ``eval``, ``undefined``) in three cases."""

RUNTIME_NAMES: Final = frozenset(
    {
        # Variables the engine binds (PROTOCOL.md §7.4).
        "apContext",
        "context",
        "triggerConfig",
        "aa_sender",
        "aa_salt",
        # Built-in functions of the runtime.
        "fetch",
        "readContractData",
        "priceChainlink",
        "chainlinkPrice",
        "latestRoundDataChainlink",
        "bigCmp",
        "bigGt",
        "bigLt",
        "parseUnit",
        "toBigInt",
        "require",
        "console",
        # JavaScript globals a script is likely to use.
        "globalThis",
        "Math",
        "JSON",
        "Date",
        "Object",
        "Array",
        "String",
        "Number",
        "Boolean",
        "BigInt",
        "Promise",
        "Symbol",
        "Error",
        "RegExp",
        "Map",
        "Set",
    }
)
"""Names the runtime binds; a trigger or node of that name would shadow them."""


def identifier_problem(name: str) -> str | None:
    """Why ``name`` cannot be a JavaScript identifier, or ``None`` when it can.

    The text completes upstream's ``node name '<name>' is not a valid JavaScript identifier - ``.
    """
    if not _IDENTIFIER.fullmatch(name):
        return (
            "it must start with a letter, an underscore or a dollar sign and contain only "
            "letters, digits, underscores and dollar signs"
        )
    if name in RESERVED_WORDS:
        return "it is a reserved JavaScript word"
    return None


def name_problem(name: str, *, max_length: int) -> str | None:
    """The full problem with a trigger or node name, or ``None``.

    Covers upstream's identifier rule (with its literal wording), the length limit and the
    runtime names.
    """
    if not name:
        return "name is required"
    problem = identifier_problem(name)
    if problem is not None:
        return f"node name '{name}' is not a valid JavaScript identifier - {problem}"
    if len(name) > max_length:
        return f"node name '{name[:20]}…' is longer than {max_length} characters"
    if name in RUNTIME_NAMES:
        return f"node name '{name}' is reserved by the runtime"
    return None
