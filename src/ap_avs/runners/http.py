"""The HTTP exchange shared by the REST API and GraphQL runners.

Pure parts, tested alone: :func:`check_url` (http(s) only), :func:`is_json_type`,
:func:`decode_body` (JSON when the answer says it is JSON, else text), :func:`header_map`
(Go-style canonical names; one value → string, several → list) and :func:`reason`.
The one I/O function, :func:`exchange`, sends a request through ``ctx.http`` and reads the
answer as a stream, stopping as soon as it passes ``options.max_response_bytes``. Redirects
are followed (at most :data:`MAX_REDIRECTS`) one hop at a time, so that when
``options.allow_private_urls`` is off every hop's host is checked, not just the first.
The whole exchange, redirects included, must end within ``options.http_timeout_seconds``.
:func:`send_once` wraps it for stored runs: the request carries ``Idempotency-Key:
<execution id>:<node id>[:<iteration>]`` (the same on a resend after a crash; a key the node's
own headers set is kept), and the intent is committed to the step journal before it is sent.

Raises (NodeFailure, code INVALID_REQUEST):
    ``invalid URL …`` — not http(s), or no host.
    ``URL host … is not allowed …`` — a private address while private URLs are off.
    ``HTTP request failed: connection error or timeout - …`` — network error or timeout
        (also for the REST node's in-process mock host, which no other node may use).
    ``HTTP response too large: …`` — the body passed the size limit.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import httpx

from ap_avs.domain.journal import HTTP
from ap_avs.domain.values import JsonValue
from ap_avs.runners.base import EngineOptions, NodeFailure, RunContext, redact

MAX_REDIRECTS: Final = 10
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
NETWORK_ERROR: Final = "HTTP request failed: connection error or timeout - "


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete HTTP response, body read (and bounded)."""

    status: int
    reason: str
    url: str
    """The final URL, after redirects."""
    headers: tuple[tuple[str, str], ...]
    body: bytes
    encoding: str

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers if k.lower() == "content-type"), "")

    def decoded(self) -> JsonValue:
        return decode_body(self.body, self.content_type, self.encoding)


def check_url(url: str) -> httpx.URL:
    """``url`` parsed, when it is an absolute http(s) URL with a host.

    Raises:
        NodeFailure: anything else.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise NodeFailure(f"invalid URL {url!r}: {error}") from None
    if parsed.scheme not in ("http", "https"):
        raise NodeFailure(f"invalid URL {url!r}: it must start with http:// or https://")
    if not parsed.host:
        raise NodeFailure(f"invalid URL {url!r}: it has no host")
    return parsed


def is_json_type(content_type: str) -> bool:
    """True for ``application/json``, ``…+json`` and ``text/json`` (parameters ignored)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def decode_body(body: bytes, content_type: str, encoding: str = "utf-8") -> JsonValue:
    """The body as JSON when ``content_type`` is JSON and the body parses, else as text.

    NaN and Infinity are not JSON here: such a body stays text.
    """
    text = body.decode(encoding or "utf-8", errors="replace")
    if is_json_type(content_type):
        try:
            value: JsonValue = json.loads(text, parse_constant=_reject_constant)
        except ValueError:
            return text
        return value
    return text


def _reject_constant(name: str) -> JsonValue:
    raise ValueError(f"{name} is not JSON")


def canonical_name(name: str) -> str:
    """A header name as Go writes it: ``content-type`` → ``Content-Type``."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def header_map(items: Iterable[tuple[str, str]]) -> dict[str, JsonValue]:
    """Response headers as a map: a name seen once → its value, seen more → the list."""
    grouped: dict[str, list[str]] = {}
    for name, value in items:
        grouped.setdefault(canonical_name(name), []).append(value)
    return {
        name: values[0] if len(values) == 1 else list(values) for name, values in grouped.items()
    }


def reason(status: int, phrase: str) -> str:
    """The reason phrase the server sent, or the standard one for ``status``."""
    return phrase or httpx.codes.get_reason_phrase(status) or "Unknown Status"


MOCK_HOST = "mock-api.ap-aggregator.local"
"""The REST API node answers requests to this host in-process (``runners/mock_host.py``);
:func:`exchange` never resolves it, so any other node fails there like on an unknown host."""


async def exchange(
    ctx: RunContext,
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    content: bytes | None,
) -> Answer:
    """Send one request and read the whole (bounded) answer.

    Header names must be ASCII tokens; values are sent as UTF-8.

    Raises:
        NodeFailure: see the module docstring.
    """
    options = ctx.options
    target = check_url(url)
    if target.host == MOCK_HOST:
        raise NodeFailure(f"{NETWORK_ERROR}dial tcp: lookup {MOCK_HOST}: no such host")
    timeout = options.http_timeout_seconds
    try:
        request = ctx.http.build_request(
            method,
            url,
            headers=[(name.encode("ascii"), value.encode()) for name, value in headers],
            content=content,
            timeout=httpx.Timeout(timeout),
        )
        async with asyncio.timeout(timeout):
            for _ in range(MAX_REDIRECTS + 1):
                await _check_host(request.url, options)
                response = await ctx.http.send(request, stream=True, follow_redirects=False)
                try:
                    if response.next_request is None:
                        body = await _read_bounded(response, options.max_response_bytes)
                        return Answer(
                            status=response.status_code,
                            reason=reason(response.status_code, response.reason_phrase),
                            url=str(response.url),
                            headers=tuple(response.headers.multi_items()),
                            body=body,
                            encoding=response.charset_encoding or "utf-8",
                        )
                    request = response.next_request
                finally:
                    await response.aclose()
    except TimeoutError:
        raise NodeFailure(f"{NETWORK_ERROR}no complete answer within {timeout:g} s") from None
    except httpx.TimeoutException:
        raise NodeFailure(f"{NETWORK_ERROR}no answer within {timeout:g} s") from None
    except (httpx.HTTPError, OSError) as error:
        raise NodeFailure(f"{NETWORK_ERROR}{_describe(error)}") from None
    raise NodeFailure(f"{NETWORK_ERROR}more than {MAX_REDIRECTS} redirects")


async def send_once(
    ctx: RunContext,
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    content: bytes | None,
) -> Answer:
    """:func:`exchange`, journaled when the run has a step journal (``ctx.step``): the request
    carries the step's ``Idempotency-Key`` and its intent is committed before it is sent. A
    step that was in flight at a restart is sent again with the same key, and its log says so.

    Raises:
        NodeFailure: see the module docstring.
    """
    step = ctx.step
    if step is None:
        return await exchange(ctx, method, url, headers, content)
    sent = list(headers)
    key = next((v for k, v in sent if k.lower() == IDEMPOTENCY_HEADER.lower()), None)
    if key is None:
        key = step.idempotency_key
        sent.append((IDEMPOTENCY_HEADER, key))
    if step.prior is not None:
        step.note(
            f"resent after a restart (attempt {step.attempt}) with the same Idempotency-Key "
            f"{key}: the request was in flight when the server stopped"
        )
    identity: JsonValue = {"idempotencyKey": key, "method": method, "url": redact(url, ctx.secrets)}
    await step.intend(HTTP, identity)
    answer = await exchange(ctx, method, url, sent, content)
    step.reached("after-send")
    return answer


async def _read_bounded(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise NodeFailure(_too_large(limit, f"the server announced {int(declared):,} bytes"))
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise NodeFailure(_too_large(limit, "reading stopped there"))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int, detail: str) -> str:
    return f"HTTP response too large: the body is over the {limit:,}-byte limit ({detail})"


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


async def _check_host(url: httpx.URL, options: EngineOptions) -> None:
    if options.allow_private_urls:
        return
    host = url.host
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, url.port or 443, type=socket.SOCK_STREAM
        )
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if not address.is_global:
            raise NodeFailure(
                f"URL host {host} is not allowed: it is (or resolves to) the non-public "
                f"address {address}"
            )
