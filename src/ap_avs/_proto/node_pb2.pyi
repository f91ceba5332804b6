import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import wrappers_pb2 as _wrappers_pb2
from ap_avs._proto import avs_pb2 as _avs_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessageOp(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    Unset: _ClassVar[MessageOp]
    MonitorTaskTrigger: _ClassVar[MessageOp]
    DisableTask: _ClassVar[MessageOp]
    DeleteTask: _ClassVar[MessageOp]
    CompletedTask: _ClassVar[MessageOp]
    ImmediateTrigger: _ClassVar[MessageOp]
Unset: MessageOp
MonitorTaskTrigger: MessageOp
DisableTask: MessageOp
DeleteTask: MessageOp
CompletedTask: MessageOp
ImmediateTrigger: MessageOp

class Checkin(_message.Message):
    __slots__ = ("id", "address", "signature", "status", "version", "metricsPort", "remoteIP", "block_number", "event_count")
    class Status(_message.Message):
        __slots__ = ("uptime", "queueDepth", "last_heartbeat")
        UPTIME_FIELD_NUMBER: _ClassVar[int]
        QUEUEDEPTH_FIELD_NUMBER: _ClassVar[int]
        LAST_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
        uptime: int
        queueDepth: int
        last_heartbeat: _timestamp_pb2.Timestamp
        def __init__(self, uptime: _Optional[int] = ..., queueDepth: _Optional[int] = ..., last_heartbeat: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METRICSPORT_FIELD_NUMBER: _ClassVar[int]
    REMOTEIP_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EVENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    address: str
    signature: str
    status: Checkin.Status
    version: str
    metricsPort: int
    remoteIP: str
    block_number: int
    event_count: int
    def __init__(self, id: _Optional[str] = ..., address: _Optional[str] = ..., signature: _Optional[str] = ..., status: _Optional[_Union[Checkin.Status, _Mapping]] = ..., version: _Optional[str] = ..., metricsPort: _Optional[int] = ..., remoteIP: _Optional[str] = ..., block_number: _Optional[int] = ..., event_count: _Optional[int] = ...) -> None: ...

class CheckinResp(_message.Message):
    __slots__ = ("updated_at",)
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SyncMessagesReq(_message.Message):
    __slots__ = ("id", "address", "signature", "monotonic_clock", "capabilities")
    class Capabilities(_message.Message):
        __slots__ = ("event_monitoring", "block_monitoring", "time_monitoring")
        EVENT_MONITORING_FIELD_NUMBER: _ClassVar[int]
        BLOCK_MONITORING_FIELD_NUMBER: _ClassVar[int]
        TIME_MONITORING_FIELD_NUMBER: _ClassVar[int]
        event_monitoring: bool
        block_monitoring: bool
        time_monitoring: bool
        def __init__(self, event_monitoring: _Optional[bool] = ..., block_monitoring: _Optional[bool] = ..., time_monitoring: _Optional[bool] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    MONOTONIC_CLOCK_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    id: str
    address: str
    signature: bytes
    monotonic_clock: int
    capabilities: SyncMessagesReq.Capabilities
    def __init__(self, id: _Optional[str] = ..., address: _Optional[str] = ..., signature: _Optional[bytes] = ..., monotonic_clock: _Optional[int] = ..., capabilities: _Optional[_Union[SyncMessagesReq.Capabilities, _Mapping]] = ...) -> None: ...

class SyncMessagesResp(_message.Message):
    __slots__ = ("id", "op", "task_metadata")
    class TaskMetadata(_message.Message):
        __slots__ = ("task_id", "remain", "expired_at", "trigger", "start_at")
        TASK_ID_FIELD_NUMBER: _ClassVar[int]
        REMAIN_FIELD_NUMBER: _ClassVar[int]
        EXPIRED_AT_FIELD_NUMBER: _ClassVar[int]
        TRIGGER_FIELD_NUMBER: _ClassVar[int]
        START_AT_FIELD_NUMBER: _ClassVar[int]
        task_id: str
        remain: int
        expired_at: int
        trigger: _avs_pb2.TaskTrigger
        start_at: int
        def __init__(self, task_id: _Optional[str] = ..., remain: _Optional[int] = ..., expired_at: _Optional[int] = ..., trigger: _Optional[_Union[_avs_pb2.TaskTrigger, _Mapping]] = ..., start_at: _Optional[int] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    OP_FIELD_NUMBER: _ClassVar[int]
    TASK_METADATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    op: MessageOp
    task_metadata: SyncMessagesResp.TaskMetadata
    def __init__(self, id: _Optional[str] = ..., op: _Optional[_Union[MessageOp, str]] = ..., task_metadata: _Optional[_Union[SyncMessagesResp.TaskMetadata, _Mapping]] = ...) -> None: ...

class AckMessageReq(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class NotifyTriggersReq(_message.Message):
    __slots__ = ("address", "signature", "task_id", "trigger_type", "block_trigger", "fixed_time_trigger", "cron_trigger", "event_trigger", "manual_trigger", "trigger_request_id")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_TYPE_FIELD_NUMBER: _ClassVar[int]
    BLOCK_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    FIXED_TIME_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    CRON_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    EVENT_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    MANUAL_TRIGGER_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    address: str
    signature: str
    task_id: str
    trigger_type: _avs_pb2.TriggerType
    block_trigger: _avs_pb2.BlockTrigger.Output
    fixed_time_trigger: _avs_pb2.FixedTimeTrigger.Output
    cron_trigger: _avs_pb2.CronTrigger.Output
    event_trigger: _avs_pb2.EventTrigger.Output
    manual_trigger: _avs_pb2.ManualTrigger.Output
    trigger_request_id: str
    def __init__(self, address: _Optional[str] = ..., signature: _Optional[str] = ..., task_id: _Optional[str] = ..., trigger_type: _Optional[_Union[_avs_pb2.TriggerType, str]] = ..., block_trigger: _Optional[_Union[_avs_pb2.BlockTrigger.Output, _Mapping]] = ..., fixed_time_trigger: _Optional[_Union[_avs_pb2.FixedTimeTrigger.Output, _Mapping]] = ..., cron_trigger: _Optional[_Union[_avs_pb2.CronTrigger.Output, _Mapping]] = ..., event_trigger: _Optional[_Union[_avs_pb2.EventTrigger.Output, _Mapping]] = ..., manual_trigger: _Optional[_Union[_avs_pb2.ManualTrigger.Output, _Mapping]] = ..., trigger_request_id: _Optional[str] = ...) -> None: ...

class NotifyTriggersResp(_message.Message):
    __slots__ = ("updated_at", "remaining_executions", "task_still_enabled", "status", "message")
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    TASK_STILL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    updated_at: _timestamp_pb2.Timestamp
    remaining_executions: int
    task_still_enabled: bool
    status: str
    message: str
    def __init__(self, updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., remaining_executions: _Optional[int] = ..., task_still_enabled: _Optional[bool] = ..., status: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class EventOverloadAlert(_message.Message):
    __slots__ = ("task_id", "operator_address", "block_number", "events_detected", "safety_limit", "query_index", "timestamp", "details")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    BLOCK_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EVENTS_DETECTED_FIELD_NUMBER: _ClassVar[int]
    SAFETY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    QUERY_INDEX_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    operator_address: str
    block_number: int
    events_detected: int
    safety_limit: int
    query_index: str
    timestamp: int
    details: str
    def __init__(self, task_id: _Optional[str] = ..., operator_address: _Optional[str] = ..., block_number: _Optional[int] = ..., events_detected: _Optional[int] = ..., safety_limit: _Optional[int] = ..., query_index: _Optional[str] = ..., timestamp: _Optional[int] = ..., details: _Optional[str] = ...) -> None: ...

class EventOverloadResponse(_message.Message):
    __slots__ = ("task_cancelled", "message", "timestamp")
    TASK_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    task_cancelled: bool
    message: str
    timestamp: int
    def __init__(self, task_cancelled: _Optional[bool] = ..., message: _Optional[str] = ..., timestamp: _Optional[int] = ...) -> None: ...

class HealthCheckRequest(_message.Message):
    __slots__ = ("operator_address",)
    OPERATOR_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    operator_address: str
    def __init__(self, operator_address: _Optional[str] = ...) -> None: ...

class HealthCheckResponse(_message.Message):
    __slots__ = ("status", "message", "timestamp")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    status: str
    message: str
    timestamp: int
    def __init__(self, status: _Optional[str] = ..., message: _Optional[str] = ..., timestamp: _Optional[int] = ...) -> None: ...
