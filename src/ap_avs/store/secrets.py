"""Stored secrets: sealed values under ``secret:`` keys, with their timestamps and creator.

The value is sealed with :class:`ap_avs.cipher.SecretCipher`, bound to its key; it is opened only
for a workflow run, never for a listing.

Raises:
    StoreError: the store failed; CorruptDataError for a record that does not decode.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from ap_avs.cipher import SecretCipher
from ap_avs.domain.secrets import SecretRef, SecretValue
from ap_avs.errors import CorruptDataError
from ap_avs.store import codec, keys
from ap_avs.store.kv import KV, Txn


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """Everything about a stored secret except its value."""

    ref: SecretRef
    created_at: int
    updated_at: int
    created_by: str
    key: str


def _key(ref: SecretRef) -> bytes:
    return keys.secret(ref.owner, ref.name, workflow_id=ref.workflow_id, org_id=ref.org_id)


def _record(raw: bytes) -> dict[str, codec.JsonValue]:
    data = codec.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("sealed"), str):
        raise CorruptDataError("stored secret record is malformed")
    return data


def _int(data: dict[str, codec.JsonValue], name: str) -> int:
    value = data.get(name, 0)
    return value if isinstance(value, int) else 0


def _info(key: bytes, raw: bytes) -> SecretInfo:
    parsed = keys.parse_secret(key)
    data = _record(raw)
    ref = SecretRef(parsed.owner, parsed.name, parsed.workflow_id, parsed.org_id)
    created_by = data.get("created_by", "")
    return SecretInfo(
        ref,
        _int(data, "created_at"),
        _int(data, "updated_at"),
        created_by if isinstance(created_by, str) else "",
        key.decode(),
    )


class SecretRepo:
    """Create, replace, delete, list and open secrets."""

    def __init__(self, kv: KV, cipher: SecretCipher) -> None:
        self._kv = kv
        self._cipher = cipher

    def _seal(self, key: bytes, value: SecretValue, created_at: int, now_ms: int, by: str) -> bytes:
        sealed = base64.b64encode(self._cipher.seal(value, key)).decode()
        record: dict[str, codec.JsonValue] = {"sealed": sealed, "created_at": created_at}
        record |= {"updated_at": now_ms, "created_by": by}
        return codec.dumps(record)

    async def put(self, ref: SecretRef, value: SecretValue, *, now_ms: int, by: str) -> bool:
        """Create or overwrite; True when it already existed (its creation time is kept)."""
        key = _key(ref)

        def put(txn: Txn) -> bool:
            old = txn.get(key)
            created = _int(_record(old), "created_at") if old is not None else now_ms
            txn.put(key, self._seal(key, value, created, now_ms, by))
            return old is not None

        return await self._kv.update(put)

    async def replace(self, ref: SecretRef, value: SecretValue, *, now_ms: int, by: str) -> bool:
        """Overwrite an existing secret; False (and nothing written) when there is none."""
        key = _key(ref)

        def replace(txn: Txn) -> bool:
            old = txn.get(key)
            if old is None:
                return False
            created = _int(_record(old), "created_at")
            txn.put(key, self._seal(key, value, created, now_ms, by))
            return True

        return await self._kv.update(replace)

    async def delete(self, ref: SecretRef) -> bool:
        key = _key(ref)
        return await self._kv.update(lambda txn: txn.delete(key))

    async def exists(self, ref: SecretRef) -> bool:
        return await self._kv.get(_key(ref)) is not None

    async def list(
        self,
        owner: str,
        *,
        start: str | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> list[SecretInfo]:
        """User- and workflow-scoped secrets of ``owner`` in key order, from after ``start``."""
        rows = await self._kv.scan(
            keys.owner_secrets_prefix(owner),
            start=start.encode() if start is not None else None,
            include_start=False,
            reverse=reverse,
            limit=limit,
        )
        return [_info(key, raw) for key, raw in rows]

    async def open(self, ref: SecretRef) -> SecretValue | None:
        """The plaintext of one secret (for workflow runs only)."""
        key = _key(ref)
        raw = await self._kv.get(key)
        if raw is None:
            return None
        try:
            sealed = base64.b64decode(str(_record(raw)["sealed"]), validate=True)
        except binascii.Error:
            raise CorruptDataError("stored secret record is malformed") from None
        return self._cipher.open(sealed, key)
