"""The GraphQL query node: POST ``{query, variables}`` and return the answer's ``data``.

:func:`request_headers` and :func:`graphql_result` are pure; the request goes through
:func:`ap_avs.runners.http.send_once` (same size, time and URL rules as the REST node).

Rules: ``url`` is templated and must be http(s); each value of ``variables`` is templated and
sent as a string (as upstream); the **query is not templated** — values belong in GraphQL
variables, where they cannot change the query's shape. A request to ``gateway.thegraph.com``
gets ``Authorization: Bearer <thegraph_api_key>`` when that secret is set. The answer is read
as JSON whatever its Content-Type. The REST node's in-process mock host is not mocked here: a
request to it fails like one to an unknown host.

Fails with (error code INVALID_REQUEST unless noted):
    ``url and query is required`` (MISSING_REQUIRED_FIELD); ``query is longer than …``
    (INVALID_NODE_CONFIG); ``invalid URL …``; an unresolved template;
    ``invalid request: HTTP <code>: <reason>`` (output = the answer's ``data`` when it has one);
    ``GraphQL errors: <message>; …`` (output = the partial ``data``);
    ``GraphQL response is not a JSON object …``; the network and size errors of ``_http``.
"""

from __future__ import annotations

import json
from typing import Final

from ap_avs.domain.nodes import GraphQLQueryConfig, Node
from ap_avs.domain.values import JsonValue
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.base import (
    INVALID_NODE_CONFIG,
    MISSING_REQUIRED_FIELD,
    NodeFailure,
    NodeResult,
    RunContext,
    failed,
)
from ap_avs.runners.http import Answer, check_url, send_once

MAX_QUERY_LENGTH: Final = 100 * 1024
THE_GRAPH_HOST: Final = "gateway.thegraph.com"
THE_GRAPH_SECRET: Final = "thegraph_api_key"


def request_headers(host: str, api_key: str | None) -> list[tuple[str, str]]:
    """Headers of a GraphQL POST to ``host`` (with The Graph's key when it is The Graph)."""
    headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
    if host == THE_GRAPH_HOST and api_key:
        headers.append(("Authorization", f"Bearer {api_key}"))
    return headers


def graphql_result(answer: Answer) -> NodeResult:
    """The result of a GraphQL answer: ``data`` as output; failed on HTTP or GraphQL errors."""
    try:
        document = json.loads(answer.body.decode(answer.encoding or "utf-8", errors="replace"))
    except ValueError:
        document = None
    if answer.status >= 400:
        data = document.get("data") if isinstance(document, dict) else None
        return failed(f"invalid request: HTTP {answer.status}: {answer.reason}", output=data)
    if not isinstance(document, dict):
        preview = answer.body[:200].decode("utf-8", errors="replace")
        return failed(f"GraphQL response is not a JSON object: {preview!r}")
    data = document.get("data")
    errors = document.get("errors")
    if errors:
        return failed(f"GraphQL errors: {'; '.join(_messages(errors))}", output=data)
    return NodeResult(True, output=data, log=f"POST {answer.url} -> {answer.status}")


def _messages(errors: JsonValue) -> list[str]:
    items = errors if isinstance(errors, list) else [errors]
    messages = []
    for item in items:
        message = item.get("message") if isinstance(item, dict) else None
        messages.append(message if isinstance(message, str) else json.dumps(item))
    return messages


@reporting_failures
async def run(node: Node, ctx: RunContext) -> NodeResult:
    """Send the query of a GraphQL node (see the module docstring for the rules)."""
    config = config_of(node, GraphQLQueryConfig)
    if not config.url.strip() or not config.query.strip():
        raise NodeFailure("url and query is required", error_code=MISSING_REQUIRED_FIELD)
    if len(config.query) > MAX_QUERY_LENGTH:
        raise NodeFailure(
            f"query is longer than {MAX_QUERY_LENGTH // 1024} KiB", error_code=INVALID_NODE_CONFIG
        )
    url = (await ctx.render(config.url, where="url")).strip()
    variables: dict[str, JsonValue] = {
        name: await ctx.render(value, where=f"variables.{name}")
        for name, value in config.variables.items()
    }
    host = check_url(url).host
    headers = request_headers(host, ctx.secrets.get(THE_GRAPH_SECRET))
    body = json.dumps({"query": config.query, "variables": variables}).encode()
    answer = await send_once(ctx, "POST", url, headers, body)
    return graphql_result(answer)
