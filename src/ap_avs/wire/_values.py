"""``google.protobuf.Value`` <-> plain JSON, with the integer and depth rules."""

from __future__ import annotations

import math
from typing import Any

from google.protobuf import struct_pb2

from ap_avs.domain.values import JsonValue
from ap_avs.errors import ErrorCode, InvalidArgument
from ap_avs.wire._shared import (
    _EXACT_INT_LIMIT,
    MAX_VALUE_DEPTH,
)

# --- google.protobuf.Value <-> JsonValue ------------------------------------------------------


def value_to_json(value: struct_pb2.Value, *, where: str = "value") -> JsonValue:
    """The JSON value of a ``google.protobuf.Value``.

    Raises:
        InvalidArgument: the value nests deeper than :data:`MAX_VALUE_DEPTH` or holds a
            non-finite number; the message starts with ``where``.
    """
    return _read_value(value, where, 0)


def _read_value(value: Any, where: str, depth: int) -> JsonValue:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            raise InvalidArgument(
                f"{where}: {number} is not a JSON number", error_code=ErrorCode.INVALID_REQUEST
            )
        if number.is_integer() and abs(number) < _EXACT_INT_LIMIT:
            return int(number)
        return float(number)
    if kind == "string_value":
        return str(value.string_value)
    if kind == "bool_value":
        return bool(value.bool_value)
    if kind in ("struct_value", "list_value"):
        if depth >= MAX_VALUE_DEPTH:
            raise InvalidArgument(
                f"{where}: nested deeper than {MAX_VALUE_DEPTH} levels",
                error_code=ErrorCode.INVALID_REQUEST,
            )
        if kind == "list_value":
            return [_read_value(item, where, depth + 1) for item in value.list_value.values]
        fields = value.struct_value.fields
        return {key: _read_value(fields[key], where, depth + 1) for key in fields}
    return None  # null_value, or no kind set


def json_to_value(data: JsonValue, *, where: str = "value") -> struct_pb2.Value:
    """The ``google.protobuf.Value`` of a JSON value.

    Raises:
        InvalidArgument: ``data`` nests deeper than :data:`MAX_VALUE_DEPTH` or holds something
            JSON cannot (a non-string key, a set, …).
    """
    value = struct_pb2.Value()
    _fill_value(value, data, where, 0)
    return value


def _fill_value(target: Any, data: object, where: str, depth: int) -> None:
    if data is None:
        target.null_value = struct_pb2.NULL_VALUE
    elif isinstance(data, bool):
        target.bool_value = data
    elif isinstance(data, int | float):
        target.number_value = float(data)
    elif isinstance(data, str):
        target.string_value = data
    elif isinstance(data, list | tuple | dict):
        if depth >= MAX_VALUE_DEPTH:
            raise InvalidArgument(
                f"{where}: nested deeper than {MAX_VALUE_DEPTH} levels",
                error_code=ErrorCode.INVALID_REQUEST,
            )
        if isinstance(data, dict):
            target.struct_value.SetInParent()
            for key, item in data.items():
                if not isinstance(key, str):
                    raise InvalidArgument(
                        f"{where}: object key {key!r} is not a string",
                        error_code=ErrorCode.INVALID_REQUEST,
                    )
                _fill_value(target.struct_value.fields[key], item, where, depth + 1)
        else:
            target.list_value.SetInParent()
            for item in data:
                _fill_value(target.list_value.values.add(), item, where, depth + 1)
    else:
        raise InvalidArgument(
            f"{where}: {type(data).__name__} is not a JSON value",
            error_code=ErrorCode.INVALID_REQUEST,
        )


def _read_map(values: Any, where: str) -> dict[str, JsonValue]:
    return {key: value_to_json(values[key], where=f"{where}.{key}") for key in values}


def _write_values(target: Any, data: Any, where: str) -> None:
    for index, item in enumerate(data):
        _fill_value(target.add(), item, f"{where}[{index}]", 0)
