"""A test-only fault hook: kill this process at a named point of a step (for crash tests).

**Off in production.** The composition root builds a :class:`FaultHook` only when the
environment variable :data:`ENV_VAR` (``AP_AVS_TEST_FAULT``) is set; nothing else reads it.
Its value names the point, the occurrence and optionally the kind of step::

    AP_AVS_TEST_FAULT=after-send:3:userop   # SIGKILL the 3rd time a UserOp step was sent
    AP_AVS_TEST_FAULT=during-record:1       # SIGKILL inside the 1st execution-record commit

Points (:data:`POINTS`), in the order a step with an external effect reaches them:

* ``before-send``: the step's intent is committed, nothing was sent yet;
* ``after-send``: the UserOp (or HTTP request) was sent, its receipt not yet read;
* ``after-receipt``: the step has its outcome, not yet committed to the journal;
* ``during-record``: inside the transaction that stores the execution record (not committed).

Kinds: ``userop`` and ``http`` (``during-record`` has none). The kill is ``SIGKILL`` to the own
pid: no clean-up, no flush, exactly what ``kill -9`` does. Used by
``tests/reliability/test_exactly_once.py``.

Raises:
    ConfigError: from :func:`from_env` for a malformed value.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Mapping
from typing import Final

from ap_avs.errors import ConfigError

logger = logging.getLogger(__name__)

ENV_VAR: Final = "AP_AVS_TEST_FAULT"
POINTS: Final = ("before-send", "after-send", "after-receipt", "during-record")
KINDS: Final = ("userop", "http")


class FaultHook:
    """Counts the times each point is reached and kills the process at the chosen one."""

    def __init__(self, point: str, occurrence: int, kind: str | None = None) -> None:
        if point not in POINTS:
            raise ConfigError(f"{ENV_VAR}: unknown point {point!r}; one of {', '.join(POINTS)}")
        if occurrence < 1:
            raise ConfigError(f"{ENV_VAR}: the occurrence must be >= 1, got {occurrence}")
        if kind is not None and kind not in KINDS:
            raise ConfigError(f"{ENV_VAR}: unknown kind {kind!r}; one of {', '.join(KINDS)}")
        self.point = point
        self.occurrence = occurrence
        self.kind = kind
        self._seen = 0
        self._lock = threading.Lock()

    def reached(self, point: str, kind: str | None = None) -> None:
        """Note that ``point`` was reached by a step of ``kind``; kill at the chosen one."""
        if point != self.point or (self.kind is not None and kind != self.kind):
            return
        with self._lock:
            self._seen += 1
            fire = self._seen == self.occurrence
        if fire:
            logger.warning("test fault hook: SIGKILL at %s #%s", point, self.occurrence)
            for handler in logging.getLogger().handlers:
                handler.flush()
            os.kill(os.getpid(), signal.SIGKILL)


def parse(text: str) -> FaultHook:
    """``point:occurrence[:kind]`` as a hook.

    Raises:
        ConfigError: a malformed value.
    """
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        raise ConfigError(f"{ENV_VAR} must be point:occurrence[:kind], got {text!r}")
    return FaultHook(parts[0], int(parts[1]), parts[2] if len(parts) == 3 else None)


def from_env(environ: Mapping[str, str]) -> FaultHook | None:
    """The hook the environment asks for, or None (always None in production)."""
    text = environ.get(ENV_VAR, "").strip()
    return parse(text) if text else None
