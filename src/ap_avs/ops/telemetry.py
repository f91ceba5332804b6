"""The telemetry page: ``/telemetry`` (server-rendered HTML, no JavaScript) and its JSON twin
``/telemetry.json``, mounted on the aggregator's HTTP side server.

It shows the operators (address, version, last seen, block number, events seen, assigned
workflows, refused trigger reports and suspension; connected ones first, from the dispatcher,
joined with their stored Pings; with admission by EigenLayer stake, each one's membership and
allocated stake), the queue depth, the executions of the last hour, the build version, and the
store: its size, records by kind and the oldest record kept (``ops/storage.py``). The
executions are counted from the ``history:`` keys with
:func:`ap_avs.ops.views.executions_since` (a skip scan: one seek per workflow with history plus
the recent keys, no counter to keep in step), and a report is reused for ``cache_seconds`` so a
busy scraper costs one count per interval.

Usage (in ``AggregatorApp``, once the queue and the dispatcher exist)::

    telemetry = Telemetry(store, queue=self.queue, operators=self.node.dispatcher,
                          stake=self.admission)
    app = Starlette(routes=[..., *telemetry_routes(telemetry)])

Raises: ``StoreError`` from the store (the routes answer 503 then).
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Final, Protocol

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ap_avs.clock import now_ms
from ap_avs.domain.values import JsonValue
from ap_avs.engine.queue import QUEUE
from ap_avs.engine.retention import Retention
from ap_avs.errors import StoreError
from ap_avs.ops.storage import storage_json
from ap_avs.ops.views import (
    OperatorDirectory,
    OperatorStatus,
    StakeDirectory,
    executions_since,
    operator_statuses,
)
from ap_avs.store import keys
from ap_avs.store.keys import QueueState
from ap_avs.store.kv import KV
from ap_avs.version import __version__

HOUR_MS: Final = 3_600_000
REFRESH_SECONDS: Final = 30


class QueueDepth(Protocol):
    """What the page needs of the job queue (`JobQueue` is one)."""

    async def depth(self, state: QueueState = QueueState.PENDING) -> int: ...


@dataclass(frozen=True, slots=True)
class TelemetryReport:
    version: str
    generated_at_ms: int
    queue_pending: int
    queue_in_progress: int
    executions_last_hour: int
    executions_count_complete: bool
    operators: tuple[OperatorStatus, ...]
    stake_admission: bool = False
    """Operators are admitted by EigenLayer stake (else by the allow-list)."""
    storage: dict[str, JsonValue] = field(default_factory=dict)

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "version": self.version,
            "admission": "eigenlayer" if self.stake_admission else "allow-list",
            "generated_at_ms": self.generated_at_ms,
            "queue": {"pending": self.queue_pending, "in_progress": self.queue_in_progress},
            "executions_last_hour": self.executions_last_hour,
            "executions_count_complete": self.executions_count_complete,
            "connected_operators": sum(1 for op in self.operators if op.connected),
            "suspended_operators": sum(1 for op in self.operators if op.suspended),
            "invalid_reports": sum(op.invalid_reports for op in self.operators),
            "operators": [op.to_json() for op in self.operators],
            "storage": self.storage,
        }


def _utc(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(ms: int, now_ms: int) -> str:
    seconds = max(0, (now_ms - ms) // 1000)
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _stake_units(amount: int) -> str:
    """Shares in whole units of 10**18 (at most 4 decimals), e.g. ``1,000`` or ``0.05``."""
    units = (Decimal(amount) / Decimal(10**18)).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
    text = f"{units:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GiB"


def template_environment() -> jinja2.Environment:
    """The jinja2 environment of the ops templates (autoescaped, strict about undefined)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ap_avs.ops", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = _utc
    env.filters["ago"] = _ago
    env.filters["stake_units"] = _stake_units
    env.filters["size"] = _size
    return env


class Telemetry:
    """Collects and renders the telemetry of one aggregator (see the module docstring)."""

    def __init__(
        self,
        store: KV,
        *,
        queue: QueueDepth | None = None,
        operators: OperatorDirectory | None = None,
        stake: StakeDirectory | None = None,
        version: str = __version__,
        now_ms: Callable[[], int] = now_ms,
        cache_seconds: float = 5.0,
        retention: Retention | None = None,
    ) -> None:
        self._store = store
        self._retention = retention
        self._queue = queue
        self._operators = operators
        self._stake = stake
        self._version = version
        self._now_ms = now_ms
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, TelemetryReport] | None = None
        self._lock = asyncio.Lock()
        self._template = template_environment().get_template("telemetry.html")

    async def _depth(self, state: QueueState) -> int:
        if self._queue is not None:
            return await self._queue.depth(state)
        return await self._store.count(keys.queue_prefix(QUEUE, state))

    async def report(self) -> TelemetryReport:
        """The current report (at most ``cache_seconds`` old)."""
        async with self._lock:
            cached = self._cached
            if cached is not None and time.monotonic() - cached[0] < self._cache_seconds:
                return cached[1]
            now = self._now_ms()
            recent = await executions_since(self._store, now - HOUR_MS)
            report = TelemetryReport(
                version=self._version,
                generated_at_ms=now,
                queue_pending=await self._depth(QueueState.PENDING),
                queue_in_progress=await self._depth(QueueState.IN_PROGRESS),
                executions_last_hour=recent.count,
                executions_count_complete=recent.complete,
                operators=tuple(await operator_statuses(self._store, self._operators, self._stake)),
                stake_admission=self._stake is not None,
                storage=storage_json(self._retention, await self._store.size()),
            )
            self._cached = (time.monotonic(), report)
            return report

    def render(self, report: TelemetryReport) -> str:
        """The HTML page of ``report``."""
        known = self._operators is not None
        connected = [op for op in report.operators if op.connected]
        others = [op for op in report.operators if not op.connected]
        return self._template.render(
            report=report,
            connected=connected,
            others=others,
            connected_known=known,
            refresh_seconds=REFRESH_SECONDS,
        )


def telemetry_routes(telemetry: Telemetry) -> list[Route]:
    """The Starlette routes ``/telemetry`` and ``/telemetry.json``."""

    async def page(request: Request) -> Response:
        try:
            report = await telemetry.report()
        except StoreError as exc:
            return HTMLResponse(
                f"<p>telemetry unavailable: {html.escape(exc.message)}</p>", status_code=503
            )
        return HTMLResponse(telemetry.render(report), headers={"Cache-Control": "no-store"})

    async def as_json(request: Request) -> Response:
        try:
            report = await telemetry.report()
        except StoreError as exc:
            return JSONResponse({"error": exc.message}, status_code=503)
        return JSONResponse(report.to_json(), headers={"Cache-Control": "no-store"})

    return [Route("/telemetry", page), Route("/telemetry.json", as_json)]
