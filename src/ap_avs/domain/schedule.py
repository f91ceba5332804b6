"""When time and block triggers are due: pure functions of the config, the clock and the head.

Decisions (LESSONS.md 9 and 10):

* **Cron**: the next fire is the first schedule match *strictly after* ``max(now, start_at)``.
  Registration, re-enabling and restarts therefore never fire for an instant already past; a
  match missed while the operator was down is skipped, not caught up. Schedules are read with
  the same rules as validation (:mod:`ap_avs.domain.cron`: five fields, UTC).
* **Fixed time**: each epoch fires once, at or after its instant. Epochs older than a catch-up
  window (the operator uses one hour) are dropped when a workflow is (re)assigned, so a
  restart catches up recent epochs (the aggregator deduplicates by the occurrence key) and
  never replays old ones. Epochs before ``start_at`` or after ``expired_at`` never fire.
* **Block interval**: a workflow fires at every block number divisible by its interval
  (upstream's rule), each boundary at most once; ``next_due`` is the first boundary after the
  last processed block, so a watcher that fell behind catches up the skipped boundaries.

Raises:
    InvalidArgument: :func:`next_cron_fire` given a schedule validation would refuse;
        :func:`first_boundary_after` given an interval below 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from croniter import CroniterBadDateError, croniter

from ap_avs.domain.cron import schedule_problem
from ap_avs.errors import InvalidArgument

_MAX_YEARS_TO_NEXT_FIRE: Final = 8  # as validation: 29 February recurs within 8 years


def check_schedules(schedules: Iterable[str], now_ms: int) -> None:
    """Refuse what validation refuses (minimum spacing is the aggregator's business).

    Raises:
        InvalidArgument: naming the first bad schedule.
    """
    for schedule in schedules:
        problem = schedule_problem(schedule, now_ms=now_ms, min_interval_seconds=0)
        if problem is not None:
            raise InvalidArgument(problem)


def next_cron_fire(
    schedules: Iterable[str], *, after_ms: int, start_at_ms: int = 0, expired_at_ms: int = 0
) -> int | None:
    """The first instant (ms) any schedule matches strictly after ``max(after, start_at)``.

    ``None`` when nothing matches before ``expired_at`` (0 = never expires) or at all.

    Raises:
        InvalidArgument: a schedule is not a valid five-field cron expression.
    """
    base_ms = max(after_ms, start_at_ms)
    best: int | None = None
    for schedule in schedules:
        check_schedules((schedule,), base_ms)
        try:
            seconds = croniter(
                schedule, base_ms / 1000, max_years_between_matches=_MAX_YEARS_TO_NEXT_FIRE
            ).get_next(float)
        except CroniterBadDateError:  # no match within the horizon: it never fires again
            continue
        fire = round(seconds * 1000)
        if fire <= base_ms:  # croniter works in whole seconds; stay strictly after
            continue
        if best is None or fire < best:
            best = fire
    if best is None or (expired_at_ms and best > expired_at_ms):
        return None
    return best


def pending_epochs(
    epochs: Iterable[int],
    *,
    now_ms: int,
    catch_up_ms: int,
    start_at_ms: int = 0,
    expired_at_ms: int = 0,
) -> tuple[int, ...]:
    """The epochs still to fire, ascending: not older than ``now - catch_up`` and inside
    the workflow's start/expiry window."""
    oldest = now_ms - catch_up_ms
    return tuple(
        sorted(
            {
                epoch
                for epoch in epochs
                if epoch >= oldest
                and epoch >= start_at_ms
                and not (expired_at_ms and epoch > expired_at_ms)
            }
        )
    )


def first_boundary_after(block: int, interval: int) -> int:
    """The first block number above ``block`` divisible by ``interval``.

    Raises:
        InvalidArgument: ``interval`` is below 1.
    """
    if interval < 1:
        raise InvalidArgument(f"block trigger interval must be greater than 0, not {interval}")
    return (block // interval + 1) * interval


def due_boundaries(next_due: int, interval: int, first: int, last: int) -> range:
    """The boundaries a workflow fires at while blocks ``first..last`` are processed.

    ``next_due`` is the workflow's first unfired boundary; boundaries below ``first`` belong
    to ranges already processed and are not fired again.
    """
    start = max(next_due, first)
    start = start if start % interval == 0 else first_boundary_after(start, interval)
    return range(start, last + 1, interval)
