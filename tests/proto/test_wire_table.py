"""The generated descriptors match the wire table of PROTOCOL.md Appendix A.

``tests/data/wire_table.md`` holds the Services, Enums and Messages lists of the appendix. Every
listed message, field, enum value and RPC must exist with exactly the listed shape, and nothing
else may exist except our declared additions (``EXTRA_ENUM_VALUES``, ``EXTRA_METHODS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from ap_avs._proto import avs_pb2, node_pb2

PACKAGE = "aggregator"
WIRE_TABLE = Path(__file__).resolve().parents[1] / "data" / "wire_table.md"

# Our additions on top of the upstream table.
EXTRA_ENUM_VALUES = {"ExecutionStatus": {"EXECUTION_STATUS_ERROR": 5}}
EXTRA_METHODS = {"Aggregator": {"CancelTask": ("IdReq", "google.protobuf.BoolValue", False)}}

# Field numbers removed upstream, which must stay reserved (PROTOCOL.md section 1.5).
RESERVED_NUMBERS = {
    "RunNodeWithInputsReq": {2},
    "RunNodeWithInputsResp": {2, 4},
    "RunTriggerReq": {2},
    "RunTriggerResp": {3},
    "TriggerTaskResp": {6},
}

# Top-level definitions that live in node.proto; everything else is in avs.proto.
NODE_PROTO_TOP_LEVEL = {
    "AckMessageReq",
    "Checkin",
    "CheckinResp",
    "EventOverloadAlert",
    "EventOverloadResponse",
    "HealthCheckRequest",
    "HealthCheckResponse",
    "MessageOp",
    "NotifyTriggersReq",
    "NotifyTriggersResp",
    "SyncMessagesReq",
    "SyncMessagesResp",
}

FieldDescriptorProto = descriptor_pb2.FieldDescriptorProto


# --- the fixture -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field as the table writes it: ``name=number:[repeated |opt ]type [oneof]``."""

    name: str
    number: int
    type: str  # scalar name, or full name of a message/enum without the leading dot
    repeated: bool
    optional: bool  # proto3 `optional`
    oneof: str | None


@dataclass(frozen=True)
class Method:
    request: str
    response: str
    server_streaming: bool


@dataclass(frozen=True)
class WireTable:
    messages: dict[str, list[Field]]  # key: name relative to the package, e.g. "Execution.Step"
    enums: dict[str, dict[str, int]]
    services: dict[str, dict[str, Method]]


_SECTION = re.compile(r"^### (\w+)\s*$")
_SERVICE = re.compile(r"^`aggregator\.(\w+)`:\s*$")
_METHOD = re.compile(r"^- `(\w+)\(([\w.]+)\) returns \((stream )?([\w.]+)\)`\s*$")
_ENUM = re.compile(r"^- `(\w+)`: (.*)$")
_MESSAGE = re.compile(r"^- `([\w.]+)` \{(.*)\}\s*$")
_FIELD = re.compile(r"^(\w+)=(\d+):(repeated |opt )?([\w.]+)(?: \[(\w+)\])?$")


def _full_type(name: str) -> str:
    """Table type name to full proto name (scalars unchanged)."""
    if name.startswith("g."):
        return "google.protobuf." + name[2:]
    if name[0].isupper():
        return f"{PACKAGE}.{name}"
    return name


def _parse_field(text: str) -> Field:
    match = _FIELD.match(text.strip())
    if match is None:
        raise ValueError(f"unparsable field in wire table: {text!r}")
    name, number, modifier, type_name, oneof = match.groups()
    return Field(
        name=name,
        number=int(number),
        type=_full_type(type_name),
        repeated=modifier == "repeated ",
        optional=modifier == "opt ",
        oneof=oneof,
    )


def parse_wire_table(path: Path) -> WireTable:
    """Parse the Services, Enums and Messages lists of the fixture."""
    table = WireTable(messages={}, enums={}, services={})
    section = None
    service = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if header := _SECTION.match(line):
            section = header.group(1)
            continue
        if section == "Services":
            if svc := _SERVICE.match(line):
                service = svc.group(1)
                table.services[service] = {}
            elif method := _METHOD.match(line):
                assert service is not None, line
                name, request, stream, response = method.groups()
                table.services[service][name] = Method(
                    _full_type(request),
                    _full_type(response.replace("google.protobuf.", "g.")),
                    stream is not None,
                )
        elif section == "Enums" and (enum := _ENUM.match(line)):
            values = {}
            for item in enum.group(2).split(","):
                value_name, number = item.strip().split("=")
                values[value_name] = int(number)
            table.enums[enum.group(1)] = values
        elif section == "Messages" and (message := _MESSAGE.match(line)):
            body = message.group(2).strip()
            fields = [_parse_field(part) for part in body.split(";")] if body else []
            table.messages[message.group(1)] = fields
    return table


TABLE = parse_wire_table(WIRE_TABLE)


# --- the generated descriptors ---------------------------------------------------------------


def _file_protos() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    protos = {}
    for module in (avs_pb2, node_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        protos[proto.name] = proto
    return protos


FILES = _file_protos()


def _walk_messages(
    prefix: str, messages: list[descriptor_pb2.DescriptorProto]
) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    for message in messages:
        name = f"{prefix}{message.name}"
        yield name, message
        yield from _walk_messages(f"{name}.", list(message.nested_type))


MESSAGES = {
    name: message
    for proto in FILES.values()
    for name, message in _walk_messages("", list(proto.message_type))
}
ENUMS = {enum.name: enum for proto in FILES.values() for enum in proto.enum_type}
SERVICES = {service.name: service for proto in FILES.values() for service in proto.service}


def _type_of(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type in (FieldDescriptorProto.TYPE_MESSAGE, FieldDescriptorProto.TYPE_ENUM):
        return str(field.type_name).removeprefix(".")
    return str(FieldDescriptorProto.Type.Name(field.type)).removeprefix("TYPE_").lower()


def _actual_fields(message: descriptor_pb2.DescriptorProto) -> list[Field]:
    fields = []
    for field in message.field:
        oneof = None
        if field.HasField("oneof_index") and not field.proto3_optional:
            oneof = message.oneof_decl[field.oneof_index].name
        fields.append(
            Field(
                name=field.name,
                number=field.number,
                type=_type_of(field),
                repeated=field.label == FieldDescriptorProto.LABEL_REPEATED,
                optional=field.proto3_optional,
                oneof=oneof,
            )
        )
    return sorted(fields, key=lambda f: f.number)


# --- tests -----------------------------------------------------------------------------------


def test_fixture_is_complete() -> None:
    # Guards the parser: a silently skipped line would weaken every other test.
    text = WIRE_TABLE.read_text(encoding="utf-8")
    listed = len(re.findall(r"^- `", text, re.MULTILINE))
    parsed = len(TABLE.messages) + len(TABLE.enums)
    parsed += sum(len(methods) for methods in TABLE.services.values())
    assert parsed == listed
    assert len(TABLE.services["Aggregator"]) == 28
    assert len(TABLE.services["Node"]) == 6


def test_file_names_and_package() -> None:
    assert set(FILES) == {"avs.proto", "node.proto"}
    assert {proto.package for proto in FILES.values()} == {PACKAGE}
    assert list(FILES["node.proto"].dependency) == [
        "google/protobuf/timestamp.proto",
        "google/protobuf/wrappers.proto",
        "avs.proto",
    ]


def test_no_unlisted_messages() -> None:
    assert set(MESSAGES) == set(TABLE.messages)


@pytest.mark.parametrize("name", sorted(TABLE.messages))
def test_message(name: str) -> None:
    message = MESSAGES.get(name)
    assert message is not None, f"message {PACKAGE}.{name} is missing"
    expected = sorted(TABLE.messages[name], key=lambda f: f.number)
    assert _actual_fields(message) == expected
    # Map fields are listed as their entry messages; they must really be proto maps.
    assert message.options.map_entry == name.endswith("Entry")
    found = descriptor_pool.Default().FindMessageTypeByName(f"{PACKAGE}.{name}")
    assert found.full_name == f"{PACKAGE}.{name}"


@pytest.mark.parametrize("name", sorted(RESERVED_NUMBERS))
def test_removed_numbers_are_reserved(name: str) -> None:
    reserved = {
        number
        for span in MESSAGES[name].reserved_range
        for number in range(span.start, span.end)  # end is exclusive
    }
    assert reserved == RESERVED_NUMBERS[name]


def test_enums() -> None:
    actual = {
        name: {value.name: value.number for value in enum.value} for name, enum in ENUMS.items()
    }
    expected = {name: dict(values) for name, values in TABLE.enums.items()}
    for name, extra in EXTRA_ENUM_VALUES.items():
        expected[name].update(extra)
    assert actual == expected


def test_services() -> None:
    actual = {
        name: {
            method.name: Method(
                method.input_type.removeprefix("."),
                method.output_type.removeprefix("."),
                method.server_streaming,
            )
            for method in service.method
        }
        for name, service in SERVICES.items()
    }
    expected = {name: dict(methods) for name, methods in TABLE.services.items()}
    for name, extra in EXTRA_METHODS.items():
        for method, (request, response, streaming) in extra.items():
            expected[name][method] = Method(_full_type(request), response, streaming)
    assert actual == expected
    for service in SERVICES.values():
        assert not any(method.client_streaming for method in service.method)


def test_split_between_files() -> None:
    node = FILES["node.proto"]
    top_level = {m.name for m in node.message_type} | {e.name for e in node.enum_type}
    assert top_level == NODE_PROTO_TOP_LEVEL
    assert [service.name for service in node.service] == ["Node"]
    assert [service.name for service in FILES["avs.proto"].service] == ["Aggregator"]
