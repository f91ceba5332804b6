"""Error mapping: every ap-avs error class reaches the client as its status; bugs as INTERNAL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from prometheus_client import CollectorRegistry

from ap_avs import errors
from ap_avs._proto import avs_pb2, avs_pb2_grpc, node_pb2, node_pb2_grpc
from ap_avs.aggregator.app import AGGREGATOR_SERVICE, NODE_SERVICE
from ap_avs.aggregator.interceptors import ErrorInterceptor, RpcMetrics, status_of
from ap_avs.aggregator.services import service_handler


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (errors.InvalidArgument("m"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.Unauthenticated("m"), grpc.StatusCode.UNAUTHENTICATED),
        (errors.PermissionDenied("m"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.NotFound("m"), grpc.StatusCode.NOT_FOUND),
        (errors.AlreadyExists("m"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.FailedPrecondition("m"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.QuotaExceeded("m"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.Unimplemented("m"), grpc.StatusCode.UNIMPLEMENTED),
        (errors.Unavailable("m"), grpc.StatusCode.UNAVAILABLE),
        (errors.StoreError("m"), grpc.StatusCode.UNAVAILABLE),
        (errors.StoreClosedError("m"), grpc.StatusCode.UNAVAILABLE),
        (errors.StoreFullError("m"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.CorruptDataError("m"), grpc.StatusCode.DATA_LOSS),
    ],
)
def test_status_of_each_error_class(exc: errors.ApAvsError, code: grpc.StatusCode) -> None:
    assert status_of(exc) == (code, "m")


@pytest.mark.parametrize(
    "exc", [errors.InternalError("private detail"), ValueError("private detail"), KeyError("k")]
)
def test_bugs_hide_their_text(exc: Exception) -> None:
    assert status_of(exc) == (grpc.StatusCode.INTERNAL, "internal error")


class Raising:
    """A servicer whose methods raise what the test put in ``error``."""

    error: Exception = RuntimeError("boom with private detail")

    async def GetKey(self, request: Any, context: Any) -> Any:
        raise self.error

    async def GetSignatureFormat(self, request: Any, context: Any) -> Any:
        return avs_pb2.GetSignatureFormatResp(message="fine")


@pytest.fixture
async def stub() -> AsyncIterator[tuple[avs_pb2_grpc.AggregatorStub, Raising]]:
    servicer = Raising()
    server = grpc.aio.server(interceptors=[ErrorInterceptor(RpcMetrics(CollectorRegistry()))])
    server.add_generic_rpc_handlers((service_handler(AGGREGATOR_SERVICE, servicer),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield avs_pb2_grpc.AggregatorStub(channel), servicer
    finally:
        await server.stop(None)


async def test_unexpected_exception_is_internal_with_an_id(
    stub: tuple[avs_pb2_grpc.AggregatorStub, Raising], caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = stub
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await client.GetKey(avs_pb2.GetKeyReq())
    assert info.value.code() is grpc.StatusCode.INTERNAL
    details = info.value.details() or ""
    assert details.startswith("internal error (id ")
    assert "private" not in details
    assert "Traceback" not in details
    incident = details.removeprefix("internal error (id ").rstrip(")")
    assert any(incident in r.getMessage() for r in caplog.records)


async def test_user_error_keeps_its_message(
    stub: tuple[avs_pb2_grpc.AggregatorStub, Raising],
) -> None:
    client, servicer = stub
    servicer.error = errors.InvalidArgument("Wallet address is required")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await client.GetKey(avs_pb2.GetKeyReq())
    assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "Wallet address is required"
    reply = await client.GetSignatureFormat(avs_pb2.GetSignatureFormatReq(wallet="w"))
    assert reply.message == "fine"


async def test_a_method_the_servicer_lacks_names_itself() -> None:
    server = grpc.aio.server(interceptors=[ErrorInterceptor(RpcMetrics(CollectorRegistry()))])
    server.add_generic_rpc_handlers(
        (
            service_handler(AGGREGATOR_SERVICE, object()),
            service_handler(NODE_SERVICE, object()),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = avs_pb2_grpc.AggregatorStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.CancelTask(avs_pb2.IdReq(id="x"))
            assert info.value.code() is grpc.StatusCode.UNIMPLEMENTED
            assert "aggregator.Aggregator/CancelTask" in (info.value.details() or "")
            node = node_pb2_grpc.NodeStub(channel)
            stream = node.SyncMessages(node_pb2.SyncMessagesReq(address="0x0"))
            with pytest.raises(grpc.aio.AioRpcError) as info:
                async for _ in stream:
                    pass
            assert info.value.code() is grpc.StatusCode.UNIMPLEMENTED
            assert "aggregator.Node/SyncMessages" in (info.value.details() or "")
    finally:
        await server.stop(None)
