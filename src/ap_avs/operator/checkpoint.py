"""The operator's small persistent state under ``db_path``: chain cursors and watched ids.

Two JSON files, each replaced atomically (write a temporary file, fsync, rename):

=====================  ==================================================================
``checkpoint.json``    ``{"version", "chain_id", "cursors": {watcher: last processed block},
                       "cooldowns": {workflow id: block timestamp (s) of its last firing}}``
``workflows.json``     ``{"version", "workflows": [ids of chain-watched workflows]}``
=====================  ==================================================================

The cursor is the source of truth for chain watchers (LESSONS.md 6): after a restart they
continue from it. Deduplication of firings re-sent after a crash is the aggregator's job (it
keeps persistent idempotency keys), so a cursor is written only *after* the firings up to it
were delivered: at-least-once. The id list lets a restarted operator hold its chain cursors
until the aggregator has re-sent those workflows (see :mod:`ap_avs.operator.roster`).

A file that does not parse is set aside as ``*.corrupt`` and the state starts empty (logged).
Nothing here raises for a missing or bad file; an unwritable ``db_path`` raises ``OSError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

logger = logging.getLogger(__name__)

VERSION: Final = 1
STATE_FILE: Final = "checkpoint.json"
WORKFLOWS_FILE: Final = "workflows.json"


@dataclass(slots=True)
class Checkpoint:
    """What was read back at start-up."""

    chain_id: int | None = None
    cursors: dict[str, int] = field(default_factory=dict)
    cooldowns: dict[str, int] = field(default_factory=dict)
    workflows: frozenset[str] = frozenset()


def write_atomically(path: Path, document: Mapping[str, Any]) -> None:
    """Write a temporary file of its own, then rename it over ``path``.

    The temporary name is unique: a write whose awaiting task was cancelled goes on in its
    thread, and a second write may start meanwhile (the stop's final save, or a restarted
    operator on the same folder). With one shared name, one of them would rename the other's
    half-written file or find it gone (``FileNotFoundError``). Each rename is atomic, so the file
    always holds one whole document."""
    fd, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("operator checkpoint %s is unreadable (%s); starting without it", path, exc)
        with contextlib.suppress(OSError):
            path.rename(path.with_name(path.name + ".corrupt"))
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        logger.warning("operator checkpoint %s has an unknown format; ignoring it", path)
        return None
    return data


def _int_map(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


class CheckpointStore:
    """Reads once, then keeps the state in memory and rewrites a file on each save.

    Usage::

        store = CheckpointStore(Path(cfg.db_path))
        state = store.load()
        await store.save_cursor("block", 1234)
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._state = Checkpoint()
        self._lock = asyncio.Lock()

    def load(self) -> Checkpoint:
        """Read both files (missing or bad files read as empty state).

        Raises:
            OSError: ``directory`` cannot be created.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        state = _read(self.directory / STATE_FILE) or {}
        ids = _read(self.directory / WORKFLOWS_FILE) or {}
        chain_id = state.get("chain_id")
        workflows = ids.get("workflows")
        self._state = Checkpoint(
            chain_id=chain_id if isinstance(chain_id, int) else None,
            cursors=_int_map(state.get("cursors")),
            cooldowns=_int_map(state.get("cooldowns")),
            workflows=frozenset(str(i) for i in workflows)
            if isinstance(workflows, list)
            else frozenset(),
        )
        return self._state

    @property
    def state(self) -> Checkpoint:
        return self._state

    def cursor(self, name: str) -> int | None:
        return self._state.cursors.get(name)

    async def bind_chain(self, chain_id: int) -> None:
        """Forget cursors and cooldowns recorded for another chain."""
        if self._state.chain_id not in (None, chain_id):
            logger.warning(
                "operator checkpoint was for chain %s, now on chain %s: starting from the head",
                self._state.chain_id,
                chain_id,
            )
            self._state.cursors.clear()
            self._state.cooldowns.clear()
        self._state.chain_id = chain_id
        await self._save_state()

    async def save_cursor(
        self, name: str, block: int, cooldowns: Mapping[str, int] | None = None
    ) -> None:
        """Record that watcher ``name`` processed every block up to ``block``."""
        self._state.cursors[name] = block
        if cooldowns is not None:
            self._state.cooldowns = dict(cooldowns)
        await self._save_state()

    async def save_workflows(self, ids: Iterable[str]) -> None:
        """Record the ids of the workflows watched on chain."""
        self._state.workflows = frozenset(ids)
        document = {"version": VERSION, "workflows": sorted(self._state.workflows)}
        async with self._lock:
            await asyncio.to_thread(write_atomically, self.directory / WORKFLOWS_FILE, document)

    async def _save_state(self) -> None:
        document = {
            "version": VERSION,
            "chain_id": self._state.chain_id,
            "cursors": dict(self._state.cursors),
            "cooldowns": dict(self._state.cooldowns),
        }
        async with self._lock:
            await asyncio.to_thread(write_atomically, self.directory / STATE_FILE, document)
