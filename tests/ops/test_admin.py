"""The admin console: a 0600 unix socket (other users refused), every command through it, and
the same commands directly on a stopped store (``ap-avs admin``)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import stat
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ap_avs.errors import (
    ConfigError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from ap_avs.ops.admin import AdminHandlers
from ap_avs.ops.admin_socket import AdminServer, admin_call, admin_socket_path
from ap_avs.ops.backup import Backups, BackupSettings
from ap_avs.ops.lock import StoreLock
from ap_avs.ops.migrations import run_migrations
from ap_avs.store import LmdbKV, codec, keys
from ap_avs.store.keys import QueueState
from ap_avs.store.workflows import WorkflowRepo

from .support import NOW, OWNER, WALLET, WriteLoad, ops_typer, write_config

MIB = 1 << 20
OP_A = "0x" + "a1" * 20
OP_B = "0x" + "b2" * 20
NOBODY = 65534


class FakeDispatcher:
    """The two methods the console and the telemetry page read from the dispatcher."""

    def __init__(self, live: Mapping[str, object], assigned: Mapping[str, set[str]]) -> None:
        self._live = dict(live)
        self._assigned = dict(assigned)

    def live_operators(self) -> Mapping[str, object]:
        return self._live

    def assigned_to(self, address: str) -> set[str]:
        return set(self._assigned.get(address.lower(), ()))


def ping(address: str, block: int, events: int, last_ping_ms: int) -> bytes:
    return codec.dumps(
        {
            "address": address,
            "version": "0.1.0",
            "last_ping": last_ping_ms // 1000,
            "last_ping_ms": last_ping_ms,
            "block_number": block,
            "event_count": events,
        }
    )


def as_dict(value: object) -> dict[str, Any]:
    assert isinstance(value, dict)
    return value


def as_rows(value: object) -> list[dict[str, Any]]:
    assert isinstance(value, list)
    return [row for row in value if isinstance(row, dict)]


@dataclass
class Console:
    kv: LmdbKV
    path: Path
    load: WriteLoad
    backups: Backups


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    kv = LmdbKV(tmp_path / "db", map_size=MIB)
    await run_migrations(kv)
    load = WriteLoad(kv)
    for _ in range(3):
        await load.create()
    await kv.put(keys.operator(OP_A), ping(OP_A, 100, 7, NOW))
    await kv.put(keys.operator(OP_B), ping(OP_B, 90, 3, NOW - 60_000))
    backups = Backups(kv, BackupSettings(tmp_path / "db", tmp_path / "backups"))
    dispatcher = FakeDispatcher({OP_A: object()}, {OP_A: {load.ids[0]}})
    handlers = AdminHandlers(kv, queue=load.queue, operators=dispatcher, backups=backups, live=True)
    path = tmp_path / "admin.sock"
    server = AdminServer(path, handlers)
    stop = asyncio.Event()
    task = asyncio.create_task(server.run(stop))
    try:
        yield Console(kv, path, load, backups)
    finally:
        stop.set()
        await task
        await kv.close()
    assert not path.exists()  # removed on stop


async def test_the_socket_is_0600_and_every_command_answers(console: Console) -> None:
    assert stat.S_IMODE(console.path.stat().st_mode) == 0o600
    call = admin_call
    path = console.path
    first = console.load.ids[0]

    listed = await call(path, "keys", {"prefix": "t:a:", "limit": 2})
    assert listed == {"keys": [f"t:a:{i}" for i in console.load.ids[:2]], "more": True}
    rest = await call(path, "keys", {"prefix": "t:a:", "start": f"t:a:{console.load.ids[1]}"})
    assert rest == {"keys": [f"t:a:{console.load.ids[2]}"], "more": False}

    got = as_dict(await call(path, "get", {"key": f"t:a:{first}"}))
    assert got["json"]["id"] == first
    assert await call(path, "get", {"key": "meta:schema_version"}) == {
        "key": "meta:schema_version",
        "size": 1,
        "json": 2,
    }

    shown = await call(path, "workflow", {"id": first.upper()})
    assert isinstance(shown, dict)
    assert shown["t_keys"] == [f"t:a:{first}"]
    assert shown["u_entry"] == {"key": f"u:{OWNER}:{WALLET}:{first}", "value": "0"}
    assert shown["counters"] == {
        "executions_recorded": 0,
        "executions_removed": 0,
        "running": 0,
        "queued": 0,
    }

    triggered = await call(path, "trigger", {"id": first})
    assert isinstance(triggered, dict)
    assert triggered["queued_runs"] == 1
    assert await call(path, "queue") == {
        "pending": 1,
        "in_progress": 0,
        "complete": 0,
        "failed": 0,
    }
    shown = await call(path, "workflow", {"id": first})
    assert isinstance(shown, dict)
    assert shown["counters"] == {
        "executions_recorded": 0,
        "executions_removed": 0,
        "running": 0,
        "queued": 1,
    }

    operators = await call(path, "operators")
    assert isinstance(operators, list)
    rows = [(o["address"], o["connected"], o["assigned_workflows"]) for o in as_rows(operators)]
    assert rows == [(OP_A, True, 1), (OP_B, False, 0)]

    snapshot = as_dict(await call(path, "backup"))
    assert snapshot["integrity"]["ok"]
    assert Path(str(snapshot["path"])).parent == console.backups.settings.backup_dir

    await console.kv.put(b"scratch", b"\xff\x00")
    assert await call(path, "get", {"key": "scratch"}) == {
        "key": "scratch",
        "size": 2,
        "base64": "/wA=",
    }
    assert await call(path, "delete", {"key": "scratch"}) == {"deleted": "scratch"}
    assert await console.kv.get(b"scratch") is None


async def test_errors_come_back_as_the_same_classes(console: Console) -> None:
    with pytest.raises(NotFound, match="no key"):
        await admin_call(console.path, "get", {"key": "nothing"})
    with pytest.raises(NotFound, match="no workflow"):
        await admin_call(console.path, "workflow", {"id": "01" + "0" * 24})
    with pytest.raises(InvalidArgument, match="unknown command"):
        await admin_call(console.path, "set")
    with pytest.raises(InvalidArgument, match="limit"):
        await admin_call(console.path, "keys", {"limit": 0})
    with pytest.raises(FailedPrecondition, match="stopped store"):
        await admin_call(console.path, "integrity")

    # Garbage on the wire gets an answer, and the connection stays usable.
    reader, writer = await asyncio.open_unix_connection(str(console.path))
    writer.write(b"not json\n" + json.dumps({"command": "queue"}).encode() + b"\n")
    bad, good = json.loads(await reader.readline()), json.loads(await reader.readline())
    writer.close()
    await writer.wait_closed()
    assert (bad["ok"], bad["kind"], good["ok"]) == (False, "InvalidArgument", True)


async def test_a_stale_socket_is_replaced_and_a_live_one_is_not(
    console: Console, tmp_path: Path
) -> None:
    handlers = AdminHandlers(console.kv)
    with pytest.raises(ConfigError, match="another server listens"):
        AdminServer(console.path, handlers)

    stale = tmp_path / "stale.sock"
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(stale))
    leftover.close()  # bound, never listening: what a killed server leaves
    server = AdminServer(stale, handlers)
    stop = asyncio.Event()
    stop.set()
    await server.run(stop)
    assert not stale.exists()

    plain = tmp_path / "plain.txt"
    plain.write_text("keep me")
    with pytest.raises(ConfigError, match="not a socket"):
        AdminServer(plain, handlers)
    assert plain.read_text() == "keep me"
    with pytest.raises(ConfigError, match="cannot listen"):
        AdminServer(tmp_path / ("x" * 120), handlers)
    with pytest.raises(Unavailable):
        await admin_call(tmp_path / "nobody.sock", "queue")


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")
async def test_other_users_are_refused(tmp_path: Path) -> None:
    shared = Path(tempfile.mkdtemp(prefix="ap-avs-admin-"))  # traversable by everyone
    try:
        os.chmod(shared, 0o755)
        path = shared / "admin.sock"
        async with LmdbKV(tmp_path / "db", map_size=MIB) as kv:
            server = AdminServer(path, AdminHandlers(kv))
            stop = asyncio.Event()
            task = asyncio.create_task(server.run(stop))
            try:
                assert await as_nobody(path) == "EACCES"  # the 0600 file keeps others out
                path.chmod(0o666)  # loosened by mistake: the peer check still refuses
                answer = json.loads(await as_nobody(path))
                assert (answer["ok"], answer["kind"]) == (False, "PermissionDenied")
            finally:
                stop.set()
                await task
    finally:
        shutil.rmtree(shared, ignore_errors=True)


async def as_nobody(path: Path) -> str:
    """Connect to ``path`` as uid 65534 and return what the server says first (or EACCES)."""
    script = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        "    s.connect(sys.argv[1])\n"
        "except PermissionError:\n"
        "    print('EACCES'); sys.exit(0)\n"
        "s.settimeout(5)\n"
        "print(s.makefile().readline().strip())  # refused: the server speaks first\n"
    )
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    proc = await asyncio.create_subprocess_exec(
        python,
        "-I",
        "-S",
        "-c",
        script,
        str(path),
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        cwd="/",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    return out.decode().strip()


def test_default_socket_path_is_one_per_store(tmp_path: Path) -> None:
    assert admin_socket_path("/run/ap.sock", "db") == Path("/run/ap.sock")
    one = admin_socket_path("", str(tmp_path / "a"))
    assert one == admin_socket_path("", str(tmp_path / "a" / ".." / "a"))
    assert one != admin_socket_path("", str(tmp_path / "b"))
    assert one.parent == Path(tempfile.gettempdir())
    assert one.name.endswith(".sock")


def test_admin_cli_works_on_a_stopped_store_and_not_behind_a_server(tmp_path: Path) -> None:
    db = tmp_path / "db"

    async def build() -> list[str]:
        async with LmdbKV(db, map_size=MIB) as kv:
            await run_migrations(kv)
            load = WriteLoad(kv)
            for _ in range(2):
                await load.create()
            return load.ids

    ids = asyncio.run(build())
    config = write_config(tmp_path / "aggregator.yaml", db, socket_path=str(tmp_path / "s.sock"))
    app, runner = ops_typer(), CliRunner()

    listed = runner.invoke(app, ["admin", "-c", str(config), "keys", "t:"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.split() == [f"t:a:{i}" for i in ids]

    triggered = runner.invoke(app, ["admin", "-c", str(config), "trigger", ids[0]])
    assert triggered.exit_code == 0, triggered.output
    queue = runner.invoke(app, ["admin", "-c", str(config), "queue"])
    assert json.loads(queue.output)["pending"] == 1  # runs when the aggregator starts

    checked = runner.invoke(app, ["admin", "-c", str(config), "integrity"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.output)["ok"] is True

    backup = runner.invoke(app, ["backup", "-c", str(config)])
    assert backup.exit_code == 0, backup.output
    assert json.loads(backup.output)["key_counts"]["t"] == 2

    refused = runner.invoke(app, ["admin", "-c", str(config), "delete", "t:zz"], input="n\n")
    assert refused.exit_code == 1  # not confirmed

    with StoreLock.acquire(db):  # a server holds the store but its socket is elsewhere
        held = runner.invoke(app, ["admin", "-c", str(config), "queue"])
    assert held.exit_code == 2
    assert "held by process" in held.output
    assert "socket_path" in held.output

    async def statuses() -> tuple[int, int]:
        async with LmdbKV(db) as kv:
            wf = await WorkflowRepo(kv).get(ids[0])
            assert wf is not None
            return await kv.count(keys.queue_prefix("default", QueueState.PENDING)), int(wf.status)

    assert asyncio.run(statuses()) == (1, 0)


async def test_close_releases_a_server_that_never_ran(tmp_path: Path) -> None:
    async with LmdbKV(tmp_path / "db", map_size=MIB) as kv:
        server = AdminServer(tmp_path / "a.sock", AdminHandlers(kv))
        server.close()
        server.close()
        assert not (tmp_path / "a.sock").exists()
        AdminServer(tmp_path / "a.sock", AdminHandlers(kv)).close()  # the path is free again
