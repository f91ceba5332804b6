"""Operator dispatch: which live operator watches which enabled workflow, and telling them.

Owns the ``assign:<workflowId>`` keys (durable assignment, LESSONS 1), the ``operator:<address>``
records written by Ping, the per-operator connection state (generations, bounded outboxes,
send timeouts, reconnect throttling; LESSONS 2-3) and the pure planning rules
(:func:`plan`): each enabled, non-manual workflow goes to exactly one live operator with the
needed capability (event ⇔ ``event_monitoring``, block ⇔ ``block_monitoring``, cron and fixed
time ⇔ ``time_monitoring``), least loaded first, keeping live assignments.

Raises:
    QuotaExceeded: a reconnect inside the throttle window (:meth:`Dispatcher.connect`).
    StoreError: from the store, in :meth:`Dispatcher.load` and :class:`OperatorRecords`.
"""

from ap_avs.aggregator.dispatch._connections import Abort, Connection, Connections, go_duration
from ap_avs.aggregator.dispatch._dispatcher import Dispatcher
from ap_avs.aggregator.dispatch._model import (
    Capabilities,
    Capability,
    DispatchSettings,
    MessageOp,
    OperatorMessage,
    Watched,
    capability_for,
)
from ap_avs.aggregator.dispatch._plan import Plan, choose, least_loaded, plan, plan_replicas
from ap_avs.aggregator.dispatch._records import Checkin, OperatorRecords

__all__ = [
    "Abort",
    "Capabilities",
    "Capability",
    "Checkin",
    "Connection",
    "Connections",
    "DispatchSettings",
    "Dispatcher",
    "MessageOp",
    "OperatorMessage",
    "OperatorRecords",
    "Plan",
    "Watched",
    "capability_for",
    "choose",
    "go_duration",
    "least_loaded",
    "plan",
    "plan_replicas",
]
