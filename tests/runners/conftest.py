"""Fixtures for the runner tests: the real sandbox pool, a real HTTP server on 127.0.0.1, and
a small real template renderer.

The pool, the server and the HTTP client live on the package's event loop, so every async test
of this directory is moved onto that loop by :func:`pytest_collection_modifyitems` (the pattern
pytest-asyncio documents for shared loops).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from pytest_asyncio import is_async_test
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ap_avs.domain.nodes import Node, NodeKind
from ap_avs.domain.templating import Missing, lookup_path, render, to_text
from ap_avs.domain.values import JsonValue
from ap_avs.runners import custom_code, graphql, rest_api
from ap_avs.runners.base import EngineOptions, NodeFailure, NodeResult, RunContext, failed
from ap_avs.sandbox import Limits, SandboxPool

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    shared_loop = pytest.mark.asyncio(loop_scope="package")
    for item in items:
        if is_async_test(item) and item.path.resolve().is_relative_to(HERE):
            item.add_marker(shared_loop, append=False)


# --------------------------------------------------------------------------- renderer


class PathRenderer:
    """Resolves ``{{ path }}`` with ``lookup_path``; a missing path fails like the real one."""

    def __init__(self, variables: Mapping[str, JsonValue]) -> None:
        self.variables = variables
        self.calls: list[tuple[str, str, bool]] = []

    async def __call__(
        self,
        text: str,
        *,
        where: str,
        json_escape: bool = False,
        extra: Mapping[str, JsonValue] | None = None,
    ) -> str:
        self.calls.append((text, where, json_escape))
        scope = {**self.variables, **(extra or {})}

        def resolve(expression: str) -> str:
            value = lookup_path(expression, scope)
            if isinstance(value, Missing):
                raise NodeFailure(f"could not resolve variable {expression} in {where}")
            rendered = to_text(value)
            return json.dumps(rendered, ensure_ascii=False)[1:-1] if json_escape else rendered

        return render(text, resolve)


# --------------------------------------------------------------------------- HTTP server


async def _json(request: Request) -> Response:
    response = JSONResponse({"hello": "world", "n": 1, "nested": {"ok": True}})
    response.headers.append("X-Multi", "a")
    response.headers.append("X-Multi", "b")
    response.headers["X-Single"] = "one"
    return response


async def _text(request: Request) -> Response:
    return PlainTextResponse("plain text")


async def _echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "headers": {k: v for k, v in request.headers.items()},
            "body": body.decode(),
        }
    )


async def _status(request: Request) -> Response:
    code = int(request.path_params["code"])
    return JSONResponse({"error": f"status {code}", "code": code}, status_code=code)


async def _slow(request: Request) -> Response:
    for _ in range(100):  # at most 2 s, ending early when the client gives up
        if await request.is_disconnected():
            break
        await asyncio.sleep(0.02)
    return PlainTextResponse("late")


IN_FLIGHT = {"now": 0, "max": 0}
"""Requests to ``/delay`` running at this moment, and the most seen at once."""


async def _delay(request: Request) -> Response:
    IN_FLIGHT["now"] += 1
    IN_FLIGHT["max"] = max(IN_FLIGHT["max"], IN_FLIGHT["now"])
    try:
        await asyncio.sleep(int(request.query_params["ms"]) / 1000)
    finally:
        IN_FLIGHT["now"] -= 1
    return JSONResponse({"ms": int(request.query_params["ms"])})


async def _big(request: Request) -> Response:
    size = int(request.query_params["size"])

    async def chunks() -> AsyncIterator[bytes]:
        sent = 0
        while sent < size:
            chunk = b"x" * min(65536, size - sent)
            sent += len(chunk)
            yield chunk

    return StreamingResponse(chunks(), media_type="text/plain")


async def _declared(request: Request) -> Response:
    return PlainTextResponse("y" * int(request.query_params["size"]))


async def _redirect(request: Request) -> Response:
    return Response(status_code=302, headers={"Location": "/json"})


async def _graphql(request: Request) -> Response:
    payload = await request.json()
    query, variables = payload["query"], payload.get("variables") or {}
    if "broken" in query:
        return JSONResponse(
            {"data": {"partial": 1}, "errors": [{"message": "field x"}, {"message": "field y"}]}
        )
    if "servererror" in query:
        return JSONResponse({"errors": [{"message": "down"}]}, status_code=503)
    if "notjson" in query:
        return PlainTextResponse("<html>oops</html>")
    return JSONResponse(
        {
            "data": {
                "query": query,
                "variables": variables,
                "authorization": request.headers.get("authorization"),
            }
        }
    )


APP = Starlette(
    routes=[
        Route("/json", _json),
        Route("/text", _text),
        Route("/echo", _echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/status/{code}", _status),
        Route("/slow", _slow),
        Route("/delay", _delay),
        Route("/big", _big),
        Route("/declared", _declared),
        Route("/redirect", _redirect),
        Route("/graphql", _graphql, methods=["POST"]),
    ]
)


@pytest_asyncio.fixture(loop_scope="package", scope="package")
async def server() -> AsyncIterator[str]:
    """Base URL (``http://127.0.0.1:<port>``) of the test app, served by uvicorn."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        APP, lifespan="off", ws="none", log_level="warning", timeout_graceful_shutdown=2
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve(sockets=[sock]))
    while not instance.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        await task
        sock.close()


@pytest.fixture
def in_flight() -> dict[str, int]:
    """The ``/delay`` request counters, with the maximum reset."""
    IN_FLIGHT["max"] = 0
    return IN_FLIGHT


@pytest.fixture(scope="package")
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --------------------------------------------------------------------------- context


@pytest_asyncio.fixture(loop_scope="package", scope="package")
async def pool() -> AsyncIterator[SandboxPool]:
    async with SandboxPool(size=2, limits=Limits(timeout_ms=1000), kill_grace_ms=200) as pool:
        yield pool


@pytest_asyncio.fixture(loop_scope="package", scope="package")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


LOOP_BODY_RUNNERS = {
    NodeKind.REST_API: rest_api.run,
    NodeKind.CUSTOM_CODE: custom_code.run,
    NodeKind.GRAPHQL_QUERY: graphql.run,
}

MakeContext = Callable[..., RunContext]


@pytest.fixture
def make_ctx(pool: SandboxPool, http: httpx.AsyncClient) -> MakeContext:
    """Build a RunContext; ``run_node`` dispatches loop bodies to the real runners."""

    def build(
        variables: Mapping[str, JsonValue] | None = None,
        *,
        secrets: Mapping[str, str] | None = None,
        **options: Any,
    ) -> RunContext:
        scope = dict(variables or {})

        async def run_node(
            node: Node,
            extra: Mapping[str, JsonValue],
            /,
            *,
            iteration: tuple[str, int] | None = None,
        ) -> NodeResult:
            child = dataclasses.replace(
                ctx, variables={**scope, **extra}, render=PathRenderer({**scope, **extra})
            )
            try:
                return await LOOP_BODY_RUNNERS[node.kind](node, child)
            except NodeFailure as failure:
                return failed(failure.message, error_code=failure.error_code)

        ctx = RunContext(
            variables=scope,
            render=PathRenderer(scope),
            evaluator=pool,
            http=http,
            options=EngineOptions(**options),
            run_node=run_node,
            secrets=dict(secrets or {}),
        )
        return ctx

    return build
