"""The operations commands of ``ap-avs``: ``backup``, ``restore``, ``migrate``, ``api-key …``
and ``admin …``.

``cli.py`` mounts them (``app.command("backup")(ops_cli.backup)``, …,
``app.add_typer(ops_cli.admin_app, name="admin")``). Each reads the aggregator config (``-c``)
for ``db_path``, ``backup`` and ``socket_path``. ``backup`` and ``admin`` talk to the running
aggregator through its admin socket, and work directly on the store when none answers (then
they hold the store lock, so a server cannot start under them). ``restore`` and ``migrate``
only touch a stopped store. ``api-key create`` prints the token alone on standard output (it
is shown once: only its record is stored). Errors print one line and exit 2.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ap_avs.auth import KeyService
from ap_avs.cli_exit import fail, run_or_fail
from ap_avs.config import AggregatorConfig, load_aggregator_config
from ap_avs.domain.values import JsonValue
from ap_avs.engine.api_keys import ApiKeyService
from ap_avs.errors import ApAvsError, ConfigError, FailedPrecondition, Unavailable
from ap_avs.ops.admin import COMMANDS, AdminHandlers
from ap_avs.ops.admin_socket import admin_call, admin_socket_path
from ap_avs.ops.backup import Backups, backup_settings
from ap_avs.ops.lock import StoreLock, lock_holder
from ap_avs.ops.migrations import CURRENT_SCHEMA, inspect, run_migrations
from ap_avs.ops.restore import restore as restore_snapshot
from ap_avs.store.api_keys import ApiKeyRepo
from ap_avs.store.files import JWT_SECRET_FILE, key_file, prepare_store_dir
from ap_avs.store.lmdb_copy import DATA_FILE
from ap_avs.store.lmdb_kv import LmdbKV

T = TypeVar("T")

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="the aggregator's YAML configuration file")
]
DEFAULT_CONFIG = Path("config/aggregator.yaml")


def _config(path: Path) -> AggregatorConfig:
    try:
        return load_aggregator_config(path)
    except ApAvsError as exc:
        fail(exc)
        raise AssertionError("unreachable") from None


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _existing_store(cfg: AggregatorConfig) -> Path:
    db_path = Path(cfg.db_path)
    if not (db_path / DATA_FILE).is_file():
        raise FailedPrecondition(f"no store at {db_path} (config key 'db_path')")
    return db_path


def _lock_stopped(db_path: Path, socket: Path) -> StoreLock:
    holder = lock_holder(db_path)
    if holder is not None:
        who = f"process {holder}" if holder > 0 else "another process"
        raise FailedPrecondition(
            f"the store at {db_path} is held by {who}, but no server answers on {socket}: "
            "is socket_path the same as the server's?"
        )
    return StoreLock.acquire(db_path)


async def _chain_id(cfg: AggregatorConfig) -> int:
    """``smart_wallet.chain_id``, else asked from ``smart_wallet.eth_rpc_url``.

    Raises:
        ConfigError: neither is set.
        Unavailable: the RPC does not answer.
    """
    if cfg.smart_wallet.chain_id is not None:
        return cfg.smart_wallet.chain_id
    if not cfg.smart_wallet.eth_rpc_url:
        raise ConfigError("config key 'smart_wallet.eth_rpc_url': required for the chain id")
    from ap_avs.chain import ChainClient  # only here: the other tools stay light

    async with ChainClient(cfg.smart_wallet.eth_rpc_url) as chain:
        return await chain.chain_id()


async def signing_keys(cfg: AggregatorConfig, db_path: Path) -> KeyService:
    """The server's key signer, for a tool working on its stopped store: ``jwt_secret``, else
    (development) the store's ``jwt.secret``.

    Raises:
        ConfigError: production without ``jwt_secret``, or no chain id.
        Unavailable: the chain RPC does not answer.
    """
    if cfg.jwt_secret is not None and cfg.jwt_secret.get_secret_value():
        secret = cfg.jwt_secret.get_secret_value()
    elif cfg.environment == "production":
        raise ConfigError("config key 'jwt_secret': required in production")
    else:
        secret = key_file(db_path / JWT_SECRET_FILE, 32).hex()
    return KeyService(
        jwt_secret=secret,
        chain_id=await _chain_id(cfg),
        max_key_lifetime=timedelta(hours=cfg.max_key_lifetime_hours),
    )


async def run_command(cfg: AggregatorConfig, command: str, args: dict[str, JsonValue]) -> JsonValue:
    """Run an admin ``command`` through the server's socket, or directly on the stopped store.

    ``api-key-create`` on a stopped store creates the store when there is none yet (0700,
    migrated), so a key can be issued before the first start.

    Raises:
        FailedPrecondition: no server answers and the store is held, or there is no store.
        ApAvsError: what the command raised.
    """
    socket = admin_socket_path(cfg.socket_path, cfg.db_path)
    try:
        return await admin_call(socket, command, args)
    except Unavailable:
        pass
    creating = command == "api-key-create"
    if creating:
        db_path = Path(cfg.db_path)
        prepare_store_dir(db_path)
    else:
        db_path = _existing_store(cfg)
    with _lock_stopped(db_path, socket):
        async with LmdbKV(db_path) as store:
            backups = Backups(store, backup_settings(db_path, cfg.backup))
            keys = None
            if creating:
                await run_migrations(store)
                keys = await signing_keys(cfg, db_path)
            api_keys = ApiKeyService(ApiKeyRepo(store), keys)
            handlers = AdminHandlers(store, backups=backups, api_keys=api_keys)
            return await handlers.call(command, args)


# --- backup, restore, migrate --------------------------------------------------------------


def backup(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Take a snapshot of the store now (hot, through the running aggregator if there is one)."""
    cfg = _config(config)
    result = run_or_fail(lambda: run_command(cfg, "backup", {}))
    _print(result)


def restore(
    snapshot: Annotated[Path, typer.Argument(help="snapshot directory (or its manifest.json)")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Replace the (stopped) store with SNAPSHOT; the replaced files are moved aside."""
    cfg = _config(config)
    done = run_or_fail(lambda: restore_snapshot(snapshot, Path(cfg.db_path)))
    manifest = done.snapshot.manifest
    typer.echo(
        f"restored {done.snapshot.path} ({manifest.created_at}, schema "
        f"{manifest.schema_version}, {manifest.total_keys} keys) into {done.db_path}"
    )
    if done.aside is not None:
        typer.echo(f"the replaced store is kept in {done.aside}")


def migrate(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would run")] = False,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Bring the (stopped) store to this program's schema version (the aggregator also does
    this at start-up)."""
    cfg = _config(config)

    async def work() -> None:
        db_path = _existing_store(cfg)
        if dry_run:
            async with LmdbKV(db_path) as store:
                plan = await inspect(store)
            stored = "none" if plan.stored is None else str(plan.stored)
            typer.echo(f"store schema version: {stored}; this program: {CURRENT_SCHEMA}")
            if plan.fresh:
                typer.echo("the store is empty: it would only be stamped")
            if not plan.pending:
                typer.echo("nothing to run")
            for step in plan.pending:
                typer.echo(f"would run {step.version} {step.name}: {step.summary}")
            return
        socket = admin_socket_path(cfg.socket_path, cfg.db_path)
        with _lock_stopped(db_path, socket):
            async with LmdbKV(db_path) as store:
                applied = await run_migrations(store)
        for done in applied:
            typer.echo(f"ran {done.version} {done.name}: {done.changed} records changed")
        typer.echo(f"schema version {CURRENT_SCHEMA}" if applied else "nothing to run")

    run_or_fail(work)


# --- api-key ----------------------------------------------------------------------------------

api_key_app = typer.Typer(
    help="API keys: issue (90 days by default), list and revoke; a revoked key is refused at once.",
    no_args_is_help=True,
)

Subject = Annotated[str, typer.Option("--subject", "-s", help="EOA the key acts as (0x…)")]
Roles = Annotated[list[str], typer.Option("--role", help="admin or readonly; repeatable")]
Expires = Annotated[
    str | None,
    typer.Option(help="expiry as an ISO date or datetime (UTC); default 90 days from now"),
]
Label = Annotated[str, typer.Option(help="free text to recognise the key by")]


def api_key_create(
    subject: Subject,
    role: Roles,
    expires: Expires = None,
    label: Label = "",
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Issue an API key for SUBJECT and print its token (shown once)."""
    cfg = _config(config)
    roles: list[JsonValue] = list(role)
    args: dict[str, JsonValue] = {
        "subject": subject,
        "roles": roles,
        "expires": expires or "",
        "label": label,
    }
    result = run_or_fail(lambda: run_command(cfg, "api-key-create", args))
    assert isinstance(result, dict)
    typer.echo(str(result["token"]))
    typer.echo(
        f"API key {result['id']} for {result['subject']} ({', '.join(map(str, role))}), "
        f"expires {result['expires_at']}: the token is shown once; revoke with "
        f"`ap-avs api-key revoke {result['id']}`",
        err=True,
    )


def api_key_list(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """List API keys (id, subject, roles, creation, expiry, label, state); never tokens."""
    cfg = _config(config)
    _print(run_or_fail(lambda: run_command(cfg, "api-keys", {})))


def api_key_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (jti), as `list` shows it")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Revoke an API key: every aggregator on the store refuses it from its next call."""
    cfg = _config(config)
    _print(run_or_fail(lambda: run_command(cfg, "api-key-revoke", {"id": key_id})))


api_key_app.command("create")(api_key_create)
api_key_app.command("list")(api_key_list)
api_key_app.command("revoke")(api_key_revoke)


# --- admin ------------------------------------------------------------------------------------

admin_app = typer.Typer(
    help="The admin console: through the aggregator's socket, or on the stopped store.",
    no_args_is_help=True,
)


@admin_app.callback()
def _admin(ctx: typer.Context, config: ConfigOption = DEFAULT_CONFIG) -> None:
    ctx.obj = _config(config)


def _admin_run(ctx: typer.Context, command: str, args: dict[str, JsonValue]) -> JsonValue:
    cfg: AggregatorConfig = ctx.obj
    return run_or_fail(lambda: run_command(cfg, command, args))


@admin_app.command("keys", help=COMMANDS["keys"])
def admin_keys(
    ctx: typer.Context,
    prefix: Annotated[str, typer.Argument(help="key prefix, e.g. t:a: or history:")] = "",
    limit: Annotated[int, typer.Option(help="at most this many keys")] = 100,
    start: Annotated[str, typer.Option(help="continue after this key")] = "",
) -> None:
    result = _admin_run(ctx, "keys", {"prefix": prefix, "limit": limit, "start": start})
    assert isinstance(result, dict)
    listed = result.get("keys")
    for key in listed if isinstance(listed, list) else []:
        typer.echo(str(key))
    if result.get("more") and isinstance(listed, list) and listed:
        typer.echo(f"… more: --start '{listed[-1]}'", err=True)


@admin_app.command("get", help=COMMANDS["get"])
def admin_get(ctx: typer.Context, key: str) -> None:
    _print(_admin_run(ctx, "get", {"key": key}))


@admin_app.command("delete", help=COMMANDS["delete"])
def admin_delete(
    ctx: typer.Context,
    key: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    if not yes:
        typer.confirm(f"delete {key}? (raw: indexes and counters are not updated)", abort=True)
    _print(_admin_run(ctx, "delete", {"key": key}))


@admin_app.command("workflow", help=COMMANDS["workflow"])
def admin_workflow(ctx: typer.Context, workflow_id: str) -> None:
    _print(_admin_run(ctx, "workflow", {"id": workflow_id}))


@admin_app.command("trigger", help=COMMANDS["trigger"])
def admin_trigger(ctx: typer.Context, workflow_id: str) -> None:
    _print(_admin_run(ctx, "trigger", {"id": workflow_id}))


@admin_app.command("backup", help=COMMANDS["backup"])
def admin_backup(ctx: typer.Context) -> None:
    _print(_admin_run(ctx, "backup", {}))


@admin_app.command("queue", help=COMMANDS["queue"])
def admin_queue(ctx: typer.Context) -> None:
    _print(_admin_run(ctx, "queue", {}))


@admin_app.command("operators", help=COMMANDS["operators"])
def admin_operators(ctx: typer.Context) -> None:
    _print(_admin_run(ctx, "operators", {}))


@admin_app.command("evidence", help=COMMANDS["evidence"])
def admin_evidence(ctx: typer.Context, operator: str, limit: int = 20) -> None:
    _print(_admin_run(ctx, "evidence", {"operator": operator, "limit": limit}))


@admin_app.command("unsuspend", help=COMMANDS["unsuspend"])
def admin_unsuspend(ctx: typer.Context, operator: str) -> None:
    _print(_admin_run(ctx, "unsuspend", {"operator": operator}))


@admin_app.command("retention", help=COMMANDS["retention"])
def admin_retention(
    ctx: typer.Context,
    run: Annotated[bool, typer.Option("--run", help="run a retention pass now")] = False,
) -> None:
    _print(_admin_run(ctx, "retention", {"run": run}))


@admin_app.command("integrity", help=COMMANDS["integrity"])
def admin_integrity(ctx: typer.Context) -> None:
    result = _admin_run(ctx, "integrity", {})
    _print(result)
    if isinstance(result, dict) and not result.get("ok"):
        raise typer.Exit(1)
