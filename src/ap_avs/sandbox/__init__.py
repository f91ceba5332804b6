"""The JavaScript sandbox: every template, branch condition, filter and custom-code node runs here.

Usage (the composition root owns the pool; runners receive it as an :class:`Evaluator`)::

    async with SandboxPool(size=2, limits=Limits()) as pool:
        result = await pool.evaluate("a + b.length", {"a": 1, "b": [1, 2]})  # result.value == 3
        code = await pool.evaluate("return _.sum(xs)", {"xs": [1, 2]}, CODE_LIMITS,
                                   mode=Mode.FUNCTION_BODY)

**Engine.** QuickJS (PyPI ``quickjs``; ES2020: arrow functions, optional chaining, BigInt,
async/await, classes with private fields; no ``Intl``, no timers), chosen over V8 (mini-racer)
by measurement: ``docs/decisions/20261128-js-sandbox.md``.

**Isolation.** Evaluations run in a pool of worker processes, one evaluation at a time each, and
every evaluation gets a fresh QuickJS runtime: no global, prototype or library state (lodash's
``uniqueId`` counter, dayjs's locale) can pass from one evaluation to the next. A fresh context
costs about 0.3 ms; workers build the next one while idle, so a template then costs well under
0.1 ms of worker time plus the round trip (about 0.28 ms in all, one caller at a time).
The globals are ECMAScript's plus ``console`` (captured), ``require('lodash'|'dayjs'|'uuid')``,
``_``, ``dayjs``, ``uuid`` (loaded on first use, upstream's own builds, see ``ap_avs/js/``),
``crypto.getRandomValues``/``randomUUID`` (ChaCha20 keyed from ``os.urandom`` per evaluation),
and the caller's variables. No ``process``, ``fetch``, ``XMLHttpRequest``, timers, modules or
file, network or host access of any kind: nothing in the context calls back into Python.

**Limits** (:class:`Limits`): wall-clock time (stopped inside the engine, and the worker is
killed from outside ``kill_grace_ms`` later if it still has not answered), JavaScript heap,
stack (1 MiB), source length, result size, console lines. A killed or crashed worker is replaced
in the background; only the evaluation it was running fails.

**Values cross as JSON**, by fixed rules, in both directions:

=======================  ===============================================================
JavaScript result        Python value
=======================  ===============================================================
number                   ``int`` when integral (below 1e21), else ``float``; ``-0`` → 0;
                         above 2**53 JavaScript's shortest decimal (``2**60`` →
                         1152921504606847000): use BigInt for exact large values
NaN, ±Infinity           ``None``
BigInt                   decimal ``str`` (``10n**30n`` → ``"1000…0"``)
Date                     ISO-8601 ``str`` (``toJSON``); an invalid Date → ``None``
undefined                ``None`` at the top level and in arrays; object keys holding it
                         are dropped (``JSON.stringify``)
function, symbol         like undefined
Map                      ``[[key, value], …]`` (as goja, upstream's engine, exports it)
Set, typed arrays        lists
a Promise or thenable    its settled value (awaited within the time limit)
other objects            own enumerable string keys; ``toJSON`` is honoured
a cycle                  :class:`ScriptError` (kind ``runtime``)
lone UTF-16 surrogate    U+FFFD
=======================  ===============================================================

Variables passed in are JSON too: integers beyond ±(2**53 - 1) become decimal strings (like
BigInt results), NaN and ±Infinity become ``null``; JavaScript has one number type, so ``3.0``
comes back as ``3``.

**What it does not protect against.** The worker is an ordinary process of the server's OS user:
no seccomp, namespaces or chroot. A script that exploits a memory-safety bug in QuickJS gets what
that user has (files, network, keys on disk); the process boundary contains crashes and hangs,
not exploits, and the ``quickjs`` binding is archived upstream, so its QuickJS (2021) gets no
security fixes. Catastrophic regular-expression backtracking is not interruptible inside QuickJS:
only the kill stops it, costing a worker restart. The in-engine time limit counts CPU time, so on
a busy machine the outside kill (timeout + grace) is what bounds wall time. Everything in the
variables, secrets included, is readable by the script and may be returned or logged. There is
no per-user quota here (the engine enforces those), ``Math.random`` is not cryptographic, and
``Date.now()`` gives scripts a clock for timing.

Raises (from :meth:`SandboxPool.evaluate`):
    ScriptError: the user's script failed or hit a limit (``kind`` says which).
    InvalidArgument: a variable name JavaScript cannot bind.
    Unavailable: the pool is not started or is closed.
    InternalError: a bug in the worker.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import re
from collections.abc import Coroutine, Mapping
from types import TracebackType
from typing import Any, Protocol, Self

from ap_avs.errors import InternalError, Unavailable
from ap_avs.sandbox.model import (
    CODE_LIMITS,
    JsonValue,
    Limits,
    MiB,
    Mode,
    Result,
    ScriptError,
    ScriptErrorKind,
)
from ap_avs.sandbox.process import WorkerGone, WorkerProcess, WorkerStartError, describe_exit
from ap_avs.sandbox.source import encode_variables, prepare

__all__ = [
    "CODE_LIMITS",
    "Evaluator",
    "JsonValue",
    "Limits",
    "Mode",
    "Result",
    "SandboxPool",
    "ScriptError",
    "ScriptErrorKind",
]

logger = logging.getLogger(__name__)

_REPLY_SLACK = 64 * 1024
_LOG_LINE_BYTES = 12_100  # 2,001 characters, each at most 6 bytes of JSON
_SURROGATE = re.compile("[\ud800-\udfff]")
_RESTART_DELAYS = (0.05, 0.2, 1.0, 5.0)


class Evaluator(Protocol):
    """What runners need from the sandbox (a :class:`SandboxPool`, or a fake in tests)."""

    async def evaluate(
        self,
        code: str,
        variables: Mapping[str, JsonValue],
        limits: Limits | None = None,
        *,
        mode: Mode = Mode.EXPRESSION,
    ) -> Result: ...


class SandboxPool:
    """Worker processes that evaluate JavaScript, one evaluation per worker at a time.

    Usage::

        pool = SandboxPool(size=2, limits=Limits())
        await pool.start()
        try:
            result = await pool.evaluate("x * 2", {"x": 21})
        finally:
            await pool.close()

    Callers queue in arrival order for the next free worker. Each worker takes about 17 MB.

    Args:
        size: Number of worker processes (one per core is a good default).
        limits: The limits used when :meth:`evaluate` is given none.
        kill_grace_ms: How long after its deadline an unanswered evaluation's worker is killed.
        start_timeout_s: How long a worker may take to start.
    """

    def __init__(
        self,
        size: int = 2,
        limits: Limits | None = None,
        *,
        kill_grace_ms: int = 500,
        start_timeout_s: float = 10.0,
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, not {size}")
        self._size = size
        self._limits = limits or Limits()
        self._grace = kill_grace_ms / 1000
        self._start_timeout = start_timeout_s
        self._address_space = 1024 * MiB + 4 * self._limits.memory_bytes
        self._workers: set[WorkerProcess] = set()
        self._idle: collections.deque[WorkerProcess] = collections.deque()
        self._waiters: collections.deque[asyncio.Future[WorkerProcess]] = collections.deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._started = False
        self._closed = False

    @property
    def limits(self) -> Limits:
        """The default limits."""
        return self._limits

    @property
    def worker_pids(self) -> tuple[int, ...]:
        """Process ids of the live workers (for metrics and tests)."""
        return tuple(sorted(worker.pid for worker in self._workers))

    async def start(self) -> None:
        """Start the workers.

        Raises:
            Unavailable: A worker did not start (the message says why).
        """
        if self._started:
            return
        self._started = True
        results = await asyncio.gather(
            *(self._spawn() for _ in range(self._size)), return_exceptions=True
        )
        for result in results:
            if isinstance(result, WorkerProcess):
                self._workers.add(result)
                self._idle.append(result)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.close()
            raise Unavailable(f"the JavaScript sandbox did not start: {failures[0]}")

    async def close(self) -> None:
        """Stop the workers; evaluations still waiting or running fail with Unavailable."""
        if self._closed:
            return
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(Unavailable("the JavaScript sandbox is shutting down"))
        for task in self._tasks:
            task.cancel()
        idle = set(self._idle)
        self._idle.clear()
        for worker in self._workers - idle:
            worker.kill()
        await asyncio.gather(
            *(worker.stop(kill_after=1.0) for worker in self._workers),
            *self._tasks,
            return_exceptions=True,
        )
        self._workers.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def evaluate(
        self,
        code: str,
        variables: Mapping[str, JsonValue],
        limits: Limits | None = None,
        *,
        mode: Mode = Mode.EXPRESSION,
    ) -> Result:
        """Evaluate ``code`` with ``variables`` as globals, in a fresh context.

        Args:
            code: JavaScript, read according to ``mode``.
            variables: Global variables for the script, as JSON values.
            limits: Limits for this evaluation; the pool's when None.
            mode: How ``code`` is read (see :class:`Mode`).

        Returns:
            The converted value, the console lines and the time the worker took.

        Raises:
            ScriptError: The script failed or hit a limit.
            InvalidArgument: A variable name JavaScript cannot bind.
            Unavailable: The pool is not running.
            InternalError: A bug in the worker.
        """
        limits = limits or self._limits
        if len(code) > limits.max_source_length:
            raise ScriptError(
                f"the script is {len(code):,} characters long; the limit is "
                f"{limits.max_source_length:,}",
                kind=ScriptErrorKind.SOURCE_TOO_LONG,
            )
        body = json.dumps(
            {
                "id": next(self._ids),
                "code": prepare(code, mode),
                "vars": encode_variables(variables),
                "timeout_ms": limits.timeout_ms,
                "memory_bytes": limits.memory_bytes,
                "max_output_bytes": limits.max_output_bytes,
                "max_log_lines": limits.max_log_lines,
            }
        ).encode()
        max_reply = limits.max_output_bytes + limits.max_log_lines * _LOG_LINE_BYTES + _REPLY_SLACK
        worker = await self._acquire()
        try:
            async with asyncio.timeout(limits.timeout_ms / 1000 + self._grace):
                raw = await worker.request(body, max_reply)
            reply = json.loads(raw)
        except TimeoutError:
            logger.warning("sandbox worker %d overran its deadline; killing it", worker.pid)
            self._retire(worker)
            raise ScriptError(_timeout_message(limits), kind=ScriptErrorKind.TIMEOUT) from None
        except WorkerGone as gone:
            self._retire(worker)
            if self._closed:
                raise Unavailable("the JavaScript sandbox is shutting down") from None
            logger.warning("sandbox worker %d died: %s", worker.pid, gone)
            raise ScriptError(
                f"the sandbox crashed while running the script ({describe_exit(gone.returncode)})",
                kind=ScriptErrorKind.CRASHED,
            ) from None
        except ValueError:
            self._retire(worker)
            raise InternalError("the sandbox worker sent a reply that is not JSON") from None
        except BaseException:
            self._retire(worker)
            raise
        self._release(worker)
        if b"\\ud" in raw:
            reply = _without_surrogates(reply)
        return _result(reply, limits)

    async def _spawn(self) -> WorkerProcess:
        return await WorkerProcess.spawn(
            address_space=self._address_space, ready_within=self._start_timeout
        )

    async def _acquire(self) -> WorkerProcess:
        if self._closed or not self._started:
            raise Unavailable("the JavaScript sandbox is not running")
        if self._idle and not self._waiters:
            return self._idle.popleft()
        waiter: asyncio.Future[WorkerProcess] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._release(waiter.result())  # handed a worker just as it was cancelled
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def _release(self, worker: WorkerProcess) -> None:
        if self._closed:  # close() is stopping every worker
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _retire(self, worker: WorkerProcess) -> None:
        """Kill a worker that cannot be reused and start its replacement."""
        worker.kill()
        self._workers.discard(worker)
        if not self._closed:  # else close() reaps it
            self._background(self._replace(worker))

    async def _replace(self, old: WorkerProcess) -> None:
        await old.wait()
        for attempt in itertools.count():
            if self._closed:
                return
            try:
                worker = await self._spawn()
            except WorkerStartError as error:
                delay = _RESTART_DELAYS[min(attempt, len(_RESTART_DELAYS) - 1)]
                logger.error("sandbox worker restart failed, retrying in %.2f s: %s", delay, error)
                await asyncio.sleep(delay)
                continue
            if self._closed:
                await worker.stop(kill_after=1.0)
                return
            self._workers.add(worker)
            self._release(worker)
            return

    def _background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _timeout_message(limits: Limits) -> str:
    return f"the script did not finish within {limits.timeout_ms:,} ms"


def _size(count: int) -> str:
    return f"{count // MiB} MiB" if count % MiB == 0 else f"{count:,} bytes"


def _result(reply: dict[str, Any], limits: Limits) -> Result:
    """Turn a worker's reply into a Result, or raise the ScriptError it describes."""
    logs = tuple(reply.get("logs") or ())
    if reply.get("ok"):
        return Result(value=reply["value"], logs=logs, duration_ms=reply["ms"])
    kind, message, line = reply.get("kind"), str(reply.get("message", "")), reply.get("line")
    if kind == "syntax":
        text = f"{message} (line {line})" if line else message
        raise ScriptError(text, kind=ScriptErrorKind.SYNTAX, logs=logs, line=line)
    if kind == "runtime":
        raise ScriptError(message or "the script failed", kind=ScriptErrorKind.RUNTIME, logs=logs)
    if kind == "timeout":
        raise ScriptError(_timeout_message(limits), kind=ScriptErrorKind.TIMEOUT, logs=logs)
    if kind == "memory":
        raise ScriptError(
            f"the script needed more than {_size(limits.memory_bytes)} of memory",
            kind=ScriptErrorKind.MEMORY,
            logs=logs,
        )
    if kind == "stack":
        raise ScriptError(
            "the script nested calls too deeply (stack overflow)",
            kind=ScriptErrorKind.STACK_OVERFLOW,
            logs=logs,
        )
    if kind == "output":
        raise ScriptError(
            f"the result is larger than {_size(limits.max_output_bytes)} of JSON",
            kind=ScriptErrorKind.OUTPUT_TOO_LARGE,
            logs=logs,
        )
    raise InternalError(f"the sandbox worker failed: {kind}: {message}")


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value
