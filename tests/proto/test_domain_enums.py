"""The domain's copies of wire enums and oneof tables agree with the generated code.

Each wire enum has one owner in ``src`` (``ErrorCode`` in ``ap_avs.errors``, the kinds and
statuses in ``ap_avs.domain``); each trigger-kind -> oneof-field table has one owner in
``ap_avs.wire``. These tests fail when the proto and those owners drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

import pytest
from google.protobuf.descriptor import EnumDescriptor

from ap_avs._proto import avs_pb2, node_pb2
from ap_avs.aggregator.dispatch import MessageOp
from ap_avs.domain.execution import ExecutionStatus
from ap_avs.domain.nodes import ExecutionMode, Lang, NodeKind
from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.workflow import TaskStatus
from ap_avs.errors import ErrorCode
from ap_avs.wire import TRIGGER_FIELD, TRIGGER_OUTPUT_FIELD


def _wire(enum: EnumDescriptor) -> dict[str, int]:
    return {value.name: value.number for value in enum.values}


_MESSAGE_OPS = {"MONITOR": "MonitorTaskTrigger", "DISABLE": "DisableTask", "DELETE": "DeleteTask"}
_MESSAGE_OPS |= {"IMMEDIATE": "ImmediateTrigger"}


@pytest.mark.parametrize(
    ("ours", "enum", "wire_name"),
    [
        (
            ErrorCode,
            avs_pb2.ErrorCode,
            lambda n: "ERROR_CODE_UNSPECIFIED" if n == "UNSPECIFIED" else n,
        ),
        (TriggerKind, avs_pb2.TriggerType, "TRIGGER_TYPE_{}".format),
        (NodeKind, avs_pb2.NodeType, "NODE_TYPE_{}".format),
        (Lang, avs_pb2.Lang, "LANG_{}".format),
        (ExecutionMode, avs_pb2.ExecutionMode, "EXECUTION_MODE_{}".format),
        (ExecutionStatus, avs_pb2.ExecutionStatus, "EXECUTION_STATUS_{}".format),
        (TaskStatus, avs_pb2.TaskStatus, lambda n: TaskStatus[n].wire_name),
        (MessageOp, node_pb2.MessageOp, _MESSAGE_OPS.__getitem__),
    ],
    ids=lambda x: getattr(x, "__name__", ""),
)
def test_domain_enum_equals_wire_enum(
    ours: type[IntEnum], enum: Any, wire_name: Callable[[str], str]
) -> None:
    wire: EnumDescriptor = enum.DESCRIPTOR
    expected = {value.name: value.number for value in wire.values}
    if 0 not in set(map(int, ours)):
        # kinds the domain never holds unset; upstream's extra values are never emitted
        expected = {n: v for n, v in expected.items() if v != 0 and n != "CompletedTask"}
    assert {wire_name(m.name): int(m) for m in ours} == expected


def _oneof_fields(message: Any, oneof: str) -> set[str]:
    return {f.name for f in message.DESCRIPTOR.oneofs_by_name[oneof].fields}


def test_trigger_oneof_tables_name_real_fields() -> None:
    assert set(TRIGGER_FIELD) == set(TriggerKind)
    assert set(TRIGGER_FIELD.values()) == _oneof_fields(avs_pb2.TaskTrigger, "trigger_type")
    outputs = set(TRIGGER_OUTPUT_FIELD.values())
    assert outputs == _oneof_fields(avs_pb2.RunTriggerResp, "output_data")
    assert outputs == _oneof_fields(avs_pb2.TriggerTaskReq, "trigger_output")
    assert outputs == _oneof_fields(node_pb2.NotifyTriggersReq, "trigger_output")
    assert outputs <= _oneof_fields(avs_pb2.Execution.Step, "output_data")
    for kind, field in TRIGGER_OUTPUT_FIELD.items():
        # the output message belongs to the same kind as the config oneof field
        message = avs_pb2.RunTriggerResp.DESCRIPTOR.fields_by_name[field].message_type
        config = avs_pb2.TaskTrigger.DESCRIPTOR.fields_by_name[TRIGGER_FIELD[kind]].message_type
        assert message.containing_type is config
