"""The REST API node: one HTTP request, its answer as the step output (PROTOCOL §7.8).

Preparing the request is pure apart from rendering templates (:func:`body_rule`,
:func:`header_value`); :func:`answer_result` turns the answer into the result; the request
itself goes through :func:`ap_avs.runners.http.send_once` (bounded size and time).

Rules:

* ``url`` is required, templated, and must be http(s). ``method`` is templated, default
  ``GET``, one of :data:`METHODS`. Header values are templated (names are not).
* The body is sent for POST, PUT, PATCH **and DELETE** (upstream drops it on DELETE; APIs such
  as Elasticsearch need it there). GET, HEAD and OPTIONS never send one, and then the body is
  not rendered at all.
* JSON bodies: when ``Content-Type`` is JSON, the body must be valid JSON *before* templating
  (templates therefore sit inside JSON strings), and every substitution is JSON-string-escaped
  (``json_escape=True``) so a value with quotes cannot break the document. With no
  ``Content-Type`` header, a body that is a JSON object or array is treated the same way and
  ``Content-Type: application/json`` is added. Any other body is rendered as plain text.
* Output ``{status, statusText, url, headers, data}``; ``data`` is the parsed JSON when the
  answer says JSON, else the text; ``<name>.data`` is that body. The output ``url`` has secret
  values masked.
* Not ported: ``options.summarize`` (SendGrid/Telegram execution summaries) is ignored; VM
  variables named ``url``/``method``/``body``/``headers`` do not override the config.
* ``https://mock-api.ap-aggregator.local/…`` is answered in-process like httpbin
  (:mod:`ap_avs.runners.mock_host`), so workflows can be tried offline; also inside loops.

Fails with (error code INVALID_REQUEST unless noted):
    ``url is required`` (MISSING_REQUIRED_FIELD); ``unsupported HTTP method …``,
    ``body is not valid JSON …``, ``body is larger than …``, ``header … contains a line break``,
    ``header name … is not valid`` (INVALID_NODE_CONFIG); ``invalid URL …``; an unresolved
    template (the renderer's message);
    ``invalid request: HTTP <code>: <reason>`` for status ≥ 400 (output still set);
    ``HTTP request failed: connection error or timeout - …``; ``HTTP response too large: …``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ap_avs.domain.nodes import Node, RestApiConfig
from ap_avs.domain.values import JsonValue
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.base import (
    INVALID_NODE_CONFIG,
    INVALID_REQUEST,
    MISSING_REQUIRED_FIELD,
    NodeFailure,
    NodeResult,
    RunContext,
    redact,
)
from ap_avs.runners.http import MOCK_HOST, Answer, check_url, header_map, is_json_type, send_once
from ap_avs.runners.mock_host import mock_exchange

METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY_BYTES: Final = 10 * 1024 * 1024
"""Largest request body, before and after templating (upstream's limit)."""


@dataclass(frozen=True, slots=True)
class BodyRule:
    """What to do with the configured body."""

    send: bool
    json: bool
    """Render with JSON-string escaping."""
    add_content_type: bool
    """Add ``Content-Type: application/json`` (the body is JSON and no type was given)."""


_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_NO_BODY: Final = BodyRule(send=False, json=False, add_content_type=False)


def header_value(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The value of header ``name`` (case-insensitive), or None."""
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def header_problem(name: str, value: str) -> str | None:
    """Why a header cannot be sent (a bad name, a line break in the value), or None.

    Values may hold any other text; they are sent as UTF-8, as upstream does.
    """
    if not _TOKEN.fullmatch(name):
        return f"header name {name!r} is not valid"
    if "\r" in value or "\n" in value or "\0" in value:
        return f"header {name} contains a line break"
    return None


def body_rule(method: str, headers: Sequence[tuple[str, str]], body: str) -> BodyRule:
    """How the (untemplated) ``body`` is sent with ``method`` and these headers.

    Raises:
        NodeFailure: a JSON Content-Type with a body that is not JSON, or a body over 10 MiB.
    """
    if method not in BODY_METHODS or not body.strip():
        return _NO_BODY
    if len(body.encode()) > MAX_BODY_BYTES:
        raise NodeFailure(_too_long("body"), error_code=INVALID_NODE_CONFIG)
    declared = header_value(headers, "content-type")
    if declared is None:
        container = body.lstrip()[:1] in ("{", "[") and _parses(body)
        return BodyRule(send=True, json=container, add_content_type=container)
    if not is_json_type(declared):
        return BodyRule(send=True, json=False, add_content_type=False)
    try:
        json.loads(body)
    except ValueError as error:
        raise NodeFailure(
            f"body is not valid JSON (Content-Type is {declared}): {error}; templates in a JSON "
            'body must sit inside strings, e.g. {"amount": "{{ settings.amount }}"}',
            error_code=INVALID_NODE_CONFIG,
        ) from None
    return BodyRule(send=True, json=True, add_content_type=False)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _too_long(what: str) -> str:
    return f"{what} is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"


def answer_result(answer: Answer, method: str, secrets: Mapping[str, str]) -> NodeResult:
    """The node result for ``answer``: output and ``.data`` always; failed when status ≥ 400."""
    data = answer.decoded()
    output: dict[str, JsonValue] = {
        "status": answer.status,
        "statusText": answer.reason,
        "url": redact(answer.url, secrets),
        "headers": header_map(answer.headers),
        "data": data,
    }
    log = f"{method} {answer.url} -> {answer.status} {answer.reason} ({len(answer.body):,} bytes)"
    error = (
        f"invalid request: HTTP {answer.status}: {answer.reason}" if answer.status >= 400 else ""
    )
    return NodeResult(
        success=not error,
        output=output,
        error=error,
        error_code=INVALID_REQUEST if error else 0,
        log=log,
        data=data,
        has_data=True,
    )


@reporting_failures
async def run(node: Node, ctx: RunContext) -> NodeResult:
    """Make the request of a REST API node (see the module docstring for the rules)."""
    config = config_of(node, RestApiConfig)
    if not config.url.strip():
        raise NodeFailure("url is required", error_code=MISSING_REQUIRED_FIELD)
    method = (await ctx.render(config.method, where="method")).strip().upper() or "GET"
    if method not in METHODS:
        raise NodeFailure(
            f"unsupported HTTP method {method!r}; use one of {', '.join(sorted(METHODS))}",
            error_code=INVALID_NODE_CONFIG,
        )
    url = (await ctx.render(config.url, where="url")).strip()
    headers: list[tuple[str, str]] = []
    for name, template in config.headers.items():
        value = await ctx.render(template, where=f"headers.{name}")
        problem = header_problem(name, value)
        if problem:
            raise NodeFailure(problem, error_code=INVALID_NODE_CONFIG)
        headers.append((name, value))
    rule = body_rule(method, headers, config.body)
    content: bytes | None = None
    if rule.send:
        content = (await ctx.render(config.body, where="body", json_escape=rule.json)).encode()
        if len(content) > MAX_BODY_BYTES:
            raise NodeFailure(_too_long("the rendered body"), error_code=INVALID_NODE_CONFIG)
    if rule.add_content_type:
        headers.append(("Content-Type", "application/json"))
    target = check_url(url)
    if target.host == MOCK_HOST:  # the in-process test host: no external effect to journal
        answer = await mock_exchange(method, target, headers, content)
    else:
        answer = await send_once(ctx, method, url, headers, content)
    return answer_result(answer, method, ctx.secrets)
