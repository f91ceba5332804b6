"""A run's step journal: effects sent at most once, outcomes reused after a restart.

:class:`RunJournal` is made by ``RunService`` for each stored run (never for simulations). For
each step with an external effect (REST, GraphQL, ETH transfer, contract write; loop
iterations of those) the executor opens a :class:`StepLog` (the ``StepLedger`` runners see as
``ctx.step``):

* an entry with an **outcome** means the step finished before a restart: the executor reuses
  the recorded result and does not run the node at all;
* an entry with an **intent and no outcome** means the step was in flight at a crash: the
  runner reconciles (a UserOp is looked up on chain by its sender and 2D nonce and sent again
  only if it never landed, with the same nonce; an HTTP request is sent again with the same
  ``Idempotency-Key``) and says so in the step log;
* otherwise the runner commits its intent (:meth:`StepLog.intend`) right before it sends, and
  the executor commits the outcome (:meth:`StepLog.finish`) when the node returns.

Secret values of the run are replaced by ``***`` in everything the journal stores (identity and
outcome), so they are never at rest in plain text; an outcome reused after a restart is
therefore the redacted one.

The test-only fault hook (``ap_avs.faults``) is told of ``before-send`` (after the intent
commit), ``after-send`` (from the runner) and ``after-receipt`` (before the outcome commit).

Raises:
    StoreError: from the journal repository.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from ap_avs.chain.aa import step_nonce_key
from ap_avs.clock import now_ms
from ap_avs.domain.journal import USEROP, StepEntry, StepId
from ap_avs.domain.values import JsonValue
from ap_avs.faults import FaultHook
from ap_avs.runners.base import NodeResult, redact
from ap_avs.store.journal import JournalRepo

logger = logging.getLogger(__name__)


def scrub(value: JsonValue, secrets: Sequence[str]) -> JsonValue:
    """``value`` with every secret value (and its escaped forms) replaced by ``***`` (deep)."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v, secrets) for k, v in value.items()}
    return value


def result_json(result: NodeResult, secrets: Sequence[str] = ()) -> JsonValue:
    """A node result as the journal stores it (secret values replaced by ``***``)."""
    data: dict[str, Any] = dataclasses.asdict(result)
    return scrub(data, secrets)


def result_from_json(data: JsonValue) -> NodeResult | None:
    """The node result a journal entry recorded (None when it does not decode)."""
    if not isinstance(data, dict):
        return None
    names = {f.name for f in dataclasses.fields(NodeResult)}
    try:
        return NodeResult(**{k: v for k, v in data.items() if k in names})  # type: ignore[arg-type]
    except TypeError:
        return None


class StepLog:
    """The journal of one step in one run attempt (see the module docstring)."""

    def __init__(
        self,
        repo: JournalRepo,
        step: StepId,
        previous: StepEntry | None,
        fault: FaultHook | None,
        clock: Callable[[], int],
        secrets: Sequence[str] = (),
    ) -> None:
        self.id = step
        self._secrets = secrets
        self._repo = repo
        self._previous = previous
        self._fault = fault
        self._clock = clock
        self._current: StepEntry | None = None
        self.settled = False
        """True once this attempt committed an intent or reconciled the earlier one."""
        self.notes: list[str] = []

    # --- StepLedger (what runners see) ------------------------------------------------------

    @property
    def idempotency_key(self) -> str:
        return self.id.idempotency_key

    @property
    def nonce_key(self) -> int:
        return step_nonce_key(self.id.idempotency_key)

    @property
    def attempt(self) -> int:
        return self._previous.attempt + 1 if self._previous is not None else 1

    @property
    def prior(self) -> JsonValue:
        previous = self._previous
        if previous is None or previous.finished:
            return None
        return previous.identity

    async def intend(self, kind: str, identity: JsonValue) -> None:
        entry = StepEntry(
            self.id, kind, self.attempt, scrub(identity, self._secrets), self._clock()
        )
        self._current = await self._repo.intend(entry)
        self.settled = True
        if self._fault is not None:
            self._fault.reached("before-send", kind)

    def reached(self, point: str) -> None:
        if self._fault is not None:
            self._fault.reached(point, self.kind)

    def note(self, text: str) -> None:
        self.notes.append(text)
        logger.info("step %s: %s", self.id.idempotency_key, text)

    def reconciled(self) -> None:
        """The runner settled the earlier attempt's intent without a new one (found on chain)."""
        self.settled = True

    # --- for the executor -------------------------------------------------------------------

    @property
    def kind(self) -> str | None:
        entry = self._current or self._previous
        return entry.kind if entry is not None else None

    def in_doubt(self) -> bool:
        """An earlier attempt may have sent a UserOp that this attempt did not settle (so a
        failure now could hide an effect that happened). An HTTP step that fails before it
        sends again is recorded as failed, with a note that the earlier request may have
        arrived: there is nothing to look up."""
        previous = self._previous
        if self.prior is None or self.settled or previous is None:
            return False
        if previous.kind == USEROP:
            return True
        self.note(
            f"an earlier attempt may have sent this request before a restart (Idempotency-Key "
            f"{self.id.idempotency_key}); this attempt failed before sending it again"
        )
        return False

    def recorded(self) -> NodeResult | None:
        """The result an earlier attempt recorded (the step must not run again), or None."""
        previous = self._previous
        if previous is None or not previous.finished:
            return None
        return result_from_json(previous.outcome)

    async def finish(self, result: NodeResult) -> None:
        """Commit the outcome, when this attempt (or an earlier one) committed an intent."""
        entry = self._current or self._previous
        if entry is None or entry.finished:
            return
        if self._fault is not None:
            self._fault.reached("after-receipt", entry.kind)
        outcome = result_json(result, self._secrets)
        await self._repo.finish(entry.with_outcome(outcome, self._clock()))


def with_notes(log: str, notes: list[str]) -> str:
    """``log`` with the journal's notes first (one per line)."""
    return "\n".join([*notes, log] if log else notes)


class RunJournal:
    """The journal of one run (one execution id)."""

    def __init__(
        self,
        repo: JournalRepo,
        execution_id: str,
        *,
        fault: FaultHook | None = None,
        clock: Callable[[], int] = now_ms,
        secrets: Sequence[str] = (),
    ) -> None:
        """``secrets`` are the run's secret values (never stored in the journal)."""
        self._repo = repo
        self.execution_id = execution_id
        self._secrets = [v for v in secrets if len(v) >= 4]
        self._fault = fault
        self._clock = clock

    async def open(self, node_id: str, iteration: int | None = None) -> StepLog:
        """The step's log, with what an earlier attempt of the run recorded for it."""
        step = StepId(self.execution_id, node_id, iteration)
        previous = await self._repo.get(step)
        return StepLog(self._repo, step, previous, self._fault, self._clock, self._secrets)
