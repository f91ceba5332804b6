"""Contract logs against event-trigger queries: topic normalisation, the match index, ABI
decoding and conditions. Pure: the operator's event watcher and (later) the aggregator's
RunTrigger share it, so a query means the same thing everywhere.

One function, :func:`normalise_topic`, turns a query topic into the form logs carry (lower-case
``0x`` + 64 hex digits; a 20-byte address left-padded to 32 bytes; ``""`` = any). It builds both
the ``eth_getLogs`` filters (:meth:`EventIndex.log_filters`) and the match keys (LESSONS.md 5).

:class:`EventIndex` files every query under ``(address | any, topic0 | any)`` and then under its
first fixed topic among positions 1-3, so matching one log costs a handful of dict lookups no
matter how many workflows watch the same token (10,000 wallets watching ``Transfer`` to
themselves each sit in their own bucket).

Raises:
    InvalidArgument: :func:`normalise_topic` / :func:`normalise_address` /
        :meth:`EventIndex.add` given a malformed topic or address.
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

from ap_avs.domain.addresses import is_address, parse_address
from ap_avs.domain.triggers import EventCondition, EventQuery
from ap_avs.domain.values import JsonValue
from ap_avs.errors import InvalidArgument

TRANSFER_TOPIC: Final = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
"""``keccak("Transfer(address,address,uint256)")``: ERC-20 (3 topics) and ERC-721 (4 topics)."""

_HEX32: Final = re.compile(r"0x[0-9a-f]{64}")
_INT_TYPE: Final = re.compile(r"u?int\d*")
_STATIC_INDEXED: Final = re.compile(r"(u?int\d*|address|bool|bytes([1-9]|[12]\d|3[0-2]))")
_Key = tuple[str | None, str | None]
_ORDERINGS: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def normalise_topic(value: str) -> str | None:
    """The topic a log carries for ``value``; ``None`` for a wildcard (``""``).

    Raises:
        InvalidArgument: ``value`` is neither a 32-byte hex topic nor a 20-byte address.
    """
    text = value.strip().lower()
    if not text:
        return None
    if _HEX32.fullmatch(text):
        return text
    if is_address(text):
        return "0x" + text[2:].rjust(64, "0")
    raise InvalidArgument(f"topic '{value}' is not a 32-byte hex topic, an address or '' (any)")


def normalise_address(value: str) -> str:
    """``value`` as lower-case ``0x`` + 40 hex digits.

    Raises:
        InvalidArgument: ``value`` is not a 20-byte hex address.
    """
    return parse_address(value)


@dataclass(frozen=True, slots=True)
class Log:
    """One contract log as the chain reports it (hex strings lower-case)."""

    address: str
    topics: tuple[str, ...]
    data: bytes
    block_number: int
    block_hash: str
    transaction_hash: str
    transaction_index: int
    log_index: int
    removed: bool = False
    block_timestamp: int | None = None
    """Seconds, when the node includes it in the log (anvil, recent geth)."""


@dataclass(frozen=True, slots=True)
class AbiInput:
    name: str
    type: str
    indexed: bool


@dataclass(frozen=True, slots=True)
class EventAbi:
    """An ``event`` entry of a JSON ABI."""

    name: str
    inputs: tuple[AbiInput, ...]
    topic0: str


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """A log decoded with its event ABI; ``fields`` hold eth_abi's Python values."""

    name: str
    fields: Mapping[str, object]
    types: Mapping[str, str]


def _canonical_type(entry: Mapping[str, JsonValue]) -> str:
    kind = str(entry.get("type", ""))
    if kind.startswith("tuple"):
        parts = entry.get("components")
        inner = ",".join(
            _canonical_type(c)
            for c in (parts if isinstance(parts, list) else [])
            if isinstance(c, dict)
        )
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def parse_event_abi(entries: Iterable[JsonValue]) -> dict[str, EventAbi]:
    """The non-anonymous events of a JSON ABI, keyed by topic0. Other entries are skipped."""
    events: dict[str, EventAbi] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != "event" or entry.get("anonymous"):
            continue
        raw_inputs = entry.get("inputs")
        inputs = tuple(
            AbiInput(
                str(item.get("name") or f"arg{i}"), _canonical_type(item), bool(item.get("indexed"))
            )
            for i, item in enumerate(raw_inputs if isinstance(raw_inputs, list) else [])
            if isinstance(item, dict)
        )
        name = str(entry.get("name", ""))
        signature = f"{name}({','.join(i.type for i in inputs)})"
        topic0 = "0x" + keccak(text=signature).hex()
        events[topic0] = EventAbi(name, inputs, topic0)
    return events


def decode_log(log: Log, events: Mapping[str, EventAbi]) -> DecodedEvent | None:
    """``log`` decoded with the matching event of ``events``; ``None`` if none fits."""
    if not log.topics or (event := events.get(log.topics[0])) is None:
        return None
    return decode_event(log, event)


def decode_event(log: Log, event: EventAbi) -> DecodedEvent | None:
    """``log`` decoded as ``event`` (whose topic0 it carries); ``None`` if it does not fit."""
    indexed = [i for i in event.inputs if i.indexed]
    plain = [i for i in event.inputs if not i.indexed]
    if len(indexed) != len(log.topics) - 1:
        return None
    fields: dict[str, object] = {}
    try:
        for item, topic in zip(indexed, log.topics[1:], strict=True):
            raw = bytes.fromhex(topic[2:])
            if _STATIC_INDEXED.fullmatch(item.type):
                (fields[item.name],) = decode([item.type], raw)
            else:  # dynamic indexed values are stored as their keccak hash
                fields[item.name] = raw
        values = decode([i.type for i in plain], log.data)
    except (DecodingError, ValueError, OverflowError):
        return None
    fields.update({item.name: value for item, value in zip(plain, values, strict=True)})
    types = {
        i.name: i.type if not i.indexed or _STATIC_INDEXED.fullmatch(i.type) else "bytes32"
        for i in event.inputs
    }
    return DecodedEvent(event.name, fields, types)


def json_of(value: object) -> JsonValue:
    """A decoded ABI value as JSON: integers as decimal strings (no 2**53 loss), bytes as hex."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [json_of(item) for item in value]
    return str(value)


# --- conditions -------------------------------------------------------------------------------


def condition_holds(condition: EventCondition, value: object, abi_type: str) -> bool:
    """Whether ``value`` (decoded, of ``abi_type``) satisfies ``condition``.

    ``field_type`` picks the comparison (``uint256``/``int256`` numeric, ``address``,
    ``bool``, ``bytes32``, ``string``); empty means the ABI type. Addresses, booleans and bytes
    support only ``eq``/``ne``. A value that does not parse as the type never holds.
    """
    kind = (condition.field_type or abi_type).strip().lower()
    op = condition.operator
    want = condition.value.strip()
    try:
        if _INT_TYPE.fullmatch(kind):
            if not isinstance(value, int) or isinstance(value, bool):
                return False
            return _compare(op, value, int(want, 0))
        if kind == "address":
            return op in ("eq", "ne") and _compare(op, str(value).lower(), want.lower())
        if kind == "bool":
            if want.lower() not in ("true", "false", "1", "0"):
                return False
            return op in ("eq", "ne") and _compare(op, bool(value), want.lower() in ("true", "1"))
        if kind.startswith("bytes"):
            have = "0x" + value.hex() if isinstance(value, bytes) else str(value).lower()
            return op in ("eq", "ne") and _compare(op, have, want.lower())
        if kind == "string":
            return _compare(op, str(value), condition.value)
    except ValueError:
        return False
    return False


def _compare(op: str, left: object, right: object) -> bool:
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    order = _ORDERINGS.get(op)
    return order is not None and type(left) is type(right) and bool(order(left, right))


def conditions_hold(conditions: Sequence[EventCondition], event: DecodedEvent | None) -> bool:
    """All ``conditions`` hold on ``event`` (vacuously true without conditions)."""
    if not conditions:
        return True
    if event is None:
        return False
    for condition in conditions:
        name = condition.field_name
        if name not in event.fields:
            return False
        if not condition_holds(condition, event.fields[name], event.types.get(name, "")):
            return False
    return True


# --- queries and the index --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A query ready to match: normalised, with its ABI parsed once."""

    workflow_id: str
    index: int
    addresses: frozenset[str]
    """Empty = any contract."""
    topics: tuple[str | None, ...]
    conditions: tuple[EventCondition, ...]
    events: Mapping[str, EventAbi] = field(repr=False)
    max_events_per_block: int | None = None

    def matches_topics(self, topics: Sequence[str]) -> bool:
        """Every fixed position of the query equals the log's topic there."""
        for position, want in enumerate(self.topics):
            if want is not None and (position >= len(topics) or topics[position] != want):
                return False
        return True


def compile_query(workflow_id: str, index: int, query: EventQuery) -> CompiledQuery:
    """``query`` normalised for matching.

    Raises:
        InvalidArgument: an address or topic is malformed.
    """
    return CompiledQuery(
        workflow_id=workflow_id,
        index=index,
        addresses=frozenset(normalise_address(a) for a in query.addresses),
        topics=tuple(normalise_topic(t) for t in query.topics),
        conditions=query.conditions,
        events=parse_event_abi(query.contract_abi),
        max_events_per_block=query.max_events_per_block,
    )


@dataclass(frozen=True, slots=True)
class Match:
    """``log`` satisfied ``query`` (topics and conditions); ``event`` is its decoding if any."""

    query: CompiledQuery
    log: Log
    event: DecodedEvent | None


@dataclass(frozen=True, slots=True)
class LogFilter:
    """One ``eth_getLogs`` filter: ``None`` means no restriction on that part."""

    addresses: tuple[str, ...] | None
    topic0: tuple[str, ...] | None


@dataclass(slots=True)
class _Bucket:
    any: dict[tuple[str, int], CompiledQuery] = field(default_factory=dict)
    by_topic: dict[tuple[int, str], dict[tuple[str, int], CompiledQuery]] = field(
        default_factory=dict
    )


class EventIndex:
    """The event queries of many workflows, indexed for matching logs."""

    def __init__(self) -> None:
        self._queries: dict[str, tuple[CompiledQuery, ...]] = {}
        self._buckets: dict[_Key, _Bucket] = {}
        self._abis: dict[EventAbi, EventAbi] = {}
        self._conditions: dict[tuple[EventCondition, ...], tuple[EventCondition, ...]] = {}

    def __len__(self) -> int:
        return len(self._queries)

    def __contains__(self, workflow_id: object) -> bool:
        return workflow_id in self._queries

    def add(self, workflow_id: str, queries: Sequence[EventQuery]) -> None:
        """Watch ``queries`` for ``workflow_id``, replacing what it had.

        Raises:
            InvalidArgument: an address or topic is malformed (nothing changes then).
        """
        compiled = tuple(
            self._shared(compile_query(workflow_id, i, q)) for i, q in enumerate(queries)
        )
        self.remove(workflow_id)
        self._queries[workflow_id] = compiled
        for query in compiled:
            topic_key = self._topic_key(query)
            for key in self._keys(query):
                bucket = self._buckets.setdefault(key, _Bucket())
                if topic_key is None:
                    bucket.any[(workflow_id, query.index)] = query
                else:
                    bucket.by_topic.setdefault(topic_key, {})[(workflow_id, query.index)] = query

    def _shared(self, query: CompiledQuery) -> CompiledQuery:
        """``query`` holding the index's one copy of each equal ABI event and condition set."""
        events = {topic: self._abis.setdefault(abi, abi) for topic, abi in query.events.items()}
        conditions = self._conditions.setdefault(query.conditions, query.conditions)
        return dataclasses.replace(query, events=events, conditions=conditions)

    def remove(self, workflow_id: str) -> None:
        """Stop matching ``workflow_id`` (no-op when unknown)."""
        for query in self._queries.pop(workflow_id, ()):
            topic_key = self._topic_key(query)
            for key in self._keys(query):
                bucket = self._buckets[key]
                if topic_key is None:
                    bucket.any.pop((workflow_id, query.index), None)
                else:
                    entries = bucket.by_topic[topic_key]
                    entries.pop((workflow_id, query.index), None)
                    if not entries:
                        del bucket.by_topic[topic_key]
                if not bucket.any and not bucket.by_topic:
                    del self._buckets[key]

    def queries(self, workflow_id: str) -> tuple[CompiledQuery, ...]:
        return self._queries.get(workflow_id, ())

    @staticmethod
    def _keys(query: CompiledQuery) -> Iterator[_Key]:
        topic0 = query.topics[0] if query.topics else None
        for address in query.addresses or (None,):
            yield (address, topic0)

    @staticmethod
    def _topic_key(query: CompiledQuery) -> tuple[int, str] | None:
        for position in range(1, len(query.topics)):
            if (topic := query.topics[position]) is not None:
                return (position, topic)
        return None

    def candidates(self, log: Log) -> Iterator[CompiledQuery]:
        """Queries whose address and topic0 (and first fixed topic) fit ``log``."""
        topic0 = log.topics[0] if log.topics else None
        for key in {(log.address, topic0), (log.address, None), (None, topic0), (None, None)}:
            bucket = self._buckets.get(key)
            if bucket is None:
                continue
            yield from bucket.any.values()
            for position in range(1, len(log.topics)):
                hit = bucket.by_topic.get((position, log.topics[position]))
                if hit:
                    yield from hit.values()

    def match(self, log: Log) -> list[Match]:
        """The matches of ``log``: at most one per workflow (its lowest matching query).

        Logs with ``removed: true`` (reorged out) never match (LESSONS.md 11).
        """
        if log.removed:
            return []
        found: dict[str, Match] = {}
        # Queries share their ABI events and conditions (interned by ``add``), so the log is
        # decoded once per event and each set of conditions is tested once per decoding.
        decoded: dict[int, DecodedEvent | None] = {}
        verdicts: dict[tuple[int, int], bool] = {}
        topic0 = log.topics[0] if log.topics else None
        for query in self.candidates(log):
            known = found.get(query.workflow_id)
            if known is not None and known.query.index < query.index:
                continue  # the workflow already matched through a lower query
            if not query.matches_topics(log.topics):
                continue
            abi = query.events.get(topic0) if topic0 is not None else None
            event = None
            if abi is not None:
                if id(abi) not in decoded:
                    decoded[id(abi)] = decode_event(log, abi)
                event = decoded[id(abi)]
            verdict_key = (id(abi), id(query.conditions))
            holds = verdicts.get(verdict_key)
            if holds is None:
                holds = verdicts[verdict_key] = conditions_hold(query.conditions, event)
            if holds:
                found[query.workflow_id] = Match(query, log, event)
        return [found[workflow_id] for workflow_id in sorted(found)]

    def log_filters(self, max_addresses: int = 500) -> list[LogFilter]:
        """``eth_getLogs`` filters that together return every log some query may match."""
        if not self._queries:
            return []
        addresses: set[str] = set()
        topic0s: set[str] = set()
        any_address = any_topic0 = False
        for queries in self._queries.values():
            for query in queries:
                if query.addresses:
                    addresses.update(query.addresses)
                else:
                    any_address = True
                if query.topics and query.topics[0] is not None:
                    topic0s.add(query.topics[0])
                else:
                    any_topic0 = True
        topic_part = None if any_topic0 else tuple(sorted(topic0s))
        if any_address:
            return [LogFilter(None, topic_part)]
        ordered = sorted(addresses)
        return [
            LogFilter(tuple(ordered[i : i + max_addresses]), topic_part)
            for i in range(0, len(ordered), max_addresses)
        ]
