"""The admin console's transport: a local unix socket, 0600, one JSON line each way.

`AdminServer` serves `AdminHandlers` on ``socket_path``; :func:`admin_call` sends one command.

Access: the socket file is created 0600 before it listens, so only its owner (and root) can
connect; each connection's peer credentials (``SO_PEERCRED``) are checked too, so a socket made
readable by mistake still refuses other users. A stale socket file (no server behind it) is
replaced; a live one is not.

Wire: request ``{"command": "keys", "args": {"prefix": "t:"}}``; answer ``{"ok": true,
"result": …}`` or ``{"ok": false, "error": "…", "kind": "NotFound"}`` (an `ap_avs.errors` class
name, raised again as that class by :func:`admin_call`).

Usage::

    admin = AdminServer(admin_socket_path(cfg.socket_path, cfg.db_path), handlers)
    tasks.create_task(admin.run(stop), name="admin")
    ...
    result = await admin_call(path, "workflow", {"id": workflow_id})

Raises:
    ConfigError: the socket cannot be created (path too long, a live server, not a socket).
    Unavailable: (client) no server listens on the socket.
    PermissionDenied: (client) the socket is not ours to use.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import socket
import stat
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from ap_avs import errors
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ApAvsError, ConfigError, InvalidArgument, PermissionDenied, Unavailable
from ap_avs.ops.admin import AdminHandlers

logger = logging.getLogger(__name__)

MAX_LINE: Final = 1 << 20
CALL_TIMEOUT_SECONDS: Final = 600.0


def admin_socket_path(socket_path: str, db_path: str) -> Path:
    """The admin socket: ``socket_path`` when set, else ``ap-avs-<hash of db_path>.sock`` in
    the temp folder (one per store, so two aggregators on a machine do not collide)."""
    if socket_path:
        return Path(socket_path)
    digest = hashlib.sha256(os.fsencode(Path(db_path).resolve())).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"ap-avs-{digest}.sock"


def _peer_uid(writer: asyncio.StreamWriter) -> int | None:
    sock = writer.get_extra_info("socket")
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", raw)
    return int(uid)


def _remove_stale(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise ConfigError(f"config key 'socket_path': {path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(os.fspath(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # nobody listens: left by a process that died
        return
    except OSError as exc:
        raise ConfigError(f"config key 'socket_path': {path} is not usable: {exc}") from None
    finally:
        probe.close()
    raise ConfigError(f"config key 'socket_path': another server listens on {path}")


class AdminServer:
    """Serves `AdminHandlers` on a 0600 unix socket until ``stop``.

    The socket is bound at construction, so a bad path fails at start-up.

    Raises:
        ConfigError: the socket cannot be created.
    """

    def __init__(self, path: Path, handlers: AdminHandlers) -> None:
        self.path = path
        self.handlers = handlers
        self._uid = os.getuid()
        self._connections: set[asyncio.Task[Any]] = set()
        _remove_stale(path)
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(os.fspath(path))
            os.chmod(path, 0o600)  # before listen: nobody can have connected yet
            sock.listen(16)
        except OSError as exc:
            sock.close()
            raise ConfigError(f"config key 'socket_path': cannot listen on {path}: {exc}") from None
        self._socket = sock
        self._inode = path.stat().st_ino
        self._closed = False

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set; then close open connections and remove the socket."""
        try:
            server = await asyncio.start_unix_server(self._serve, sock=self._socket, limit=MAX_LINE)
            logger.info("admin console on %s", self.path)
            try:
                await stop.wait()
            finally:
                server.close()
                for task in list(self._connections):
                    task.cancel()
                if self._connections:
                    await asyncio.wait(self._connections)
                await server.wait_closed()
        finally:
            self.close()

    def close(self) -> None:
        """Release the socket and remove its file (idempotent). `run` does it when it ends;
        call it too when `run` may never have started (a start-up that failed)."""
        if self._closed:
            return
        self._closed = True
        self._socket.close()
        with contextlib.suppress(FileNotFoundError):
            if self.path.stat().st_ino == self._inode:
                self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            uid = _peer_uid(writer)
            if uid is not None and uid not in (self._uid, 0):
                logger.warning("admin console: refused a connection from uid %d", uid)
                await _send(writer, _error(PermissionDenied("not the owner of this server")))
                return
            while line := await reader.readline():
                await _send(writer, await self._answer(line))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except ValueError:  # a line over MAX_LINE
            with contextlib.suppress(ConnectionError):
                await _send(writer, _error(InvalidArgument("request too long")))
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("command"), str):
                raise InvalidArgument('a request is {"command": "…", "args": {…}}')
            args = request.get("args") or {}
            if not isinstance(args, dict):
                raise InvalidArgument("'args' must be an object")
            return {"ok": True, "result": await self.handlers.call(request["command"], args)}
        except ApAvsError as exc:
            return _error(exc)
        except ValueError as exc:  # bad JSON, a key the key space refuses
            return _error(InvalidArgument(str(exc)))
        except Exception:
            logger.exception("admin command failed")
            return _error(errors.InternalError("the command failed; see the server log"))


def _error(exc: ApAvsError) -> dict[str, Any]:
    return {"ok": False, "error": exc.message, "kind": type(exc).__name__}


async def _send(writer: asyncio.StreamWriter, message: Mapping[str, Any]) -> None:
    writer.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
    await writer.drain()


async def admin_call(
    path: Path,
    command: str,
    args: Mapping[str, JsonValue] | None = None,
) -> JsonValue:
    """Send one command to the server on ``path`` and return its result.

    Raises:
        Unavailable: no server listens on ``path``.
        PermissionDenied: the socket is not ours to use.
        ApAvsError: the error the server answered, as the same class.
    """
    try:
        reader, writer = await asyncio.open_unix_connection(os.fspath(path), limit=64 * MAX_LINE)
    except (FileNotFoundError, ConnectionRefusedError):
        raise Unavailable(f"no aggregator listens on {path}") from None
    except PermissionError:
        raise PermissionDenied(
            f"cannot use {path}: the admin socket belongs to another user (it is 0600)"
        ) from None
    try:
        request = {"command": command, "args": dict(args or {})}
        with contextlib.suppress(ConnectionError):  # a refusal is sent before we finish
            await _send(writer, request)
        try:
            line = await asyncio.wait_for(reader.readline(), CALL_TIMEOUT_SECONDS)
        except ConnectionError:
            line = b""
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    if not line:
        raise Unavailable(f"the server on {path} closed the connection")
    answer = json.loads(line)
    if answer.get("ok"):
        result: JsonValue = answer.get("result")
        return result
    kind = getattr(errors, str(answer.get("kind")), None)
    cls = kind if isinstance(kind, type) and issubclass(kind, ApAvsError) else errors.InternalError
    raise cls(str(answer.get("error")))
