"""Pure checks of trigger reports: fire times against schedules, block numbers against the
head and the interval, and reported fields against the data rebuilt from the chain.

Each check raises :class:`~ap_avs.errors.ReportRefused` (the report is false: evidence) or
:class:`~ap_avs.errors.Unavailable` (it cannot be judged yet: the operator retries).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ap_avs.domain.schedule import next_cron_fire
from ap_avs.domain.trigger_data import iso_ms, time_data
from ap_avs.domain.triggers import CronTriggerConfig, FixedTimeTriggerConfig, TriggerKind
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import Workflow
from ap_avs.engine.queue import FiredTrigger
from ap_avs.errors import ReportRefused, Unavailable

TIME_KINDS: Final = frozenset({TriggerKind.CRON, TriggerKind.FIXED_TIME})
_SHOWN: Final = 80


def _short(value: JsonValue) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _norm(value: JsonValue) -> JsonValue:
    """A value as compared: numbers as decimal text, hex text lower-cased."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value.lower() if value.startswith(("0x", "0X")) else value
    if isinstance(value, list):
        return [_norm(item) for item in value]
    return {key: _norm(item) for key, item in value.items()}


def mismatches(reported: Mapping[str, JsonValue], rebuilt: Mapping[str, JsonValue]) -> list[str]:
    """The fields the report states differently from the data rebuilt from the chain.

    Only fields both carry are compared, and a null on either side is not a difference (token
    metadata a node could not read); the run gets the rebuilt data whatever the report held.
    """
    problems = []
    for name, truth in rebuilt.items():
        claimed = reported.get(name)
        if claimed is None or truth is None:
            continue
        if _norm(claimed) != _norm(truth):
            problems.append(f"{name}: reported {_short(claimed)}, chain {_short(truth)}")
    return problems


def data_object(fired: FiredTrigger) -> dict[str, JsonValue]:
    """The reported output as an object (``{}`` when absent).

    Raises:
        ReportRefused: an output that is not a JSON object.
    """
    if fired.data is None:
        return {}
    if not isinstance(fired.data, dict):
        raise ReportRefused("the trigger output is not a JSON object")
    return fired.data


def integer(value: JsonValue, what: str) -> int:
    """``value`` as an int (an int, an integral float or decimal/hex text).

    Raises:
        ReportRefused: anything else.
    """
    if isinstance(value, bool):
        raise ReportRefused(f"{what} is not an integer: {_short(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            pass
    raise ReportRefused(f"{what} is not an integer: {_short(value)}")


def check_kind(workflow_kind: TriggerKind, reported: TriggerKind) -> None:
    """The reported trigger type must be the workflow's (cron and fixed time may stand for each
    other: upstream operators label fixed-time firings as cron).

    Raises:
        ReportRefused: another kind.
    """
    if reported is workflow_kind or {reported, workflow_kind} <= TIME_KINDS:
        return
    raise ReportRefused(
        f"reported a {reported.wire_name} trigger for a workflow with a "
        f"{workflow_kind.wire_name} trigger"
    )


def check_block_number(number: int, head: int, max_ahead: int) -> None:
    """A block above our head is not seen yet (retry) when close, a lie when far.

    Raises:
        ReportRefused: more than ``max_ahead`` blocks above ``head``.
        Unavailable: above ``head`` by at most ``max_ahead``.
    """
    if number <= head:
        return
    if number > head + max_ahead:
        raise ReportRefused(f"block {number} is in the future (the chain's head is {head})")
    raise Unavailable(f"block {number} is not on the aggregator's chain yet (head {head}); retry")


def check_interval(number: int, interval: int) -> None:
    """Raises:
    ReportRefused: ``number`` is not a block the interval fires at."""
    if interval < 1 or number % interval:
        raise ReportRefused(
            f"block {number} is not a multiple of the workflow's interval {interval}"
        )


def check_age(moment_ms: int, *, now_ms: int, max_age_ms: int, what: str) -> None:
    """Refuse an occurrence older than the report window (its dedup mark may have expired).

    Raises:
        ReportRefused: ``moment_ms`` is more than ``max_age_ms`` before ``now_ms``.
    """
    if moment_ms < now_ms - max_age_ms:
        hours = max_age_ms / 3_600_000
        raise ReportRefused(
            f"{what} {iso_ms(moment_ms)} is older than the report window ({hours:g} h)"
        )


def verify_time(
    wf: Workflow,
    report_data: Mapping[str, JsonValue],
    occurrence: str,
    *,
    now_ms: int,
    skew_ms: int,
    max_age_ms: int,
) -> FiredTrigger:
    """A cron or fixed-time report checked against the workflow's schedule and our clock; the
    returned trigger carries the data rebuilt from the fire time.

    Raises:
        ReportRefused: the fire time is not one of the schedule's times, is before ``start_at``
            or after ``expired_at``, is further in the future than ``skew_ms``, or the data
            disagrees with it.
    """
    try:
        fire = int(occurrence)
    except ValueError:
        raise ReportRefused(f"occurrence '{occurrence}' is not a fire time in ms") from None
    claimed = report_data.get("timestamp")
    if claimed is not None and integer(claimed, "timestamp") != fire:
        raise ReportRefused(f"timestamp {_short(claimed)} differs from the occurrence {fire}")
    if fire > now_ms + skew_ms:
        raise ReportRefused(f"fire time {iso_ms(fire)} is in the future (now {iso_ms(now_ms)})")
    check_age(fire, now_ms=now_ms, max_age_ms=max_age_ms, what="fire time")
    if wf.start_at and fire < wf.start_at:
        raise ReportRefused(
            f"fire time {iso_ms(fire)} is before the workflow's start {iso_ms(wf.start_at)}"
        )
    if wf.expired_at and fire > wf.expired_at:
        raise ReportRefused(
            f"fire time {iso_ms(fire)} is after the workflow's expiry {iso_ms(wf.expired_at)}"
        )
    config = wf.trigger.config
    if isinstance(config, FixedTimeTriggerConfig):
        if fire not in config.epochs:
            raise ReportRefused(f"{iso_ms(fire)} is not one of the workflow's fixed times")
    elif isinstance(config, CronTriggerConfig):
        if next_cron_fire(config.schedules, after_ms=fire - 1) != fire:
            raise ReportRefused(f"{iso_ms(fire)} is not a time of the workflow's cron schedule")
    else:
        raise ReportRefused(
            f"the workflow's trigger is not a time trigger ({wf.trigger.kind.name})"
        )
    rebuilt = time_data(fire)
    assert isinstance(rebuilt, dict)
    problems = mismatches(report_data, rebuilt)
    if problems:
        raise ReportRefused("reported data differs from the fire time: " + "; ".join(problems))
    return FiredTrigger(wf.trigger.kind, rebuilt)
