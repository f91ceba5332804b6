"""The HTTP side server: readiness (``/up``) and Prometheus metrics (``/metrics``).

It runs inside the daemon's task group on uvicorn; uvicorn's own signal handling is turned off
so that the daemon alone decides when to stop.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ap_avs.config import TlsConfig
from ap_avs.errors import ConfigError


class Readiness:
    """A flag the daemon raises once it serves, and lowers when it starts to stop."""

    def __init__(self) -> None:
        self.ready = False


def build_app(
    readiness: Readiness, registry: CollectorRegistry, extra: Sequence[BaseRoute] = ()
) -> Starlette:
    """The Starlette application with the status routes (plus ``extra`` ones)."""

    async def up(request: Request) -> Response:
        if readiness.ready:
            return PlainTextResponse("up\n")
        return PlainTextResponse("starting or stopping\n", status_code=503)

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/up", up), Route("/metrics", metrics), *extra])


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """Runs the status app on ``host:port`` until :meth:`stop`.

    The socket is bound and listening from construction on, so a taken port fails early and
    clearly, and early connections wait in the backlog until uvicorn accepts them.

    With ``tls`` (its ``cert_file`` set) it serves HTTPS only, asking for a client certificate
    when ``client_ca_file`` is set.

    Raises:
        ConfigError: ``host:port`` cannot be bound.
    """

    def __init__(
        self, app: Starlette, host: str, port: int, *, tls: TlsConfig | None = None
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
            self._socket.listen(128)
        except OSError as exc:
            self._socket.close()
            raise ConfigError(
                f"config key 'http_bind_address': cannot listen on {host}:{port}: {exc.strerror}"
            ) from None
        options: dict[str, Any] = {}
        if tls is not None and tls.enabled:
            options = {"ssl_certfile": tls.cert_file, "ssl_keyfile": tls.key_file}
            if tls.client_ca_file:
                options["ssl_ca_certs"] = tls.client_ca_file
                options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", **options)
        self._server = _QuietServer(config)

    async def serve(self) -> None:
        try:
            await self._server.serve(sockets=[self._socket])
        finally:
            self._socket.close()

    @property
    def port(self) -> int:
        """The bound port (useful when the configured port is 0)."""
        port: int = self._socket.getsockname()[1]
        return port

    def stop(self) -> None:
        self._server.should_exit = True
