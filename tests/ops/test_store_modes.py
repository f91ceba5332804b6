"""The store is private: its folder 0700 and files 0600 from the first start, a loose folder
tightened (and logged) at start, and backups written 0600 in 0700 folders."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ap_avs.ops import admin_call, admin_socket_path
from ap_avs.testing import aggregator_config, running_aggregator


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """A common umask (022): without our own modes, files would be world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    """Mode of ``root`` and of everything under it, by path relative to ``root``."""
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(root: Path) -> dict[str, int]:
    found = modes(root)
    loose = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != (0o700 if (root / name).is_dir() else 0o600)
    }
    assert not loose, loose
    return found


async def test_a_new_store_is_private_from_the_first_start(tmp_path: Path) -> None:
    db = tmp_path / "db"
    async with running_aggregator(aggregator_config(db, jwt_secret=None)):
        found = assert_private(db)
    for name in ("data.mdb", "lock.mdb", "secrets.key", "jwt.secret", "ap-avs.lock"):
        assert name in found


async def test_a_loose_store_is_tightened_at_start_and_it_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "db"
    cfg = aggregator_config(db)
    async with running_aggregator(cfg):
        pass
    os.chmod(db, 0o755)
    for path in db.iterdir():
        os.chmod(path, 0o644)
    assert modes(db)["data.mdb"] == 0o644
    with caplog.at_level(logging.WARNING, logger="ap_avs.aggregator.app"):
        async with running_aggregator(cfg):
            assert_private(db)
    said = [r.getMessage() for r in caplog.records if "permissions tightened" in r.getMessage()]
    assert any(f"{db}: 0755 -> 0700" in line for line in said), said
    assert any(f"{db / 'data.mdb'}: 0644 -> 0600" in line for line in said), said


async def test_backups_are_written_private(tmp_path: Path) -> None:
    db = tmp_path / "db"
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o755)
    os.chmod(backups, 0o755)  # left open by someone: tightened at the first backup
    cfg = aggregator_config(db, backup={"backup_dir": str(backups)})
    async with running_aggregator(cfg):
        socket = admin_socket_path(cfg.socket_path, cfg.db_path)
        taken = await admin_call(socket, "backup")
        assert isinstance(taken, dict)
    snapshot = Path(str(taken["path"]))
    found = assert_private(backups)
    assert found[f"{snapshot.name}/data.mdb"] == 0o600
    assert found[f"{snapshot.name}/manifest.json"] == 0o600
    assert found[f"{snapshot.name}/secrets.key"] == 0o600
