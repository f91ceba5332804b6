"""Evidence against operators: refused trigger reports, their count, and suspensions.

Owns the ``evidence:<address>:<id>``, ``evidence_count:<address>`` and ``suspended:<address>``
keys (see :mod:`ap_avs.store.keys`). An evidence record keeps what is needed to show the
operator lied to anyone, later: the operator, the workflow and occurrence, the request bytes
exactly as received (protobuf, base64 in the record), the report signature, the reason and the
time. Recording one evidence and counting it is one write inside the caller's transaction
(:func:`record_in`), so a refusal and its evidence cannot come apart; when the count reaches
the threshold, the same transaction writes the suspension.

Usage::

    count, suspended_now = record_in(txn, evidence, suspend_after=5)
    repo = EvidenceRepo(kv)
    await repo.suspended()          # {address: Suspension}

Raises: ``StoreError`` from the store; ``CorruptDataError`` for a record that does not decode.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ap_avs.domain.ids import new_id
from ap_avs.domain.values import JsonValue
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec, keys
from ap_avs.store.kv import KV, ReadTxn, Txn


@dataclass(frozen=True, slots=True)
class Evidence:
    """One refused trigger report."""

    operator: str
    """Lower-case address."""
    workflow_id: str
    occurrence: str
    trigger_kind: str
    """The wire name of the reported trigger type."""
    reason: str
    request: bytes
    """The ``NotifyTriggersReq`` bytes as received."""
    signature: str
    """``NotifyTriggersReq.signature`` (may be empty when signatures are not required)."""
    at_ms: int
    id: str = ""

    def to_json(self, *, with_request: bool = True) -> dict[str, JsonValue]:
        record: dict[str, JsonValue] = {
            "id": self.id,
            "operator": self.operator,
            "workflow_id": self.workflow_id,
            "occurrence": self.occurrence,
            "trigger_type": self.trigger_kind,
            "reason": self.reason,
            "signature": self.signature,
            "at": self.at_ms,
        }
        if with_request:
            record["request"] = base64.b64encode(self.request).decode()
        return record

    @classmethod
    def from_json(cls, record: JsonValue) -> Evidence:
        """Raises:
        CorruptDataError: not an evidence record."""
        if not isinstance(record, dict):
            raise CorruptDataError("an evidence record is not a JSON object")
        try:
            return cls(
                operator=str(record["operator"]),
                workflow_id=str(record["workflow_id"]),
                occurrence=str(record["occurrence"]),
                trigger_kind=str(record["trigger_type"]),
                reason=str(record["reason"]),
                request=base64.b64decode(str(record.get("request") or "")),
                signature=str(record.get("signature") or ""),
                at_ms=int(str(record["at"])),
                id=str(record.get("id") or ""),
            )
        except (KeyError, ValueError) as exc:
            raise CorruptDataError(f"an evidence record is incomplete: {exc}") from None


@dataclass(frozen=True, slots=True)
class Suspension:
    address: str
    at_ms: int
    reason: str
    invalid_reports: int

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "address": self.address,
            "at": self.at_ms,
            "reason": self.reason,
            "invalid_reports": self.invalid_reports,
        }


def count_in(txn: ReadTxn, address: str) -> int:
    raw = txn.get(keys.evidence_count(address))
    return codec.decode_int(raw) if raw is not None else 0


def record_in(txn: Txn, evidence: Evidence, *, suspend_after: int) -> tuple[Evidence, bool]:
    """Store ``evidence`` and count it; suspend the operator when the count reaches
    ``suspend_after`` (0: never). Returns the stored record (with its id) and whether the
    operator was suspended by this one."""
    address = evidence.operator.lower()
    stored = Evidence(
        operator=address,
        workflow_id=evidence.workflow_id,
        occurrence=evidence.occurrence,
        trigger_kind=evidence.trigger_kind,
        reason=evidence.reason,
        request=evidence.request,
        signature=evidence.signature,
        at_ms=evidence.at_ms,
        id=evidence.id or new_id(now_ms=evidence.at_ms),
    )
    txn.put(keys.evidence(address, stored.id), codec.dumps(stored.to_json()))
    count = count_in(txn, address) + 1
    txn.put(keys.evidence_count(address), codec.encode_int(count))
    if not suspend_after or count < suspend_after or txn.get(keys.suspended(address)):
        return stored, False
    suspension = Suspension(
        address, evidence.at_ms, f"{count} invalid trigger reports (last: {evidence.reason})", count
    )
    txn.put(keys.suspended(address), codec.dumps(suspension.to_json()))
    return stored, True


def _suspension(address: str, raw: bytes) -> Suspension:
    record = codec.loads(raw)
    if not isinstance(record, dict):
        raise CorruptDataError(f"suspension of {address} is not a JSON object")
    return Suspension(
        address,
        int(str(record.get("at", 0))),
        str(record.get("reason", "")),
        int(str(record.get("invalid_reports", 0))),
    )


class EvidenceRepo:
    """Reads evidence and suspensions; lifts a suspension."""

    def __init__(self, kv: KV) -> None:
        self._kv = kv

    async def record(self, evidence: Evidence, *, suspend_after: int) -> tuple[Evidence, bool]:
        """:func:`record_in` in its own transaction."""
        return await self._kv.update(
            lambda txn: record_in(txn, evidence, suspend_after=suspend_after)
        )

    async def count(self, address: str) -> int:
        return await self._kv.view(lambda txn: count_in(txn, address))

    async def counts(self) -> dict[str, int]:
        """Refused reports per operator (lower-case address), operators with none left out."""
        rows = await self._kv.scan(keys.EVIDENCE_COUNTS)
        return {
            key[len(keys.EVIDENCE_COUNTS) :].decode(): codec.decode_int(raw) for key, raw in rows
        }

    async def list(self, address: str, *, limit: int = 50) -> list[Evidence]:
        """The operator's most recent evidence, newest first."""
        rows = await self._kv.scan(keys.evidence_prefix(address), reverse=True, limit=limit)
        return [Evidence.from_json(codec.loads(raw)) for _, raw in rows]

    async def suspended(self) -> dict[str, Suspension]:
        """Every suspended operator (lower-case address)."""
        found: dict[str, Suspension] = {}
        for key, raw in await self._kv.scan(keys.SUSPENDED):
            address = keys.parse_suspended(key)
            found[address] = _suspension(address, raw)
        return found

    async def is_suspended(self, address: str) -> bool:
        return await self._kv.get(keys.suspended(address)) is not None

    async def lift(self, address: str, *, reset_count: bool = True) -> bool:
        """Lift a suspension (and by default restart the count); False if none."""

        def lift(txn: Txn) -> bool:
            if not txn.delete(keys.suspended(address)):
                return False
            if reset_count:
                txn.delete(keys.evidence_count(address))
            return True

        return await self._kv.update(lift)
