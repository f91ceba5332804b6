"""Running a daemon under asyncio with a graceful stop on SIGINT/SIGTERM.

The first signal only sets the daemon's stop event; the daemon then shuts down in order. A second
signal exits at once with status 130.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable

import uvloop


def run_until_signal(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run ``main(stop)`` on uvloop; SIGINT/SIGTERM set ``stop``, a second one exits."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            if stop.is_set():
                sys.stderr.write(f"second signal {signum}: exiting now\n")
                os._exit(130)
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal, signum)
        await main(stop)

    uvloop.run(runner())
