"""Constants and helpers every converter shares (shape errors, enums, method calls)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Final, TypeVar

from ap_avs.domain.nodes import (
    MethodCall,
)
from ap_avs.errors import ErrorCode, InvalidArgument

MAX_VALUE_DEPTH: Final = 64
"""Deepest nesting of lists and objects accepted in a ``google.protobuf.Value``."""
_EXACT_INT_LIMIT: Final = 2**53
_PREFIX: Final = "Invalid task argument: "

E = TypeVar("E", bound=IntEnum)

# --- shared helpers ---------------------------------------------------------------------------


def _shape_error(subject: str, problem: str) -> InvalidArgument:
    code = (
        ErrorCode.INVALID_TRIGGER_CONFIG
        if subject.startswith("trigger")
        else ErrorCode.INVALID_NODE_CONFIG
    )
    return InvalidArgument(f"{_PREFIX}{subject}: {problem}", error_code=code)


def _enum(kind: type[E], number: int, subject: str, field: str) -> E:
    try:
        return kind(number)
    except ValueError:
        raise _shape_error(subject, f"unknown {field} {number}") from None


def _read_call(call: Any) -> MethodCall:
    return MethodCall(
        method_name=call.method_name,
        call_data=call.call_data if call.HasField("call_data") else None,
        apply_to_fields=tuple(call.apply_to_fields),
        method_params=tuple(call.method_params),
    )


def _write_call(target: Any, call: MethodCall) -> None:
    target.method_name = call.method_name
    if call.call_data is not None:
        target.call_data = call.call_data
    target.apply_to_fields.extend(call.apply_to_fields)
    target.method_params.extend(call.method_params)


def _config_of(body: Any, subject: str, what: str) -> Any:
    if not body.HasField("config"):
        raise _shape_error(subject, f"{what} config is required but missing")
    return body.config


def _type_name(enum: Any, number: int) -> str:
    try:
        return str(enum.Name(number))
    except ValueError:
        return str(number)
