"""Job records: the JSON stored under ``q:default:<state>:<jobId>``.

``{"t": "execute_task", "n": <workflowId>, "id": <jobId>, "at": <enqueued ms>, "a": <claims>,
"e"?: <last error>, "done"?: <finished ms>, "d": {"execution_id", "execution_index",
"trigger_type", "trigger_output", "input_variables", "source", "occurrence", "operator"}}``;
unlike upstream the payload is plain JSON (not base64 of Go JSON) and the trigger output is
kept whole.

Raises:
    CorruptDataError: a stored record that does not decode.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.values import JsonValue
from ap_avs.engine.queue._model import FiredTrigger, Job, JobSource
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec

JOB_TYPE: Final = "execute_task"


def encode_job(job: Job, *, done_at: int | None = None) -> bytes:
    """The stored record of ``job`` (``done_at``: when it completed or failed)."""
    payload: dict[str, JsonValue] = {
        "execution_id": job.execution_id,
        "execution_index": job.execution_index,
        "trigger_type": int(job.trigger.kind),
        "trigger_output": job.trigger.data,
        "input_variables": dict(job.input_variables),
        "source": job.source.value,
        "occurrence": job.occurrence,
        "operator": job.operator,
    }
    record: dict[str, JsonValue] = {
        "t": JOB_TYPE,
        "n": job.workflow_id,
        "id": job.id,
        "d": payload,
        "at": job.enqueued_at,
        "a": job.attempts,
    }
    if job.last_error is not None:
        record["e"] = job.last_error
    if done_at is not None:
        record["done"] = done_at
    return codec.dumps(record)


def _str_or_none(value: JsonValue) -> str | None:
    return value if isinstance(value, str) else None


def _field(
    record: Mapping[str, JsonValue], name: str, kind: type, *, optional: bool = False
) -> Any:
    value = record.get(name)
    if (value is None and optional) or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise CorruptDataError(f"queue job record: field {name!r} is not a {kind.__name__}")


def decode_job(raw: bytes) -> Job:
    """The job of a stored record.

    Raises:
        CorruptDataError: the record does not decode.
    """
    record = codec.loads(raw)
    payload = record.get("d") if isinstance(record, dict) else None
    if not isinstance(record, dict) or not isinstance(payload, dict):
        raise CorruptDataError("queue job record is not an object with a 'd' payload")
    try:
        kind = TriggerKind(_field(payload, "trigger_type", int))
        source = JobSource(_field(payload, "source", str, optional=True) or JobSource.OPERATOR)
    except ValueError as exc:
        raise CorruptDataError(f"queue job record: {exc}") from None
    return Job(
        id=_field(record, "id", int),
        workflow_id=_field(record, "n", str),
        execution_id=_field(payload, "execution_id", str),
        trigger=FiredTrigger(kind, payload.get("trigger_output")),
        input_variables=_field(payload, "input_variables", dict, optional=True) or {},
        execution_index=_field(payload, "execution_index", int, optional=True),
        source=source,
        occurrence=_str_or_none(payload.get("occurrence")),
        operator=_str_or_none(payload.get("operator")),
        enqueued_at=_field(record, "at", int, optional=True) or 0,
        attempts=_field(record, "a", int, optional=True) or 0,
        last_error=_str_or_none(record.get("e")),
    )
