"""Operator records: the last Ping of each operator under ``operator:<address>``.

Raises ``StoreError`` from the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from ap_avs.domain.values import JsonValue
from ap_avs.store import codec, keys
from ap_avs.store.kv import KV


@dataclass(frozen=True, slots=True)
class Checkin:
    """What an operator reports in a Ping."""

    address: str
    version: str = ""
    block_number: int = 0
    event_count: int = 0
    metrics_port: int = 0
    remote_ip: str = ""
    uptime_seconds: int = 0
    queue_depth: int = 0


class OperatorRecords:
    """Reads and writes ``operator:`` records (upstream's JSON shape, plus a few fields)."""

    def __init__(self, kv: KV) -> None:
        self._kv = kv

    async def save(self, checkin: Checkin, now_ms: int) -> None:
        record: JsonValue = {
            "address": checkin.address,
            "name": "Unknown",
            "remote_ip": checkin.remote_ip,
            "last_ping": now_ms // 1000,
            "last_ping_ms": now_ms,
            "version": checkin.version,
            "metrics_port": checkin.metrics_port,
            "block_number": checkin.block_number,
            "event_count": checkin.event_count,
            "uptime_seconds": checkin.uptime_seconds,
            "queue_depth": checkin.queue_depth,
        }
        await self._kv.put(keys.operator(checkin.address), codec.dumps(record))

    async def get(self, address: str) -> JsonValue:
        raw = await self._kv.get(keys.operator(address))
        return None if raw is None else codec.loads(raw)

    async def all(self) -> list[JsonValue]:
        """Every operator record, by address."""
        return [codec.loads(raw) for _, raw in await self._kv.scan(keys.OPERATORS)]
