"""Composition root of the aggregator: builds every long-lived object and runs them.

Nothing else in the package constructs servers, stores or clients. :class:`AggregatorApp` opens
the store, serves both gRPC services with health checking and reflection on one port, runs the
HTTP side server, and stops in order: readiness down, stop accepting RPCs, let calls in flight
finish within the grace period, close the store.

Usage::

    app = AggregatorApp(load_aggregator_config(path))
    await app.run(stop_event)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import timedelta
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry

from ap_avs import faults
from ap_avs._proto import avs_pb2, node_pb2
from ap_avs.aggregator.admission import StakeAdmission
from ap_avs.aggregator.api import AggregatorApi, Services
from ap_avs.aggregator.api_chain import ChainServices
from ap_avs.aggregator.compose import ChainStack, build_chain_stack
from ap_avs.aggregator.interceptors import AuthInterceptor, ErrorInterceptor, RpcMetrics
from ap_avs.aggregator.operator_side import build_node_side
from ap_avs.aggregator.services import service_handler
from ap_avs.auth import KeyService
from ap_avs.chain import ChainClient
from ap_avs.cipher import SecretCipher
from ap_avs.config import AggregatorConfig
from ap_avs.config_safety import check_production
from ap_avs.domain.validation import WorkflowLimits
from ap_avs.eigenlayer import EigenLayerReader, target_of
from ap_avs.engine.api_keys import ApiKeyService
from ap_avs.engine.executions import ExecutionService
from ap_avs.engine.executor import Executor
from ap_avs.engine.queue import JobQueue
from ap_avs.engine.registry import default_registry
from ap_avs.engine.retention import Retention
from ap_avs.engine.runs import FeeRates, RunService
from ap_avs.engine.secrets import RunSecrets, SecretService
from ap_avs.engine.simulate import Simulator
from ap_avs.engine.templates import TemplateEngine
from ap_avs.engine.wallets import WalletService
from ap_avs.engine.worker import Workers
from ap_avs.engine.workflow_events import WorkflowEvents
from ap_avs.engine.workflows import WorkflowService
from ap_avs.errors import ConfigError, CorruptDataError, Unavailable
from ap_avs.ops import (
    AdminHandlers,
    AdminServer,
    Backups,
    StoreLock,
    Telemetry,
    admin_socket_path,
    backup_settings,
    run_migrations,
    telemetry_routes,
)
from ap_avs.ops.http import HttpServer, Readiness, build_app
from ap_avs.ops.storage import StorageCollector, retention_settings
from ap_avs.runners.base import EngineOptions
from ap_avs.sandbox import Limits, SandboxPool
from ap_avs.store import KV, LmdbKV
from ap_avs.store.api_keys import ApiKeyRepo
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.files import JWT_SECRET_FILE, key_file, prepare_store_dir
from ap_avs.store.journal import JournalRepo
from ap_avs.store.secrets import SecretRepo
from ap_avs.store.wallets import WalletRepo
from ap_avs.store.workflows import WorkflowRepo
from ap_avs.tls import server_credentials
from ap_avs.version import __version__

logger = logging.getLogger(__name__)

AGGREGATOR_SERVICE = avs_pb2.DESCRIPTOR.services_by_name["Aggregator"]
NODE_SERVICE = node_pb2.DESCRIPTOR.services_by_name["Node"]
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
SECRETS_KEY_FILE = "secrets.key"


class AggregatorApp:
    """The aggregator daemon. ``run`` serves until ``stop`` is set."""

    def __init__(self, config: AggregatorConfig) -> None:
        self.config = config
        self.readiness = Readiness()
        self.registry = CollectorRegistry()
        self.metrics = RpcMetrics(self.registry)
        self.events = WorkflowEvents()
        self.chain_stack: ChainStack | None = None
        self.admission: StakeAdmission | None = None
        self.retention: Retention | None = None
        self._store_lock: StoreLock | None = None
        self.rpc_port: int | None = None
        self.http_port: int | None = None
        self._started = asyncio.Event()
        self.api_keys: ApiKeyService | None = None
        """API key records, once serving (tests issue keys through it)."""

    async def wait_serving(self) -> None:
        """Return once both servers accept connections."""
        await self._started.wait()

    async def _chain_id(self, chain: ChainClient | None, stop: asyncio.Event) -> int | None:
        """The smart-wallet chain id: from config, else asked from the RPC until it answers."""
        configured = self.config.smart_wallet.chain_id
        if configured is not None or chain is None:
            return configured
        delay = 0.5
        while not stop.is_set():
            try:
                return await chain.chain_id()
            except Unavailable as exc:
                logger.warning("waiting for the smart-wallet RPC: %s", exc.message)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # (wait_for can swallow a cancel on 3.11)
                    await stop.wait()
            delay = min(delay * 2, 10.0)
        return None

    def _services(
        self,
        store: KV,
        chain: ChainClient | None,
        chain_id: int,
        sandbox: SandboxPool,
        http: httpx.AsyncClient,
    ) -> Services:
        cfg = self.config
        keys = KeyService(
            jwt_secret=self._jwt_secret(),
            chain_id=chain_id,
            max_key_lifetime=timedelta(hours=cfg.max_key_lifetime_hours),
        )
        api_keys = self.api_keys = ApiKeyService(ApiKeyRepo(store), keys)
        cipher = self._secret_cipher()
        wallet_repo, workflow_repo = WalletRepo(store), WorkflowRepo(store)
        fault = faults.from_env(os.environ)  # test-only (ap_avs.faults); None in production
        if fault is not None:
            logger.warning("TEST FAULT HOOK ARMED: %s", os.environ[faults.ENV_VAR])
        execution_repo = ExecutionRepo(
            store,
            before_commit=(lambda: fault.reached("during-record")) if fault is not None else None,
        )
        secret_repo = SecretRepo(store, cipher)
        wallets = WalletService(
            wallet_repo,
            chain,
            default_factory=cfg.smart_wallet.factory_address,
            entrypoint=cfg.smart_wallet.entrypoint_address,
            max_wallets_per_owner=cfg.smart_wallet.max_wallets_per_owner,
        )

        limits = cfg.limits
        workflow_limits = WorkflowLimits(
            min_cron_interval_seconds=limits.min_cron_interval_seconds,
            min_block_interval=limits.min_block_interval,
            default_max_execution=limits.default_max_execution,
            max_execution_cap=limits.max_execution_cap,
            max_nodes=limits.max_nodes,
            max_loop_iterations=limits.max_loop_iterations,
        )
        workflows = WorkflowService(
            workflow_repo,
            wallets,
            self.events,
            workflow_limits,
            max_active_per_owner=limits.max_active_workflows_per_owner,
        )
        sw = cfg.smart_wallet
        controller = (
            sw.controller_private_key.get_secret_value() if sw.controller_private_key else None
        )
        self.chain_stack = (
            build_chain_stack(
                chain,
                chain_id,
                lookup=wallet_repo.get,
                derive=wallets.derive,
                default_wallet=wallets.default_wallet,
                factory=sw.factory_address,
                entrypoint=sw.entrypoint_address,
                bundler_url=sw.bundler_url,
                controller_key=controller or None,
                submitter_key=(
                    sw.submitter_private_key.get_secret_value()
                    if sw.submitter_private_key
                    else None
                ),
                paymaster=sw.paymaster_address or None,
                price_feed=sw.price_feed_address or None,
                token_dir=Path(sw.token_list_dir) if sw.token_list_dir else None,
                confirm_timeout=sw.confirm_timeout_seconds,
                execution_fee_usd=cfg.fee_rates.execution_fee_usd,
                tier_1_percent=cfg.fee_rates.tiers.tier_1,
            )
            if chain is not None
            else None
        )
        secrets = SecretService(secret_repo)
        engine = cfg.engine
        nodes = default_registry(extra=self.chain_stack.runners if self.chain_stack else None)
        executor = Executor(
            nodes.runners,
            TemplateEngine(sandbox),
            sandbox,
            http,
            EngineOptions(
                http_timeout_seconds=engine.http_timeout_seconds,
                allow_private_urls=engine.allow_private_urls,
                max_loop_iterations=limits.max_loop_iterations,
                chain_id=chain_id,
            ),
            kinds=nodes.kinds,
        )
        macros = {k: v.get_secret_value() for k, v in cfg.macros.secrets.items()}
        run_secrets = RunSecrets(secret_repo, macros)
        runs = RunService(
            execution_repo,
            executor,
            run_secrets,
            self.events,
            wallets.owns,
            FeeRates(cfg.fee_rates.execution_fee_usd, cfg.fee_rates.tiers.tier_1),
            disable_after=engine.disable_after_failed_runs or None,
            journal=JournalRepo(store),
            fault=fault,
        )
        self.queue = JobQueue(store)
        self.node = build_node_side(
            cfg,
            store,
            self.events,
            self.queue,
            workflows,
            chain=chain,
            chain_id=chain_id,
            admission=self.admission,
        )
        self.workers = Workers(self.queue, runs, count=engine.workers)
        executions = ExecutionService(workflow_repo, execution_repo, runs, self.queue)
        simulator = Simulator(
            executor,
            run_secrets,
            chain,
            workflow_limits,
            FeeRates(cfg.fee_rates.execution_fee_usd, cfg.fee_rates.tiers.tier_1),
        )
        return Services(keys, wallets, secrets, workflows, executions, simulator, api_keys)

    def _stake_admission(
        self, chain: ChainClient | None, resources: contextlib.AsyncExitStack
    ) -> StakeAdmission | None:
        """Admission by EigenLayer stake when the config has ``eigenlayer`` (else None)."""
        section = self.config.eigenlayer
        if section is None:
            return None
        url = section.eth_rpc_url or self.config.eth_rpc_url or self.config.smart_wallet.eth_rpc_url
        if not url:
            raise ConfigError(
                "config key 'eigenlayer.eth_rpc_url': required (or smart_wallet.eth_rpc_url)"
            )
        client = chain if chain is not None and chain.url == url else ChainClient(url)
        if client is not chain:
            resources.push_async_callback(client.aclose)
        target = target_of(section)
        logger.info(
            "operators are admitted by EigenLayer stake: %s, minimums %s",
            target.operator_set,
            {m.strategy: m.minimum for m in target.strategies},
        )
        return StakeAdmission(
            EigenLayerReader(client, target),
            refresh_seconds=section.refresh_seconds,
            event_poll_seconds=section.event_poll_seconds,
        )

    def _secret_cipher(self) -> SecretCipher:
        """The secrets key from config, else from ``<db_path>/secrets.key`` (created once, 0600)."""
        configured = self.config.secrets_key
        if configured is not None and configured.get_secret_value():
            return SecretCipher(bytes.fromhex(configured.get_secret_value().removeprefix("0x")))
        return SecretCipher(self._store_key(SECRETS_KEY_FILE, "secrets key"))

    def _jwt_secret(self) -> str:
        """``jwt_secret`` from config, else (development only: production refuses to start
        without one) ``<db_path>/jwt.secret``, created once, 0600."""
        configured = self.config.jwt_secret
        if configured is not None and configured.get_secret_value():
            return configured.get_secret_value()
        return self._store_key(JWT_SECRET_FILE, "JWT signing secret").hex()

    def _store_key(self, name: str, what: str) -> bytes:
        path = Path(self.config.db_path) / name
        existed = path.exists()
        try:
            key = key_file(path, 32)
        except CorruptDataError as exc:
            raise ConfigError(f"{what} file {path} is damaged: {exc.message}") from None
        if not existed:
            logger.warning("created a new %s in %s: back it up with the store", what, path)
        return key

    def _build_grpc(self, services: Services) -> tuple[grpc.aio.Server, health.aio.HealthServicer]:
        server = grpc.aio.server(
            interceptors=[
                ErrorInterceptor(self.metrics),
                AuthInterceptor(services.keys, services.api_keys),
                self.node.interceptor,
            ],
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
            ],
        )
        server.add_generic_rpc_handlers(
            (
                service_handler(
                    AGGREGATOR_SERVICE,
                    AggregatorApi(
                        services,
                        self.chain_stack.services
                        if self.chain_stack
                        else ChainServices(None, None, None),
                    ),
                ),
                service_handler(NODE_SERVICE, self.node.servicer),
            )
        )
        health_servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        reflection.enable_server_reflection(
            (
                AGGREGATOR_SERVICE.full_name,
                NODE_SERVICE.full_name,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        host, port = self.config.rpc_host_port
        tls = self.config.tls
        credentials = server_credentials(tls) if tls.enabled else None
        try:
            if credentials is not None:
                bound = server.add_secure_port(f"{host}:{port}", credentials)
            else:
                bound = server.add_insecure_port(f"{host}:{port}")
        except RuntimeError:
            bound = 0
        if bound == 0:
            raise ConfigError(
                f"config key 'rpc_bind_address': cannot listen on {host}:{port} (port in use?)"
            )
        self.rpc_port = bound
        return server, health_servicer

    def _open_store(self) -> KV:
        path = Path(self.config.db_path)
        for change in prepare_store_dir(path):
            logger.warning("store permissions tightened to owner-only: %s", change)
        self._store_lock = StoreLock.acquire(path)
        return LmdbKV(path)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then shut down gracefully.

        Raises:
            ConfigError: a listen address cannot be bound.
            StoreError: the store cannot be opened.
            ConfigError: production settings that are unsafe (``ap_avs.config_safety``).
        """
        for warning in check_production(self.config):
            logger.warning("%s", warning)
        store = self._open_store()
        rpc_url = self.config.smart_wallet.eth_rpc_url
        chain = ChainClient(rpc_url) if rpc_url else None
        resources = contextlib.AsyncExitStack()
        try:
            await run_migrations(store)
            chain_id = await self._chain_id(chain, stop)
            if chain_id is None:
                if stop.is_set():
                    return
                raise ConfigError(
                    "config key 'smart_wallet.eth_rpc_url': required (or set smart_wallet.chain_id)"
                )
            sandbox = SandboxPool(size=self.config.engine.sandbox_workers, limits=Limits())
            await sandbox.start()
            resources.push_async_callback(sandbox.close)
            http_client = httpx.AsyncClient(timeout=self.config.engine.http_timeout_seconds)
            resources.push_async_callback(http_client.aclose)
            self.admission = self._stake_admission(chain, resources)
            services = self._services(store, chain, chain_id, sandbox, http_client)
            if self.chain_stack is not None:
                resources.push_async_callback(self.chain_stack.aclose)
            server, health_servicer = self._build_grpc(services)
            cfg = self.config
            backups = Backups(store, backup_settings(cfg.db_path, cfg.backup))
            self.retention = Retention(store, retention_settings(cfg.retention))
            self.events.subscribe(self.retention)
            self.registry.register(StorageCollector(self.retention))
            handlers = AdminHandlers(
                store,
                queue=self.queue,
                operators=self.node.dispatcher,
                backups=backups,
                api_keys=services.api_keys,
                live=True,
                on_lift=self.node.dispatcher.lift,
                retention=self.retention,
            )
            admin = AdminServer(admin_socket_path(cfg.socket_path, cfg.db_path), handlers)
            resources.callback(admin.close)
            telemetry = Telemetry(
                store,
                queue=self.queue,
                operators=self.node.dispatcher,
                stake=self.admission,
                retention=self.retention,
            )
            http: HttpServer | None = None
            if (http_addr := self.config.http_host_port) is not None:
                routes = telemetry_routes(telemetry)
                http = HttpServer(
                    build_app(self.readiness, self.registry, routes),
                    *http_addr,
                    tls=self.config.tls,
                )
                self.http_port = http.port
            async with asyncio.TaskGroup() as tasks:
                await self.node.start()
                await server.start()
                tasks.create_task(self.node.run(stop), name="dispatch")
                tasks.create_task(backups.run(stop), name="backups")
                tasks.create_task(self.retention.run(stop), name="retention")
                tasks.create_task(admin.run(stop), name="admin")
                if http is not None:
                    tasks.create_task(http.serve(), name="http")
                workers = tasks.create_task(self.workers.run(), name="workers")
                for service in (AGGREGATOR_SERVICE.full_name, NODE_SERVICE.full_name, ""):
                    await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
                self.readiness.ready = True
                self._started.set()
                logger.info(
                    "aggregator %s serving gRPC on port %s, HTTP on port %s (%s)",
                    __version__,
                    self.rpc_port,
                    self.http_port,
                    "TLS" if self.config.tls.enabled else "plaintext",
                )
                await stop.wait()
                logger.info("stopping: finishing calls in flight")
                self.readiness.ready = False
                await health_servicer.enter_graceful_shutdown()
                await server.stop(self.config.grace_period_seconds)
                workers.cancel()
                if http is not None:
                    http.stop()
        finally:
            await resources.aclose()
            if chain is not None:
                await chain.aclose()
            await store.close()
            if self._store_lock is not None:
                self._store_lock.release()
            logger.info("aggregator stopped")
