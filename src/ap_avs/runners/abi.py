"""Contract ABIs for the on-chain runners (pure): find a method, encode its call from the
strings a workflow holds, decode results and event logs into JSON, format token amounts.

JSON rules for decoded values (LESSONS 19: nothing loses precision): integers of up to 48 bits
are numbers, wider ones decimal strings; addresses are checksummed; ``bytes``/``bytesN`` are
0x-hex; tuples are objects keyed by component name (index when unnamed); arrays are lists.

Raises:
    NodeFailure: an ABI that does not parse, an unknown method, or parameters that do not fit
        their types; the message names the method and the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.domain.values import JsonValue
from ap_avs.runners.base import INVALID_NODE_CONFIG, NodeFailure

AbiEntry = Mapping[str, Any]
_SAFE_INT_BITS: Final = 48


@dataclass(frozen=True, slots=True)
class DecodedEvent:
    """One log decoded with an ABI event."""

    name: str
    address: str
    fields: dict[str, JsonValue]


def parse_abi(entries: Sequence[JsonValue]) -> list[AbiEntry]:
    """The ABI entries of a node config: objects, JSON strings of objects, or one JSON string
    of the whole array.

    Raises:
        NodeFailure: an entry that is neither.
    """
    parsed: list[AbiEntry] = []
    for entry in entries:
        value: Any = entry
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise NodeFailure(
                    "contract ABI is not valid JSON", error_code=INVALID_NODE_CONFIG
                ) from None
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict):
                raise NodeFailure(
                    "contract ABI entries must be objects", error_code=INVALID_NODE_CONFIG
                )
            parsed.append(item)
    return parsed


def abi_type(param: AbiEntry) -> str:
    """The canonical type of an ABI parameter, tuples spelled out: ``(address,uint256)[]``."""
    kind = str(param.get("type", ""))
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components") or [])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(entry: AbiEntry) -> str:
    """``name(type,…)`` of a function or event."""
    return f"{entry.get('name', '')}({','.join(abi_type(p) for p in entry.get('inputs') or [])})"


def function_selector(fn: AbiEntry) -> bytes:
    return keccak(text=signature(fn))[:4]


def find_function(abi: Sequence[AbiEntry], name: str, arity: int | None = None) -> AbiEntry:
    """The function ``name`` (or full ``name(types)``); with overloads, the one taking ``arity``
    arguments.

    Raises:
        NodeFailure: no such function in the ABI.
    """
    functions = [e for e in abi if e.get("type", "function") == "function"]
    if "(" in name:
        matches = [f for f in functions if signature(f) == name.replace(" ", "")]
    else:
        matches = [f for f in functions if f.get("name") == name]
        if len(matches) > 1 and arity is not None:
            matches = [f for f in matches if len(f.get("inputs") or []) == arity] or matches
    if not matches:
        raise NodeFailure(
            f"method {name} not found in the contract ABI", error_code=INVALID_NODE_CONFIG
        )
    return matches[0]


def function_for_selector(abi: Sequence[AbiEntry], data: bytes) -> AbiEntry | None:
    """The ABI function whose selector starts ``data``, if any."""
    for entry in abi:
        if entry.get("type", "function") == "function" and function_selector(entry) == data[:4]:
            return entry
    return None


def _coerce(kind: str, components: Sequence[AbiEntry], value: Any, where: str) -> Any:
    """``value`` (a workflow string, or JSON inside arrays and tuples) as eth-abi expects it."""
    if kind.endswith("]"):
        if isinstance(value, str):
            value = json.loads(value)
        if not isinstance(value, list):
            raise ValueError("expected a JSON array")
        inner = kind[: kind.rindex("[")]
        return [_coerce(inner, components, v, where) for v in value]
    if kind == "tuple":
        if isinstance(value, str):
            value = json.loads(value)
        if isinstance(value, dict):
            value = [value[str(c.get("name"))] for c in components]
        if not isinstance(value, list) or len(value) != len(components):
            raise ValueError(f"expected {len(components)} tuple components")
        return tuple(
            _coerce(str(c.get("type")), c.get("components") or [], v, where)
            for c, v in zip(components, value, strict=True)
        )
    text = value if isinstance(value, str) else json.dumps(value)
    text = text.strip()
    if kind.startswith(("uint", "int")):
        number = int(text, 16) if text.lower().startswith(("0x", "-0x")) else int(text, 10)
        return number
    if kind == "bool":
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError("expected true or false")
        return text.lower() in ("true", "1")
    if kind == "address":
        return to_checksum_address(text)
    if kind.startswith("bytes"):
        return bytes.fromhex(text.removeprefix("0x"))
    return value if isinstance(value, str) else text


def encode_call(fn: AbiEntry, params: Sequence[str]) -> bytes:
    """Call data for ``fn`` with ``params`` (strings; arrays and tuples as JSON).

    Raises:
        NodeFailure: wrong number of parameters, or one that does not fit its type.
    """
    inputs = list(fn.get("inputs") or [])
    name = str(fn.get("name"))
    if len(params) != len(inputs):
        raise NodeFailure(
            f"method {name} takes {len(inputs)} parameters, got {len(params)}",
            error_code=INVALID_NODE_CONFIG,
        )
    values = []
    for index, (param, text) in enumerate(zip(inputs, params, strict=True)):
        label = param.get("name") or f"#{index}"
        try:
            values.append(
                _coerce(str(param.get("type")), param.get("components") or [], text, name)
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise NodeFailure(
                f"parameter {label} of {name} is not a valid {abi_type(param)}: {text!r} ({exc})",
                error_code=INVALID_NODE_CONFIG,
            ) from None
    try:
        return function_selector(fn) + encode([abi_type(p) for p in inputs], values)
    except (EncodingError, OverflowError, ValueError, TypeError) as exc:
        raise NodeFailure(
            f"cannot encode the parameters of {name}: {exc}", error_code=INVALID_NODE_CONFIG
        ) from None


def json_of(kind: str, components: Sequence[AbiEntry], value: Any) -> JsonValue:
    """A decoded ABI value as JSON (see the module rules)."""
    if kind.endswith("]"):
        inner = kind[: kind.rindex("[")]
        return [json_of(inner, components, v) for v in value]
    if kind == "tuple":
        return {
            str(c.get("name") or i): json_of(str(c.get("type")), c.get("components") or [], v)
            for i, (c, v) in enumerate(zip(components, value, strict=True))
        }
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        bits = int(kind.lstrip("uint") or 256)
        return value if bits <= _SAFE_INT_BITS else str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if kind == "address":
        return to_checksum_address(value)
    return str(value)


def decode_values(params: Sequence[AbiEntry], data: bytes) -> list[tuple[str, JsonValue]]:
    """``(name, value)`` of each parameter; unnamed ones are named by index.

    Raises:
        NodeFailure: ``data`` does not decode as these types.
    """
    types = [abi_type(p) for p in params]
    try:
        values = decode(types, data)
    except (DecodingError, ValueError, OverflowError) as exc:
        raise NodeFailure(f"cannot decode the result: {exc}") from None
    return [
        (str(p.get("name") or i), json_of(str(p.get("type")), p.get("components") or [], v))
        for i, (p, v) in enumerate(zip(params, values, strict=True))
    ]


def decode_result(fn: AbiEntry, data: bytes) -> JsonValue:
    """A method's return value: the value itself for one output, else ``{name: value}``;
    None for a method without outputs."""
    outputs = list(fn.get("outputs") or [])
    if not outputs:
        return None
    fields = decode_values(outputs, data)
    return fields[0][1] if len(fields) == 1 else dict(fields)


def decode_logs(abi: Sequence[AbiEntry], logs: Sequence[Mapping[str, Any]]) -> list[DecodedEvent]:
    """The logs that match an event of ``abi``; the others are skipped."""
    events = {
        keccak(text=signature(e)): e
        for e in abi
        if e.get("type") == "event" and not e.get("anonymous")
    }
    decoded: list[DecodedEvent] = []
    for log in logs:
        topics = [bytes.fromhex(str(t)[2:]) for t in log.get("topics") or []]
        event = events.get(topics[0]) if topics else None
        if event is None:
            continue
        inputs = list(event.get("inputs") or [])
        indexed = [p for p in inputs if p.get("indexed")]
        if len(topics) - 1 != len(indexed):
            continue
        try:
            data = bytes.fromhex(str(log.get("data", "0x"))[2:])
            plain = iter(
                v for _, v in decode_values([p for p in inputs if not p.get("indexed")], data)
            )
            topic_values = iter(topics[1:])
            fields: dict[str, JsonValue] = {}
            for index, param in enumerate(inputs):
                name = str(param.get("name") or index)
                if not param.get("indexed"):
                    fields[name] = next(plain)
                    continue
                topic, kind = next(topic_values), abi_type(param)
                dynamic = kind in ("string", "bytes") or kind.endswith("]") or "(" in kind
                fields[name] = (
                    "0x" + topic.hex() if dynamic else decode_values([param], topic)[0][1]
                )
        except NodeFailure:
            continue
        decoded.append(DecodedEvent(str(event.get("name")), str(log.get("address", "")), fields))
    return decoded
