"""Server interceptors: caller authentication, and the one place errors become gRPC statuses.

:class:`ErrorInterceptor` wraps every handler of the server. An :class:`ap_avs.errors.ApAvsError`
becomes the status its class stands for (table :data:`STATUS_OF`) with its message. Any other
exception is a bug: it is logged with a short id, and the client sees ``INTERNAL`` with that id
and nothing else. It also records per-method request counts and latencies.

:class:`AuthInterceptor` checks the ``authkey`` of every authenticated Aggregator RPC and binds
the caller to the call's context (:func:`current_principal`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram

from ap_avs import errors
from ap_avs.auth import (
    AUTH_ERROR_PREFIX,
    CREATE_TASK_PREFIX,
    REASON_API_KEY_REVOKED,
    AuthFailure,
    KeyService,
    Principal,
)
from ap_avs.engine.api_keys import ApiKeyService

logger = logging.getLogger(__name__)

STATUS_OF: tuple[tuple[type[errors.ApAvsError], grpc.StatusCode], ...] = (
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.QuotaExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unimplemented, grpc.StatusCode.UNIMPLEMENTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.StoreFullError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.CorruptDataError, grpc.StatusCode.DATA_LOSS),
    (errors.StoreError, grpc.StatusCode.UNAVAILABLE),
)
"""Most specific class first: the first entry the error is an instance of wins."""


MAX_MESSAGE_CHARS = 1000
"""Longest status message sent: a message echoing huge input must not overflow the client's
metadata limit (which would turn a clear refusal into a transport error)."""


def bounded(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 40] + f"… ({len(message) - MAX_MESSAGE_CHARS + 40} more)"


def status_of(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """Decide the status and message the client sees for ``exc`` (pure; logs nothing)."""
    if isinstance(exc, errors.ApAvsError) and not isinstance(exc, errors.InternalError):
        for cls, code in STATUS_OF:
            if isinstance(exc, cls):
                return code, bounded(exc.message)
    return grpc.StatusCode.INTERNAL, "internal error"


class RpcMetrics:
    """Prometheus series for RPCs, registered in the server's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "ap_avs_grpc_requests",
            "gRPC requests handled, by method and status code",
            ("method", "code"),
            registry=registry,
        )
        self.latency = Histogram(
            "ap_avs_grpc_request_seconds",
            "gRPC handler latency in seconds, by method",
            ("method",),
            registry=registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )


class ErrorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Maps exceptions to statuses and measures every RPC."""

    def __init__(self, metrics: RpcMetrics) -> None:
        self._metrics = metrics
        self._wrapped: dict[tuple[str, int], grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        key = (method, id(handler))
        if (cached := self._wrapped.get(key)) is not None:
            return cached
        wrapped = self._wrap(method, handler)
        if len(self._wrapped) < 4096:
            self._wrapped[key] = wrapped
        return wrapped

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    async def _fail(self, context: grpc.aio.ServicerContext, method: str, exc: Exception) -> None:
        code, message = status_of(exc)
        if code is grpc.StatusCode.INTERNAL:
            incident = uuid.uuid4().hex[:12]
            logger.error("unexpected error in %s [%s]", method, incident, exc_info=exc)
            message = f"internal error (id {incident})"
        self._metrics.requests.labels(method, code.name).inc()
        await context.abort(code, message)

    def _wrap_unary(
        self, method: str, behaviour: Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]
    ) -> Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            try:
                response = await behaviour(request, context)
            except (grpc.aio.AbortError, grpc.aio.BaseError):
                raise
            except Exception as exc:
                await self._fail(context, method, exc)
                raise AssertionError("unreachable: abort raises") from exc
            finally:
                self._metrics.latency.labels(method).observe(time.perf_counter() - started)
            self._metrics.requests.labels(method, "OK").inc()
            return response

        return handle

    def _wrap_stream(
        self, method: str, behaviour: Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]]
    ) -> Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                async for item in behaviour(request, context):
                    yield item
            except (grpc.aio.AbortError, grpc.aio.BaseError):
                raise
            except Exception as exc:
                await self._fail(context, method, exc)
            else:
                self._metrics.requests.labels(method, "OK").inc()

        return handle


_principal: ContextVar[Principal] = ContextVar("principal")


def current_principal() -> Principal:
    """The authenticated caller of the RPC being served.

    Raises:
        InternalError: called outside an authenticated RPC (a wiring bug).
    """
    try:
        return _principal.get()
    except LookupError:
        raise errors.InternalError("no authenticated caller in this context") from None


PUBLIC_METHODS: frozenset[str] = frozenset(
    f"/aggregator.Aggregator/{name}" for name in ("GetKey", "GetSignatureFormat", "GetNonce")
)
CREATE_TASK = "/aggregator.Aggregator/CreateTask"


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Checks the ``authkey`` metadata of every Aggregator RPC except the public ones and makes
    the caller available through :func:`current_principal`.

    An API key (a token with ``roles``) is also checked against its record in the store on
    every call (``api_keys``); without ``api_keys`` every API key is refused.
    """

    def __init__(self, keys: KeyService, api_keys: ApiKeyService | None = None) -> None:
        self._keys = keys
        self._api_keys = api_keys
        self._wrapped: dict[tuple[str, int], grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if (
            handler is None
            or handler.unary_unary is None
            or not method.startswith("/aggregator.Aggregator/")
            or method in PUBLIC_METHODS
        ):
            return handler
        key = (method, id(handler))
        if (cached := self._wrapped.get(key)) is not None:
            return cached
        wrapped = self._wrap(method, handler)
        if len(self._wrapped) < 4096:
            self._wrapped[key] = wrapped
        return wrapped

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        prefix = CREATE_TASK_PREFIX if method == CREATE_TASK else AUTH_ERROR_PREFIX
        behaviour = handler.unary_unary
        keys, api_keys = self._keys, self._api_keys

        async def authenticated(request: Any, context: grpc.aio.ServicerContext) -> Any:
            authkey = None
            for key, value in context.invocation_metadata() or ():
                if key == "authkey":
                    authkey = value if isinstance(value, str) else value.decode()
                    break
            principal = keys.verify(authkey, prefix=prefix)
            if principal.api_key:
                if api_keys is None:
                    raise AuthFailure(REASON_API_KEY_REVOKED, prefix=prefix)
                await api_keys.ensure_active(principal, prefix=prefix)
            token = _principal.set(principal)
            try:
                return await behaviour(request, context)
            finally:
                _principal.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            authenticated,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
