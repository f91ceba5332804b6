"""The gRPC server skeleton: both services, reflection, health, error mapping, HTTP side server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.testing import RunningAggregator, aggregator_config, running_aggregator, user_key

OWNER = "0x" + "ab" * 20


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningAggregator]:
    async with running_aggregator(aggregator_config(tmp_path / "db")) as running:
        yield running


@pytest.fixture
async def channel(server: RunningAggregator) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.target) as ch:
        yield ch


async def _reflect(channel: grpc.aio.Channel, request: reflection_pb2.ServerReflectionRequest):  # type: ignore[no-untyped-def]
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = stub.ServerReflectionInfo(iter([request]))
    async for response in call:
        return response
    raise AssertionError("no reflection response")


async def test_reflection_lists_both_services_with_every_method(channel: grpc.aio.Channel) -> None:
    listed = await _reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in listed.list_services_response.service}
    assert {"aggregator.Aggregator", "aggregator.Node", "grpc.health.v1.Health"} <= names

    for service, expected in (("aggregator.Aggregator", 29), ("aggregator.Node", 6)):
        found = await _reflect(
            channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=service)
        )
        from google.protobuf import descriptor_pb2

        files = [
            descriptor_pb2.FileDescriptorProto.FromString(raw)
            for raw in found.file_descriptor_response.file_descriptor_proto
        ]
        short = service.split(".")[1]
        methods = [m.name for f in files for s in f.service if s.name == short for m in s.method]
        assert len(methods) == expected, (service, methods)
    assert "CancelTask" in {
        m.name for m in avs_pb2.DESCRIPTOR.services_by_name["Aggregator"].methods
    }


async def test_health_reports_serving(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "aggregator.Aggregator", "aggregator.Node"):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
    assert info.value.code() is grpc.StatusCode.NOT_FOUND


async def test_unknown_method_is_unimplemented(channel: grpc.aio.Channel) -> None:
    call = channel.unary_unary("/aggregator.Aggregator/NoSuchMethod")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call(b"")
    assert info.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_aggregator_rpcs_need_auth_before_anything(channel: grpc.aio.Channel) -> None:
    stub = avs_pb2_grpc.AggregatorStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CancelTask(avs_pb2.IdReq(id="x"))
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_http_up_and_metrics(server: RunningAggregator, channel: grpc.aio.Channel) -> None:
    stub = avs_pb2_grpc.AggregatorStub(channel)
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.CancelTask(avs_pb2.IdReq(id="x"), metadata=(("authkey", user_key(OWNER)),))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.http_port}") as http:
        up = await http.get("/up")
        assert up.status_code == 200
        metrics = await http.get("/metrics")
        assert metrics.status_code == 200
        series = 'code="NOT_FOUND",method="/aggregator.Aggregator/CancelTask"'
        assert f"ap_avs_grpc_requests_total{{{series}}} 1.0" in metrics.text


async def test_up_is_503_once_stopping(tmp_path: Path) -> None:
    async with running_aggregator(aggregator_config(tmp_path / "db")) as running:
        running.app.readiness.ready = False
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.http_port}") as http:
            assert (await http.get("/up")).status_code == 503


async def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    async with running_aggregator(aggregator_config(tmp_path / "a")) as first:
        cfg = aggregator_config(tmp_path / "b", rpc_bind_address=first.target)
        from ap_avs.errors import ConfigError

        with pytest.raises(ConfigError, match="rpc_bind_address"):
            async with running_aggregator(cfg):
                pass


async def test_http_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    async with running_aggregator(aggregator_config(tmp_path / "a")) as first:
        cfg = aggregator_config(tmp_path / "b", http_bind_address=f"127.0.0.1:{first.http_port}")
        from ap_avs.errors import ConfigError

        with pytest.raises(ConfigError, match="http_bind_address"):
            async with running_aggregator(cfg):
                pass
