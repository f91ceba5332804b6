"""Cron schedules as workflows use them: exactly five fields, evaluated in UTC (via croniter).

Decision: only the classic five fields (minute hour day-of-month month day-of-week) are
accepted. croniter would read a sixth field as *seconds at the end* and a seventh as a year,
Quartz and Go's robfig read a sixth field as seconds at the *start*, so six-field text is
ambiguous across tools: we refuse it rather than guess. Nicknames (``@hourly``) and Jenkins
hashes (``H``) are refused too. The same functions serve validation and, later, the operator's
scheduler (LESSONS.md 10: one parser for both).

:func:`schedule_problem` returns a problem text or ``None``; nothing here raises.
"""

from __future__ import annotations

import itertools
from typing import Final

from croniter import CroniterBadDateError, CroniterError, croniter

_FIELDS: Final = 5
_MAX_YEARS_TO_FIRST_FIRE: Final = 8  # 29 February recurs within 8 years


def schedule_problem(schedule: str, *, now_ms: int, min_interval_seconds: int) -> str | None:
    """Why ``schedule`` is unusable, or ``None``.

    Problems: not five fields, not parseable, never fires (``0 0 30 2 *``), or two fires can
    come closer than ``min_interval_seconds``.
    """
    fields = schedule.split()
    if len(fields) != _FIELDS:
        return (
            f"cron schedule '{schedule}' must have exactly 5 fields (minute hour day month weekday)"
        )
    try:
        expanded, _ = croniter.expand(schedule)
        croniter(
            schedule, now_ms / 1000, max_years_between_matches=_MAX_YEARS_TO_FIRST_FIRE
        ).get_next(float)
    except CroniterBadDateError:
        return f"cron schedule '{schedule}' never fires"
    except CroniterError as exc:
        return f"cron schedule '{schedule}' is not valid: {exc}"
    gap = _min_gap_minutes(expanded[0], expanded[1]) * 60
    if gap < min_interval_seconds:
        return (
            f"cron schedule '{schedule}' fires {gap} s apart; "
            f"the minimum interval is {min_interval_seconds} s"
        )
    return None


def min_gap_seconds(schedule: str) -> int:
    """A lower bound of the time between two fires of a valid 5-field ``schedule``.

    Exact when the schedule fires every day; day-of-month, month and weekday restrictions can
    only make the true gap longer.

    Raises:
        ValueError: ``schedule`` does not parse (check with :func:`schedule_problem` first).
    """
    expanded, _ = croniter.expand(schedule)
    return _min_gap_minutes(expanded[0], expanded[1]) * 60


def _min_gap_minutes(minute_field: list[int | str], hour_field: list[int | str]) -> int:
    minutes = _values(minute_field, 60)
    hours = _values(hour_field, 24)
    gaps = [later - earlier for earlier, later in itertools.pairwise(minutes)]
    spread = minutes[-1] - minutes[0]
    for earlier, later in zip(hours, [*hours[1:], hours[0] + 24], strict=True):
        gaps.append((later - earlier) * 60 - spread)
    return min(gaps)


def _values(field: list[int | str], size: int) -> list[int]:
    if field == ["*"]:
        return list(range(size))
    return sorted(int(value) for value in field)
