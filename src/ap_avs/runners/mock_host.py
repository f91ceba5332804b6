"""The in-process mock host ``https://mock-api.ap-aggregator.local`` of the REST API node.

Requests to :data:`MOCK_HOST` (any path, query kept) never leave the process; they are answered
the way httpbin would, so workflows can be tried offline. :func:`mock_plan` decides the answer
(pure); :func:`mock_exchange` waits the asked delay and returns it. The checks run in this
order, each matching when the path *contains* the segment:

* ``/status/{N}`` (100 to 599): status N. 204 and 304 have no body and no Content-Type; N ≥ 400
  answers ``{"error": <reason>, "code": N, "url": …}``, N < 400 ``{"status": <reason>, "code":
  N, "url": …}``. A non-number or out-of-range N falls through.
* ``/delay/{s}`` (1 to 10): wait s seconds, then go on with the checks below (others fall through).
* ``/headers``: ``{"headers": <request headers>}``; ``/ip``: ``{"origin": "127.0.0.1"}``.
* anything else: ``{"args", "data", "headers", "method", "url"}`` (``args`` values are strings,
  ``""`` for a bare key; ``data`` is the body parsed as JSON, null when empty or not JSON).

Only the REST API node uses it: a GraphQL request to the host fails like any unknown host
(see :func:`ap_avs.runners.http.exchange`).

Raises:
    nothing: every request gets an answer.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import httpx

from ap_avs.domain.values import JsonValue
from ap_avs.runners.http import Answer, canonical_name

MOCK_HOST: Final = "mock-api.ap-aggregator.local"
MOCK_ORIGIN: Final = "127.0.0.1"
_STATUS: Final = re.compile(r"/status/([^/?#]*)")
_DELAY: Final = re.compile(r"/delay/([^/?#]*)")
_NO_BODY: Final = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class MockPlan:
    """What the mock host does with one request: wait ``delay_seconds``, then ``answer``."""

    delay_seconds: int
    answer: Answer


def reason_phrase(status: int) -> str:
    """The standard reason phrase of ``status`` (``Unknown Status`` when it has none)."""
    return httpx.codes.get_reason_phrase(status) or "Unknown Status"


def _number_in(pattern: re.Pattern[str], path: str, low: int, high: int) -> int | None:
    found = pattern.search(path)
    if found is None or not found.group(1).isdigit():
        return None
    value = int(found.group(1))
    return value if low <= value <= high else None


def _json_answer(status: int, url: str, payload: JsonValue) -> Answer:
    return Answer(
        status=status,
        reason=reason_phrase(status),
        url=url,
        headers=(("Content-Type", "application/json"),),
        body=json.dumps(payload).encode(),
        encoding="utf-8",
    )


def _body_json(content: bytes | None) -> JsonValue:
    text = (content or b"").decode(errors="replace")
    if not text.strip():
        return None
    try:
        value: JsonValue = json.loads(text)
    except ValueError:
        return None
    return value


def mock_plan(
    method: str, url: httpx.URL, headers: Iterable[tuple[str, str]], content: bytes | None
) -> MockPlan:
    """The mock host's answer to one request (see the module docstring for the rules)."""
    original = str(url)
    path = url.path
    status = _number_in(_STATUS, path, 100, 599)
    if status is not None:
        if status in _NO_BODY:
            answer = Answer(status, reason_phrase(status), original, (), b"", "utf-8")
        elif status >= 400:
            payload: dict[str, JsonValue] = {
                "error": reason_phrase(status),
                "code": status,
                "url": original,
            }
            answer = _json_answer(status, original, payload)
        else:
            payload = {"status": reason_phrase(status), "code": status, "url": original}
            answer = _json_answer(status, original, payload)
        return MockPlan(0, answer)
    delay = _number_in(_DELAY, path, 1, 10) or 0
    request_headers: dict[str, JsonValue] = {}
    for name, value in headers:
        key = canonical_name(name)
        previous = request_headers.get(key)
        request_headers[key] = value if previous is None else f"{previous},{value}"
    result: dict[str, JsonValue]
    if "/headers" in path:
        result = {"headers": request_headers}
    elif "/ip" in path:
        result = {"origin": MOCK_ORIGIN}
    else:
        result = {
            "args": {key: value for key, value in url.params.multi_items()},
            "data": _body_json(content),
            "headers": request_headers,
            "method": method,
            "url": original,
        }
    return MockPlan(delay, _json_answer(200, original, result))


async def mock_exchange(
    method: str, url: httpx.URL, headers: Iterable[tuple[str, str]], content: bytes | None
) -> Answer:
    """Answer a request to the mock host, after the delay it asks for."""
    plan = mock_plan(method, url, headers, content)
    if plan.delay_seconds:
        await asyncio.sleep(plan.delay_seconds)
    return plan.answer
