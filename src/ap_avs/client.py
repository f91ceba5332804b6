"""A small Python client for the aggregator: sign in, then call any RPC with the key attached.

It wraps the generated stubs (``ap_avs._proto``) and adds only what every caller needs: the
sign-in round trip (GetSignatureFormat, EIP-191 signature, GetKey) and the ``authkey`` metadata.

Usage::

    async with AvsClient("127.0.0.1:2206") as client:
        await client.sign_in(private_key)
        wallet = await client.call("GetWallet", avs_pb2.GetWalletReq(salt="0"))

TLS: an ``https://host:port`` target, or ``tls=True``, connects over TLS and verifies the
server's certificate (against ``ca_file`` for a self-signed or private CA, else the system's
roots)::

    async with AvsClient("https://avs.example.org:2206", ca_file=Path("ca.pem")) as client: ...
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

from eth_account import Account
from eth_account.messages import encode_defunct

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.tls import ClientTls, client_channel, split_target


class AvsClient:
    """An authenticated connection to one aggregator."""

    def __init__(
        self,
        target: str,
        *,
        auth_key: str | None = None,
        tls: bool = False,
        ca_file: Path | None = None,
        server_name: str = "",
    ) -> None:
        address, secure = split_target(target, tls=tls)
        settings = ClientTls(ca_file=ca_file, server_name=server_name) if secure else None
        self._channel = client_channel(address, settings)
        self.target = address
        self.stub = avs_pb2_grpc.AggregatorStub(self._channel)
        self.auth_key = auth_key

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def sign_in(self, private_key: str | bytes) -> str:
        """Sign the server's sign-in message with ``private_key`` and keep the key it returns.

        Raises:
            grpc.aio.AioRpcError: the server refused (its message says why).
        """
        account = Account.from_key(private_key)
        fmt = await self.stub.GetSignatureFormat(
            avs_pb2.GetSignatureFormatReq(wallet=account.address)
        )
        signed = Account.sign_message(encode_defunct(text=fmt.message), account.key)
        reply = await self.stub.GetKey(
            avs_pb2.GetKeyReq(message=fmt.message, signature="0x" + signed.signature.hex())
        )
        self.auth_key = str(reply.key)
        return self.auth_key

    async def call(self, method: str, request: Any, *, deadline: float = 30.0) -> Any:
        """Call ``method`` (``"GetWallet"``, ``"CreateTask"`` …) with the key attached.

        Raises:
            grpc.aio.AioRpcError: the server answered with an error status.
        """
        metadata = (("authkey", self.auth_key),) if self.auth_key else ()
        return await getattr(self.stub, method)(request, metadata=metadata, timeout=deadline)
