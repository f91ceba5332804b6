"""The custom-code runner with the real sandbox pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ap_avs.domain.nodes import CustomCodeConfig, Node, NodeKind
from ap_avs.runners import custom_code
from ap_avs.runners.base import INVALID_REQUEST, MISSING_REQUIRED_FIELD, NodeResult, RunContext
from ap_avs.runners.custom_code import TEMPLATE_HINT, script_error_text
from ap_avs.sandbox import Limits, ScriptError, ScriptErrorKind

MakeContext = Callable[..., RunContext]

VARIABLES: dict[str, Any] = {
    "trigger": {
        "data": {"amount": 12, "tokens": [{"symbol": "A", "v": 3}, {"symbol": "B", "v": 9}]}
    },
    "apContext": {"configVars": {"key": "top-secret-key"}},
}


async def run_code(make_ctx: MakeContext, source: str, **options: Any) -> NodeResult:
    node = Node(
        id="c1", name="code", kind=NodeKind.CUSTOM_CODE, config=CustomCodeConfig(source=source)
    )
    ctx = make_ctx(VARIABLES, secrets={"key": "top-secret-key"}, **options)
    return await custom_code.run(node, ctx)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("trigger.data.amount * 2", 24),
        ("return trigger.data.amount + 1", 13),
        ("const x = 5;\nx + trigger.data.amount", 17),
        ("return _.sumBy(trigger.data.tokens, 'v')", 12),
        ("import _ from 'lodash';\nreturn _.map(trigger.data.tokens, 'symbol')", ["A", "B"]),
        (
            "const wait = (v) => new Promise((r) => r(v));\nreturn await wait({ ok: true })",
            {"ok": True},
        ),
        ("({ data: [1, 2], other: null })", {"data": [1, 2], "other": None}),
        ("undefined", None),
    ],
)
async def test_values(make_ctx: MakeContext, source: str, expected: Any) -> None:
    result = await run_code(make_ctx, source)
    assert result.success, result.error
    assert result.output == expected
    assert result.node_data == expected  # no upstream-style unwrapping of a "data" key


async def test_console_lines_become_the_log(make_ctx: MakeContext) -> None:
    result = await run_code(make_ctx, "console.log('a', 1); console.log({b: 2}); return 3")
    assert result.success
    assert result.log == 'a 1\n{"b":2}'


async def test_error_keeps_message_logs_and_kind(make_ctx: MakeContext) -> None:
    result = await run_code(make_ctx, "console.log('before');\nthrow new Error('boom')")
    assert not result.success
    assert result.error == "Error: boom"
    assert result.error_code == INVALID_REQUEST
    assert result.log == "before"
    assert result.metadata == {"errorKind": "runtime"}


async def test_timeout_with_small_limits(make_ctx: MakeContext) -> None:
    result = await run_code(make_ctx, "while (true) {}", code_limits=Limits(timeout_ms=100))
    assert not result.success
    assert "did not finish within 100 ms" in result.error
    assert result.metadata == {"errorKind": "timeout"}


async def test_memory_limit(make_ctx: MakeContext) -> None:
    source = "let a = []; while (true) a.push(new Array(1e6).fill(1))"
    limits = Limits(timeout_ms=3000, memory_bytes=16 << 20)
    result = await run_code(make_ctx, source, code_limits=limits)
    assert not result.success
    assert result.metadata == {"errorKind": "memory"}, result.error
    assert result.error == "the script needed more than 16 MiB of memory"


async def test_source_is_not_templated(make_ctx: MakeContext) -> None:
    # Mustache text in a string stays as written; variables are read as globals.
    result = await run_code(make_ctx, "return 'Hi {{name}}: ' + trigger.data.amount")
    assert result.output == "Hi {{name}}: 12"


async def test_template_syntax_error_gets_a_hint(make_ctx: MakeContext) -> None:
    result = await run_code(make_ctx, "const x = {{ trigger.data.amount }};\nreturn x")
    assert not result.success
    assert result.error.startswith("SyntaxError")
    assert result.error.endswith(TEMPLATE_HINT)
    assert result.metadata == {"errorKind": "syntax"}


def test_script_error_text_hint_only_for_syntax_errors_with_templates() -> None:
    syntax = ScriptError("SyntaxError: x", kind=ScriptErrorKind.SYNTAX)
    runtime = ScriptError("ReferenceError: y", kind=ScriptErrorKind.RUNTIME)
    assert script_error_text(syntax, "{{a}}") == "SyntaxError: x" + TEMPLATE_HINT
    assert script_error_text(syntax, "a(") == "SyntaxError: x"
    assert script_error_text(runtime, "{{a}}") == "ReferenceError: y"


async def test_secret_values_are_redacted_from_errors_and_logs(make_ctx: MakeContext) -> None:
    source = (
        "console.log(apContext.configVars.key);\nthrow new Error('key=' + apContext.configVars.key)"
    )
    result = await run_code(make_ctx, source)
    assert not result.success
    assert result.error == "Error: key=***"
    assert result.log == "***"


async def test_empty_source(make_ctx: MakeContext) -> None:
    result = await run_code(make_ctx, "  \n")
    assert not result.success
    assert result.error_code == MISSING_REQUIRED_FIELD
    assert result.error == "source is required"
