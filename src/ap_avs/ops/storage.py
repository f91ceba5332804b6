"""The store's size and retention as operations see them: ``/metrics`` gauges, the storage part
of ``/telemetry``, and the retention settings built from the ``retention`` config section.

Figures: the store's size (`KV.size`: file, bytes in use, high-water mark, keys; read by
each retention pass, and afresh for each telemetry report),
records by kind (the last census, with its time), the oldest record kept (execution and
idempotency mark, from the last retention pass) and what retention removed since start.

Usage (composition root)::

    retention = Retention(store, retention_settings(cfg.retention))
    registry.register(StorageCollector(retention))

Raises: nothing (a figure not known yet is left out, or null in JSON).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ap_avs.config import RetentionConfig
from ap_avs.domain.values import JsonValue
from ap_avs.engine.retention import Retention
from ap_avs.engine.retention_policy import DAY_MS, Policy, RetentionSettings
from ap_avs.store.kv import StoreSize

HOUR_MS = 3_600_000


def retention_settings(section: RetentionConfig) -> RetentionSettings:
    """The engine's settings from the config section (0 turns a default limit off)."""

    def days(value: int | None) -> int | None:
        return value * DAY_MS if value else None

    return RetentionSettings(
        default=Policy(
            days(section.execution_max_age_days), section.executions_per_workflow or None
        ),
        overrides={
            workflow_id: Policy(days(o.execution_max_age_days), o.executions_per_workflow)
            for workflow_id, o in section.workflows.items()
        },
        idempotency_window_ms=int(section.idempotency_window_hours * HOUR_MS),
        stats_ms=section.stats_days * DAY_MS,
        report_ms=section.deletion_report_days * DAY_MS,
        evidence_ms=section.evidence_days * DAY_MS,
        interval_seconds=section.interval_seconds,
        batch=section.batch_size,
        pause_seconds=section.batch_pause_seconds,
        census_interval_seconds=section.census_interval_seconds,
        enabled=section.enabled,
    )


def storage_json(retention: Retention | None, size: StoreSize | None) -> dict[str, JsonValue]:
    """The ``storage`` part of ``/telemetry.json``."""
    census = retention.census if retention is not None else None
    last = retention.last_pass if retention is not None else None
    return {
        "size": None if size is None else dict(size.to_json()),
        "records_by_kind": None if census is None else dict(census.records),
        "records_counted_at_ms": None if census is None else census.taken_at_ms,
        "oldest_kept_ms": {
            "history": None if last is None else last.oldest_execution_ms,
            "idem": None if last is None else last.oldest_idempotency_mark_ms,
        },
        "retention_last_pass_ms": None if last is None else last.finished_ms,
        "retention_removed_since_start": (
            {} if retention is None else dict(retention.removed_total)
        ),
    }


class StorageCollector(Collector):
    """Prometheus gauges of the store (see the module docstring), read from cached figures."""

    def __init__(self, retention: Retention) -> None:
        self._retention = retention

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        retention = self._retention
        size = retention.size
        if size is not None:
            bytes_gauge = GaugeMetricFamily(
                "ap_avs_store_bytes", "Size of the store in bytes", labels=["measure"]
            )
            bytes_gauge.add_metric(["file"], size.file_bytes)
            bytes_gauge.add_metric(["used"], size.used_bytes)
            bytes_gauge.add_metric(["high_water"], size.high_water_bytes)
            yield bytes_gauge
            yield GaugeMetricFamily("ap_avs_store_keys", "Keys in the store", value=size.entries)
        if retention.census is not None:
            records = GaugeMetricFamily(
                "ap_avs_store_records", "Records by kind (last census)", labels=["kind"]
            )
            for kind, count in retention.census.records.items():
                records.add_metric([kind], count)
            yield records
            yield GaugeMetricFamily(
                "ap_avs_store_census_timestamp_seconds",
                "When records were last counted by kind",
                value=retention.census.taken_at_ms / 1000,
            )
        last = retention.last_pass
        if last is not None:
            oldest = GaugeMetricFamily(
                "ap_avs_store_oldest_record_timestamp_seconds",
                "Time of the oldest record kept, by kind",
                labels=["kind"],
            )
            for kind, ms in (
                ("history", last.oldest_execution_ms),
                ("idem", last.oldest_idempotency_mark_ms),
            ):
                if ms is not None:
                    oldest.add_metric([kind], ms / 1000)
            yield oldest
            yield GaugeMetricFamily(
                "ap_avs_retention_last_pass_timestamp_seconds",
                "When the last retention pass finished",
                value=last.finished_ms / 1000,
            )
        removed = CounterMetricFamily(
            "ap_avs_retention_removed", "Records removed by retention since start", labels=["kind"]
        )
        for kind, count in retention.removed_total.items():
            removed.add_metric([kind], count)
        yield removed
