"""Builds gRPC handlers for a service straight from its protobuf descriptor.

Each method of the service is served by the servicer's attribute of the same name; a method the
servicer does not define answers ``UNIMPLEMENTED`` naming the method. This keeps the wire (the
descriptor) the single source of what exists, whatever the servicer has built so far.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import DecodeError
from google.protobuf.message_factory import GetMessageClass

from ap_avs.errors import InvalidArgument, Unimplemented


def _unimplemented(full_name: str, streaming: bool) -> Callable[..., Any]:
    message = f"method {full_name} is not implemented by this server yet"
    if streaming:

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            raise Unimplemented(message)
            yield  # pragma: no cover - makes this an async generator

        return stream

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        raise Unimplemented(message)

    return unary


def _parsing(
    behaviour: Callable[..., Any], request_cls: Any, full_name: str, streaming: bool
) -> Callable[..., Any]:
    """Decode the request ourselves, so bytes that are not a valid message (or nest deeper
    than protobuf allows) are the caller's INVALID_ARGUMENT, not an UNKNOWN from grpcio."""
    type_name = request_cls.DESCRIPTOR.full_name

    def parse(raw: bytes) -> Any:
        try:
            return request_cls.FromString(raw)
        except (DecodeError, RecursionError) as exc:
            reason = str(exc) or type(exc).__name__
            raise InvalidArgument(
                f"{full_name}: the request is not a valid {type_name} message ({reason[:200]})"
            ) from None

    if streaming:

        async def stream(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async for item in behaviour(parse(raw), context):
                yield item

        return stream

    async def unary(raw: bytes, context: grpc.aio.ServicerContext) -> Any:
        return await behaviour(parse(raw), context)

    return unary


def service_handler(service: ServiceDescriptor, servicer: object) -> grpc.GenericRpcHandler:
    """Return a handler serving every method of ``service`` from ``servicer``."""
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    for method in service.methods:
        request_cls = GetMessageClass(method.input_type)
        response_cls = GetMessageClass(method.output_type)
        full_name = f"{service.full_name}/{method.name}"
        behaviour = getattr(servicer, method.name, None)
        if behaviour is None:
            behaviour = _unimplemented(full_name, method.server_streaming)
        if method.client_streaming:
            raise TypeError(f"{full_name}: client streaming is not supported")
        factory = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = factory(
            _parsing(behaviour, request_cls, full_name, method.server_streaming),
            request_deserializer=None,
            response_serializer=response_cls.SerializeToString,
        )
    return grpc.method_handlers_generic_handler(service.full_name, handlers)
