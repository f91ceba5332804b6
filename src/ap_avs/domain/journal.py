"""A step's journal entry (pure): what a run intended to send, and what came of it.

A step with an external effect (a UserOp, an HTTP request) is identified by
:class:`StepId`: (execution id, node id, loop iteration). Before it sends, the run commits a
:class:`StepEntry` holding the *intent* (the kind of effect and the identity of what it will
send: a UserOp's sender, nonce and hash; a request's idempotency key); after the send it commits
the *outcome* (the node's result). See ``engine/journal.py`` for how a run uses it and
``store/journal.py`` for where it lives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from ap_avs.domain.values import JsonValue

USEROP: Final = "userop"
HTTP: Final = "http"


@dataclass(frozen=True, slots=True)
class StepId:
    """Which step: the node of one execution, and its loop iteration (None outside loops)."""

    execution_id: str
    node_id: str
    iteration: int | None = None

    @property
    def idempotency_key(self) -> str:
        """``<execution id>:<node id>[:<iteration>]``, the ``Idempotency-Key`` of its requests."""
        base = f"{self.execution_id}:{self.node_id}"
        return base if self.iteration is None else f"{base}:{self.iteration}"


@dataclass(frozen=True, slots=True)
class StepEntry:
    """The journal entry of one step."""

    step: StepId
    kind: str
    """:data:`USEROP` or :data:`HTTP`."""
    attempt: int
    """1 for the first send; one more each time the intent is committed again (a restart)."""
    identity: JsonValue
    """What is sent: ``{sender, nonce, userOpHash, fromBlock}`` or ``{idempotencyKey, …}``."""
    intent_at: int
    outcome: JsonValue = None
    """The step's result once known (the node result as JSON); None while in flight."""
    done_at: int = 0

    @property
    def finished(self) -> bool:
        return self.done_at > 0

    def with_outcome(self, outcome: JsonValue, at_ms: int) -> StepEntry:
        return replace(self, outcome=outcome, done_at=at_ms)
