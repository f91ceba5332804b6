"""When time and block triggers are due (operator/schedule.py): LESSONS 9 and 10."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ap_avs.domain.schedule import (
    due_boundaries,
    first_boundary_after,
    next_cron_fire,
    pending_epochs,
)
from ap_avs.errors import InvalidArgument


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


HOUR = 3_600_000


def test_cron_next_fire_is_strictly_after_now() -> None:
    assert next_cron_fire(["*/5 * * * *"], after_ms=ms("2030-01-01T10:02:00")) == ms(
        "2030-01-01T10:05:00"
    )
    # now exactly on a match: that instant is past, the next one is due (never on registration)
    assert next_cron_fire(["*/5 * * * *"], after_ms=ms("2030-01-01T10:05:00")) == ms(
        "2030-01-01T10:10:00"
    )
    assert next_cron_fire(["*/5 * * * *"], after_ms=ms("2030-01-01T10:05:00") + 1) == ms(
        "2030-01-01T10:10:00"
    )


def test_cron_after_restart_or_reenable_skips_missed_instants() -> None:
    """A restart at 10:17 after running until 10:01 does not fire 10:05/10:10/10:15."""
    restarted = ms("2030-01-01T10:17:30")
    assert next_cron_fire(["*/5 * * * *"], after_ms=restarted) == ms("2030-01-01T10:20:00")


def test_cron_with_start_at_in_the_past_or_future() -> None:
    now = ms("2030-01-01T10:02:00")
    past_start = ms("2029-06-01T00:00:00")
    assert next_cron_fire(["0 * * * *"], after_ms=now, start_at_ms=past_start) == ms(
        "2030-01-01T11:00:00"
    )
    future_start = ms("2030-01-02T00:30:00")
    assert next_cron_fire(["0 * * * *"], after_ms=now, start_at_ms=future_start) == ms(
        "2030-01-02T01:00:00"
    )


def test_cron_respects_expiry_and_picks_the_earliest_schedule() -> None:
    now = ms("2030-01-01T10:02:00")
    schedules = ["0 12 * * *", "30 10 * * *"]
    assert next_cron_fire(schedules, after_ms=now) == ms("2030-01-01T10:30:00")
    assert next_cron_fire(schedules, after_ms=now, expired_at_ms=ms("2030-01-01T10:29:00")) is None


@pytest.mark.parametrize("bad", ["* * * *", "*/5 * * * * *", "61 * * * *", "@hourly"])
def test_cron_refuses_what_validation_refuses(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        next_cron_fire([bad], after_ms=ms("2030-01-01T00:00:00"))


def test_fixed_time_epochs_catch_up_window_and_window() -> None:
    now = ms("2030-01-01T12:00:00")
    epochs = [now - 2 * HOUR, now - HOUR // 2, now + 1000, now + HOUR, now + 1000]
    assert pending_epochs(epochs, now_ms=now, catch_up_ms=HOUR) == (
        now - HOUR // 2,
        now + 1000,
        now + HOUR,
    )
    assert pending_epochs(epochs, now_ms=now, catch_up_ms=0) == (now + 1000, now + HOUR)
    assert pending_epochs(epochs, now_ms=now, catch_up_ms=HOUR, start_at_ms=now) == (
        now + 1000,
        now + HOUR,
    )
    assert pending_epochs(epochs, now_ms=now, catch_up_ms=HOUR, expired_at_ms=now) == (
        now - HOUR // 2,
    )


def test_block_boundaries() -> None:
    assert first_boundary_after(10, 5) == 15
    assert first_boundary_after(14, 5) == 15
    assert first_boundary_after(15, 5) == 20
    assert first_boundary_after(0, 1) == 1
    with pytest.raises(InvalidArgument):
        first_boundary_after(10, 0)


def test_block_catch_up_fires_each_skipped_boundary_once() -> None:
    """LESSONS 9: a watcher that jumps from 12 to 31 fires 15, 20, 25, 30 — not only 30."""
    assert list(due_boundaries(15, 5, 13, 31)) == [15, 20, 25, 30]
    # the next range starts after 31: nothing is fired twice
    assert list(due_boundaries(35, 5, 32, 40)) == [35, 40]
    # a due boundary inside an already handled range is not fired again
    assert list(due_boundaries(15, 5, 21, 26)) == [25]
    assert list(due_boundaries(15, 5, 13, 14)) == []
    # a different interval is checked on its own (not only multiples of the smallest one)
    assert list(due_boundaries(7, 7, 1, 30)) == [7, 14, 21, 28]
