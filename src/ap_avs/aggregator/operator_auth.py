"""Authentication of the ``aggregator.Node`` service: who the calling operator is, and may it.

:class:`NodeAuthInterceptor` checks every Node RPC except ``HealthCheck``, unary and streaming
alike, before the servicer runs: the signed headers of :mod:`ap_avs.auth.operator_requests`
(method-bound,
timestamped, single-use), then the allow-list (:class:`OperatorAllowList`). The operator's
checksummed address is then available to the servicer through :func:`current_operator`, and
``on_authenticated`` (the dispatcher's liveness hook) is told about the call.

Allow-list: ``approved_operators`` from config, compared case-insensitively. An empty list
allows every authenticated operator in development (with a warning at start-up) and refuses
every operator in production. With an :class:`Admission` (EigenLayer stake, see
:mod:`ap_avs.aggregator.admission`) that decides instead of the allow-list.

Raises (mapped to statuses by the ErrorInterceptor, which must wrap this one):
    Unauthenticated: missing, malformed, stale, replayed or forged operator headers.
    PermissionDenied: a valid signature from an operator that is not approved.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextvars import ContextVar
from typing import Any, Literal, Protocol

import grpc

from ap_avs import errors
from ap_avs.auth.operator_requests import ReplayGuard, verify
from ap_avs.clock import now_ms

logger = logging.getLogger(__name__)

NODE_PREFIX = "/aggregator.Node/"
PUBLIC_NODE_METHODS: frozenset[str] = frozenset({NODE_PREFIX + "HealthCheck"})


class OperatorAllowList:
    """Which authenticated operators may use the Node service.

    Usage::

        allow = OperatorAllowList(cfg.approved_operators, environment=cfg.environment)
        allow.check("0xAbc…")   # raises PermissionDenied
    """

    def __init__(
        self, approved: Iterable[str], *, environment: Literal["development", "production"]
    ) -> None:
        self._approved = frozenset(a.lower() for a in approved)
        self._open = not self._approved and environment == "development"
        if self._open:
            logger.warning(
                "approved_operators is empty: any authenticated operator is accepted "
                "(development mode only; production refuses every operator)"
            )
        elif not self._approved:
            logger.warning("approved_operators is empty: every operator will be refused")

    def allows(self, address: str) -> bool:
        return self._open or address.lower() in self._approved

    def check(self, address: str) -> None:
        """Raises:
        PermissionDenied: ``address`` is not approved."""
        if not self.allows(address):
            raise errors.PermissionDenied(
                f"operator {address} is not approved on this aggregator (approved_operators)"
            )


class Admission(Protocol):
    """Decides, possibly reading the chain, whether an authenticated operator may operate."""

    async def check(self, address: str) -> None:
        """Raises PermissionDenied (not admitted) or Unavailable (cannot tell now)."""
        ...


_operator: ContextVar[str] = ContextVar("operator")


def current_operator() -> str:
    """The checksummed address of the operator calling the Node RPC being served.

    Raises:
        InternalError: called outside an authenticated Node RPC (a wiring bug).
    """
    try:
        return _operator.get()
    except LookupError:
        raise errors.InternalError("no authenticated operator in this context") from None


class NodeAuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Authenticates Node RPCs; place it after the ErrorInterceptor in the server's list."""

    def __init__(
        self,
        allow: OperatorAllowList | None,
        *,
        now_ms: Callable[[], int] = now_ms,
        guard: ReplayGuard | None = None,
        on_authenticated: Callable[[str], None] | None = None,
        admission: Admission | None = None,
    ) -> None:
        self._allow = allow
        self._now_ms = now_ms
        self._guard = guard or ReplayGuard(not_before_ms=self._now_ms())
        self._on_authenticated = on_authenticated
        self._admission = admission

    def authenticate(self, context: grpc.aio.ServicerContext, method: str) -> str:
        """The operator that signed this call; approved by the allow-list unless an admission
        decides (then :meth:`admit` asks it).

        Raises:
            Unauthenticated: bad or missing signature headers.
            PermissionDenied: not approved.
        """
        address = verify(context.invocation_metadata() or (), method, self._now_ms(), self._guard)
        if self._admission is None:
            if self._allow is None:
                raise errors.InternalError("operator auth has neither allow-list nor admission")
            self._allow.check(address)
        return address

    async def admit(self, context: grpc.aio.ServicerContext, method: str) -> str:
        """The authenticated and admitted operator of this call (liveness hook told).

        Raises:
            Unauthenticated: bad or missing signature headers.
            PermissionDenied: not approved or not admitted.
            Unavailable: admission cannot be decided now.
        """
        address = self.authenticate(context, method)
        if self._admission is not None:
            await self._admission.check(address)
        if self._on_authenticated is not None:
            self._on_authenticated(address)
        return address

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or not method.startswith(NODE_PREFIX) or method in PUBLIC_NODE_METHODS:
            return handler
        # Each RPC runs in its own task (its own context copy), so the operator is set without a
        # reset: resetting inside an async generator closed from another context would fail.
        if handler.unary_unary is not None:
            unary = handler.unary_unary

            async def authenticated(request: Any, context: grpc.aio.ServicerContext) -> Any:
                _operator.set(await self.admit(context, method))
                return await unary(request, context)

            return grpc.unary_unary_rpc_method_handler(
                authenticated,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            stream = handler.unary_stream

            async def authenticated_stream(
                request: Any, context: grpc.aio.ServicerContext
            ) -> AsyncIterator[Any]:
                _operator.set(await self.admit(context, method))
                async for item in stream(request, context):
                    yield item

            return grpc.unary_stream_rpc_method_handler(
                authenticated_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        raise errors.InternalError(f"{method}: unsupported handler kind for operator auth")
