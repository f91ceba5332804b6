"""The whole key space of the store: every key is built (and parsed) here and nowhere else.

Layout follows upstream v2.14.3 (PROTOCOL.md §5.1) so data and prefix scans keep their meaning;
``<owner>``, ``<wallet>``, ``<factory>`` and ``<address>`` are ``0x`` + 40 hex digits, lower-cased.

=========================================  ==============================  =====================
key                                        value                           what it is
=========================================  ==============================  =====================
``w:<owner>:<wallet>``                     JSON wallet record              smart wallet
``wsalt:<owner>:<factory>:<salt>``         lower-case wallet address       canonical-address
                                                                           index (salt decimal)
``t:<s>:<taskId>``                         JSON task                       workflow, ``<s>`` =
                                                                           status letter below
``u:<owner>:<wallet>:<taskId>``            decimal task status             workflows of a wallet
``history:<taskId>:<executionId>``         JSON execution                  execution record
``trigger:<taskId>:<executionId>``         ``1`` (pending)                 queued-run marker
``pending:<taskId>:<executionId>``         decimal execution index         pre-allocated run id
``pending_bound:<taskId>:<executionId>``   decimal job id                  pre-allocated id taken
``running:<taskId>:<executionId>``         decimal execution index         run begun, not finished
``failstreak:<taskId>``                     decimal count                   failed runs in a row
                                                                           by a queued job
``execution_index_counter:<taskId>``       decimal counter                 next execution index
``secret:_:<owner>:_:<name>``              raw secret bytes                secret, user scope
``secret:_:<owner>:<workflowId>:<name>``   raw secret bytes                secret, workflow scope
``secret:<orgId>:<owner>:_:<name>``        raw secret bytes                secret, org scope
``operator:<address>``                     JSON operator record            last operator ping
``q:<queue>:<state>:<jobId>``              JSON job                        queue job; ``<state>``
                                                                           q, p, c or f
``q:seq:<queue>``                          decimal last job id             job id sequence
``queued:<workflowId>``                    decimal count                   runs of a workflow
                                                                           waiting in the queue
``idem:<workflowId>:<occurrence>``         JSON or empty (repo decides)    trigger idempotency
``journal:<executionId>:<iter>:<nodeId>``  JSON step entry                 step journal: intent
                                                                           and outcome of an
                                                                           external effect;
                                                                           ``<iter>`` loop
                                                                           iteration or ``_``
``assign:<workflowId>``                    lower-case operator address     operator assignment
``evidence:<address>:<evidenceId>``        JSON refused report             evidence against an
                                                                           operator (id a ULID)
``evidence_count:<address>``               decimal count                   refused reports of an
                                                                           operator
``suspended:<address>``                    JSON ``{at, reason, count}``    suspended operator
``votes:<workflowId>:<occurrence>``        JSON ``{operator: vote}``       quorum votes of one
                                                                           trigger occurrence
``meta:schema_version``                    decimal                         schema version
``apikey:<jti>``                           JSON API key record             issued API key (no
                                                                           token); see below
``retired:<taskId>``                       JSON tally                      executions removed by
                                                                           retention: how many,
                                                                           the newest removed id
``retired_hour:<taskId>:<hour>``           JSON ``{n, ok, ms}``            removed executions by
                                                                           hour of start (stats)
``purge:<workflowId>``                     JSON purge record               a deleted workflow
                                                                           whose records are
                                                                           being (or were) removed
=========================================  ==============================  =====================

API keys (``apikey:``): one record per issued key, under its ``jti`` (a lower-case ULID, so
the family lists in creation order): subject, roles, creation and expiry times, label, and the
revocation time once revoked. A revoked record is kept (listings show it); a token whose
``jti`` has no record, or a revoked or expired one, is refused (``engine/api_keys.py``).

Status letters: ``a`` Enabled (0), ``c`` Completed (1), ``f`` Failed (2), ``x`` Running (4),
``i`` Disabled (5). Queue states: ``q`` pending, ``p`` in progress, ``c`` complete, ``f`` failed.

Where we differ from upstream, on purpose:

* Queue job ids are zero-padded to 20 digits, so byte order is FIFO (upstream's decimal ids put
  10 before 9). A queue may not be named ``seq``, which would collide with ``q:seq:``.
* ``operator:`` keys use the lower-cased address (upstream kept the case the operator sent).
* An unknown status number raises instead of silently becoming ``a``.
* Upstream's ``t:seq``, ``ct:cw:``, ``fl:``, ``fr:`` and ``migration:`` keys are not used.

Ids (task, workflow, execution, org, queue) are printable ASCII without ``:`` or spaces.
Secret names, idempotency occurrences and journal node ids are the *tail* of their key:
everything after the fixed number of separators, so they may contain ``:`` and still parse back
exactly.

Usage::

    key = keys.task(0, "01jd5x...")              # b"t:a:01jd5x..."
    status, task_id = keys.parse_task(key)
    page = await kv.scan(keys.task_prefix(0), limit=50)

Every builder and parser raises `InvalidKeyError` (a ValueError) for a part that would break
the layout, and parsers also for a key that is not in canonical form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final, NamedTuple

from ap_avs.domain.addresses import is_address

JOB_ID_WIDTH: Final = 20
"""Digits of a zero-padded queue job id: enough for any unsigned 64-bit number."""

STATUS_LETTERS: Final[Mapping[int, str]] = MappingProxyType(
    {0: "a", 1: "c", 2: "f", 4: "x", 5: "i"}
)
"""Task status number -> letter in ``t:`` keys."""

_LETTER_STATUS: Final[Mapping[str, int]] = MappingProxyType(
    {letter: status for status, letter in STATUS_LETTERS.items()}
)

TASKS: Final = b"t:"
"""Prefix of every task key, whatever its status."""
OPERATORS: Final = b"operator:"
"""Prefix of every operator record."""
ASSIGNMENTS: Final = b"assign:"
"""Prefix of every operator assignment."""
EVIDENCE: Final = b"evidence:"
"""Prefix of every evidence record (refused trigger reports)."""
EVIDENCE_COUNTS: Final = b"evidence_count:"
"""Prefix of every per-operator count of refused reports."""
SUSPENDED: Final = b"suspended:"
"""Prefix of every operator suspension."""
API_KEYS: Final = b"apikey:"
"""Prefix of every API key record."""
HISTORY: Final = b"history:"
"""Prefix of every execution record."""
SCHEMA_VERSION: Final = b"meta:schema_version"
"""The key holding the schema version."""

_ID = re.compile(r"[!-9;-~]+")  # printable ASCII, no space, no ':'
_PLACEHOLDER: Final = "_"


class InvalidKeyError(ValueError):
    """A key part would break the key layout, or a key is not one this module builds."""


class QueueState(StrEnum):
    """The state segment of a queue job key."""

    PENDING = "q"
    IN_PROGRESS = "p"
    COMPLETE = "c"
    FAILED = "f"


class TaskKey(NamedTuple):
    status: int
    task_id: str


class WalletKey(NamedTuple):
    owner: str
    wallet: str


class UserTaskKey(NamedTuple):
    owner: str
    wallet: str
    task_id: str


class ExecutionKey(NamedTuple):
    task_id: str
    execution_id: str


class SecretKey(NamedTuple):
    owner: str
    name: str
    workflow_id: str | None
    org_id: str | None


class QueueJobKey(NamedTuple):
    queue: str
    state: QueueState
    job_id: int


# --- parts ---------------------------------------------------------------------------------------


def status_letter(status: int) -> str:
    """Return the letter of task status `status` (``0`` -> ``"a"``).

    Raises:
        InvalidKeyError: No letter exists for `status` (3, Canceled, is v1.5.1 only).
    """
    try:
        return STATUS_LETTERS[status]
    except KeyError:
        raise InvalidKeyError(f"no key letter for task status {status!r}") from None


def status_from_letter(letter: str) -> int:
    """Return the task status number of `letter` (``"a"`` -> ``0``).

    Raises:
        InvalidKeyError: `letter` is not a status letter.
    """
    try:
        return _LETTER_STATUS[letter]
    except KeyError:
        raise InvalidKeyError(f"unknown task status letter {letter!r}") from None


def _id(value: str, what: str) -> str:
    if not _ID.fullmatch(value):
        raise InvalidKeyError(f"{what} must be printable ASCII without ':' or spaces: {value!r}")
    return value


def _address(value: str, what: str) -> str:
    if not is_address(value):
        raise InvalidKeyError(f"{what} must be 0x and 40 hex digits: {value!r}")
    return value.lower()


def _tail(value: str, what: str) -> str:
    if not value:
        raise InvalidKeyError(f"{what} must not be empty")
    return value


def _scope(value: str | None, what: str) -> str:
    if value is None:
        return _PLACEHOLDER
    if value == _PLACEHOLDER:
        raise InvalidKeyError(f"{what} {_PLACEHOLDER!r} is reserved as the 'none' marker")
    return _id(value, what)


def _queue(name: str) -> str:
    if name == "seq":
        raise InvalidKeyError("a queue may not be named 'seq' (it would collide with q:seq:)")
    return _id(name, "queue name")


def _parts(key: bytes, family: str, count: int) -> list[str]:
    """Split `key` into its `count` parts after ``family:``; the last part is the tail."""
    try:
        text = key.decode()
    except UnicodeDecodeError:
        raise InvalidKeyError(f"not a {family}: key: {key!r}") from None
    head, sep, rest = text.partition(":")
    parts = rest.split(":", count - 1)
    if head != family or not sep or len(parts) != count:
        raise InvalidKeyError(f"not a {family}: key: {key!r}")
    return parts


def _check_canonical(key: bytes, rebuilt: Callable[[], bytes]) -> None:
    if rebuilt() != key:
        raise InvalidKeyError(f"key is not in canonical form: {key!r}")


# --- wallets -------------------------------------------------------------------------------------


def wallet(owner: str, wallet: str) -> bytes:
    """``w:<owner>:<wallet>``."""
    return f"w:{_address(owner, 'owner')}:{_address(wallet, 'wallet')}".encode()


def wallet_prefix(owner: str) -> bytes:
    """``w:<owner>:``: every wallet of `owner`."""
    return f"w:{_address(owner, 'owner')}:".encode()


def parse_wallet(key: bytes) -> WalletKey:
    owner, address = _parts(key, "w", 2)
    _check_canonical(key, lambda: wallet(owner, address))
    return WalletKey(owner, address)


def wallet_salt(owner: str, factory: str, salt: int) -> bytes:
    """``wsalt:<owner>:<factory>:<salt>`` with the salt in decimal."""
    if salt < 0:
        raise InvalidKeyError(f"salt must be >= 0, got {salt}")
    return f"wsalt:{_address(owner, 'owner')}:{_address(factory, 'factory')}:{salt:d}".encode()


# --- tasks ---------------------------------------------------------------------------------------


def task(status: int, task_id: str) -> bytes:
    """``t:<letter>:<taskId>``."""
    return f"t:{status_letter(status)}:{_id(task_id, 'task id')}".encode()


def task_prefix(status: int) -> bytes:
    """``t:<letter>:``: every task in `status`."""
    return f"t:{status_letter(status)}:".encode()


def parse_task(key: bytes) -> TaskKey:
    letter, task_id = _parts(key, "t", 2)
    status = status_from_letter(letter)
    _check_canonical(key, lambda: task(status, task_id))
    return TaskKey(status, task_id)


def user_task(owner: str, wallet: str, task_id: str) -> bytes:
    """``u:<owner>:<wallet>:<taskId>``."""
    return f"{user_task_prefix(owner, wallet).decode()}{_id(task_id, 'task id')}".encode()


def user_task_prefix(owner: str, wallet: str | None = None) -> bytes:
    """``u:<owner>:`` (every task of `owner`) or ``u:<owner>:<wallet>:`` (of one wallet)."""
    if wallet is None:
        return f"u:{_address(owner, 'owner')}:".encode()
    return f"u:{_address(owner, 'owner')}:{_address(wallet, 'wallet')}:".encode()


def parse_user_task(key: bytes) -> UserTaskKey:
    owner, address, task_id = _parts(key, "u", 3)
    _check_canonical(key, lambda: user_task(owner, address, task_id))
    return UserTaskKey(owner, address, task_id)


# --- executions ----------------------------------------------------------------------------------


def _execution(family: str, task_id: str, execution_id: str) -> bytes:
    return f"{family}:{_id(task_id, 'task id')}:{_id(execution_id, 'execution id')}".encode()


def _execution_prefix(family: str, task_id: str) -> bytes:
    return f"{family}:{_id(task_id, 'task id')}:".encode()


def _parse_execution(key: bytes, family: str) -> ExecutionKey:
    task_id, execution_id = _parts(key, family, 2)
    _check_canonical(key, lambda: _execution(family, task_id, execution_id))
    return ExecutionKey(task_id, execution_id)


def history(task_id: str, execution_id: str) -> bytes:
    """``history:<taskId>:<executionId>``."""
    return _execution("history", task_id, execution_id)


def history_prefix(task_id: str) -> bytes:
    """``history:<taskId>:``: every execution of a task, oldest first (ULID order)."""
    return _execution_prefix("history", task_id)


def parse_history(key: bytes) -> ExecutionKey:
    return _parse_execution(key, "history")


def trigger(task_id: str, execution_id: str) -> bytes:
    """``trigger:<taskId>:<executionId>``."""
    return _execution("trigger", task_id, execution_id)


def trigger_prefix(task_id: str) -> bytes:
    """``trigger:<taskId>:``."""
    return _execution_prefix("trigger", task_id)


def parse_trigger(key: bytes) -> ExecutionKey:
    return _parse_execution(key, "trigger")


def pending(task_id: str, execution_id: str) -> bytes:
    """``pending:<taskId>:<executionId>``."""
    return _execution("pending", task_id, execution_id)


def running(task_id: str, execution_id: str) -> bytes:
    """``running:<taskId>:<executionId>``: a run that was counted and has not finished (a crash
    leaves it, so the rerun reuses its index instead of counting twice)."""
    return _execution("running", task_id, execution_id)


def failure_streak(task_id: str) -> bytes:
    """``failstreak:<taskId>``: how many runs in a row failed (reset by a good run)."""
    return f"failstreak:{_id(task_id, 'task id')}".encode()


def pending_prefix(task_id: str) -> bytes:
    """``pending:<taskId>:``; the first key is the lowest (oldest) pre-allocated id."""
    return _execution_prefix("pending", task_id)


def parse_pending(key: bytes) -> ExecutionKey:
    return _parse_execution(key, "pending")


def pending_bound(task_id: str, execution_id: str) -> bytes:
    """``pending_bound:<taskId>:<executionId>``: the pre-allocated id is bound to a queued job
    (so a second trigger does not take it too); removed when the job finishes."""
    return _execution("pending_bound", task_id, execution_id)


def execution_index_counter(task_id: str) -> bytes:
    """``execution_index_counter:<taskId>``."""
    return f"execution_index_counter:{_id(task_id, 'task id')}".encode()


# --- secrets -------------------------------------------------------------------------------------


def secret_prefix(
    owner: str, *, workflow_id: str | None = None, org_id: str | None = None
) -> bytes:
    """``secret:<orgId|_>:<owner>:<workflowId|_>:``: the secrets of exactly one scope.

    Raises:
        InvalidKeyError: Both `workflow_id` and `org_id` are given (no such scope).
    """
    if workflow_id is not None and org_id is not None:
        raise InvalidKeyError("a secret is scoped to an org or to a workflow, not both")
    org = _scope(org_id, "org id")
    workflow = _scope(workflow_id, "workflow id")
    return f"secret:{org}:{_address(owner, 'owner')}:{workflow}:".encode()


def secret(
    owner: str, name: str, *, workflow_id: str | None = None, org_id: str | None = None
) -> bytes:
    """``secret:<orgId|_>:<owner>:<workflowId|_>:<name>``; `name` may contain ``:``."""
    prefix = secret_prefix(owner, workflow_id=workflow_id, org_id=org_id)
    return prefix + _tail(name, "secret name").encode()


def owner_secrets_prefix(owner: str) -> bytes:
    """``secret:_:<owner>:``: the user- and workflow-scoped secrets of `owner` (not org)."""
    return f"secret:_:{_address(owner, 'owner')}:".encode()


def parse_secret(key: bytes) -> SecretKey:
    org, owner, workflow, name = _parts(key, "secret", 4)
    org_id = None if org == _PLACEHOLDER else org
    workflow_id = None if workflow == _PLACEHOLDER else workflow
    _check_canonical(key, lambda: secret(owner, name, workflow_id=workflow_id, org_id=org_id))
    return SecretKey(owner, name, workflow_id, org_id)


# --- operators -----------------------------------------------------------------------------------


def operator(address: str) -> bytes:
    """``operator:<address>``, lower-cased."""
    return OPERATORS + _address(address, "operator address").encode()


def parse_operator(key: bytes) -> str:
    """Return the (lower-case) operator address of an ``operator:`` key."""
    (address,) = _parts(key, "operator", 1)
    _check_canonical(key, lambda: operator(address))
    return address


def assign(workflow_id: str) -> bytes:
    """``assign:<workflowId>``: which operator watches the workflow's trigger."""
    return ASSIGNMENTS + _id(workflow_id, "workflow id").encode()


def parse_assign(key: bytes) -> str:
    """Return the workflow id of an ``assign:`` key."""
    (workflow_id,) = _parts(key, "assign", 1)
    _check_canonical(key, lambda: assign(workflow_id))
    return workflow_id


# --- accountability ------------------------------------------------------------------------------


def evidence(address: str, evidence_id: str) -> bytes:
    """``evidence:<address>:<evidenceId>``: one refused report of an operator (oldest first)."""
    return evidence_prefix(address) + _id(evidence_id, "evidence id").encode()


def evidence_prefix(address: str) -> bytes:
    """``evidence:<address>:``: every refused report of one operator."""
    return EVIDENCE + _address(address, "operator address").encode() + b":"


def parse_evidence(key: bytes) -> tuple[str, str]:
    """Return ``(address, evidence id)`` of an ``evidence:`` key."""
    address, evidence_id = _parts(key, "evidence", 2)
    _check_canonical(key, lambda: evidence(address, evidence_id))
    return address, evidence_id


def evidence_count(address: str) -> bytes:
    """``evidence_count:<address>``: how many reports of the operator were refused."""
    return EVIDENCE_COUNTS + _address(address, "operator address").encode()


def suspended(address: str) -> bytes:
    """``suspended:<address>``: the operator may not report or watch until lifted."""
    return SUSPENDED + _address(address, "operator address").encode()


def parse_suspended(key: bytes) -> str:
    (address,) = _parts(key, "suspended", 1)
    _check_canonical(key, lambda: suspended(address))
    return address


def votes(workflow_id: str, occurrence: str) -> bytes:
    """``votes:<workflowId>:<occurrence>``: the quorum votes on one occurrence (tail may hold
    ``:``)."""
    return votes_prefix(workflow_id) + _tail(occurrence, "occurrence").encode()


def votes_prefix(workflow_id: str) -> bytes:
    """``votes:<workflowId>:``: every quorum vote record of one workflow."""
    return f"votes:{_id(workflow_id, 'workflow id')}:".encode()


# --- queue ---------------------------------------------------------------------------------------


def queue_job(queue: str, state: QueueState, job_id: int) -> bytes:
    """``q:<queue>:<state>:<jobId>`` with the id zero-padded to `JOB_ID_WIDTH` digits."""
    if not 0 <= job_id < 10**JOB_ID_WIDTH:
        raise InvalidKeyError(f"job id must be 0 <= id < 10**{JOB_ID_WIDTH}, got {job_id}")
    return f"{queue_prefix(queue, state).decode()}{job_id:0{JOB_ID_WIDTH}d}".encode()


def queue_prefix(queue: str, state: QueueState) -> bytes:
    """``q:<queue>:<state>:``: the jobs of one state, first in first out."""
    return f"q:{_queue(queue)}:{QueueState(state).value}:".encode()


def parse_queue_job(key: bytes) -> QueueJobKey:
    queue, state, digits = _parts(key, "q", 3)
    try:
        job = QueueJobKey(queue, QueueState(state), int(digits))
    except ValueError:
        raise InvalidKeyError(f"not a queue job key: {key!r}") from None
    _check_canonical(key, lambda: queue_job(*job))
    return job


def queue_seq(queue: str) -> bytes:
    """``q:seq:<queue>``: the last job id handed out."""
    return f"q:seq:{_queue(queue)}".encode()


def queued(workflow_id: str) -> bytes:
    """``queued:<workflowId>``: how many of the workflow's jobs wait (not yet claimed)."""
    return f"queued:{_id(workflow_id, 'workflow id')}".encode()


# --- idempotency ---------------------------------------------------------------------------------


def idem(workflow_id: str, occurrence: str) -> bytes:
    """``idem:<workflowId>:<occurrence>``; `occurrence` (the tail) may contain ``:``."""
    return idem_prefix(workflow_id) + _tail(occurrence, "occurrence").encode()


def idem_prefix(workflow_id: str) -> bytes:
    """``idem:<workflowId>:``: every idempotency mark of a workflow (to purge them)."""
    return f"idem:{_id(workflow_id, 'workflow id')}:".encode()


# --- step journal --------------------------------------------------------------------------------


class JournalKey(NamedTuple):
    execution_id: str
    iteration: int | None
    node_id: str


def journal(execution_id: str, node_id: str, iteration: int | None = None) -> bytes:
    """``journal:<executionId>:<iter>:<nodeId>``; ``<iter>`` is the loop iteration in decimal,
    ``_`` outside loops; `node_id` (the tail) may contain ``:``."""
    if iteration is not None and iteration < 0:
        raise InvalidKeyError(f"iteration must be >= 0, got {iteration}")
    it = _PLACEHOLDER if iteration is None else f"{iteration:d}"
    return journal_prefix(execution_id) + f"{it}:{_tail(node_id, 'node id')}".encode()


def journal_prefix(execution_id: str) -> bytes:
    """``journal:<executionId>:``: every journal entry of one run."""
    return f"journal:{_id(execution_id, 'execution id')}:".encode()


def parse_journal(key: bytes) -> JournalKey:
    execution_id, it, node_id = _parts(key, "journal", 3)
    if it != _PLACEHOLDER and not it.isdigit():
        raise InvalidKeyError(f"not a journal key: {key!r}")
    iteration = None if it == _PLACEHOLDER else int(it)
    _check_canonical(key, lambda: journal(execution_id, node_id, iteration))
    return JournalKey(execution_id, iteration, node_id)


# --- API keys ------------------------------------------------------------------------------------


def api_key(jti: str) -> bytes:
    """``apikey:<jti>``: the record of an issued API key."""
    return API_KEYS + _id(jti, "API key id").encode()


def parse_api_key(key: bytes) -> str:
    """Return the ``jti`` of an ``apikey:`` key."""
    (jti,) = _parts(key, "apikey", 1)
    _check_canonical(key, lambda: api_key(jti))
    return jti


# --- retention -----------------------------------------------------------------------------------

HOUR_WIDTH: Final = 8
"""Digits of a zero-padded hour number (hours since the epoch) in ``retired_hour:`` keys."""
PURGES: Final = b"purge:"
"""Prefix of every purge record."""
RETIRED_HOURS: Final = b"retired_hour:"
"""Prefix of every hourly tally of removed executions."""
IDEMPOTENCY: Final = b"idem:"
"""Prefix of every idempotency mark."""


def retired(task_id: str) -> bytes:
    """``retired:<taskId>``: the tally of the task's executions removed by retention."""
    return f"retired:{_id(task_id, 'task id')}".encode()


def retired_hour(task_id: str, hour: int) -> bytes:
    """``retired_hour:<taskId>:<hour>``, the hour (since the epoch) zero-padded."""
    if not 0 <= hour < 10**HOUR_WIDTH:
        raise InvalidKeyError(f"hour must be 0 <= hour < 10**{HOUR_WIDTH}, got {hour}")
    return retired_hour_prefix(task_id) + f"{hour:0{HOUR_WIDTH}d}".encode()


def retired_hour_prefix(task_id: str) -> bytes:
    """``retired_hour:<taskId>:``: the task's hourly tallies, oldest hour first."""
    return _execution_prefix("retired_hour", task_id)


def parse_retired_hour(key: bytes) -> tuple[str, int]:
    """Return ``(task_id, hour)`` of a ``retired_hour:`` key."""
    task_id, digits = _parts(key, "retired_hour", 2)
    if not digits.isdigit():
        raise InvalidKeyError(f"not a retired_hour key: {key!r}")
    _check_canonical(key, lambda: retired_hour(task_id, int(digits)))
    return task_id, int(digits)


def purge(workflow_id: str) -> bytes:
    """``purge:<workflowId>``: a deleted workflow whose records are removed in batches."""
    return PURGES + _id(workflow_id, "workflow id").encode()


def parse_purge(key: bytes) -> str:
    """Return the workflow id of a ``purge:`` key."""
    (workflow_id,) = _parts(key, "purge", 1)
    _check_canonical(key, lambda: purge(workflow_id))
    return workflow_id


def running_prefix(task_id: str) -> bytes:
    """``running:<taskId>:``."""
    return _execution_prefix("running", task_id)


def pending_bound_prefix(task_id: str) -> bytes:
    """``pending_bound:<taskId>:``."""
    return _execution_prefix("pending_bound", task_id)


def workflow_records(workflow_id: str, owner: str | None) -> tuple[tuple[str, bytes, bool], ...]:
    """Every key family that belongs to one workflow, as ``(kind, key or prefix, is_prefix)``:
    what deleting the workflow removes besides its ``t:`` and ``u:`` keys. The secrets scoped to
    the workflow are listed only when its `owner` is known (the owner is part of their key).

    A new per-workflow family is added here. Step journals are per execution and go with its
    record; evidence is per operator and kept for ``retention.evidence_days``.
    """
    found: list[tuple[str, bytes, bool]] = [
        ("history", history_prefix(workflow_id), True),
        ("trigger", trigger_prefix(workflow_id), True),
        ("pending", pending_prefix(workflow_id), True),
        ("pending_bound", pending_bound_prefix(workflow_id), True),
        ("running", running_prefix(workflow_id), True),
        ("idem", idem_prefix(workflow_id), True),
        ("votes", votes_prefix(workflow_id), True),
        ("retired_hour", retired_hour_prefix(workflow_id), True),
        ("retired", retired(workflow_id), False),
        ("failstreak", failure_streak(workflow_id), False),
        ("execution_index_counter", execution_index_counter(workflow_id), False),
        ("queued", queued(workflow_id), False),
        ("assign", assign(workflow_id), False),
    ]
    if owner is not None:
        found.append(("secret", secret_prefix(owner, workflow_id=workflow_id), True))
    return tuple(found)
