"""The only serialiser of stored values: compact JSON for records, ASCII decimals for counters.

Usage::

    await kv.put(key, codec.dumps({"owner": owner, "salt": 0}))
    record = codec.loads(await kv.get(key))  # -> JsonValue
    txn.put(counter_key, codec.encode_int(codec.decode_int(txn.get(counter_key) or b"0") + 1))

JSON is UTF-8 without ASCII escaping, with no spaces, and without NaN or Infinity (which are
not JSON). Domain objects are converted to and from `JsonValue` beside their types.

Raises `CodecError` (a `StoreError`) for a value that cannot be encoded, and for stored bytes
that do not decode: that is corrupt data, never a client error.
"""

from __future__ import annotations

import json
import re
from typing import Final

from ap_avs.domain.values import JsonValue
from ap_avs.errors import CorruptDataError

__all__ = ["CodecError", "JsonValue", "decode_int", "dumps", "encode_int", "loads"]


_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_INT: Final = re.compile(rb"-?(0|[1-9][0-9]*)")


class CodecError(CorruptDataError):
    """A value cannot be encoded, or stored bytes do not decode (corrupt data)."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)
"""Built once: ``json.loads`` with a keyword builds a decoder per call (about 15 µs)."""


def dumps(value: JsonValue) -> bytes:
    """Encode `value` as compact UTF-8 JSON.

    Raises:
        CodecError: `value` holds something JSON cannot carry (NaN, a set, a cycle, ...).
    """
    try:
        return _ENCODER.encode(value).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise CodecError(f"cannot encode the value as JSON: {exc}") from exc


def loads(data: bytes) -> JsonValue:
    """Decode JSON bytes written by `dumps`.

    Raises:
        CodecError: `data` is not UTF-8 JSON.
    """
    try:
        value: JsonValue = _DECODER.decode(data.decode())
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CodecError(f"stored value is not valid JSON: {exc}") from exc
    return value


def encode_int(value: int) -> bytes:
    """Encode an integer as ASCII decimal (``42`` -> ``b"42"``).

    Raises:
        CodecError: `value` is not an int (bools are refused too).
    """
    if type(value) is not int:
        raise CodecError(f"expected an int, got {type(value).__name__}")
    return b"%d" % value


def decode_int(data: bytes) -> int:
    """Decode an ASCII decimal written by `encode_int`; no signs but ``-``, spaces or ``_``.

    Raises:
        CodecError: `data` is not a canonical decimal.
    """
    if not _INT.fullmatch(data) or data == b"-0":
        raise CodecError(f"stored value is not a decimal integer: {data[:40]!r}")
    try:
        return int(data)
    except ValueError as exc:  # beyond the int digit limit
        raise CodecError(f"stored integer is too long: {len(data)} digits") from exc
