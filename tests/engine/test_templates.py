"""The template resolver: every variable form, JavaScript expressions, the missing-variable
message, JSON escaping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ap_avs.engine.templates import TemplateEngine
from ap_avs.runners.base import NodeFailure
from ap_avs.sandbox import Limits, SandboxPool

VARIABLES = {
    "settings": {"runner": "0xabc", "tokens": [{"symbol": "USDC"}], "chain_id": 11155111},
    "headers": {"X-Api-Key": "k-1"},
    "fetchPrice": {"data": {"price": 1234.5, "ok": True, "items": [1, 2]}},
    "start": {"data": {"note": 'say "hi"'}},
    "apContext": {"configVars": {"token": "t0k"}},
}


@pytest.fixture
async def engine() -> AsyncIterator[TemplateEngine]:
    async with SandboxPool(size=1, limits=Limits()) as pool:
        yield TemplateEngine(pool)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no templates", "no templates"),
        ("{{settings.runner}}", "0xabc"),
        ("{{ settings.tokens[0].symbol }}", "USDC"),
        ("{{settings.tokens.0.symbol}}", "USDC"),
        ("{{headers.X-Api-Key}}", "k-1"),
        ("p={{fetchPrice.data.price}}", "p=1234.5"),
        ("{{fetchPrice.data.ok}}", "true"),
        ("{{fetchPrice.data.items}}", "[1,2]"),
        ("{{settings.chain_id}}", "11155111"),
        ("{{apContext.configVars.token}}", "t0k"),
        ("{{ fetchPrice.data.price * 2 }}", "2469"),
        ("{{ fetchPrice.data.items.length }}", "2"),
        ("{{ settings.runner.toUpperCase() }}-x", "0XABC-x"),
        ("a {{settings.runner}} b {{settings.chain_id}}", "a 0xabc b 11155111"),
    ],
)
async def test_forms(engine: TemplateEngine, text: str, expected: str) -> None:
    assert await engine.render(text, VARIABLES, where="url") == expected


async def test_json_escape(engine: TemplateEngine) -> None:
    rendered = await engine.render(
        '{"note": "{{start.data.note}}"}', VARIABLES, where="body", json_escape=True
    )
    assert rendered == '{"note": "say \\"hi\\""}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{{missing.data}}",
            "could not resolve variable missing.data in url. "
            "Make sure to run the 'missing' node first",
        ),
        ("{{settings.nothing}}", "could not resolve variable settings.nothing in url"),
        ("{{ fetchPrice.data.nope.deeper }}", "could not resolve variable"),
        ("{{ 1 + }}", "could not resolve variable 1 +"),
    ],
)
async def test_unresolved(engine: TemplateEngine, text: str, message: str) -> None:
    with pytest.raises(NodeFailure) as info:
        await engine.render(text, VARIABLES, where="url")
    assert info.value.message.startswith(message)


async def test_unclosed_template(engine: TemplateEngine) -> None:
    with pytest.raises(NodeFailure, match="unclosed template"):
        await engine.render("{{settings.runner", VARIABLES, where="url")
