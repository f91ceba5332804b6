"""A sample log for an event trigger run once (RunTrigger) or simulated (SimulateTask) when the
chain has no matching log in the searched range (pure).

The sample follows the first query. An ERC-20 ``Transfer`` query (topic 0 is the Transfer
signature) gets ``from`` and ``to`` from topics 1 and 2, or the placeholders
:data:`SAMPLE_FROM` / :data:`SAMPLE_TO` where the query has a wildcard, and an amount of 1.5
tokens of 18 decimals, or the value a ``value`` condition asks for. Any other event gets a
generic sample: the query's address and topics (zero for wildcards), empty data, and the event
name when the query's ABI has the event. The output says it is a sample (``isSample: true`` and
``sampleReason``), so nobody takes it for chain data.

Raises:
    nothing: a malformed topic becomes a zero topic in the sample.
"""

from __future__ import annotations

from typing import Final

from ap_avs.domain.events import TRANSFER_TOPIC, normalise_topic, parse_event_abi
from ap_avs.domain.triggers import EventCondition, EventQuery
from ap_avs.domain.values import JsonValue
from ap_avs.errors import InvalidArgument

SAMPLE_FROM: Final = "0x0000000000000000000000000000000000000001"
SAMPLE_TO: Final = "0x0000000000000000000000000000000000000002"
SAMPLE_AMOUNT: Final = 1_500_000_000_000_000_000
"""1.5 tokens of 18 decimals."""
ZERO_ADDRESS: Final = "0x" + "0" * 40
ZERO_TOPIC: Final = "0x" + "0" * 64
ZERO_HASH: Final = ZERO_TOPIC


def _topic(query: EventQuery, position: int) -> str | None:
    if position >= len(query.topics):
        return None
    try:
        return normalise_topic(query.topics[position])
    except InvalidArgument:
        return None


def _address_of(topic: str | None, placeholder: str) -> str:
    return "0x" + topic[-40:] if topic is not None else placeholder


def _padded(address: str) -> str:
    return "0x" + address[2:].lower().rjust(64, "0")


def _amount(conditions: tuple[EventCondition, ...]) -> int:
    """The sample amount, moved to satisfy a condition on ``value`` when there is one."""
    for condition in conditions:
        if condition.field_name != "value":
            continue
        try:
            wanted = int(condition.value, 0)
        except ValueError:
            continue
        if condition.operator in ("gt", "ne"):
            return wanted + 1
        if condition.operator == "lt":
            return max(wanted - 1, 0)
        return wanted
    return SAMPLE_AMOUNT


def sample_event_data(query: EventQuery, *, block_number: int, reason: str) -> JsonValue:
    """Trigger data for a sample log matching ``query`` at ``block_number``."""
    address = query.addresses[0].lower() if query.addresses else ZERO_ADDRESS
    data: dict[str, JsonValue] = {
        "address": address,
        "contractAddress": address,
        "blockNumber": block_number,
        "blockHash": ZERO_HASH,
        "transactionHash": ZERO_HASH,
        "transactionIndex": 0,
        "logIndex": 0,
        "isSample": True,
        "sampleReason": reason,
    }
    topic0 = _topic(query, 0)
    if topic0 == TRANSFER_TOPIC:
        sender = _address_of(_topic(query, 1), SAMPLE_FROM)
        receiver = _address_of(_topic(query, 2), SAMPLE_TO)
        amount = _amount(query.conditions)
        data.update(
            {
                "topics": [TRANSFER_TOPIC, _padded(sender), _padded(receiver)],
                "data": "0x" + amount.to_bytes(32, "big").hex(),
                "eventName": "Transfer",
                "from": sender,
                "to": receiver,
                "value": str(amount),
                "fromAddress": sender,
                "toAddress": receiver,
            }
        )
        return data
    topics: list[JsonValue] = [
        _topic(query, position) or ZERO_TOPIC for position in range(len(query.topics))
    ]
    data["topics"] = topics or [ZERO_TOPIC]
    data["data"] = "0x"
    event = parse_event_abi(query.contract_abi).get(topic0 or "")
    if event is not None:
        data["eventName"] = event.name
    return data
