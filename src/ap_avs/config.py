"""Configuration of both daemons: YAML files with upstream's keys, loaded into typed settings.

Loading is pure data work: it reads a file and the environment and validates, and never connects
to anything. Every problem raises :class:`ap_avs.errors.ConfigError` naming the key.

Environment variables override the file: ``AP_AVS_<KEY>``, nested keys joined by ``__``
(``AP_AVS_SMART_WALLET__BUNDLER_URL``).

Usage::

    cfg = load_aggregator_config(Path("config/aggregator.yaml"))
    host, port = cfg.rpc_host_port
    print(cfg.smart_wallet.factory_address)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ap_avs.domain import ids
from ap_avs.domain.addresses import is_address
from ap_avs.errors import ConfigError

ENV_PREFIX = "AP_AVS_"
DEFAULT_FACTORY = "0xB99BC2E399e06CddCF5E725c0ea341E8f0322834"
DEFAULT_ENTRYPOINT = "0x5FF137D4b0FDCD49DcA30c7CF57E578a026d2789"
DEFAULT_PAYMASTER = "0xf023eA291F5bEDA4Bf59BbDC9004F1d18be19D6f"
MAX_WALLETS_PER_OWNER_CAP = 2000

_PRIVATE_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")


def _check_address(value: str) -> str:
    if not is_address(value):
        raise ValueError("must be a 0x-prefixed 20-byte hex address")
    return value


def _check_optional_address(value: str) -> str:
    return _check_address(value) if value else value


def _check_private_key(value: SecretStr | None) -> SecretStr | None:
    if (
        value is not None
        and value.get_secret_value()
        and not _PRIVATE_KEY.fullmatch(value.get_secret_value())
    ):
        raise ValueError("must be a 32-byte hex private key")
    return value


def _check_host_port(value: str) -> str:
    if value == "":
        return value
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("must be host:port, e.g. 127.0.0.1:2206")
    return value


def _check_aggregator_address(value: str) -> str:
    for scheme in ("https://", "http://"):
        if value.startswith(scheme):
            _check_host_port(value.removeprefix(scheme).rstrip("/"))
            return value
    if "://" in value:
        raise ValueError("must be host:port, https://host:port or http://host:port")
    return _check_host_port(value)


Address = Annotated[str, AfterValidator(_check_address)]
AggregatorAddress = Annotated[str, AfterValidator(_check_aggregator_address)]
OptionalAddress = Annotated[str, AfterValidator(_check_optional_address)]
PrivateKey = Annotated[SecretStr | None, AfterValidator(_check_private_key)]
HostPort = Annotated[str, AfterValidator(_check_host_port)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmartWalletConfig(_Section):
    """The chain where users' smart wallets live, and the ERC-4337 parts on it."""

    eth_rpc_url: str = ""
    eth_ws_url: str = ""
    chain_id: int | None = Field(default=None, gt=0)
    bundler_url: str = ""
    factory_address: Address = DEFAULT_FACTORY
    entrypoint_address: Address = DEFAULT_ENTRYPOINT
    paymaster_address: OptionalAddress = DEFAULT_PAYMASTER
    controller_private_key: PrivateKey = None
    submitter_private_key: PrivateKey = None
    """Funded key that sends UserOps straight to the EntryPoint when there is no bundler."""
    whitelist_addresses: list[Address] = Field(default_factory=list)
    max_wallets_per_owner: int = MAX_WALLETS_PER_OWNER_CAP
    price_feed_address: OptionalAddress = ""
    token_list_dir: str = ""
    confirm_timeout_seconds: float = Field(default=60.0, gt=0)

    @field_validator("max_wallets_per_owner")
    @classmethod
    def _cap_wallets(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be a positive number")
        if value > MAX_WALLETS_PER_OWNER_CAP:
            raise ValueError(f"must be at most {MAX_WALLETS_PER_OWNER_CAP}")
        return value


class MacrosConfig(_Section):
    """Values offered to workflows: ``secrets`` appear as ``apContext.configVars``."""

    vars: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, SecretStr] = Field(default_factory=dict)


class FeeTiers(_Section):
    tier_1: float = 0.03
    tier_2: float = 0.09
    tier_3: float = 0.18


class FeeRatesConfig(_Section):
    execution_fee_usd: float = 0.02
    credit_limit_usd: float = 0.0
    tiers: FeeTiers = FeeTiers()


class LimitsConfig(_Section):
    """Quotas on workflows (LESSONS 13); the defaults are explained in ``domain/_limits.py``."""

    max_active_workflows_per_owner: int = Field(default=1000, gt=0)
    min_cron_interval_seconds: int = Field(default=60, ge=60)
    min_block_interval: int = Field(default=1, ge=1)
    default_max_execution: int = Field(default=1000, gt=0)
    max_execution_cap: int = Field(default=1_000_000, gt=0)
    max_nodes: int = Field(default=200, gt=0)
    max_loop_iterations: int = Field(default=1000, gt=0)


class EngineConfig(_Section):
    """How workflows run: queue workers, JavaScript sandbox processes, HTTP timeouts."""

    workers: int = Field(default=16, gt=0, le=64)
    sandbox_workers: int = Field(default=2, gt=0, le=32)
    http_timeout_seconds: float = Field(default=30.0, gt=0)
    allow_private_urls: bool = False
    disable_after_failed_runs: int = Field(default=20, ge=0)
    """Disable a workflow after this many failed runs in a row (0: never)."""
    """Let REST/GraphQL nodes call loopback, private and link-local addresses (local set-ups)."""


class OperatorsConfig(_Section):
    """Operator dispatch: liveness, reconnect throttling, per-operator queues."""

    operator_timeout_seconds: float = Field(default=30.0, gt=0)
    reconnect_window_seconds: float = Field(default=5.0, ge=0)
    outbox_size: int = Field(default=1000, gt=0)
    send_timeout_seconds: float = Field(default=10.0, gt=0)
    rebalance: bool = True


class QuorumConfig(_Section):
    """``trigger_quorum``: each workflow is watched by ``n`` operators and a run is queued once
    ``k`` of them reported the same occurrence with the same data digest."""

    k: int = Field(default=1, ge=1)
    n: int = Field(default=1, ge=1)

    @field_validator("n")
    @classmethod
    def _k_at_most_n(cls, value: int, info: ValidationInfo) -> int:
        k = info.data.get("k", 1)
        if isinstance(k, int) and k > value:
            raise ValueError(f"must be at least k ({k})")
        return value


class VerificationConfig(_Section):
    """How operators' trigger reports are checked (``trigger_verification: strict``)."""

    event_confirmations: int = Field(default=0, ge=0)
    """A log is accepted once the aggregator's head is this many blocks past its block."""
    max_blocks_ahead: int = Field(default=5, ge=0)
    """A reported block up to this far above our head is "not seen yet" (retry), beyond it a
    lie (future block)."""
    clock_skew_seconds: float = Field(default=30.0, ge=0)
    """How far in the future a reported cron or fixed-time fire time may be."""
    max_report_age_hours: float = Field(default=72.0, gt=0)
    """An occurrence older than this (fire time or block timestamp) is refused. Must be shorter
    than ``retention.idempotency_window_hours`` (checked at load): a report is refused before
    the mark that deduplicates it can expire."""
    suspend_after_invalid_reports: int = Field(default=5, ge=0)
    """Suspend an operator after this many refused reports (0: never)."""
    require_report_signature: bool = True
    """Refuse reports without a valid ``NotifyTriggersReq.signature``."""
    rpc_attempts: int = Field(default=2, ge=1, le=10)
    """Chain reads per verification before answering UNAVAILABLE."""


class TlsConfig(_Section):
    """TLS for the aggregator's gRPC and HTTP ports (PEM files). Unset: plaintext.

    ``client_ca_file`` asks every client of both ports for a certificate signed by that CA.
    """

    cert_file: str = ""
    key_file: str = ""
    client_ca_file: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.cert_file)

    @model_validator(mode="after")
    def _pairs(self) -> TlsConfig:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file and key_file go together: set both or neither")
        if self.client_ca_file and not self.cert_file:
            raise ValueError("client_ca_file needs cert_file and key_file")
        return self


class ClientTlsConfig(_Section):
    """How the operator reaches the aggregator over TLS (also on with an ``https://`` address).

    The server certificate is always verified: against ``ca_file`` when set (a self-signed or
    private CA), else the system's roots. ``server_name`` overrides the name checked against
    the certificate; ``cert_file``/``key_file`` are a client certificate for an aggregator that
    asks for one (its ``tls.client_ca_file``).
    """

    enabled: bool = False
    ca_file: str = ""
    server_name: str = ""
    cert_file: str = ""
    key_file: str = ""

    @model_validator(mode="after")
    def _pairs(self) -> ClientTlsConfig:
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file and key_file go together: set both or neither")
        return self


class EigenLayerStrategyConfig(_Section):
    """A strategy of the operator set that admission counts, and the stake it requires."""

    address: Address
    minimum_stake: int = Field(default=0, ge=0)
    """Minimum slashable stake, in the strategy's shares (wei of the token for a 1:1 strategy)."""


class EigenLayerConfig(_Section):
    """EigenLayer's core contracts and our AVS's operator set. When this section is present the
    aggregator admits only members of the set with the minimum slashable stake (in place of
    ``approved_operators``).

    Usage (aggregator.yaml)::

        eigenlayer:
          delegation_manager: "0x…"
          strategy_manager: "0x…"
          allocation_manager: "0x…"
          avs: "0x…"
          operator_set_id: 0
          strategies: [{address: "0x…", minimum_stake: 1000000000000000000000}]
    """

    eth_rpc_url: str = ""
    """The chain EigenLayer is on; empty: the daemon's own RPC (smart_wallet / target chain)."""
    delegation_manager: Address
    strategy_manager: Address
    allocation_manager: Address
    avs_directory: OptionalAddress = ""
    permission_controller: OptionalAddress = ""
    avs: Address
    """The AVS's account (owner of the operator set)."""
    operator_set_id: int = Field(default=0, ge=0, lt=2**32)
    strategies: list[EigenLayerStrategyConfig] = Field(min_length=1)
    refresh_seconds: float = Field(default=60.0, gt=0)
    """Every operator's standing is read again at least this often."""
    event_poll_seconds: float = Field(default=1.0, gt=0)
    """How often the contracts' events are read (a change refreshes the operators it names)."""


class OperatorEigenLayerConfig(EigenLayerConfig):
    """The operator's view of the same contracts, plus what ``ap-avs register`` sends."""

    metadata_uri: str = ""
    """Operator metadata URI given at registration."""
    allocation_delay: int = Field(default=0, ge=0, lt=2**32)
    """Blocks before the operator's allocations take effect (set at registration)."""


class BackupConfig(_Section):
    enabled: bool = False
    interval_minutes: int = Field(default=60, gt=0)
    backup_dir: str = ""
    keep: int = Field(default=24, ge=1)


class RetentionOverride(_Section):
    """One workflow's own retention; each value must stay within the deployment's limits."""

    execution_max_age_days: int | None = Field(default=None, gt=0)
    executions_per_workflow: int | None = Field(default=None, gt=0)


class RetentionConfig(_Section):
    """How long records are kept (the store stays bounded); see ``engine/retention.py``.

    Executions are kept for ``execution_max_age_days`` and at most the newest
    ``executions_per_workflow`` of each workflow (0 turns a limit off); counts and stats keep
    counting removed executions. ``workflows`` overrides both per workflow id, up to
    ``max_override_days`` / ``max_override_executions``. Idempotency marks are kept for
    ``idempotency_window_hours``: this MUST be longer than the window in which trigger
    verification still accepts a report of an occurrence (a report older than that is refused,
    so its mark is no longer needed; a shorter mark window would let a late duplicate run).
    ``enabled: false`` stops the passes, the purge of deleted workflows' records included.
    """

    enabled: bool = True
    execution_max_age_days: int = Field(default=30, ge=0)
    executions_per_workflow: int = Field(default=10_000, ge=0)
    max_override_days: int = Field(default=365, gt=0)
    max_override_executions: int = Field(default=100_000, gt=0)
    workflows: dict[str, RetentionOverride] = Field(default_factory=dict)
    idempotency_window_hours: float = Field(default=168.0, gt=0)
    stats_days: int = Field(default=400, gt=0)
    """Hourly stats of removed executions older than this are dropped (longer windows of
    GetExecutionStats then leave them out)."""
    deletion_report_days: int = Field(default=30, gt=0)
    """How long the report of a deleted workflow's purge (``purge:`` record) is kept."""
    evidence_days: int = Field(default=180, gt=0)
    """How long the evidence of a refused trigger report (``evidence:``) is kept; the
    per-operator counts and suspensions stay."""
    interval_seconds: float = Field(default=300.0, gt=0)
    batch_size: int = Field(default=64, gt=0, le=10_000)
    batch_pause_seconds: float = Field(default=0.01, ge=0)
    census_interval_seconds: float = Field(default=600.0, gt=0)
    """How often records are counted by kind for /telemetry and /metrics (a paced key walk)."""

    @field_validator("workflows")
    @classmethod
    def _workflow_ids(cls, value: dict[str, RetentionOverride]) -> dict[str, RetentionOverride]:
        checked = {}
        for workflow_id, override in value.items():
            if not ids.is_ulid(workflow_id):
                raise ValueError(f"{workflow_id!r} is not a workflow id (a ULID)")
            checked[workflow_id.lower()] = override
        return checked

    @model_validator(mode="after")
    def _within_limits(self) -> RetentionConfig:
        for workflow_id, override in self.workflows.items():
            days, count = override.execution_max_age_days, override.executions_per_workflow
            if days is not None and days > self.max_override_days:
                raise ValueError(
                    f"workflows.{workflow_id}.execution_max_age_days: at most "
                    f"max_override_days ({self.max_override_days})"
                )
            if count is not None and count > self.max_override_executions:
                raise ValueError(
                    f"workflows.{workflow_id}.executions_per_workflow: at most "
                    f"max_override_executions ({self.max_override_executions})"
                )
        return self


class SummaryConfig(_Section):
    enabled: bool = False
    provider: str = "context-memory"
    api_endpoint: str = ""
    api_key: SecretStr | None = None


class NotificationsConfig(_Section):
    summary: SummaryConfig = SummaryConfig()


LogFormat = Literal["console", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]


class _YamlSettings(BaseSettings):
    """Shared loading rules: init values (the YAML file) lose to environment variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)


class AggregatorConfig(_YamlSettings):
    """Settings of ``ap-avs aggregator``; keys as in upstream's ``aggregator.yaml``."""

    environment: Literal["development", "production"] = "development"
    log_level: LogLevel = "info"
    log_format: LogFormat = "console"
    ecdsa_private_key: PrivateKey = None
    eth_rpc_url: str = ""
    eth_ws_url: str = ""
    rpc_bind_address: HostPort = "127.0.0.1:2206"
    http_bind_address: HostPort = "127.0.0.1:1323"
    avs_registry_coordinator_address: OptionalAddress = ""
    operator_state_retriever_address: OptionalAddress = ""
    db_path: str = "./data/aggregator"
    jwt_secret: SecretStr | None = None
    """HMAC secret of every JWT. Unset in development: ``<db_path>/jwt.secret`` is created once;
    production refuses to start without a strong one (``ap_avs.config_safety``)."""
    tls: TlsConfig = TlsConfig()
    allow_plaintext_public: bool = False
    """Serve plaintext on a public bind address in production: TLS ends in front (a proxy)."""
    secrets_key: SecretStr | None = None
    max_key_lifetime_hours: float = Field(default=24 * 30, gt=0)
    sentry_dsn: str = ""
    server_name: str = ""
    socket_path: str = ""
    smart_wallet: SmartWalletConfig = SmartWalletConfig()
    approved_operators: list[Address] = Field(default_factory=list)
    macros: MacrosConfig = MacrosConfig()
    tenderly_account: str = ""
    tenderly_project: str = ""
    tenderly_access_key: SecretStr | None = None
    moralis_api_key: SecretStr | None = None
    fee_rates: FeeRatesConfig = FeeRatesConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    backup: BackupConfig = BackupConfig()
    limits: LimitsConfig = LimitsConfig()
    engine: EngineConfig = EngineConfig()
    operators: OperatorsConfig = OperatorsConfig()
    trigger_verification: Literal["strict", "off"] = "strict"
    """``off`` runs operators' reports unverified: development only (logged at start)."""
    verification: VerificationConfig = VerificationConfig()
    trigger_quorum: QuorumConfig = QuorumConfig()
    eigenlayer: EigenLayerConfig | None = None
    retention: RetentionConfig = RetentionConfig()
    etherscan_url: str = ""
    eigenlayer_url: str = ""
    grace_period_seconds: float = Field(default=5.0, ge=0)

    @field_validator("jwt_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("secrets_key")
    @classmethod
    def _secrets_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            text = value.get_secret_value().removeprefix("0x")
            if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
                raise ValueError("must be 32 bytes as 64 hex digits")
        return value

    @model_validator(mode="after")
    def _verification_in_production(self) -> AggregatorConfig:
        if self.environment == "production" and self.trigger_verification == "off":
            raise ValueError(
                "trigger_verification: off is for development only (environment: production)"
            )
        return self

    @model_validator(mode="after")
    def _marks_outlive_the_report_window(self) -> AggregatorConfig:
        window = self.verification.max_report_age_hours
        if self.retention.idempotency_window_hours <= window:
            raise ValueError(
                f"retention.idempotency_window_hours ({self.retention.idempotency_window_hours:g})"
                f" must be longer than verification.max_report_age_hours ({window:g}): a mark "
                "must outlive every report that verification still accepts"
            )
        return self

    @property
    def rpc_host_port(self) -> tuple[str, int]:
        return split_host_port(self.rpc_bind_address)

    @property
    def http_host_port(self) -> tuple[str, int] | None:
        if not self.http_bind_address:
            return None
        return split_host_port(self.http_bind_address)


class TargetChainConfig(_Section):
    eth_rpc_url: str = ""
    eth_ws_url: str = ""


class EnabledFeatures(_Section):
    event_trigger: bool = True


class EventSafetyConfig(_Section):
    max_total_events_per_block: int = Field(default=1000, gt=0)
    max_events_per_query_per_block: int = Field(default=500, gt=0)


class BlsRemoteSigner(_Section):
    grpc_url: str = ""
    public_key: str = ""
    password: SecretStr | None = None
    tls_cert_file_path: str = ""


class OperatorConfig(_YamlSettings):
    """Settings of ``ap-avs operator``; keys as in upstream's ``operator.yaml``."""

    environment: Literal["development", "production"] = "development"
    production: bool | None = None
    log_level: LogLevel = "info"
    log_format: LogFormat = "console"
    operator_address: OptionalAddress = ""
    avs_registry_coordinator_address: OptionalAddress = ""
    operator_state_retriever_address: OptionalAddress = ""
    eth_rpc_url: str = ""
    eth_ws_url: str = ""
    ecdsa_private_key: PrivateKey = None
    ecdsa_private_key_store_path: str = ""
    bls_private_key_store_path: str = ""
    bls_remote_signer: BlsRemoteSigner = BlsRemoteSigner()
    aggregator_server_ip_port_address: AggregatorAddress = "127.0.0.1:2206"
    """``host:port``, or ``https://host:port`` to connect over TLS."""
    aggregator_tls: ClientTlsConfig = ClientTlsConfig()
    eigen_metrics_ip_port_address: HostPort = ""
    enable_metrics: bool = False
    node_api_ip_port_address: HostPort = "127.0.0.1:9010"
    enable_node_api: bool = True
    db_path: str = "./data/operator"
    sentry_dsn: str = ""
    server_name: str = ""
    target_chain: TargetChainConfig = TargetChainConfig()
    enabled_features: EnabledFeatures = EnabledFeatures()
    event_safety: EventSafetyConfig = EventSafetyConfig()
    backup: BackupConfig = BackupConfig()
    poll_interval_seconds: float = Field(default=1.0, gt=0)
    resync_grace_seconds: float = Field(default=30.0, gt=0)
    fixed_time_catch_up_seconds: float = Field(default=3600.0, ge=0)
    max_catch_up_blocks: int = Field(default=1000, gt=0)
    max_block_range: int = Field(default=100, gt=0)
    event_confirmations: int = Field(default=0, ge=0)
    ping_interval_seconds: float = Field(default=5.0, gt=0)
    delivery_concurrency: int = Field(default=32, gt=0)
    eigenlayer: OperatorEigenLayerConfig | None = None


def split_host_port(value: str) -> tuple[str, int]:
    """Split ``host:port`` (already validated) into its parts."""
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


_S = TypeVar("_S", bound=_YamlSettings)


class _Loader(yaml.SafeLoader):
    """Safe YAML, except that ``0x…`` scalars stay strings: unquoted addresses and keys must
    not turn into integers (which would drop leading zeros and checksum case)."""


def _int_or_hex_string(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | str:
    text = str(loader.construct_scalar(node))
    if text.lstrip("+-").lower().startswith("0x"):
        return text
    value: int = loader.construct_yaml_int(node)
    return value


_Loader.add_constructor("tag:yaml.org,2002:int", _int_or_hex_string)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys at the top level")
    return data


def _describe(exc: ValidationError, source: str) -> str:
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required key is missing"
        problems.append(f"config key '{key}': {message}")
    return f"invalid configuration in {source}: " + "; ".join(problems)


def load_settings(cls: type[_S], data: dict[str, Any], source: str) -> _S:
    """Validate ``data`` (plus environment overrides) into ``cls``.

    Raises:
        ConfigError: naming every bad key.
    """
    try:
        return cls(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def load_aggregator_config(path: Path) -> AggregatorConfig:
    """Read and validate an aggregator YAML file.

    Raises:
        ConfigError: the file is missing or unreadable, or a key is unknown or invalid.
    """
    return load_settings(AggregatorConfig, _read_yaml(path), str(path))


def load_operator_config(path: Path) -> OperatorConfig:
    """Read and validate an operator YAML file.

    Raises:
        ConfigError: the file is missing or unreadable, or a key is unknown or invalid.
    """
    return load_settings(OperatorConfig, _read_yaml(path), str(path))
