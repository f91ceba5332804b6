"""Event matching (domain/events.py): topic normalisation, the index, ABI decoding, conditions."""

from __future__ import annotations

import time

import pytest
from event_samples import (
    ALICE,
    ANSWER_UPDATED_ABI,
    BOB,
    FEED,
    OTHER_TOKEN,
    TOKEN,
    TRANSFER_ABI,
    answer_log,
    pad,
    transfer_log,
)

from ap_avs.domain.events import (
    TRANSFER_TOPIC,
    EventIndex,
    LogFilter,
    condition_holds,
    decode_log,
    normalise_address,
    normalise_topic,
    parse_event_abi,
)
from ap_avs.domain.triggers import EventCondition, EventQuery
from ap_avs.errors import InvalidArgument

# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", None),
        ("  ", None),
        (ALICE, pad(ALICE)),  # a 20-byte address (from/to position) is left-padded
        (ALICE.lower(), pad(ALICE)),
        (pad(ALICE).upper().replace("0X", "0x"), pad(ALICE)),
        (TRANSFER_TOPIC.upper().replace("0X", "0x"), TRANSFER_TOPIC),
    ],
)
def test_normalise_topic(given: str, expected: str | None) -> None:
    assert normalise_topic(given) == expected


@pytest.mark.parametrize("bad", ["0x1234", "hello", "0x" + "g" * 64, ALICE[2:]])
def test_normalise_topic_refuses_garbage(bad: str) -> None:
    with pytest.raises(InvalidArgument, match="topic"):
        normalise_topic(bad)


def test_normalise_address() -> None:
    assert normalise_address(ALICE) == ALICE.lower()
    with pytest.raises(InvalidArgument):
        normalise_address("0x12")


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["address", "padded"])
def test_transfer_to_and_from_positions_match(form: str) -> None:
    """LESSONS 5: an address given unpadded in a topic position must still match."""
    wallet = ALICE if form == "address" else pad(ALICE)
    index = EventIndex()
    index.add("in", [EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC, "", wallet))])
    index.add("out", [EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC, wallet))])
    received = index.match(transfer_log(TOKEN, BOB, ALICE, 5))
    sent = index.match(transfer_log(TOKEN, ALICE, BOB, 5))
    assert [m.query.workflow_id for m in received] == ["in"]
    assert [m.query.workflow_id for m in sent] == ["out"]
    assert index.match(transfer_log(TOKEN, BOB, BOB, 5)) == []
    assert index.match(transfer_log(OTHER_TOKEN, BOB, ALICE, 5)) == []


def test_any_address_and_wildcards() -> None:
    index = EventIndex()
    index.add("all-transfers-to-alice", [EventQuery(topics=(TRANSFER_TOPIC, "", ALICE))])
    index.add("anything-of-token", [EventQuery(addresses=(TOKEN,))])
    hits = index.match(transfer_log(OTHER_TOKEN, BOB, ALICE, 1))
    assert [m.query.workflow_id for m in hits] == ["all-transfers-to-alice"]
    hits = index.match(transfer_log(TOKEN, BOB, BOB, 1))
    assert [m.query.workflow_id for m in hits] == ["anything-of-token"]


def test_one_match_per_workflow_and_log() -> None:
    index = EventIndex()
    index.add(
        "w",
        [
            EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC, "", ALICE)),
            EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC,)),
        ],
    )
    hits = index.match(transfer_log(TOKEN, BOB, ALICE, 1))
    assert len(hits) == 1
    assert hits[0].query.index == 0


def test_removed_logs_never_match() -> None:
    index = EventIndex()
    index.add("w", [EventQuery(addresses=(TOKEN,))])
    assert index.match(transfer_log(TOKEN, BOB, ALICE, 1, removed=True)) == []


def test_remove_and_replace() -> None:
    index = EventIndex()
    index.add("w", [EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC, "", ALICE))])
    index.add("w", [EventQuery(addresses=(OTHER_TOKEN,))])  # replaces
    assert index.match(transfer_log(TOKEN, BOB, ALICE, 1)) == []
    assert len(index.match(transfer_log(OTHER_TOKEN, BOB, ALICE, 1))) == 1
    index.remove("w")
    index.remove("w")  # no-op
    assert len(index) == 0
    assert index.match(transfer_log(OTHER_TOKEN, BOB, ALICE, 1)) == []
    assert index._buckets == {}


def test_a_bad_topic_leaves_the_index_unchanged() -> None:
    index = EventIndex()
    index.add("w", [EventQuery(addresses=(TOKEN,))])
    with pytest.raises(InvalidArgument):
        index.add("w", [EventQuery(addresses=(TOKEN,), topics=("0x12",))])
    assert len(index.match(transfer_log(TOKEN, BOB, ALICE, 1))) == 1


def test_log_filters_cover_every_query() -> None:
    index = EventIndex()
    assert index.log_filters() == []
    index.add("a", [EventQuery(addresses=(TOKEN,), topics=(TRANSFER_TOPIC, "", ALICE))])
    index.add("b", [EventQuery(addresses=(OTHER_TOKEN,), topics=(TRANSFER_TOPIC,))])
    assert index.log_filters() == [
        LogFilter(tuple(sorted([TOKEN.lower(), OTHER_TOKEN.lower()])), (TRANSFER_TOPIC,))
    ]
    assert len(index.log_filters(max_addresses=1)) == 2
    index.add("c", [EventQuery(topics=(TRANSFER_TOPIC, ALICE))])
    assert index.log_filters() == [LogFilter(None, (TRANSFER_TOPIC,))]
    index.add("d", [EventQuery(addresses=(TOKEN,))])
    assert index.log_filters() == [LogFilter(None, None)]


# --- ABI decoding and conditions --------------------------------------------------------------


def test_decode_indexed_and_data_fields() -> None:
    events = parse_event_abi([ANSWER_UPDATED_ABI, {"type": "function", "name": "x"}])
    decoded = decode_log(answer_log(-5), events)
    assert decoded is not None
    assert decoded.name == "AnswerUpdated"
    assert decoded.fields == {"current": -5, "roundId": 7, "updatedAt": 1_700_000_000}
    assert decoded.types["current"] == "int256"
    assert decode_log(transfer_log(TOKEN, BOB, ALICE, 1), events) is None


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("gt", "2999", True),
        ("gt", "3000", False),
        ("gte", "3000", True),
        ("lt", "3001", True),
        ("lte", "2999", False),
        ("eq", "3000", True),
        ("ne", "3000", False),
        ("eq", "0xbb8", True),  # hex is accepted for numbers
        ("gt", "not a number", False),
    ],
)
def test_numeric_conditions(operator: str, value: str, expected: bool) -> None:
    index = EventIndex()
    condition = EventCondition("current", operator, value, "int256")
    index.add(
        "w",
        [
            EventQuery(
                addresses=(FEED,), contract_abi=(ANSWER_UPDATED_ABI,), conditions=(condition,)
            )
        ],
    )
    assert bool(index.match(answer_log(3000))) is expected


def test_negative_int256_and_uint256_conditions() -> None:
    below = EventCondition("current", "lt", "0", "int256")
    rounds = EventCondition("roundId", "gte", "7", "uint256")
    index = EventIndex()
    index.add(
        "w",
        [
            EventQuery(
                addresses=(FEED,),
                contract_abi=(ANSWER_UPDATED_ABI,),
                conditions=(below, rounds),
            )
        ],
    )
    assert index.match(answer_log(-1, round_id=7))
    assert not index.match(answer_log(-1, round_id=6))
    assert not index.match(answer_log(1, round_id=7))


def test_conditions_without_a_decodable_event_never_hold() -> None:
    index = EventIndex()
    condition = EventCondition("value", "gt", "0", "uint256")
    index.add("w", [EventQuery(addresses=(TOKEN,), conditions=(condition,))])  # no ABI
    assert index.match(transfer_log(TOKEN, BOB, ALICE, 5)) == []
    index.add(
        "w",
        [EventQuery(addresses=(TOKEN,), contract_abi=(TRANSFER_ABI,), conditions=(condition,))],
    )
    assert len(index.match(transfer_log(TOKEN, BOB, ALICE, 5))) == 1
    missing = EventCondition("nope", "eq", "1", "uint256")
    index.add(
        "w", [EventQuery(addresses=(TOKEN,), contract_abi=(TRANSFER_ABI,), conditions=(missing,))]
    )
    assert index.match(transfer_log(TOKEN, BOB, ALICE, 5)) == []


@pytest.mark.parametrize(
    ("condition", "value", "abi_type", "expected"),
    [
        (EventCondition("a", "eq", ALICE.lower(), "address"), ALICE, "address", True),
        (EventCondition("a", "ne", ALICE, "address"), BOB, "address", True),
        (EventCondition("a", "gt", ALICE, "address"), BOB, "address", False),
        (EventCondition("b", "eq", "true", "bool"), True, "bool", True),
        (EventCondition("b", "eq", "false", "bool"), True, "bool", False),
        (EventCondition("b", "ne", "0", "bool"), True, "bool", True),
        (EventCondition("b", "eq", "maybe", "bool"), True, "bool", False),
        (EventCondition("h", "eq", "0x" + "AB" * 32, "bytes32"), b"\xab" * 32, "bytes32", True),
        (EventCondition("h", "ne", "0x" + "00" * 32, "bytes32"), b"\xab" * 32, "bytes32", True),
        (EventCondition("s", "eq", "Hello", "string"), "Hello", "string", True),
        (EventCondition("s", "eq", "hello", "string"), "Hello", "string", False),
        (EventCondition("s", "gt", "A", "string"), "B", "string", True),
        (EventCondition("n", "gte", "10", ""), 10, "uint8", True),  # type from the ABI
        (EventCondition("n", "gt", "1", "uint256"), "12", "string", False),  # wrong value type
        (EventCondition("n", "eq", "1", "fixed128x18"), 1, "uint256", False),  # unknown type
        (EventCondition("n", "between", "1", "uint256"), 1, "uint256", False),
    ],
)
def test_condition_types(
    condition: EventCondition, value: object, abi_type: str, expected: bool
) -> None:
    assert condition_holds(condition, value, abi_type) is expected


# --- cost ---------------------------------------------------------------------------------------


def test_matcher_cost_10k_workflows_x_1k_logs() -> None:
    """10,000 wallets each watching Transfers to and from themselves on one of two tokens:
    matching 1,000 logs costs a few dict lookups per log, not a scan of the workflows."""
    wallets = ["0x" + f"{i + 1:040x}" for i in range(10_000)]
    index = EventIndex()
    started = time.perf_counter()
    for i, wallet in enumerate(wallets):
        token = TOKEN if i % 2 else OTHER_TOKEN
        index.add(
            f"wf{i}",
            [
                EventQuery(addresses=(token,), topics=(TRANSFER_TOPIC, "", wallet)),
                EventQuery(addresses=(token,), topics=(TRANSFER_TOPIC, wallet)),
            ],
        )
    built = time.perf_counter() - started
    logs = [
        transfer_log(TOKEN if j % 2 else OTHER_TOKEN, wallets[(j * 7) % 10_000], BOB, j, index=j)
        for j in range(1_000)
    ]
    started = time.perf_counter()
    hits = sum(len(index.match(log)) for log in logs)
    matched = time.perf_counter() - started
    queries = [q for i in range(10_000) for q in index.queries(f"wf{i}")]
    started = time.perf_counter()
    for log in logs[:20]:  # baseline: scan every query for each log
        [q for q in queries if (log.address in q.addresses) and q.matches_topics(log.topics)]
    scan = (time.perf_counter() - started) / 20 * 1000
    print(
        f"\nindex of 10,000 workflows built in {built * 1000:.0f} ms; "
        f"1,000 logs matched in {matched * 1000:.1f} ms ({matched * 1e6 / 1000:.1f} µs/log); "
        f"a full scan would take {scan * 1000:.0f} ms ({scan / matched:.0f}x)"
    )
    assert hits == sum(1 for j in range(1_000) if ((j * 7) % 10_000) % 2 == j % 2)
    assert matched < 1.0  # generous: a scan of 10,000 queries per log would take ~100x longer
