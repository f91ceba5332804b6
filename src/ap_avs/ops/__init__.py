"""Day-two operations of a store: backups and restores, schema migrations, the integrity check,
the admin console and the telemetry page.

Nothing here runs by itself: ``aggregator/app.py`` wires the pieces (the store lock and the
migrations before serving, the backup timer and the admin socket in the task group, the
telemetry routes on the HTTP side server) and ``cli.py`` mounts the commands of ``ops.cli``.

    lock.py         StoreLock: one process owns a store directory
    migrations.py   meta:schema_version, MIGRATIONS, run_migrations (refuses a newer store)
    integrity.py    the store's invariants, checked on one snapshot
    backup.py       Backups: hot compacted snapshots with a manifest, retention, the timer
    restore.py      restore: a snapshot in place of a stopped store
    views.py        operators, recent executions, raw values as text
    admin.py        AdminHandlers: the console's commands, on a live or a stopped store
    admin_socket.py AdminServer (0600 unix socket, peer check), admin_call
    telemetry.py    Telemetry, telemetry_routes (/telemetry, /telemetry.json)
    storage.py      the store's size and retention on /metrics and /telemetry; retention settings
    cli.py          ap-avs backup | restore | migrate | admin …
"""

from ap_avs.ops.admin import AdminHandlers
from ap_avs.ops.admin_socket import AdminServer, admin_call, admin_socket_path
from ap_avs.ops.backup import Backups, BackupSettings, Snapshot, backup_settings
from ap_avs.ops.integrity import IntegrityReport, check_store
from ap_avs.ops.lock import StoreLock
from ap_avs.ops.migrations import CURRENT_SCHEMA, MIGRATIONS, Migration, run_migrations
from ap_avs.ops.restore import restore
from ap_avs.ops.telemetry import Telemetry, telemetry_routes

__all__ = [
    "CURRENT_SCHEMA",
    "MIGRATIONS",
    "AdminHandlers",
    "AdminServer",
    "BackupSettings",
    "Backups",
    "IntegrityReport",
    "Migration",
    "Snapshot",
    "StoreLock",
    "Telemetry",
    "admin_call",
    "admin_socket_path",
    "backup_settings",
    "check_store",
    "restore",
    "run_migrations",
    "telemetry_routes",
]
