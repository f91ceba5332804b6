"""The admin console's commands: `AdminHandlers`, on one store, live or stopped.

The aggregator serves them on its unix socket (``admin_socket.py``); ``ap-avs admin`` sends one
command there, or, when no server answers, runs the same handlers on the stopped store (holding
the store lock, so never behind a live server's back). ``COMMANDS`` lists them.

Usage::

    handlers = AdminHandlers(store, queue=self.queue, operators=self.node.dispatcher,
                             backups=backups, live=True)
    result = await handlers.call("workflow", {"id": workflow_id})

Raises:
    InvalidArgument: an unknown command or a bad argument.
    NotFound: no such key or workflow.
    FailedPrecondition: a command that cannot run here (no backups set up, a workflow that
        cannot run, the integrity walk on a live store, API keys without their service).
    StoreError: from the store.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from ap_avs import errors
from ap_avs.clock import now_ms
from ap_avs.domain.triggers import ManualTriggerConfig
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import TaskStatus
from ap_avs.engine.api_keys import ApiKeyService
from ap_avs.engine.queue import FiredTrigger, JobQueue, TriggerVerdict
from ap_avs.engine.retention import Retention
from ap_avs.engine.retention_policy import read_purge
from ap_avs.errors import FailedPrecondition, InvalidArgument, NotFound
from ap_avs.ops import admin_api_keys
from ap_avs.ops.backup import Backups
from ap_avs.ops.integrity import check_store
from ap_avs.ops.views import OperatorDirectory, key_text, operator_statuses, value_json
from ap_avs.store import codec, keys
from ap_avs.store.evidence import EvidenceRepo
from ap_avs.store.keys import QueueState
from ap_avs.store.kv import KV
from ap_avs.store.retired import read_tally
from ap_avs.store.workflows import WorkflowRepo

logger = logging.getLogger(__name__)

MAX_KEYS: Final = 10_000
RECENT_EXECUTIONS: Final = 5
COMMANDS: Final = {
    "keys": "list keys by prefix (args: prefix, limit=100, start)",
    "get": "show one value (args: key)",
    "delete": "delete one key, raw (args: key)",
    "workflow": "show a workflow, its index entry, counters and recent executions (args: id)",
    "trigger": "queue a run of a workflow now (args: id)",
    "backup": "take a snapshot now",
    "queue": "queue depth by state",
    "operators": "operators: connection, version, last ping, block, events, assignments, "
    "invalid reports, suspension",
    "evidence": "refused trigger reports of an operator, newest first (args: operator, limit=20)",
    "unsuspend": "serve a suspended operator again and restart its count (args: operator)",
    "integrity": "check the store's invariants (stopped store only)",
    "retention": "retention policy, last pass, census, and what each workflow deletion removed "
    "(args: run=false: run a pass now, live only)",
    **admin_api_keys.COMMANDS,
}

TriggerCallback = Callable[[str], Awaitable[dict[str, JsonValue]]]
"""Runs a workflow now; returns what to show (``{"execution_id": …}``)."""


def queued_trigger(
    store: KV, queue: JobQueue, *, now_ms: Callable[[], int] = now_ms
) -> TriggerCallback:
    """A trigger that queues a run as a non-blocking TriggerTask does, with the workflow's own
    trigger kind (and a manual trigger's data). On a stopped store the run waits for the next
    start."""
    workflows = WorkflowRepo(store)

    async def trigger(workflow_id: str) -> dict[str, JsonValue]:
        wf = await workflows.get(workflow_id.lower())
        if wf is None:
            raise NotFound(f"no workflow {workflow_id}")
        config = wf.trigger.config
        data = config.data if isinstance(config, ManualTriggerConfig) else None
        outcome = await queue.enqueue_run(
            wf.id, FiredTrigger(wf.trigger.kind, data), now_ms=now_ms()
        )
        if outcome.verdict is not TriggerVerdict.ACCEPTED:
            raise FailedPrecondition(f"workflow {wf.id} was not queued: {outcome.verdict.value}")
        return {
            "workflow_id": wf.id,
            "execution_id": outcome.execution_id,
            "job_id": outcome.job_id,
            "queued_runs": outcome.queued_runs,
        }

    return trigger


def _text(args: Mapping[str, JsonValue], name: str, *, default: str | None = None) -> str:
    value = args.get(name, default)
    if not isinstance(value, str):
        raise InvalidArgument(f"'{name}' must be a string")
    return value


def _operator(args: Mapping[str, JsonValue]) -> str:
    address = _text(args, "operator").lower()
    try:
        keys.evidence_count(address)
    except ValueError:
        raise InvalidArgument("'operator' must be an address (0x and 40 hex digits)") from None
    return address


def _key(args: Mapping[str, JsonValue]) -> bytes:
    key = _text(args, "key").encode()
    if not 0 < len(key) <= 511:
        raise InvalidArgument("a key must be 1-511 bytes")
    return key


class AdminHandlers:
    """The console's commands on one store (see ``COMMANDS``).

    ``live`` says a server is running on the store: then the whole-store integrity walk is
    refused (it would stall the server; check a backup, whose manifest carries it).
    """

    def __init__(
        self,
        store: KV,
        *,
        queue: JobQueue | None = None,
        operators: OperatorDirectory | None = None,
        backups: Backups | None = None,
        trigger: TriggerCallback | None = None,
        api_keys: ApiKeyService | None = None,
        retention: Retention | None = None,
        live: bool = False,
        on_lift: Callable[[str], None] | None = None,
    ) -> None:
        self.on_lift = on_lift
        self.store = store
        self.queue = queue or JobQueue(store)
        self.operators = operators
        self.backups = backups
        self.trigger = trigger or queued_trigger(store, self.queue)
        self.live = live
        self.retention = retention
        self._table: dict[str, Callable[[Mapping[str, JsonValue]], Awaitable[JsonValue]]] = {
            "keys": self._keys,
            "get": self._get,
            "delete": self._delete,
            "workflow": self._workflow,
            "trigger": self._trigger,
            "backup": self._backup,
            "queue": self._queue,
            "operators": self._operators,
            "evidence": self._evidence,
            "unsuspend": self._unsuspend,
            "integrity": self._integrity,
            **admin_api_keys.handlers(api_keys),
            "retention": self._retention,
        }

    async def call(self, command: str, args: Mapping[str, JsonValue] | None = None) -> JsonValue:
        """Run ``command``.

        Raises:
            InvalidArgument: an unknown command or a bad argument.
            NotFound / FailedPrecondition: as each command says.
        """
        handler = self._table.get(command)
        if handler is None:
            raise InvalidArgument(f"unknown command {command!r}; commands: {', '.join(COMMANDS)}")
        return await handler(args or {})

    async def _keys(self, args: Mapping[str, JsonValue]) -> JsonValue:
        prefix = _text(args, "prefix", default="").encode()
        limit = args.get("limit", 100)
        if not isinstance(limit, int) or not 0 < limit <= MAX_KEYS:
            raise InvalidArgument(f"'limit' must be 1-{MAX_KEYS}")
        start = args.get("start")
        begin = start.encode() if isinstance(start, str) and start else None
        found = await self.store.scan_keys(
            prefix, start=begin, include_start=begin is None, limit=limit + 1
        )
        more = len(found) > limit
        return {"keys": [key_text(k) for k in found[:limit]], "more": more}

    async def _get(self, args: Mapping[str, JsonValue]) -> JsonValue:
        key = _key(args)
        raw = await self.store.get(key)
        if raw is None:
            raise NotFound(f"no key {key_text(key)}")
        return {"key": key_text(key), **value_json(raw)}

    async def _delete(self, args: Mapping[str, JsonValue]) -> JsonValue:
        key = _key(args)
        if not await self.store.delete(key):
            raise NotFound(f"no key {key_text(key)}")
        logger.warning("admin console deleted key %s", key_text(key))
        return {"deleted": key_text(key)}

    async def _workflow(self, args: Mapping[str, JsonValue]) -> JsonValue:
        workflow_id = _text(args, "id").lower()
        try:
            found = [
                (status, raw)
                for status in TaskStatus
                if (raw := await self.store.get(keys.task(status, workflow_id))) is not None
            ]
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        if not found:
            raise NotFound(f"no workflow {workflow_id}")
        _, raw = found[0]
        record = codec.loads(raw)
        shown: dict[str, JsonValue] = {
            "t_keys": [key_text(keys.task(s, workflow_id)) for s, _ in found],
            "workflow": record,
        }
        if isinstance(record, dict):
            owner, wallet = record.get("owner"), record.get("smartWalletAddress")
            if isinstance(owner, str) and isinstance(wallet, str):
                with contextlib.suppress(ValueError):
                    index = keys.user_task(owner, wallet, workflow_id)
                    entry = await self.store.get(index)
                    shown["u_entry"] = {
                        "key": key_text(index),
                        "value": None if entry is None else entry.decode(errors="replace"),
                    }
        queued = await self.store.get(keys.queued(workflow_id))
        assignee = await self.store.get(keys.assign(workflow_id))
        history = keys.history_prefix(workflow_id)
        recent = await self.store.scan(history, reverse=True, limit=RECENT_EXECUTIONS)
        removed = await self.store.view(lambda txn: read_tally(txn, workflow_id))
        shown["counters"] = {
            "executions_recorded": await self.store.count(history),
            "executions_removed": removed.count,
            "running": await self.store.count(keys.running(workflow_id, "x")[:-1]),
            "queued": codec.decode_int(queued) if queued is not None else 0,
        }
        shown["assigned_to"] = assignee.decode(errors="replace") if assignee else None
        shown["recent_executions"] = [_execution_line(value) for _, value in recent]
        return shown

    async def _trigger(self, args: Mapping[str, JsonValue]) -> JsonValue:
        return await self.trigger(_text(args, "id"))

    async def _backup(self, args: Mapping[str, JsonValue]) -> JsonValue:
        if self.backups is None:
            raise FailedPrecondition("backups are not set up in this process")
        snapshot = await self.backups.take()
        return {"path": os.fspath(snapshot.path), **snapshot.manifest.to_json()}

    async def _queue(self, args: Mapping[str, JsonValue]) -> JsonValue:
        return {state.name.lower(): await self.queue.depth(state) for state in QueueState}

    async def _operators(self, args: Mapping[str, JsonValue]) -> JsonValue:
        statuses = await operator_statuses(self.store, self.operators)
        return [op.to_json() for op in statuses]

    async def _evidence(self, args: Mapping[str, JsonValue]) -> JsonValue:
        operator = _operator(args)
        limit = args.get("limit", 20)
        if not isinstance(limit, int) or not 0 < limit <= MAX_KEYS:
            raise InvalidArgument(f"'limit' must be 1-{MAX_KEYS}")
        repo = EvidenceRepo(self.store)
        records = await repo.list(operator, limit=limit)
        return {
            "operator": operator,
            "invalid_reports": await repo.count(operator),
            "suspended": await repo.is_suspended(operator),
            "evidence": [record.to_json() for record in records],
        }

    async def _unsuspend(self, args: Mapping[str, JsonValue]) -> JsonValue:
        operator = _operator(args)
        if not await EvidenceRepo(self.store).lift(operator):
            raise NotFound(f"operator {operator} is not suspended")
        if self.on_lift is not None:
            self.on_lift(operator)
        logger.warning("admin console lifted the suspension of operator %s", operator)
        return {"unsuspended": operator}

    async def _integrity(self, args: Mapping[str, JsonValue]) -> JsonValue:
        if self.live:
            raise FailedPrecondition(
                "the integrity check walks the whole store: run it on a stopped store, or read "
                "the 'integrity' of a backup's manifest (admin backup)"
            )
        return (await check_store(self.store)).to_json()

    async def _retention(self, args: Mapping[str, JsonValue]) -> JsonValue:
        run = args.get("run", False)
        if not isinstance(run, bool):
            raise InvalidArgument("'run' must be true or false")
        shown: dict[str, JsonValue] = {}
        if run:
            if self.retention is None:
                raise FailedPrecondition("retention runs in the aggregator: start it, then ask")
            shown["pass"] = (await self.retention.run_once()).to_json()
        if self.retention is not None:
            shown["status"] = self.retention.status_json()
        deletions: list[JsonValue] = []
        for key, raw in await self.store.scan(keys.PURGES):
            try:
                report, _ = read_purge(key, raw)
            except (errors.CorruptDataError, ValueError):
                deletions.append({"key": key_text(key), "error": "does not decode"})
                continue
            deletions.append({**report.to_json(), "pending": report.done_at_ms is None})
        shown["deleted_workflows"] = deletions
        return shown


def _execution_line(raw: bytes) -> JsonValue:
    try:
        record = codec.loads(raw)
    except errors.CorruptDataError:
        return {"error": "does not decode"}
    if not isinstance(record, dict):
        return {"error": "not an object"}
    return {name: record.get(name) for name in ("id", "index", "status", "start_at", "error")}
