"""The step journal: ``journal:<executionId>:<iter>:<nodeId>`` entries (intent, then outcome).

One entry per step with an external effect. :meth:`JournalRepo.intend` commits the intent
before the effect is sent (an intent written again, after a restart or a rebuild, replaces the
earlier one), :meth:`JournalRepo.finish` commits its outcome, and
:func:`clear` removes a run's entries inside the transaction that stores the execution record
(``ExecutionRepo.finish``), so a recorded run leaves no journal behind.

Raises:
    CorruptDataError: a stored entry that does not decode.
    StoreError: the store failed.
"""

from __future__ import annotations

from typing import Any

from ap_avs.domain.journal import StepEntry, StepId
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec, keys
from ap_avs.store.kv import KV, Txn


def _key(step: StepId) -> bytes:
    return keys.journal(step.execution_id, step.node_id, step.iteration)


def encode(entry: StepEntry) -> bytes:
    return codec.dumps(
        {
            "kind": entry.kind,
            "attempt": entry.attempt,
            "identity": entry.identity,
            "intentAt": entry.intent_at,
            "outcome": entry.outcome,
            "doneAt": entry.done_at,
        }
    )


def decode(step: StepId, raw: bytes) -> StepEntry:
    data: Any = codec.loads(raw)
    try:
        return StepEntry(
            step=step,
            kind=str(data["kind"]),
            attempt=int(data["attempt"]),
            identity=data.get("identity"),
            intent_at=int(data["intentAt"]),
            outcome=data.get("outcome"),
            done_at=int(data.get("doneAt", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptDataError(f"stored journal entry is malformed: {exc}") from None


def clear(txn: Txn, execution_id: str) -> int:
    """Delete every journal entry of a run (call it in the transaction recording the run)."""
    found = txn.scan_keys(keys.journal_prefix(execution_id))
    for key in found:
        txn.delete(key)
    return len(found)


class JournalRepo:
    """Reads and writes journal entries; each write is one transaction."""

    def __init__(self, kv: KV) -> None:
        self._kv = kv

    async def get(self, step: StepId) -> StepEntry | None:
        raw = await self._kv.get(_key(step))
        return None if raw is None else decode(step, raw)

    async def intend(self, entry: StepEntry) -> StepEntry:
        """Commit ``entry`` as the step's intent (replacing an earlier intent of the same step);
        returns what is stored. An entry that has an outcome is never replaced (it is returned).
        """

        def write(txn: Txn) -> StepEntry:
            key = _key(entry.step)
            raw = txn.get(key)
            if raw is not None and (previous := decode(entry.step, raw)).finished:
                return previous
            txn.put(key, encode(entry))
            return entry

        return await self._kv.update(write)

    async def finish(self, entry: StepEntry) -> None:
        """Commit the outcome of ``entry`` (its ``outcome`` and ``done_at`` set)."""
        await self._kv.put(_key(entry.step), encode(entry))

    async def entries(self, execution_id: str) -> list[StepEntry]:
        """Every entry of a run, in key order."""
        rows = await self._kv.scan(keys.journal_prefix(execution_id))
        found = []
        for key, raw in rows:
            parsed = keys.parse_journal(key)
            found.append(decode(StepId(execution_id, parsed.node_id, parsed.iteration), raw))
        return found
