"""Schema migrations: the ``meta:schema_version`` key and the ordered steps that raise it.

A store records the schema it was written in under ``meta:schema_version`` (decimal). At
start-up, before serving, :func:`run_migrations` brings it to `CURRENT_SCHEMA`:

* a store with no keys at all is new: it is stamped with `CURRENT_SCHEMA`, nothing runs;
* a store with keys but no version was written before versioning: it is version 0;
* every `Migration` above the stored version runs, in order, each in ONE transaction that also
  writes its version, so a crash leaves the store at a whole step and the next start resumes;
* a store whose version is above `CURRENT_SCHEMA` was written by a newer ap-avs: refused.

Every migration is idempotent (running it on a store that does not need it changes nothing), so
a version key lost or restored from an older backup is harmless. ``ap-avs migrate --dry-run``
prints :func:`inspect`'s plan. Add a migration by appending to `MIGRATIONS` with the next
version, and a test that builds a store at the version before it.

=======  ============================  =========================================================
version  name                          what it does
=======  ============================  =========================================================
1        ``count-queued-runs``          builds ``queued:<workflowId>`` from the pending jobs
                                       (stores written before queued runs counted against the
                                       execution budget have none, so the budget let too many
                                       runs wait)
2        ``lower-case-operator-keys``   moves ``operator:<Address>`` to the lower-case key we
                                       read (upstream kept the case the operator sent), keeping
                                       the newest ping, and adds ``last_ping_ms``
=======  ============================  =========================================================

Raises:
    FailedPrecondition: the store is newer than this program.
    CorruptDataError: the version key is not a decimal.
    StoreError: from the store.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ap_avs.engine.queue import QUEUE
from ap_avs.errors import CorruptDataError, FailedPrecondition
from ap_avs.store import codec, keys
from ap_avs.store.keys import QueueState
from ap_avs.store.kv import KV, ReadTxn, Txn

logger = logging.getLogger(__name__)

_QUEUED: Final = keys.queued("x")[:-1]  # b"queued:"


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: ``apply(txn)`` turns a store at ``version - 1`` into one at ``version``.

    ``apply`` must be idempotent and return how many records it changed.
    """

    version: int
    name: str
    summary: str
    apply: Callable[[Txn], int]


@dataclass(frozen=True, slots=True)
class Plan:
    """What :func:`run_migrations` would do to a store."""

    stored: int | None
    """The version in the store; None when it has none (a new store, or version 0)."""
    current: int
    fresh: bool
    """The store has no keys: it is only stamped."""
    pending: tuple[Migration, ...]

    @property
    def effective(self) -> int:
        """The version the store is treated as."""
        if self.stored is not None:
            return self.stored
        return self.current if self.fresh else 0


@dataclass(frozen=True, slots=True)
class Applied:
    """A migration that ran, and how many records it changed."""

    version: int
    name: str
    changed: int


# --- the migrations ----------------------------------------------------------------------------


def _count_queued_runs(txn: Txn) -> int:
    pending: Counter[str] = Counter()
    for _, raw in txn.scan(keys.queue_prefix(QUEUE, QueueState.PENDING)):
        record = codec.loads(raw)
        workflow_id = record.get("n") if isinstance(record, dict) else None
        if isinstance(workflow_id, str):
            pending[workflow_id] += 1
    wanted = {keys.queued(wf): codec.encode_int(count) for wf, count in pending.items()}
    changed = 0
    for key in txn.scan_keys(_QUEUED):
        if key not in wanted:
            txn.delete(key)
            changed += 1
    for key, value in wanted.items():
        if txn.get(key) != value:
            txn.put(key, value)
            changed += 1
    return changed


def _ping_ms(record: Mapping[str, object]) -> int:
    ms, seconds = record.get("last_ping_ms"), record.get("last_ping")
    if isinstance(ms, int):
        return ms
    return seconds * 1000 if isinstance(seconds, int) else 0


def _lower_case_operator_keys(txn: Txn) -> int:
    changed = 0
    for key in txn.scan_keys(keys.OPERATORS):
        raw = txn.get(key)  # read now: an earlier step may have merged into this key
        record = codec.loads(raw) if raw is not None else None
        if not isinstance(record, dict):
            continue
        address = key[len(keys.OPERATORS) :].decode(errors="replace")
        try:
            target = keys.operator(address)
        except ValueError:
            logger.warning("operator record %r: not an address, left as is", key)
            continue
        if "last_ping_ms" not in record:
            record["last_ping_ms"] = _ping_ms(record)
        if target != key:
            txn.delete(key)
            changed += 1
            existing = txn.get(target)
            current = codec.loads(existing) if existing is not None else None
            if isinstance(current, dict) and _ping_ms(current) >= _ping_ms(record):
                continue  # the lower-case record is newer: keep it
        updated = codec.dumps(record)
        if updated != txn.get(target):
            txn.put(target, updated)
            changed += target == key
    return changed


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(
        1,
        "count-queued-runs",
        "build queued:<workflowId> counters from the pending jobs",
        _count_queued_runs,
    ),
    Migration(
        2,
        "lower-case-operator-keys",
        "move operator:<Address> records to lower-case keys and add last_ping_ms",
        _lower_case_operator_keys,
    ),
)
CURRENT_SCHEMA: Final = MIGRATIONS[-1].version
"""The schema version this program writes."""


# --- running them ------------------------------------------------------------------------------


def stored_version(txn: ReadTxn) -> int | None:
    """The version in ``meta:schema_version``, None when absent.

    Raises:
        CorruptDataError: the value is not a decimal.
    """
    raw = txn.get(keys.SCHEMA_VERSION)
    if raw is None:
        return None
    try:
        return codec.decode_int(raw)
    except CorruptDataError:
        raise CorruptDataError(f"meta:schema_version is not a number: {raw[:20]!r}") from None


def plan(stored: int | None, has_keys: bool, migrations: Sequence[Migration] = MIGRATIONS) -> Plan:
    """Pure: what to do to a store at ``stored`` (``has_keys``: it is not empty).

    Raises:
        FailedPrecondition: ``stored`` is above the last migration's version.
    """
    current = migrations[-1].version if migrations else 0
    fresh = stored is None and not has_keys
    at = stored if stored is not None else (current if fresh else 0)
    if at > current:
        raise FailedPrecondition(
            f"the store has schema version {at}, newer than this program's {current}: "
            "run a newer ap-avs (or restore a backup written by this version)"
        )
    pending = tuple(m for m in migrations if m.version > at)
    return Plan(stored, current, fresh, pending)


def _plan_in(txn: ReadTxn, migrations: Sequence[Migration]) -> Plan:
    has_keys = bool(txn.scan_keys(b"", limit=1))
    return plan(stored_version(txn), has_keys, migrations)


async def inspect(kv: KV, migrations: Sequence[Migration] = MIGRATIONS) -> Plan:
    """The plan for ``kv`` (what ``migrate --dry-run`` lists); writes nothing.

    Raises:
        FailedPrecondition: the store is newer than this program.
    """
    return await kv.view(lambda txn: _plan_in(txn, migrations))


async def run_migrations(kv: KV, migrations: Sequence[Migration] = MIGRATIONS) -> list[Applied]:
    """Bring ``kv`` to the last migration's version (call before serving); returns what ran.

    Raises:
        FailedPrecondition: the store is newer than this program; nothing is written.
    """
    first = await inspect(kv, migrations)
    if first.fresh:

        def stamp(txn: Txn) -> None:
            if not txn.scan_keys(b"", limit=1):  # still empty: nobody wrote meanwhile
                txn.put(keys.SCHEMA_VERSION, codec.encode_int(first.current))

        await kv.update(stamp)
        if await kv.get(keys.SCHEMA_VERSION) is not None:
            logger.info("new store: schema version %d", first.current)
            return []
    applied: list[Applied] = []
    for migration in migrations:

        def step(txn: Txn, migration: Migration = migration) -> int | None:
            now = _plan_in(txn, migrations).effective
            if now >= migration.version:
                return None  # done already (by an earlier run)
            changed = migration.apply(txn)
            txn.put(keys.SCHEMA_VERSION, codec.encode_int(migration.version))
            return changed

        changed = await kv.update(step)
        if changed is not None:
            logger.info(
                "migration %d %s: %d records changed", migration.version, migration.name, changed
            )
            applied.append(Applied(migration.version, migration.name, changed))
    return applied
