"""Value types of the JavaScript sandbox: modes, limits, results and the script error.

Re-exported by :mod:`ap_avs.sandbox`; nothing here does I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ap_avs.domain.values import JsonValue as JsonValue
from ap_avs.errors import InvalidArgument

MiB = 1 << 20


class Mode(enum.StrEnum):
    """How the code is read.

    Attributes:
        EXPRESSION: One JavaScript expression (templates, branch conditions); its value.
        FUNCTION_BODY: The body of an ``async`` function; ``return`` gives the value, ``await``
            is allowed (filter expressions wrapped by their runner, custom code with ``return``).
        SCRIPT: A script; its completion value, like ``eval`` (custom code without ``return``).
        CUSTOM_CODE: Upstream's custom-code rule (PROTOCOL §7.8): ``import … from '…'`` lines
            become ``require`` calls; then code containing ``return`` or ``await`` (or an import)
            runs as FUNCTION_BODY, anything else as SCRIPT.

    In every mode a Promise (or thenable) result is awaited, inside the same time limit.
    """

    EXPRESSION = "expression"
    FUNCTION_BODY = "function_body"
    SCRIPT = "script"
    CUSTOM_CODE = "custom_code"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one evaluation may use; every evaluation runs under all of them.

    Usage::

        expressions = Limits()                     # templates, branches, filters
        code = Limits(timeout_ms=5000)             # custom code (also CODE_LIMITS)
        pool = SandboxPool(size=2, limits=expressions)

    Attributes:
        timeout_ms: Wall-clock budget, including awaiting a returned Promise and loading a
            library on first use. The worker stops the script at this point (QuickJS's
            interrupt, measured in the worker's CPU time); the parent kills the worker if no
            reply came ``kill_grace_ms`` later (a regular expression backtracking, a busy machine).
        memory_bytes: Heap of the script's JavaScript runtime (QuickJS malloc limit), libraries
            included (lodash, dayjs and uuid together take about 1 MiB). At least 4 MiB.
        max_source_length: Longest accepted code, in characters (upstream caps custom code at
            100 KiB).
        max_output_bytes: Largest accepted result, as UTF-8 JSON.
        max_log_lines: ``console`` lines kept; when more were written the last kept line says
            how many were dropped. Each line is cut at 2,000 characters.
    """

    timeout_ms: int = 1000
    memory_bytes: int = 64 * MiB
    max_source_length: int = 100 * 1024
    max_output_bytes: int = 1 * MiB
    max_log_lines: int = 100

    def __post_init__(self) -> None:
        if self.timeout_ms < 1:
            raise ValueError(f"timeout_ms must be at least 1, not {self.timeout_ms}")
        if self.memory_bytes < 4 * MiB:
            raise ValueError(f"memory_bytes must be at least 4 MiB, not {self.memory_bytes}")
        if self.max_source_length < 1 or self.max_output_bytes < 1:
            raise ValueError("max_source_length and max_output_bytes must be positive")
        if self.max_log_lines < 0:
            raise ValueError(f"max_log_lines must not be negative, not {self.max_log_lines}")


CODE_LIMITS = Limits(timeout_ms=5000)
"""The limits suggested for custom-code nodes: the defaults with a 5 s budget."""


@dataclass(frozen=True, slots=True)
class Result:
    """A successful evaluation (failures are raised as :class:`ScriptError`, never returned).

    Attributes:
        value: The script's value converted by the boundary rules (see :mod:`ap_avs.sandbox`).
        logs: ``console.*`` lines, in order, bounded by ``Limits.max_log_lines``.
        duration_ms: Worker time from request to reply (not queueing, not the IPC, and not
            building the fresh context when the worker had it ready from idle time).
    """

    value: JsonValue
    logs: tuple[str, ...] = ()
    duration_ms: float = 0.0


class ScriptErrorKind(enum.StrEnum):
    """Why a script failed."""

    SYNTAX = "syntax"
    RUNTIME = "runtime"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    STACK_OVERFLOW = "stack_overflow"
    OUTPUT_TOO_LARGE = "output_too_large"
    SOURCE_TOO_LONG = "source_too_long"
    CRASHED = "crashed"


class ScriptError(InvalidArgument):
    """The user's script failed; the message is written for the workflow's author.

    Raised for syntax and runtime errors (the JavaScript message, never a Python traceback),
    for every limit, and when the worker process died while running the script. The next
    evaluation is not affected.

    Attributes:
        kind: Why it failed.
        logs: ``console`` lines written before it failed (empty when the worker was killed).
        line: Line of a syntax error in the user's code, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ScriptErrorKind,
        logs: tuple[str, ...] = (),
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.logs = logs
        self.line = line

    @property
    def timed_out(self) -> bool:
        """True when the script ran past ``Limits.timeout_ms``."""
        return self.kind is ScriptErrorKind.TIMEOUT

    @property
    def memory_exceeded(self) -> bool:
        """True when the script needed more than ``Limits.memory_bytes``."""
        return self.kind is ScriptErrorKind.MEMORY
