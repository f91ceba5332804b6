"""Wiring of the operator side of the aggregator: Node servicer, its auth, dispatch.

:func:`build_node_side` is the one function ``app.py`` calls; it constructs the long-lived
objects of the Node service and returns them in a :class:`NodeSide`, which ``app.py`` adds to
the gRPC server and runs in its task group. Nothing here connects anywhere.

Usage (in ``AggregatorApp``)::

    node = build_node_side(cfg, store, self.events, self.queue, control)
    server = grpc.aio.server(interceptors=[ErrorInterceptor(...), AuthInterceptor(...),
                                           node.interceptor])
    server.add_generic_rpc_handlers((..., service_handler(NODE_SERVICE, node.servicer)))
    await node.start()                       # before server.start()
    tasks.create_task(node.run(stop), name="dispatch")

Raises: ``StoreError`` from :meth:`NodeSide.start`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ap_avs.aggregator.admission import StakeAdmission
from ap_avs.aggregator.dispatch import Dispatcher, DispatchSettings, OperatorRecords
from ap_avs.aggregator.operator_api import NodeApi, NodeServices, WorkflowControl
from ap_avs.aggregator.operator_auth import NodeAuthInterceptor, OperatorAllowList
from ap_avs.aggregator.verification import ChainVerifier, TriggerGate, VerificationSettings
from ap_avs.chain import ChainClient
from ap_avs.clock import now_ms
from ap_avs.config import AggregatorConfig
from ap_avs.engine.queue import JobQueue
from ap_avs.engine.workflow_events import WorkflowEvents
from ap_avs.store.evidence import EvidenceRepo
from ap_avs.store.kv import KV
from ap_avs.store.workflows import WorkflowRepo

logger = logging.getLogger(__name__)


def dispatch_settings(config: AggregatorConfig) -> DispatchSettings:
    """The dispatch settings from the config section ``operators`` (its fields are named as
    :class:`DispatchSettings`'); the defaults while the section does not exist."""
    section: Any = getattr(config, "operators", None)
    if section is None:
        return DispatchSettings()
    return DispatchSettings(**section.model_dump())


def verification_settings(config: AggregatorConfig) -> VerificationSettings:
    """The settings of :class:`TriggerGate` from ``trigger_verification``, ``verification`` and
    ``trigger_quorum``."""
    v, q = config.verification, config.trigger_quorum
    return VerificationSettings(
        strict=config.trigger_verification == "strict",
        event_confirmations=v.event_confirmations,
        max_blocks_ahead=v.max_blocks_ahead,
        clock_skew_ms=round(v.clock_skew_seconds * 1000),
        max_report_age_ms=round(v.max_report_age_hours * 3_600_000),
        suspend_after=v.suspend_after_invalid_reports,
        require_signature=v.require_report_signature,
        rpc_attempts=v.rpc_attempts,
        quorum_k=q.k,
        quorum_n=q.n,
    )


@dataclass(frozen=True, slots=True)
class NodeSide:
    """The Node service's parts, for ``app.py`` to mount and run."""

    servicer: NodeApi
    interceptor: NodeAuthInterceptor
    dispatcher: Dispatcher
    records: OperatorRecords
    gate: TriggerGate
    evidence: EvidenceRepo
    admission: StakeAdmission | None = None

    async def start(self) -> None:
        """Load enabled workflows, stored assignments and suspensions (before the server
        accepts calls)."""
        for address in await self.evidence.suspended():
            self.dispatcher.suspend(address, "suspended (stored)")
        await self.dispatcher.load()

    async def run(self, stop: asyncio.Event) -> None:
        """Run dispatch (and admission's refresh) until ``stop`` is set; then every operator
        stream is ended."""
        if self.admission is None:
            await self.dispatcher.run(stop)
            return
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.admission.run(stop), name="admission")
            await self.dispatcher.run(stop)


def build_node_side(
    config: AggregatorConfig,
    store: KV,
    events: WorkflowEvents,
    queue: JobQueue,
    control: WorkflowControl,
    *,
    settings: DispatchSettings | None = None,
    now_ms: Callable[[], int] = now_ms,
    monotonic: Callable[[], float] = time.monotonic,
    chain: ChainClient | None = None,
    chain_id: int | None = None,
    admission: StakeAdmission | None = None,
) -> NodeSide:
    """Build the Node servicer, its interceptor, the dispatcher (subscribed to ``events``) and
    the trigger gate, which verifies block and event reports through ``chain`` (the
    aggregator's own RPC client, on chain ``chain_id``).

    ``settings``, ``now_ms`` (wall clock, ms) and ``monotonic`` (liveness clock, s) are for
    tests; by default the settings come from the config section ``operators``. With an
    ``admission`` (config ``eigenlayer``) operators are admitted by stake instead of the
    allow-list, and one that loses admission is evicted from dispatch.
    """
    workflows = WorkflowRepo(store)
    chosen = settings or dispatch_settings(config)
    checks = verification_settings(config)
    dispatcher = Dispatcher(store, workflows, chosen, clock=monotonic, replicas=checks.quorum_n)
    events.subscribe(dispatcher)
    records = OperatorRecords(store)
    clock = now_ms
    verifier = None
    if chain is not None and chain_id is not None:
        verifier = ChainVerifier(chain, chain_id=chain_id, settings=checks)
    if not checks.strict:
        logger.warning(
            "trigger_verification is off: operators' trigger reports run UNVERIFIED "
            "(development only; never in production)"
        )
    elif verifier is None:
        logger.warning(
            "no chain RPC configured: block and event trigger reports cannot be verified and "
            "are answered UNAVAILABLE"
        )
    if checks.quorum_k > 1 or checks.quorum_n > 1:
        logger.info("trigger quorum: %s of %s operators", checks.quorum_k, checks.quorum_n)
    gate = TriggerGate(
        store,
        queue,
        workflows,
        checks,
        chain=verifier,
        on_suspended=dispatcher.suspend,
        now_ms=clock,
    )
    services = NodeServices(dispatcher, gate, workflows, records, control, clock)
    servicer = NodeApi(services)
    allow = (
        OperatorAllowList(config.approved_operators, environment=config.environment)
        if admission is None
        else None  # admitted by EigenLayer stake; approved_operators does not apply
    )
    interceptor = NodeAuthInterceptor(
        allow, now_ms=clock, on_authenticated=dispatcher.touch, admission=admission
    )
    if admission is not None:
        admission.on_revoked(dispatcher.evict)
    return NodeSide(
        servicer, interceptor, dispatcher, records, gate, EvidenceRepo(store), admission
    )
