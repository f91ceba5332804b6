"""The telemetry page and its JSON twin: operators, queue depth, executions of the last hour,
build version; escaping; the skip-scan count against a brute-force count."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from ulid import ULID

from ap_avs.aggregator.admission import Verdict
from ap_avs.domain.ids import new_id
from ap_avs.ops.telemetry import HOUR_MS, Telemetry, telemetry_routes
from ap_avs.ops.views import executions_since, ulid_floor
from ap_avs.store import MemoryKV, codec, keys
from ap_avs.version import __version__

from .support import MANUAL, NOW, WriteLoad
from .test_admin import OP_A, OP_B, FakeDispatcher, ping


@pytest.fixture
async def seeded() -> AsyncIterator[tuple[MemoryKV, list[str]]]:
    kv = MemoryKV()
    load = WriteLoad(kv)
    for _ in range(4):
        await load.create()
    for wf_id in load.ids[:2]:
        await load.queue.enqueue_run(wf_id, MANUAL, now_ms=NOW)
    # executions: 3 inside the last hour, 2 older, over two workflows
    for wf_id, age_ms in [(load.ids[0], 1000), (load.ids[0], HOUR_MS - 1), (load.ids[1], 5)]:
        await kv.put(keys.history(wf_id, new_id(now_ms=NOW - age_ms)), b"{}")
    for wf_id, age_ms in [(load.ids[0], HOUR_MS + 1), (load.ids[2], 5 * HOUR_MS)]:
        await kv.put(keys.history(wf_id, new_id(now_ms=NOW - age_ms)), b"{}")
    await kv.put(keys.operator(OP_A), ping(OP_A, 7_654_321, 42, NOW - 3000))
    await kv.put(keys.operator(OP_B), ping(OP_B, 7_654_300, 17, NOW - 20_000))
    yield kv, load.ids
    await kv.close()


def client_for(telemetry: Telemetry) -> httpx.AsyncClient:
    app = Starlette(routes=telemetry_routes(telemetry))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_json_twin_has_every_figure(seeded: tuple[MemoryKV, list[str]]) -> None:
    kv, ids = seeded
    dispatcher = FakeDispatcher({OP_A: object(), OP_B: object()}, {OP_A: set(ids[:3])})
    telemetry = Telemetry(kv, operators=dispatcher, now_ms=lambda: NOW)
    async with client_for(telemetry) as client:
        response = await client.get("/telemetry.json")
    assert response.status_code == 200
    data = response.json()
    assert data["version"] == __version__
    assert data["queue"] == {"pending": 2, "in_progress": 0}
    assert (data["executions_last_hour"], data["executions_count_complete"]) == (3, True)
    assert data["connected_operators"] == 2
    rows = [
        (o["address"], o["connected"], o["block_number"], o["events_seen"], o["assigned_workflows"])
        for o in data["operators"]
    ]
    assert rows == [(OP_A, True, 7_654_321, 42, 3), (OP_B, True, 7_654_300, 17, 0)]
    assert data["operators"][0]["last_seen_ms"] == NOW - 3000


async def test_page_is_plain_html_with_both_operators(seeded: tuple[MemoryKV, list[str]]) -> None:
    kv, _ = seeded
    dispatcher = FakeDispatcher({OP_A: object()}, {})
    telemetry = Telemetry(kv, operators=dispatcher, now_ms=lambda: NOW)
    async with client_for(telemetry) as client:
        response = await client.get("/telemetry")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script" not in page.lower()
    assert OP_A in page
    assert OP_B in page
    assert "Known operators, not connected" in page  # OP_B has a record, no stream
    assert '<div class="value" id="queue-depth">2</div>' in page
    assert '<div class="value" id="executions-last-hour">3</div>' in page
    assert "3 s ago" in page
    assert __version__ in page


async def test_stored_text_is_escaped() -> None:
    kv = MemoryKV()
    record = codec.loads(ping(OP_A, 1, 1, NOW))
    assert isinstance(record, dict)
    record["version"] = "<script>alert(1)</script>"
    await kv.put(keys.operator(OP_A), codec.dumps(record))
    telemetry = Telemetry(kv, now_ms=lambda: NOW)  # no dispatcher: connection unknown
    page = telemetry.render(await telemetry.report())
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "unknown" in page
    assert "<h2>Connected operators</h2>" not in page


async def test_reports_are_cached_for_a_few_seconds() -> None:
    kv = MemoryKV()
    telemetry = Telemetry(kv, now_ms=lambda: NOW, cache_seconds=60)
    first = await telemetry.report()
    await kv.put(keys.operator(OP_A), ping(OP_A, 1, 1, NOW))
    assert await telemetry.report() is first
    fresh = await Telemetry(kv, now_ms=lambda: NOW, cache_seconds=0).report()
    assert [op.address for op in fresh.operators] == [OP_A]


def test_ulid_floor_is_the_smallest_id_of_its_millisecond() -> None:
    for ms in (0, 1, NOW, (1 << 48) - 1):
        floor = ulid_floor(ms)
        assert ULID.from_str(floor.upper()).milliseconds == ms
        assert floor <= new_id(now_ms=ms)
        if ms:
            assert new_id(now_ms=ms - 1) < floor


async def test_skip_scan_counts_like_a_full_walk() -> None:
    rng = random.Random(3)
    kv = MemoryKV()
    workflows = [new_id(now_ms=NOW - i) for i in range(60)]
    for wf_id in workflows:
        for _ in range(rng.randrange(0, 8)):
            await kv.put(keys.history(wf_id, new_id(now_ms=NOW - rng.randrange(2 * HOUR_MS))), b"")
    await kv.put(b"historyx", b"")  # neighbours of the prefix are not counted
    await kv.put(b"history:broken", b"")
    since = NOW - HOUR_MS
    expected = sum(
        1
        for key in await kv.scan_keys(b"history:")
        if key.count(b":") == 2 and key.split(b":")[2].decode() >= ulid_floor(since)
    )
    got = await executions_since(kv, since)
    assert (got.count, got.complete) == (expected, True)
    capped = await executions_since(kv, since, max_workflows=5)
    assert not capped.complete
    assert capped.count <= expected


class FakeStake:
    """Admission by stake as the page reads it: a verdict per operator."""

    def __init__(self, verdicts: dict[str, Verdict]) -> None:
        self._verdicts = {a.lower(): v for a, v in verdicts.items()}

    def verdict(self, address: str) -> Verdict | None:
        return self._verdicts.get(address.lower())


async def test_with_stake_admission_each_operator_shows_membership_and_stake(
    seeded: tuple[MemoryKV, list[str]],
) -> None:
    kv, _ = seeded
    strategy = "0x" + "57" * 20
    stake = FakeStake(
        {
            OP_A: Verdict(OP_A, None, True, {strategy: 1500 * 10**18}, block=77),
            OP_B: Verdict(OP_B, "not a member", False, {strategy: 5 * 10**16}, block=77),
        }
    )
    dispatcher = FakeDispatcher({OP_A: object()}, {})
    telemetry = Telemetry(kv, operators=dispatcher, stake=stake, now_ms=lambda: NOW)
    async with client_for(telemetry) as client:
        data = (await client.get("/telemetry.json")).json()
        page = (await client.get("/telemetry")).text
    assert data["admission"] == "eigenlayer"
    shown = {o["address"]: o["eigenlayer"] for o in data["operators"]}
    assert shown[OP_A] == {
        "admitted": True,
        "member": True,
        "slashable": {strategy: str(1500 * 10**18)},
        "block": 77,
        "refusal": None,
    }
    assert shown[OP_B]["member"] is False
    assert shown[OP_B]["refusal"] == "not a member"
    assert "<th>EigenLayer</th>" in page
    assert "member, admitted" in page
    assert '<td class="num allocated">1,500</td>' in page
    assert "not a member" in page
    assert '<td class="num allocated">0.05</td>' in page
    # Without it, the columns are not there and the report says so.
    plain = Telemetry(kv, operators=dispatcher, now_ms=lambda: NOW)
    assert "<th>EigenLayer</th>" not in plain.render(await plain.report())
    assert (await plain.report()).to_json()["admission"] == "allow-list"
