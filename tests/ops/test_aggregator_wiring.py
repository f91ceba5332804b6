"""The ops pieces wired into the aggregator: migrations stamp the store before serving, the
store lock refuses a restore, the admin socket answers, /telemetry is served; a newer store is
refused at start.
"""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from ap_avs.errors import FailedPrecondition
from ap_avs.ops.admin_socket import admin_call, admin_socket_path
from ap_avs.ops.backup import read_manifest
from ap_avs.ops.migrations import CURRENT_SCHEMA
from ap_avs.ops.restore import restore
from ap_avs.store import LmdbKV, codec, keys
from ap_avs.testing import aggregator_config, running_aggregator


async def test_a_running_aggregator_serves_the_ops_pieces(tmp_path: Path) -> None:
    db = tmp_path / "db"
    config = aggregator_config(db, socket_path=str(tmp_path / "admin.sock"))
    socket = admin_socket_path(config.socket_path, config.db_path)
    async with running_aggregator(config) as server:
        assert stat.S_IMODE(socket.stat().st_mode) == 0o600
        assert await admin_call(socket, "get", {"key": "meta:schema_version"}) == {
            "key": "meta:schema_version",
            "size": 1,
            "json": CURRENT_SCHEMA,
        }
        assert await admin_call(socket, "queue") == {
            "pending": 0,
            "in_progress": 0,
            "complete": 0,
            "failed": 0,
        }
        result = await admin_call(socket, "backup")
        assert isinstance(result, dict)
        snapshot = read_manifest(Path(str(result["path"])))
        assert snapshot.manifest.integrity is not None
        assert snapshot.manifest.integrity["ok"]
        with pytest.raises(FailedPrecondition, match="in use"):
            await restore(snapshot.path, db)
        async with httpx.AsyncClient() as client:
            page = await client.get(f"http://127.0.0.1:{server.http_port}/telemetry")
            data = (await client.get(f"http://127.0.0.1:{server.http_port}/telemetry.json")).json()
        assert page.status_code == 200
        assert "ap-avs aggregator" in page.text
        assert data["queue"] == {"pending": 0, "in_progress": 0}
    assert not socket.exists()
    done = await restore(snapshot.path, db)  # stopped now: allowed
    assert done.aside is not None


async def test_the_aggregator_refuses_a_newer_store(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with LmdbKV(db) as kv:
        await kv.put(keys.SCHEMA_VERSION, codec.encode_int(CURRENT_SCHEMA + 1))
    with pytest.raises(FailedPrecondition, match="newer than this program"):
        async with running_aggregator(aggregator_config(db, socket_path=str(tmp_path / "s"))):
            pass
