"""The one JSON-RPC transport: every JSON-RPC call ap-avs makes (chain node, bundler, direct
UserOp submission) goes through :class:`JsonRpc`.

It owns the request envelope and ids, the timeout, the retries of transport failures, and the
failure types. Callers turn a :class:`RpcError` (the server answered with a JSON-RPC error)
into what it means for them (a revert, a bundler refusal with its AA code); a transport failure
that outlives the retries is :class:`RpcUnavailable`.

Retries (web3.py's request pipeline, in one place): a failure where the request surely did not
reach the server (connection refused, connect or pool timeout) is retried for every method; any
other transport failure (read timeout, HTTP 429/5xx, a body that is not JSON-RPC) is retried
only for methods that change nothing (:data:`SAFE_METHODS`). Error answers are never retried
here. The HTTP client takes an injectable ``transport`` (``httpx.MockTransport`` in unit tests).

Raises:
    RpcError: the server answered with a JSON-RPC error (``code``, ``message``, ``data``).
    RpcUnavailable: the server could not be asked, or answered something that is not JSON-RPC.

Usage::

    rpc = JsonRpc("http://127.0.0.1:8545", label="chain RPC")
    head = int(await rpc.call("eth_blockNumber", []), 16)
    await rpc.aclose()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import httpx

from ap_avs.errors import Unavailable

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 10.0
DEFAULT_ATTEMPTS: Final = 3
SAFE_METHODS: Final = frozenset(
    {
        "eth_chainId",
        "eth_blockNumber",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getLogs",
        "eth_call",
        "eth_getBalance",
        "eth_getCode",
        "eth_getTransactionCount",
        "eth_getTransactionReceipt",
        "eth_estimateGas",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_supportedEntryPoints",
        "eth_estimateUserOperationGas",
        "eth_getUserOperationReceipt",
        "eth_getUserOperationByHash",
    }
)
"""Methods that change nothing on the server, so a call may be repeated after any failure."""
_RETRY_STATUS: Final = frozenset({429, 500, 502, 503, 504})
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RpcUnavailable(Unavailable):
    """The server could not be asked (after the retries), or its answer is not JSON-RPC.

    Attributes:
        method: the JSON-RPC method.
        reason: what went wrong, without the label (``ConnectError``, ``HTTP 502`` …).
    """

    def __init__(self, message: str, *, method: str, reason: str) -> None:
        super().__init__(message)
        self.method = method
        self.reason = reason


class RpcError(Unavailable):
    """The server answered the call with a JSON-RPC error object.

    Attributes:
        method: the JSON-RPC method.
        code: the error's ``code`` when it is an integer, else None.
        rpc_message: the error's ``message`` (the whole error as text when it has none).
        data: the error's ``data`` (revert data, details), None when absent.
    """

    retryable = False

    def __init__(self, method: str, error: object, *, label: str) -> None:
        mapping: Mapping[str, Any] = error if isinstance(error, Mapping) else {}
        self.method = method
        self.rpc_message = str(mapping.get("message", error))
        code = mapping.get("code")
        self.code: int | None = code if isinstance(code, int) else None
        self.data: Any = mapping.get("data")
        super().__init__(f"{label} {method} failed: {self.rpc_message}")

    @property
    def revert_data(self) -> bytes | None:
        """The ``data`` as bytes when it is hex (some nodes nest it: ``{"data": "0x…"}``)."""
        data = self.data
        if isinstance(data, Mapping):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            try:
                return bytes.fromhex(data[2:])
            except ValueError:
                return None
        return None


class JsonRpc:
    """JSON-RPC 2.0 over HTTP POST to one URL. Create once, share, close at shutdown.

    Args:
        url: the endpoint.
        label: how messages name the server (``chain RPC``, ``bundler``).
        timeout: seconds per HTTP request.
        attempts: tries per call for retryable failures (1 = no retry).
        backoff: seconds before the first retry; doubled each time.
        transport: the httpx transport (``httpx.MockTransport`` in tests); default: network.
        client: an httpx client to share (not closed by :meth:`aclose`); overrides the two above.
        sleep: how to wait between retries (tests pass a recorder).
    """

    def __init__(
        self,
        url: str,
        *,
        label: str = "chain RPC",
        timeout: float = DEFAULT_TIMEOUT,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: float = 0.1,
        transport: httpx.AsyncBaseTransport | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.url = url
        self.label = label
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._sleep = sleep
        self._http = client or httpx.AsyncClient(timeout=timeout, transport=transport)
        self._owns_http = client is None
        self._next_id = 0

    async def aclose(self) -> None:
        """Close the HTTP client when this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def call(self, method: str, params: list[Any]) -> Any:
        """Send one request and return its ``result`` (retried as the module docstring says).

        Raises:
            RpcError: the server answered with a JSON-RPC error.
            RpcUnavailable: the server could not be asked or its answer is not JSON-RPC.
        """
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._once(method, params)
            except _Failure as failure:
                again = failure.transient and (failure.not_sent or method in SAFE_METHODS)
                if attempt == self._attempts or not again:
                    raise RpcUnavailable(
                        f"{self.label} is unavailable ({method}): {failure.reason}",
                        method=method,
                        reason=failure.reason,
                    ) from None
                logger.debug("%s %s: %s; retrying in %.2f s", self.label, method, failure, delay)
                await self._sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, method: str, params: list[Any]) -> Any:
        self._next_id += 1
        payload = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
        try:
            response = await self._http.post(self.url, json=payload)
        except _NOT_SENT as exc:
            raise _Failure(_reason(exc), not_sent=True) from None
        except httpx.HTTPError as exc:
            raise _Failure(_reason(exc)) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("error") is not None:
            raise RpcError(method, body["error"], label=self.label)
        if response.status_code >= 400:
            transient = response.status_code in _RETRY_STATUS
            raise _Failure(f"HTTP {response.status_code}", transient=transient)
        if not isinstance(body, dict) or ("result" not in body and "error" not in body):
            raise _Failure("the answer is not JSON-RPC")
        return body.get("result")


class _Failure(Exception):
    """A transport failure of one attempt."""

    def __init__(self, reason: str, *, not_sent: bool = False, transient: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_sent = not_sent
        self.transient = transient


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
