"""The httpbin-like answers of the REST node's in-process mock host (pure rules)."""

from __future__ import annotations

import json

import httpx
import pytest

from ap_avs.runners.mock_host import mock_plan

BASE = "https://mock-api.ap-aggregator.local"


def plan(path: str, method: str = "GET", body: bytes | None = None):  # type: ignore[no-untyped-def]
    return mock_plan(method, httpx.URL(BASE + path), [("x-trace", "7")], body)


def body(path: str, method: str = "GET", content: bytes | None = None) -> object:
    return json.loads(plan(path, method, content).answer.body)


@pytest.mark.parametrize(
    ("path", "status", "reason", "key"),
    [
        ("/status/404", 404, "Not Found", "error"),
        ("/api/status/500/x", 500, "Internal Server Error", "error"),
        ("/status/200", 200, "OK", "status"),
        ("/status/302", 302, "Found", "status"),
    ],
)
def test_status_answers_with_the_reason_phrase(
    path: str, status: int, reason: str, key: str
) -> None:
    answer = plan(path + "?q=1").answer
    assert (answer.status, answer.reason) == (status, reason)
    assert json.loads(answer.body) == {key: reason, "code": status, "url": BASE + path + "?q=1"}


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_statuses_have_no_body_and_no_type(status: int) -> None:
    answer = plan(f"/status/{status}").answer
    assert (answer.status, answer.body, answer.headers) == (status, b"", ())


@pytest.mark.parametrize("path", ["/status/abc", "/status/99", "/status/600", "/status/"])
def test_a_bad_status_falls_through_to_the_echo(path: str) -> None:
    answer = plan(path).answer
    assert answer.status == 200
    assert json.loads(answer.body)["url"] == BASE + path


def test_delay_waits_then_goes_on() -> None:
    delayed = plan("/delay/3/headers")
    assert delayed.delay_seconds == 3
    assert json.loads(delayed.answer.body) == {"headers": {"X-Trace": "7"}}
    assert plan("/delay/11").delay_seconds == 0
    assert plan("/delay/0").delay_seconds == 0
    assert plan("/delay/x").delay_seconds == 0


def test_ip_headers_and_echo() -> None:
    assert body("/ip") == {"origin": "127.0.0.1"}
    assert body("/anything/headers") == {"headers": {"X-Trace": "7"}}
    echo = body("/orders?id=7&flag&id2=x", "POST", b'{"a": [1]}')
    assert echo == {
        "args": {"id": "7", "flag": "", "id2": "x"},
        "data": {"a": [1]},
        "headers": {"X-Trace": "7"},
        "method": "POST",
        "url": BASE + "/orders?id=7&flag&id2=x",
    }
    assert body("/x", "POST", b"not json")["data"] is None  # type: ignore[index]
    assert body("/x", "POST", b"")["data"] is None  # type: ignore[index]
