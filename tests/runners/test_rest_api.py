"""The REST API runner against a real HTTP server on 127.0.0.1, plus its pure helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ap_avs.domain.nodes import Node, NodeKind, RestApiConfig
from ap_avs.runners import rest_api
from ap_avs.runners.base import (
    INVALID_NODE_CONFIG,
    INVALID_REQUEST,
    MISSING_REQUIRED_FIELD,
    NodeFailure,
    NodeResult,
    RunContext,
    redact,
)
from ap_avs.runners.http import canonical_name, check_url, decode_body, header_map
from ap_avs.runners.rest_api import BodyRule, body_rule

MakeContext = Callable[..., RunContext]


def out(result: NodeResult) -> Any:
    """The output, typed loosely for reading in asserts."""
    return result.output


SECRET = "s3cr3t-Value/+="
VARIABLES: dict[str, Any] = {
    "user": {"name": "ada", "id": 7},
    "note": 'say "hi" \\ and\nbye',
    "apContext": {"configVars": {"key": SECRET}},
}


def rest(**config: Any) -> Node:
    return Node(id="n1", name="call", kind=NodeKind.REST_API, config=RestApiConfig(**config))


async def call(
    make_ctx: MakeContext, variables: Any = None, options: Any = None, **config: Any
) -> NodeResult:
    ctx = make_ctx(
        VARIABLES if variables is None else variables,
        secrets={"key": SECRET},
        **(options or {}),
    )
    return await rest_api.run(rest(**config), ctx)


# --------------------------------------------------------------------------- pure helpers

JSON_TYPE = [("Content-Type", "application/json")]


@pytest.mark.parametrize(
    ("method", "headers", "body", "expected"),
    [
        ("GET", JSON_TYPE, '{"a": 1}', BodyRule(False, False, False)),
        ("HEAD", [], "x", BodyRule(False, False, False)),
        ("POST", [], "", BodyRule(False, False, False)),
        ("POST", JSON_TYPE, '{"a": "{{x}}"}', BodyRule(True, True, False)),
        (
            "PATCH",
            [("content-type", "application/vnd.api+json")],
            "[1]",
            BodyRule(True, True, False),
        ),
        ("PUT", [], '{"a": 1}', BodyRule(True, True, True)),
        ("DELETE", [], " [1, 2]", BodyRule(True, True, True)),
        ("POST", [], "a=1&b={{x}}", BodyRule(True, False, False)),
        ("POST", [], '{"a": {{x}}}', BodyRule(True, False, False)),
        ("POST", [("Content-Type", "text/plain")], '{"a": 1}', BodyRule(True, False, False)),
    ],
)
def test_body_rule(method: str, headers: Any, body: str, expected: BodyRule) -> None:
    assert body_rule(method, headers, body) == expected


def test_body_rule_rejects_invalid_json_with_json_content_type() -> None:
    with pytest.raises(NodeFailure) as caught:
        body_rule("POST", JSON_TYPE, '{"amount": {{ settings.amount }}}')
    assert caught.value.error_code == INVALID_NODE_CONFIG
    assert "body is not valid JSON" in caught.value.message


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "example.com/path", "javascript:alert(1)", "http://", "//x.y/z"]
)
def test_check_url_rejects(url: str) -> None:
    with pytest.raises(NodeFailure, match="invalid URL"):
        check_url(url)


def test_check_url_accepts_http_and_https() -> None:
    assert check_url("https://api.example.com/v1?q=1").host == "api.example.com"
    assert check_url("http://127.0.0.1:8080/").port == 8080


def test_decode_body() -> None:
    assert decode_body(b'{"a": [1, 2.5]}', "application/json; charset=utf-8") == {"a": [1, 2.5]}
    assert decode_body(b'{"a": 1}', "text/plain") == '{"a": 1}'
    assert decode_body(b"not json", "application/json") == "not json"
    assert decode_body(b"NaN", "application/json") == "NaN"
    assert decode_body("caf\u00e9".encode("latin-1"), "text/plain", "latin-1") == "caf\u00e9"
    assert decode_body(b"\xff", "text/plain") == "\ufffd"


def test_header_map_and_canonical_names() -> None:
    assert canonical_name("content-type") == "Content-Type"
    assert canonical_name("x-API-key") == "X-Api-Key"
    items = [("content-type", "a"), ("set-cookie", "1"), ("Set-Cookie", "2")]
    assert header_map(items) == {"Content-Type": "a", "Set-Cookie": ["1", "2"]}


def test_redact_hides_plain_url_and_json_forms() -> None:
    text = f"a {SECRET} b {SECRET.replace('/', '%2F').replace('+', '%2B').replace('=', '%3D')}"
    assert redact(text, {"k": SECRET}) == "a *** b ***"
    assert redact('x "q\\"uote" y', ['q"uote']) == 'x "***" y'
    assert redact("nothing here", {"k": ""}) == "nothing here"


# --------------------------------------------------------------------------- requests


async def test_get_json(make_ctx: MakeContext, server: str) -> None:
    result = await call(make_ctx, url=f"{server}/json")
    assert result.success, result.error
    assert out(result)["status"] == 200
    assert out(result)["statusText"] == "OK"
    assert out(result)["url"] == f"{server}/json"
    assert out(result)["data"] == {"hello": "world", "n": 1, "nested": {"ok": True}}
    headers = out(result)["headers"]
    assert headers["X-Multi"] == ["a", "b"]
    assert headers["X-Single"] == "one"
    assert headers["Content-Type"] == "application/json"
    assert result.has_data
    assert result.node_data == {
        "hello": "world",
        "n": 1,
        "nested": {"ok": True},
    }


async def test_get_text(make_ctx: MakeContext, server: str) -> None:
    result = await call(make_ctx, url=f"{server}/text", method="get")
    assert result.success
    assert out(result)["data"] == "plain text"
    assert result.node_data == "plain text"


async def test_templated_url_method_and_headers(make_ctx: MakeContext, server: str) -> None:
    variables = {**VARIABLES, "verb": "put", "base": server}
    result = await call(
        make_ctx,
        variables,
        url="{{base}}/echo?user={{ user.name }}&id={{user.id}}",
        method="{{verb}}",
        headers={"X-User": "{{user.name}}", "X-Fixed": "yes", "X-Utf8": "caf\u00e9"},
    )
    assert result.success, result.error
    echo = out(result)["data"]
    assert echo["method"] == "PUT"
    assert echo["query"] == {"user": "ada", "id": "7"}
    assert echo["headers"]["x-user"] == "ada"
    assert echo["headers"]["x-fixed"] == "yes"
    assert echo["headers"]["x-utf8"].encode("latin-1").decode() == "caf\u00e9"  # sent as UTF-8


async def test_json_body_escapes_quotes_and_newlines(make_ctx: MakeContext, server: str) -> None:
    result = await call(
        make_ctx,
        url=f"{server}/echo",
        method="POST",
        headers={"Content-Type": "application/json"},
        body='{"msg": "{{note}}", "user": "{{user}}"}',
    )
    assert result.success, result.error
    sent = json.loads(out(result)["data"]["body"])
    assert sent == {
        "msg": VARIABLES["note"],
        "user": json.dumps(VARIABLES["user"], separators=(",", ":")),
    }


async def test_json_body_without_content_type_gets_one(make_ctx: MakeContext, server: str) -> None:
    result = await call(make_ctx, url=f"{server}/echo", method="PATCH", body='{"n": "{{note}}"}')
    assert result.success, result.error
    echo = out(result)["data"]
    assert echo["headers"]["content-type"] == "application/json"
    assert json.loads(echo["body"]) == {"n": VARIABLES["note"]}


async def test_plain_body_is_rendered_verbatim(make_ctx: MakeContext, server: str) -> None:
    result = await call(
        make_ctx,
        url=f"{server}/echo",
        method="POST",
        headers={"Content-Type": "text/plain"},
        body="hello {{user.name}} {{note}}",
    )
    assert out(result)["data"]["body"] == f"hello ada {VARIABLES['note']}"


async def test_invalid_json_body_fails_before_sending(make_ctx: MakeContext, server: str) -> None:
    result = await call(
        make_ctx,
        url=f"{server}/echo",
        method="POST",
        headers={"Content-Type": "application/json"},
        body='{"id": {{user.id}}}',
    )
    assert not result.success
    assert result.error_code == INVALID_NODE_CONFIG
    assert "body is not valid JSON" in result.error


async def test_get_sends_no_body_and_does_not_render_it(make_ctx: MakeContext, server: str) -> None:
    result = await call(make_ctx, url=f"{server}/echo", body="{{missing.value}}")
    assert result.success, result.error
    assert out(result)["data"]["method"] == "GET"
    assert out(result)["data"]["body"] == ""


async def test_delete_sends_its_body(make_ctx: MakeContext, server: str) -> None:
    result = await call(make_ctx, url=f"{server}/echo", method="DELETE", body="[1, 2]")
    assert out(result)["data"]["method"] == "DELETE"
    assert out(result)["data"]["body"] == "[1, 2]"


async def test_redirect_is_followed(make_ctx: MakeContext, server: str) -> None:
    result = await call(make_ctx, url=f"{server}/redirect")
    assert result.success
    assert out(result)["url"] == f"{server}/json"


@pytest.mark.parametrize(
    ("config", "code", "message"),
    [
        ({"url": ""}, MISSING_REQUIRED_FIELD, "url is required"),
        ({"url": "  "}, MISSING_REQUIRED_FIELD, "url is required"),
        ({"url": "ftp://127.0.0.1/x"}, INVALID_REQUEST, "must start with http:// or https://"),
        (
            {"url": "http://x/{{missing.path}}"},
            INVALID_REQUEST,
            "could not resolve variable missing.path",
        ),
        ({"url": "http://x/", "method": "BREW"}, INVALID_NODE_CONFIG, "unsupported HTTP method"),
        ({"url": "http://x/", "headers": {"X": "a{{note}}"}}, INVALID_NODE_CONFIG, "line break"),
        ({"url": "http://x/", "headers": {"X Y": "a"}}, INVALID_NODE_CONFIG, "is not valid"),
    ],
)
async def test_config_errors(make_ctx: MakeContext, config: Any, code: int, message: str) -> None:
    result = await call(make_ctx, **config)
    assert not result.success
    assert result.error_code == code
    assert message in result.error


@pytest.mark.parametrize(("status", "reason"), [(404, "Not Found"), (500, "Internal Server Error")])
async def test_http_error_fails_with_output(
    make_ctx: MakeContext, server: str, status: int, reason: str
) -> None:
    result = await call(make_ctx, url=f"{server}/status/{status}")
    assert not result.success
    assert result.error == f"invalid request: HTTP {status}: {reason}"
    assert result.error_code == INVALID_REQUEST
    assert out(result)["status"] == status
    assert out(result)["data"] == {"error": f"status {status}", "code": status}
    assert result.node_data == {"error": f"status {status}", "code": status}


async def test_connection_refused(make_ctx: MakeContext, closed_port: int) -> None:
    result = await call(make_ctx, url=f"http://127.0.0.1:{closed_port}/x")
    assert not result.success
    assert result.error.startswith("HTTP request failed: connection error or timeout - ")
    assert result.output is None


async def test_timeout(make_ctx: MakeContext, server: str) -> None:
    # /slow answers "late" after 2 s unless the client gives up: a failure shows the timeout.
    result = await call(make_ctx, options={"http_timeout_seconds": 0.2}, url=f"{server}/slow")
    assert not result.success
    assert result.error.startswith("HTTP request failed: connection error or timeout - ")
    assert "0.2 s" in result.error


@pytest.mark.parametrize("path", ["big", "declared"])
async def test_response_too_large(make_ctx: MakeContext, server: str, path: str) -> None:
    options = {"max_response_bytes": 100_000}
    result = await call(make_ctx, options=options, url=f"{server}/{path}?size=300000")
    assert not result.success
    assert result.error.startswith("HTTP response too large")
    assert "100,000-byte limit" in result.error
    small = await call(make_ctx, options=options, url=f"{server}/{path}?size=100000")
    assert small.success
    assert len(out(small)["data"]) == 100_000


async def test_private_urls_refused_when_disallowed(make_ctx: MakeContext, server: str) -> None:
    result = await call(make_ctx, options={"allow_private_urls": False}, url=f"{server}/json")
    assert not result.success
    assert "is not allowed" in result.error
    localhost = server.replace("127.0.0.1", "localhost")
    result = await call(make_ctx, options={"allow_private_urls": False}, url=f"{localhost}/json")
    assert not result.success
    assert "is not allowed" in result.error


async def test_secret_values_never_reach_errors_logs_or_output_url(
    make_ctx: MakeContext, server: str
) -> None:
    bad = await call(make_ctx, url="ftp://host/{{apContext.configVars.key}}")
    assert not bad.success
    assert "invalid URL" in bad.error
    assert SECRET not in bad.error
    assert "***" in bad.error
    good = await call(make_ctx, url=f"{server}/echo?key={{{{apContext.configVars.key}}}}")
    assert good.success, good.error
    # the request itself carries it (the template is not URL-encoded, so "+" reads as a space)
    assert out(good)["data"]["query"] == {"key": SECRET.replace("+", " ")}
    assert SECRET not in good.log
    assert "key=***" in good.log
    assert "***" in out(good)["url"]
    assert SECRET.replace("/", "%2F") not in out(good)["url"]
    failing = await call(make_ctx, url=f"{server}/status/404?key={{{{apContext.configVars.key}}}}")
    assert SECRET not in failing.error + failing.log


async def test_mock_host_is_answered_in_process(make_ctx: MakeContext) -> None:
    result = await call(
        make_ctx,
        url="https://mock-api.ap-aggregator.local/orders?id=7",
        method="POST",
        body='{"qty": 3}',
        headers={"Content-Type": "application/json"},
        options={"allow_private_urls": False},
    )
    assert result.success, result.error
    assert isinstance(result.output, dict)
    assert result.output["status"] == 200
    echo = result.output["data"]
    assert isinstance(echo, dict)
    assert (echo["method"], echo["url"], echo["args"], echo["data"]) == (
        "POST",
        "https://mock-api.ap-aggregator.local/orders?id=7",
        {"id": "7"},
        {"qty": 3},
    )
