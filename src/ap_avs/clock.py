"""The one wall clock of ap-avs: milliseconds since the Unix epoch.

Code that needs the time takes a ``Clock`` (a zero-argument callable) with :func:`now_ms` as
its default, so tests can pass a fixed or stepping clock (``ap_avs.testing.FakeClock``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]
"""A source of the current time in Unix milliseconds."""


def now_ms() -> int:
    """The current wall-clock time in Unix milliseconds."""
    return time.time_ns() // 1_000_000
