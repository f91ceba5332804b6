"""Cooldown, overload limits and event data (operator/event_policy.py)."""

from __future__ import annotations

from typing import Any

import pytest
from event_samples import (
    ALICE,
    ANSWER_UPDATED_ABI,
    BOB,
    FEED,
    TOKEN,
    TRANSFER_TOPIC,
    answer_log,
    transfer_log,
)

from ap_avs.domain.erc20 import Erc20Metadata, format_units
from ap_avs.domain.events import EventIndex, Match
from ap_avs.domain.trigger_data import event_data
from ap_avs.domain.triggers import EventQuery
from ap_avs.operator.event_policy import (
    DEFAULT_COOLDOWN_SECONDS,
    BlockMatches,
    decide,
)


def matches_of(index: EventIndex, *logs: object) -> list[Match]:
    return [m for log in logs for m in index.match(log)]  # type: ignore[arg-type]


def block(number: int, timestamp: int, matches: list[Match]) -> BlockMatches:
    return BlockMatches(number, timestamp, tuple(matches))


@pytest.fixture
def index() -> EventIndex:
    index = EventIndex()
    index.add("w", [EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC, "", ALICE))])
    return index


def run(
    blocks: list[BlockMatches], cooldown: int | None, **kw: Any
) -> tuple[list[str], dict[str, Any]]:
    decision = decide(
        blocks,
        cooldowns={"w": cooldown},
        last_fired=kw.get("last_fired", {}),
        max_per_query=kw.get("max_per_query", 500),
        max_per_workflow=kw.get("max_per_workflow", 1000),
    )
    fired = [f"{m.log.block_number}:{m.log.log_index}" for m in decision.fire]
    return fired, {"overloads": decision.overloads, "state": decision.last_fired}


def logs_at(index: EventIndex, number: int, count: int) -> list[Match]:
    found = []
    for i in range(count):
        log = transfer_log(TOKEN, BOB, ALICE, 1, index=i)
        log = type(log)(**{**{f: getattr(log, f) for f in log.__slots__}, "block_number": number})
        found.extend(index.match(log))
    return found


def test_default_cooldown_is_300_chain_seconds(index: EventIndex) -> None:
    assert DEFAULT_COOLDOWN_SECONDS == 300
    blocks = [
        block(1, 1000, logs_at(index, 1, 2)),
        block(2, 1299, logs_at(index, 2, 1)),
        block(3, 1300, logs_at(index, 3, 1)),
    ]
    fired, extra = run(blocks, None)
    assert fired == ["1:0", "3:0"]
    assert extra["state"] == {"w": 1300}


def test_zero_cooldown_fires_every_match(index: EventIndex) -> None:
    fired, _ = run([block(1, 1000, logs_at(index, 1, 3))], 0)
    assert fired == ["1:0", "1:1", "1:2"]


def test_cooldown_continues_from_the_saved_state(index: EventIndex) -> None:
    fired, _ = run([block(9, 1010, logs_at(index, 9, 1))], 60, last_fired={"w": 1000})
    assert fired == []
    fired, _ = run([block(9, 1060, logs_at(index, 9, 1))], 60, last_fired={"w": 1000})
    assert fired == ["9:0"]


def test_max_events_per_block_reports_an_overload_instead_of_firing() -> None:
    index = EventIndex()
    limited = EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC,), max_events_per_block=2)
    index.add("w", [limited])
    blocks = [block(7, 100, logs_at(index, 7, 3)), block(8, 200, logs_at(index, 8, 1))]
    fired, extra = run(blocks, 0)
    assert fired == []  # and nothing later in the same range either
    (overload,) = extra["overloads"]
    assert (overload.workflow_id, overload.block_number) == ("w", 7)
    assert (overload.events_detected, overload.safety_limit, overload.query_index) == (3, 2, 0)
    fired, extra = run([block(7, 100, logs_at(index, 7, 2))], 0)
    assert fired == ["7:0", "7:1"]
    assert extra["overloads"] == ()


def test_operator_limits_apply_when_the_query_sets_none(index: EventIndex) -> None:
    fired, extra = run([block(3, 1, logs_at(index, 3, 4))], 0, max_per_query=3)
    assert fired == []
    assert extra["overloads"][0].safety_limit == 3
    fired, extra = run([block(3, 1, logs_at(index, 3, 4))], 0, max_per_workflow=3)
    assert fired == []
    assert "per workflow" in extra["overloads"][0].details


def test_erc20_transfer_data() -> None:
    index = EventIndex()
    index.add("w", [EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC, "", ALICE))])
    (match,) = index.match(transfer_log(TOKEN, BOB, ALICE, 1_234_500, index=3))
    token = Erc20Metadata("USD Coin", "USDC", 6)
    data = event_data(match, chain_id=11155111, block_timestamp=1_700_000_000, token=token)
    assert data["eventName"] == "Transfer"
    assert (data["tokenName"], data["tokenSymbol"], data["tokenDecimals"]) == (
        "USD Coin",
        "USDC",
        6,
    )
    assert data["fromAddress"] == BOB
    assert data["toAddress"] == ALICE
    assert data["value"] == "1234500"
    assert data["valueFormatted"] == "1.2345"
    assert (data["direction"], data["walletAddress"]) == ("received", ALICE)
    assert data["contractAddress"] == TOKEN
    assert data["blockTimestamp"] == 1_700_000_000_000
    assert (data["blockNumber"], data["logIndex"], data["chainId"]) == (100, 3, 11155111)
    assert data["transactionHash"] == "0x" + f"{3:064x}"


def test_unknown_token_metadata_keeps_the_raw_value() -> None:
    index = EventIndex()
    index.add("w", [EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC, ALICE))])
    (match,) = index.match(transfer_log(TOKEN, ALICE, BOB, 42))
    data = event_data(
        match, chain_id=1, block_timestamp=None, token=Erc20Metadata(None, None, None)
    )
    assert (data["valueFormatted"], data["tokenDecimals"], data["blockTimestamp"]) == (
        "42",
        None,
        None,
    )
    assert (data["direction"], data["walletAddress"]) == ("sent", ALICE)


def test_generic_log_data_with_decoded_fields() -> None:
    index = EventIndex()
    index.add("w", [EventQuery(addresses=(FEED,), contract_abi=(ANSWER_UPDATED_ABI,))])
    (match,) = index.match(answer_log(-250_000_000_000, round_id=9))
    data = event_data(match, chain_id=1, block_timestamp=10, token=None)
    assert data["eventName"] == "AnswerUpdated"
    assert (data["current"], data["roundId"], data["updatedAt"]) == (
        "-250000000000",
        "9",
        "1700000000",
    )
    assert data["address"] == FEED
    assert data["removed"] is False
    assert isinstance(data["topics"], list)
    assert len(data["topics"]) == 3
    assert "tokenName" not in data


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (0, 6, "0"),
        (1, 6, "0.000001"),
        (1_500_000, 6, "1.5"),
        (10**18, 18, "1"),
        (123, None, "123"),
        (123, 0, "123"),
        (
            2**256 - 1,
            18,
            "115792089237316195423570985008687907853269984665640564039457.584007913129639935",
        ),
    ],
)
def test_format_units(value: int, decimals: int | None, text: str) -> None:
    assert format_units(value, decimals) == text
