"""The operator checkpoint: atomic JSON files that survive restarts and bad contents."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ap_avs.operator.checkpoint import CheckpointStore, write_atomically


async def test_round_trip(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "db")
    assert store.load().cursors == {}
    await store.bind_chain(31337)
    await store.save_cursor("block", 120)
    await store.save_cursor("event", 118, {"w": 1_700_000_000})
    await store.save_workflows(["b", "a"])
    again = CheckpointStore(tmp_path / "db").load()
    assert again.chain_id == 31337
    assert again.cursors == {"block": 120, "event": 118}
    assert again.cooldowns == {"w": 1_700_000_000}
    assert again.workflows == {"a", "b"}
    assert sorted(p.name for p in (tmp_path / "db").iterdir()) == [
        "checkpoint.json",
        "workflows.json",
    ]


async def test_another_chain_starts_from_scratch(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.load()
    await store.bind_chain(1)
    await store.save_cursor("block", 99, {"w": 5})
    store = CheckpointStore(tmp_path)
    store.load()
    await store.bind_chain(11155111)
    assert store.cursor("block") is None
    assert CheckpointStore(tmp_path).load().cooldowns == {}


async def test_a_corrupt_file_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.json").write_text("{not json")
    (tmp_path / "workflows.json").write_text(json.dumps({"version": 99, "workflows": ["x"]}))
    state = CheckpointStore(tmp_path).load()
    assert state.cursors == {}
    assert state.workflows == frozenset()
    assert (tmp_path / "checkpoint.json.corrupt").exists()


def test_concurrent_writes_of_one_file_never_collide(tmp_path: Path) -> None:
    """A cancelled save goes on in its thread while the next one starts: each write has its own
    temporary file, so none fails and the file always holds one whole document."""
    target = tmp_path / "workflows.json"
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(50):
                write_atomically(target, {"writer": n, "i": i, "pad": "x" * 1000})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert json.loads(target.read_text())["i"] == 49
    assert [p.name for p in tmp_path.iterdir()] == ["workflows.json"]  # no temporary left
