"""Composition root of the operator: builds every long-lived object and runs them.

:class:`OperatorApp` loads the operator key, opens the checkpoint under ``db_path``, connects
to the target chain, builds the watchers (time always; block and event when a chain RPC is
configured, event unless ``enabled_features.event_trigger`` is off), the roster that routes
assignments to them, the gRPC client, and the health server (``/up``: 200 while the task
stream to the aggregator is open, 503 otherwise). Everything runs in one task group until
``stop`` is set; then tasks are cancelled, which is safe at any point because cursors are only
written after delivery.

Firings are delivered per workflow in order, workflows concurrently (``delivery_concurrency``);
a workflow stops being watched when the aggregator answers that it is no longer enabled or has
no executions left, or when an overload report disabled it.

Raises (from ``run``):
    ConfigError: no usable key (missing, malformed, or a keystore whose password in
        ``AP_AVS_ECDSA_KEY_PASSWORD`` is missing or wrong), or the health address cannot be
        bound.
    OSError: ``db_path`` cannot be created or written.

Usage::

    await OperatorApp(load_operator_config(path)).run(stop_event)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from eth_account import Account
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ap_avs.auth.operator_requests import OperatorSigner
from ap_avs.chain import ChainClient
from ap_avs.chain.reader import ChainReader
from ap_avs.config import OperatorConfig, split_host_port
from ap_avs.domain.trigger_data import block_data, time_data
from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ConfigError, Unavailable
from ap_avs.log import log_context
from ap_avs.operator.checkpoint import CheckpointStore
from ap_avs.operator.client import Backoff, OperatorClient, PingStats
from ap_avs.operator.model import (
    Assignment,
    EventOverload,
    Signal,
    TriggerFired,
    Watcher,
    block_key,
)
from ap_avs.operator.roster import DEFAULT_RESYNC_GRACE, Roster
from ap_avs.operator.watchers import BlockWatcher, ChainFollower, EventWatcher, TimeWatcher
from ap_avs.ops.http import HttpServer
from ap_avs.tls import ClientTls, split_target
from ap_avs.version import __version__

logger = logging.getLogger(__name__)

KEY_PASSWORD_ENV: Final = "AP_AVS_ECDSA_KEY_PASSWORD"


async def load_signer(config: OperatorConfig, password: str | None = None) -> OperatorSigner:
    """The signer of ``ecdsa_private_key``, or of the keystore at ``ecdsa_private_key_store_path``
    decrypted with ``password`` (default: the ``AP_AVS_ECDSA_KEY_PASSWORD`` variable).

    Raises:
        ConfigError: naming the key that is missing or wrong.
    """
    if config.ecdsa_private_key is not None and config.ecdsa_private_key.get_secret_value():
        return OperatorSigner(config.ecdsa_private_key.get_secret_value())
    path = config.ecdsa_private_key_store_path
    if not path:
        raise ConfigError(
            "config key 'ecdsa_private_key_store_path' (or 'ecdsa_private_key'): required"
        )
    try:
        text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        keystore = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"config key 'ecdsa_private_key_store_path': cannot read keystore {path}: {exc}"
        ) from None
    secret = password if password is not None else os.environ.get(KEY_PASSWORD_ENV)
    if secret is None:
        raise ConfigError(f"the keystore {path} needs its password in {KEY_PASSWORD_ENV}")
    try:
        key = await asyncio.to_thread(Account.decrypt, keystore, secret)
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"config key 'ecdsa_private_key_store_path': cannot decrypt {path} "
            f"(wrong {KEY_PASSWORD_ENV}?)"
        ) from None
    return OperatorSigner(bytes(key))


class OperatorApp:
    """The operator daemon. ``run`` works until ``stop`` is set.

    The keyword parameters are operator settings not (yet) in :class:`OperatorConfig`.
    """

    @classmethod
    def from_config(cls, config: OperatorConfig) -> OperatorApp:
        """An operator with every tunable taken from ``config``."""
        return cls(
            config,
            poll_interval=config.poll_interval_seconds,
            resync_grace=config.resync_grace_seconds,
            fixed_time_catch_up=config.fixed_time_catch_up_seconds,
            max_catch_up_blocks=config.max_catch_up_blocks,
            max_block_range=config.max_block_range,
            event_confirmations=config.event_confirmations,
            ping_interval=config.ping_interval_seconds,
            delivery_concurrency=config.delivery_concurrency,
        )

    def __init__(
        self,
        config: OperatorConfig,
        *,
        poll_interval: float = 1.0,
        resync_grace: float = DEFAULT_RESYNC_GRACE,
        fixed_time_catch_up: float = 3600.0,
        max_catch_up_blocks: int = 1000,
        max_block_range: int = 100,
        event_confirmations: int = 0,
        ping_interval: float = 5.0,
        backoff: Backoff | None = None,
        delivery_concurrency: int = 32,
        key_password: str | None = None,
    ) -> None:
        self.config = config
        self._poll = poll_interval
        self._grace = resync_grace
        self._catch_up = fixed_time_catch_up
        self._max_catch_up = max_catch_up_blocks
        self._max_range = max_block_range
        self._confirmations = event_confirmations
        self._ping_interval = ping_interval
        self._backoff = backoff or Backoff()
        self._concurrency = asyncio.Semaphore(delivery_concurrency)
        self._password = key_password
        self.client: OperatorClient | None = None
        self.roster: Roster | None = None
        self.http_port: int | None = None
        self._reader: ChainReader | None = None
        self._block: BlockWatcher | None = None
        self._event: EventWatcher | None = None
        self._tasks: asyncio.TaskGroup | None = None
        self._in_flight = 0
        self._started = asyncio.Event()

    async def wait_started(self) -> None:
        """Return once every part runs (the stream may still be connecting)."""
        await self._started.wait()

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    @property
    def event_position(self) -> int | None:
        """The last block the event watcher fully handled (None before it started)."""
        return self._event.position if self._event is not None else None

    def _stats(self) -> PingStats:
        block = self._block.position if self._block is not None else None
        events = self._event.fired_count if self._event is not None else 0
        return PingStats(block or 0, events, self._in_flight)

    async def _chain_id(self, reader: ChainReader, stop: asyncio.Event) -> int | None:
        delay = 0.5
        while not stop.is_set():
            try:
                return await reader.chain_id()
            except Unavailable as exc:
                logger.warning("waiting for the target chain RPC: %s", exc.message)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # (wait_for can swallow a cancel on 3.11)
                    await stop.wait()
            delay = min(delay * 2, 10.0)
        return None

    def _health(self) -> HttpServer | None:
        address = self.config.node_api_ip_port_address
        if not self.config.enable_node_api or not address:
            return None

        async def up(request: Request) -> Response:
            if self.connected:
                return PlainTextResponse("connected to the aggregator\n")
            return PlainTextResponse("not connected to the aggregator\n", status_code=503)

        host, port = split_host_port(address)
        try:
            server = HttpServer(Starlette(routes=[Route("/up", up)]), host, port)
        except ConfigError:
            raise ConfigError(
                f"config key 'node_api_ip_port_address': cannot listen on {address}"
            ) from None
        self.http_port = server.port
        return server

    async def _deliver(self, signals: Sequence[Signal], *, check_watching: bool = True) -> None:
        """The watchers' sink: per workflow in order, workflows concurrently."""
        by_workflow: dict[str, list[Signal]] = defaultdict(list)
        for signal in signals:
            by_workflow[signal.workflow_id].append(signal)
        async with asyncio.TaskGroup() as tasks:
            for workflow_id, items in by_workflow.items():
                tasks.create_task(self._deliver_workflow(workflow_id, items, check_watching))

    async def _deliver_workflow(
        self, workflow_id: str, signals: list[Signal], check_watching: bool
    ) -> None:
        assert self.client is not None
        assert self.roster is not None
        async with self._concurrency:
            for signal in signals:
                if check_watching and not self.roster.watching(workflow_id):
                    return
                self._in_flight += 1
                try:
                    if isinstance(signal, EventOverload):
                        if await self.client.report_overload(signal):
                            self.roster.remove(workflow_id, "disabled after an event overload")
                        return
                    outcome = await self.client.notify(signal)
                finally:
                    self._in_flight -= 1
                if outcome.delivered:
                    logger.debug("reported %s (%s)", signal.key, outcome.status or "ok")
                if not outcome.keep_watching:
                    why = f"{outcome.status}: {outcome.message}" if outcome.status else "refused"
                    self.roster.remove(workflow_id, f"the aggregator answered {why}")
                    return

    def _immediate(self, assignment: Assignment) -> None:
        if self._tasks is not None:
            self._tasks.create_task(self._fire_now(assignment))

    async def _fire_now(self, assignment: Assignment) -> None:
        """``ImmediateTrigger``: time kinds fire with a nanosecond timestamp (as upstream),
        block kinds with the head block; event triggers are not fired this way."""
        kind, workflow_id = assignment.kind, assignment.workflow_id
        if kind in (TriggerKind.CRON, TriggerKind.FIXED_TIME):
            ns = time.time_ns()
            data: JsonValue = {**time_data(ns // 1_000_000), "timestamp": ns}
            fired = TriggerFired(workflow_id, kind, f"{workflow_id}:{ns}", data)
        elif kind is TriggerKind.BLOCK and self._reader is not None:
            try:
                header = await self._reader.header(await self._reader.head())
            except Unavailable as exc:
                logger.warning("immediate trigger of %s failed: %s", workflow_id, exc.message)
                return
            fired = TriggerFired(
                workflow_id, kind, block_key(workflow_id, header.number), block_data(header)
            )
        else:
            logger.info("immediate trigger of %s (%s) is not supported", workflow_id, kind.name)
            return
        await self._deliver([fired], check_watching=False)

    def _watchers(
        self, reader: ChainReader | None, store: CheckpointStore, chain_id: int | None
    ) -> tuple[list[Watcher], asyncio.Event]:
        ready = asyncio.Event()
        watchers: list[Watcher] = [TimeWatcher(catch_up_seconds=self._catch_up)]
        if reader is None or chain_id is None:
            logger.warning("no target chain RPC configured: watching time triggers only")
            return watchers, ready

        def follower(name: str, lag: int) -> ChainFollower:
            return ChainFollower(
                name,
                reader,
                store,
                ready=ready,
                poll_interval=self._poll,
                max_range=self._max_range,
                max_catch_up=self._max_catch_up,
                lag=lag,
            )

        self._block = BlockWatcher(reader, follower("block", 0))
        watchers.append(self._block)
        if self.config.enabled_features.event_trigger:
            safety = self.config.event_safety
            self._event = EventWatcher(
                reader,
                follower("event", self._confirmations),
                chain_id=chain_id,
                last_fired=store.state.cooldowns,
                max_events_per_query=safety.max_events_per_query_per_block,
                max_events_per_workflow=safety.max_total_events_per_block,
            )
            watchers.append(self._event)
        return watchers, ready

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then stop every part.

        Raises:
            ConfigError: see the module docstring.
            OSError: ``db_path`` is not writable.
        """
        signer = await load_signer(self.config, self._password)
        cfg = self.config
        if cfg.operator_address and cfg.operator_address.lower() != signer.address.lower():
            logger.warning(
                "operator_address %s differs from the key's address %s; signing as the key",
                cfg.operator_address,
                signer.address,
            )
        store = CheckpointStore(Path(cfg.db_path))
        store.load()
        rpc_url = cfg.target_chain.eth_rpc_url or cfg.eth_rpc_url
        chain = ChainClient(rpc_url) if rpc_url else None
        with log_context(operator=signer.address):
            try:
                reader = ChainReader(chain) if chain is not None else None
                self._reader = reader
                chain_id = await self._chain_id(reader, stop) if reader is not None else None
                if stop.is_set():
                    return
                if chain_id is not None:
                    await store.bind_chain(chain_id)
                await self._serve(signer, store, reader, chain_id, stop)
            finally:
                if chain is not None:
                    await chain.aclose()
                logger.info("operator stopped")

    async def _serve(
        self,
        signer: OperatorSigner,
        store: CheckpointStore,
        reader: ChainReader | None,
        chain_id: int | None,
        stop: asyncio.Event,
    ) -> None:
        watchers, ready = self._watchers(reader, store, chain_id)
        roster = Roster(
            watchers, store, resync_grace=self._grace, immediate=self._immediate, ready=ready
        )
        self.roster = roster
        http = self._health()
        target, secure = split_target(
            self.config.aggregator_server_ip_port_address, tls=self.config.aggregator_tls.enabled
        )
        client = OperatorClient(
            target,
            signer,
            tls=ClientTls.from_config(self.config.aggregator_tls) if secure else None,
            kinds=roster.kinds,
            instance_id=self.config.server_name or signer.address,
            version=__version__,
            stats=self._stats,
            ping_interval=self._ping_interval,
            backoff=self._backoff,
        )
        self.client = client
        async with client, asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            running = [
                tasks.create_task(roster.run(), name="roster"),
                tasks.create_task(client.run(roster), name="aggregator-client"),
                *(tasks.create_task(w.run(self._deliver), name=type(w).__name__) for w in watchers),
            ]
            if http is not None:
                tasks.create_task(http.serve(), name="health")
            logger.info(
                "operator %s started: aggregator %s, watching %s, health on port %s",
                signer.address,
                client.target,
                ", ".join(sorted(k.name.lower() for k in roster.kinds)),
                self.http_port,
            )
            self._started.set()
            await stop.wait()
            logger.info("stopping the operator")
            for task in running:
                task.cancel()
            if http is not None:
                http.stop()
        self._tasks = None
        await roster.save()
