"""The one JSON-RPC transport and the three clients over it, with an injected httpx transport."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ap_avs.chain import CallReverted, ChainClient
from ap_avs.chain.aa import BundlerClient, DirectSubmitter, UserOperation, UserOpError
from ap_avs.chain.rpc import JsonRpc, RpcError, RpcUnavailable
from ap_avs.errors import Unavailable

URL = "http://rpc.test"
KEY = "0x" + "11" * 32


class Server:
    """Answers each request with the next item of ``script``; records what it was asked."""

    def __init__(self, *script: Callable[[dict[str, Any]], httpx.Response]) -> None:
        self.script = list(script)
        self.methods: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.methods.append(body["method"])
        answer = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return answer(body)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def result(value: Any) -> Callable[[dict[str, Any]], httpx.Response]:
    return lambda body: httpx.Response(
        200, json={"jsonrpc": "2.0", "id": body["id"], "result": value}
    )


def error(
    code: int, message: str, data: Any = None, status: int = 200
) -> Callable[..., httpx.Response]:
    payload = {"code": code, "message": message} | ({"data": data} if data is not None else {})
    return lambda body: httpx.Response(
        status, json={"jsonrpc": "2.0", "id": body["id"], "error": payload}
    )


def status(code: int) -> Callable[[dict[str, Any]], httpx.Response]:
    return lambda body: httpx.Response(code, text="busy")


def refuse(body: dict[str, Any]) -> httpx.Response:
    raise httpx.ConnectError("connection refused")


def read_timeout(body: dict[str, Any]) -> httpx.Response:
    raise httpx.ReadTimeout("timed out")


async def no_sleep(seconds: float) -> None:
    return None


def rpc(server: Server, attempts: int = 3) -> JsonRpc:
    return JsonRpc(URL, transport=server.transport, attempts=attempts, sleep=no_sleep)


async def test_result_and_error_answers() -> None:
    server = Server(result("0x7a69"), error(3, "execution reverted", data={"data": "0xdead"}))
    transport = rpc(server)
    assert await transport.call("eth_chainId", []) == "0x7a69"
    with pytest.raises(RpcError) as info:
        await transport.call("eth_call", [])
    assert (info.value.code, info.value.rpc_message, info.value.revert_data) == (
        3,
        "execution reverted",
        b"\xde\xad",
    )
    assert server.methods == ["eth_chainId", "eth_call"]  # error answers are not retried


async def test_an_error_body_on_an_http_error_is_still_an_rpc_error() -> None:
    with pytest.raises(RpcError) as info:
        await rpc(Server(error(-32000, "nonce too low", status=500))).call("eth_call", [])
    assert info.value.rpc_message == "nonce too low"


async def test_safe_methods_are_retried_after_any_transient_failure() -> None:
    server = Server(status(503), read_timeout, result("0x10"))
    assert await rpc(server).call("eth_blockNumber", []) == "0x10"
    assert server.methods == ["eth_blockNumber"] * 3


async def test_sending_methods_are_retried_only_when_nothing_was_sent() -> None:
    timeout = Server(read_timeout, result("0xhash"))
    with pytest.raises(RpcUnavailable) as info:
        await rpc(timeout).call("eth_sendRawTransaction", ["0x"])
    assert timeout.methods == ["eth_sendRawTransaction"]
    assert info.value.message == "chain RPC is unavailable (eth_sendRawTransaction): timed out"
    refused = Server(refuse, result("0xhash"))
    assert await rpc(refused).call("eth_sendRawTransaction", ["0x"]) == "0xhash"
    assert refused.methods == ["eth_sendRawTransaction"] * 2


async def test_retries_end_and_bad_answers_are_unavailable() -> None:
    server = Server(status(502))
    with pytest.raises(RpcUnavailable, match=r"HTTP 502"):
        await rpc(server, attempts=2).call("eth_getLogs", [])
    assert len(server.methods) == 2
    not_rpc = Server(lambda body: httpx.Response(200, text="<html>"))
    with pytest.raises(RpcUnavailable, match="not JSON-RPC"):
        await rpc(not_rpc, attempts=1).call("eth_chainId", [])
    client_error = Server(status(404))
    with pytest.raises(RpcUnavailable, match="HTTP 404"):
        await rpc(client_error).call("eth_chainId", [])
    assert len(client_error.methods) == 1  # a 4xx is not transient


async def test_chain_client_runs_on_an_injected_transport() -> None:
    server = Server(result("0x7a69"), error(3, "execution reverted: no"), error(-32000, "boom"))
    async with ChainClient(URL, transport=server.transport) as chain:
        assert await chain.chain_id() == 31337
        with pytest.raises(CallReverted, match="eth_call reverted: execution reverted: no"):
            await chain.eth_call("0x" + "00" * 20, b"")
        with pytest.raises(Unavailable, match="chain RPC eth_getBalance failed: boom"):
            await chain.get_balance("0x" + "00" * 20)


async def test_bundler_and_direct_submission_share_the_transport() -> None:
    refusal = Server(error(-32507, "Invalid UserOperation signature"))
    async with BundlerClient(URL, transport=refusal.transport) as bundler:
        with pytest.raises(UserOpError) as info:
            await bundler.supported_entrypoints()
    assert info.value.rpc_code == -32507
    assert not info.value.retryable
    down = Server(refuse)
    bundler = BundlerClient(URL, transport=down.transport)
    with pytest.raises(UserOpError) as info:
        await bundler.chain_id()
    assert info.value.retryable
    assert len(down.methods) == 3
    await bundler.aclose()
    direct = DirectSubmitter(
        URL, "0x" + "55" * 20, private_key=KEY, chain_id=1, transport=Server(refuse).transport
    )
    with pytest.raises(Unavailable, match=r"chain RPC is unavailable \(eth_call\)"):
        await direct.estimate_gas(UserOperation(sender="0x" + "66" * 20, nonce=0))
    await direct.aclose()
