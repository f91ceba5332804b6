"""The sandbox worker process: runs one script at a time, each in a fresh QuickJS context.

Started by :mod:`ap_avs.sandbox.process` as
``python -I -X faulthandler worker.py <js_dir> <address_space_bytes> <parent_pid>``. It imports
only the standard library and ``quickjs``, never ``ap_avs``, and talks over stdin/stdout in
frames of a 4-byte big-endian length followed by UTF-8 JSON:

* first, out: ``{"ready": true, "pid": …}``;
* then per request ``{"id", "code", "vars", "timeout_ms", "memory_bytes", "max_output_bytes",
  "max_log_lines"}`` one reply, either ``{"id", "ok": true, "ms", "value", "logs"}`` or
  ``{"id", "ok": false, "ms", "kind", "message", "line", "logs"}``.

A context is never reused: state cannot pass from one evaluation to the next. Creating one and
running ``bootstrap.js`` in it takes about 0.3 ms; the libraries are loaded lazily on first use
(lodash about 8 ms, mostly parsing). So that scripts using them do not pay that, the worker keeps
the next context ready (built as soon as it has sent a reply) and one spare context with the
libraries loaded (built after 20 ms without requests, so that its 10 ms do not delay a busy
worker), used for code that mentions ``_``, ``lodash``, ``dayjs``, ``uuid``, ``require`` or
``crypto``.

Limits: QuickJS's malloc limit and stack limit, and its interrupt with the remaining wall-clock
budget (QuickJS measures it in process CPU time, so a busy machine stops scripts late; the parent
kills the worker then). Hardening: the worker dies with its parent (``PR_SET_PDEATHSIG``), has
an address-space limit as a backstop for allocations outside QuickJS, writes no core files and
no files at all (``RLIMIT_FSIZE`` 0), and starts in ``/`` with an environment of ``TZ=UTC``.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import resource
import select
import signal
import struct
import sys
import time
from pathlib import Path
from typing import Any

import quickjs  # type: ignore[import-untyped]

HEADER = struct.Struct(">I")
STACK_BYTES = 1 << 20
LOGS_AFTER_FAILURE_BYTES = 16 << 20
LIBRARY_HINT = re.compile(r"\b(?:_|lodash|dayjs|uuid|require|crypto)\b")
MODULES = ("lodash.min.js", "dayjs.min.js", "uuid.js", "crypto.js", "support.js")
PR_SET_PDEATHSIG = 1
SPARE_AFTER_IDLE_S = 0.02


class _Deadline(Exception):
    """The wall-clock budget is spent."""


class _Failure(Exception):
    def __init__(self, kind: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line


class Engine:
    """Fresh QuickJS contexts with the bootstrap run, and the evaluation loop."""

    def __init__(self, js_dir: Path) -> None:
        self._bootstrap = (js_dir / "bootstrap.js").read_text()
        self._sources = [
            "(function (module, exports, shared) {\n" + (js_dir / filename).read_text() + "\n})"
            for filename in MODULES
        ]
        self.spare: tuple[Any, Any] | None = None
        self.ready: tuple[Any, Any] | None = None

    def fresh(self) -> tuple[Any, Any]:
        """A new context with the bootstrap run in it, and its control function."""
        context = quickjs.Context()
        context.set_max_stack_size(STACK_BYTES)
        return context, context.eval(self._bootstrap)(*self._sources)

    def prepare_ready(self) -> None:
        """Build the context for the next evaluation (about 0.3 ms)."""
        self.ready = self.fresh()

    def prepare_spare(self) -> None:
        """Build a context with the libraries loaded (about 10 ms)."""
        context, ctl = self.fresh()
        ctl("preload")
        self.spare = (context, ctl)

    def _take(self, code: str) -> tuple[Any, Any]:
        if self.spare is not None and LIBRARY_HINT.search(code):
            taken, self.spare = self.spare, None
        elif self.ready is not None:
            taken, self.ready = self.ready, None
        else:
            taken = self.fresh()
        return taken

    def evaluate(self, request: dict[str, Any]) -> bytes:
        start = time.monotonic()
        deadline = start + request["timeout_ms"] / 1000
        code: str = request["code"]
        context, ctl = self._take(code)
        memory = int(request["memory_bytes"])
        context.set_memory_limit(memory)
        try:
            encoded = self._run(context, ctl, request, deadline).encode()
            if len(encoded) > request["max_output_bytes"]:
                raise _Failure("output", "")
        except _Failure as failure:
            logs = _logs(context, ctl, memory)
            return _reply_failure(request["id"], start, failure, logs)
        logs = _logs(context, ctl, memory)
        ms = (time.monotonic() - start) * 1000
        return b'{"id":%d,"ok":true,"ms":%.3f,"value":%b,"logs":%b}' % (
            request["id"],
            ms,
            encoded,
            logs.encode(),
        )

    def _run(self, context: Any, ctl: Any, request: dict[str, Any], deadline: float) -> str:
        try:
            _budget(context, deadline)
            state = ctl(
                "run",
                request["code"],
                request["vars"],
                request["max_log_lines"],
                request["max_output_bytes"],
                os.urandom(32).hex(),
            )
            while state == 0:
                _budget(context, deadline)
                ran = context.execute_pending_job()
                state = ctl("state")
                if state == 0 and not ran:
                    raise _Failure("runtime", "the script's promise never settled")
        except _Deadline:
            raise _Failure("timeout", "") from None
        except quickjs.StackOverflow:
            raise _Failure("stack", "") from None
        except quickjs.JSException as error:
            raise _classify(str(error)) from None
        except MemoryError:
            raise _Failure("memory", "") from None
        if state == 1:
            value: str = ctl("value")
            return value
        try:
            report = json.loads(ctl("error"))
            name, message = report["name"], report["message"]
            failure = _Failure(report["kind"], _message(name, message), report["line"])
        except Exception:  # the script broke what reports errors
            failure = _Failure("runtime", "the script failed")
        raise failure


def _budget(context: Any, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Deadline
    context.set_time_limit(remaining)


def _classify(text: str) -> _Failure:
    first = text.split("\n", 1)[0]
    if first == "InternalError: interrupted":
        return _Failure("timeout", "")
    if first == "InternalError: out of memory":
        return _Failure("memory", "")
    if first == "InternalError: stack overflow":
        return _Failure("stack", "")
    return _Failure("runtime", first[:2000])


def _message(name: str, message: str) -> str:
    return f"{name}: {message}" if name and message else name or message


def _logs(context: Any, ctl: Any, memory: int) -> str:
    """Fetch the console lines, with a little room to build them even after a failure."""
    try:
        context.set_memory_limit(memory + LOGS_AFTER_FAILURE_BYTES)
        context.set_time_limit(0.2)
        logs: str = ctl("logs")
    except Exception:
        return "[]"
    return logs


def _reply_failure(request_id: int, start: float, failure: _Failure, logs: str) -> bytes:
    head = json.dumps(
        {
            "id": request_id,
            "ok": False,
            "ms": round((time.monotonic() - start) * 1000, 3),
            "kind": failure.kind,
            "message": failure.message,
            "line": failure.line,
        },
        separators=(",", ":"),
    )
    return head[:-1].encode() + b',"logs":' + logs.encode() + b"}"


def _readable(timeout: float) -> bool:
    return bool(select.select([0], [], [], timeout)[0])


def _read_exactly(fd: int, count: int) -> bytes | None:
    chunks = []
    while count:
        chunk = os.read(fd, count)
        if not chunk:
            return None
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> bytes | None:
    header = _read_exactly(fd, HEADER.size)
    if header is None:
        return None
    return _read_exactly(fd, HEADER.unpack(header)[0])


def _write_frame(fd: int, body: bytes) -> None:
    view = memoryview(HEADER.pack(len(body)) + body)
    while view:
        view = view[os.write(fd, view) :]


def _harden(address_space: int, parent_pid: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        sys.exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if address_space > 0:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))


def main(argv: list[str]) -> None:
    js_dir, address_space, parent_pid = Path(argv[1]), int(argv[2]), int(argv[3])
    _harden(address_space, parent_pid)
    engine = Engine(js_dir)
    out_fd = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the protocol
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    _write_frame(out_fd, json.dumps({"ready": True, "pid": os.getpid()}).encode())
    while True:
        with contextlib.suppress(Exception):
            if engine.ready is None and not _readable(0):
                engine.prepare_ready()
            if engine.spare is None and not _readable(SPARE_AFTER_IDLE_S):
                engine.prepare_spare()
        body = _read_frame(0)
        if body is None:
            return
        request = json.loads(body)
        try:
            reply = engine.evaluate(request)
        except Exception as error:  # a bug here must not take the worker down
            reply = json.dumps(
                {
                    "id": request.get("id", 0),
                    "ok": False,
                    "kind": "internal",
                    "message": repr(error),
                }
            ).encode()
        _write_frame(out_fd, reply)


if __name__ == "__main__":
    main(sys.argv)
