"""The GraphQL runner against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ap_avs.domain.nodes import GraphQLQueryConfig, Node, NodeKind
from ap_avs.runners import graphql
from ap_avs.runners.base import INVALID_NODE_CONFIG, MISSING_REQUIRED_FIELD, NodeResult, RunContext
from ap_avs.runners.graphql import request_headers

MakeContext = Callable[..., RunContext]


def out(result: NodeResult) -> Any:
    """The output, typed loosely for reading in asserts."""
    return result.output


VARIABLES: dict[str, Any] = {"wallet": {"address": "0xabc"}, "limit": 5}
QUERY = "query Tokens($owner: String!) { tokens(where: {owner: $owner}) { id }}"


async def query(make_ctx: MakeContext, scope: Any = None, **config: Any) -> NodeResult:
    node = Node(
        id="g1", name="gql", kind=NodeKind.GRAPHQL_QUERY, config=GraphQLQueryConfig(**config)
    )
    secrets = {"thegraph_api_key": "graph-key-123"}
    return await graphql.run(node, make_ctx(VARIABLES if scope is None else scope, secrets=secrets))


def test_request_headers_add_the_graph_key_only_for_the_graph() -> None:
    assert ("Authorization", "Bearer k") in request_headers("gateway.thegraph.com", "k")
    assert all(name != "Authorization" for name, _ in request_headers("api.example.com", "k"))
    assert all(name != "Authorization" for name, _ in request_headers("gateway.thegraph.com", None))


async def test_query_with_templated_url_and_variables(make_ctx: MakeContext, server: str) -> None:
    result = await query(
        make_ctx,
        {**VARIABLES, "base": server},
        url="{{base}}/graphql",
        query=QUERY,
        variables={"owner": "{{wallet.address}}", "first": "{{limit}}"},
    )
    assert result.success, result.error
    assert result.output == {
        "query": QUERY,
        "variables": {"owner": "0xabc", "first": "5"},
        "authorization": None,
    }


async def test_query_text_is_not_templated(make_ctx: MakeContext, server: str) -> None:
    text = '{ tokens(where: {owner: "{{wallet.address}}"}) { id } }'
    result = await query(make_ctx, url=f"{server}/graphql", query=text)
    assert result.success, result.error
    assert out(result)["query"] == text


async def test_graphql_errors_fail_with_messages_and_partial_data(
    make_ctx: MakeContext, server: str
) -> None:
    result = await query(make_ctx, url=f"{server}/graphql", query="{ broken }")
    assert not result.success
    assert result.error == "GraphQL errors: field x; field y"
    assert result.output == {"partial": 1}


async def test_http_error(make_ctx: MakeContext, server: str) -> None:
    result = await query(make_ctx, url=f"{server}/graphql", query="{ servererror }")
    assert not result.success
    assert result.error == "invalid request: HTTP 503: Service Unavailable"


async def test_answer_that_is_not_json(make_ctx: MakeContext, server: str) -> None:
    result = await query(make_ctx, url=f"{server}/graphql", query="{ notjson }")
    assert not result.success
    assert result.error.startswith("GraphQL response is not a JSON object")


async def test_connection_refused(make_ctx: MakeContext, closed_port: int) -> None:
    result = await query(make_ctx, url=f"http://127.0.0.1:{closed_port}/graphql", query="{ a }")
    assert not result.success
    assert result.error.startswith("HTTP request failed: connection error or timeout - ")


@pytest.mark.parametrize(
    ("config", "code", "message"),
    [
        ({"url": "http://x/graphql"}, MISSING_REQUIRED_FIELD, "url and query is required"),
        ({"query": "{ a }"}, MISSING_REQUIRED_FIELD, "url and query is required"),
        ({"url": "http://x/", "query": "{" * 102_401}, INVALID_NODE_CONFIG, "longer than 100 KiB"),
        ({"url": "file:///etc/passwd", "query": "{ a }"}, 3000, "invalid URL"),
        (
            {"url": "http://x/", "query": "{ a }", "variables": {"v": "{{nope}}"}},
            3000,
            "could not resolve variable nope",
        ),
    ],
)
async def test_config_errors(make_ctx: MakeContext, config: Any, code: int, message: str) -> None:
    result = await query(make_ctx, **config)
    assert not result.success
    assert result.error_code == code
    assert message in result.error
