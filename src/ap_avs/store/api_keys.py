"""Stored API key records: ``apikey:<jti>`` (see ``store/keys.py``).

``get`` is one LMDB point read (about a microsecond), cheap enough to run on every call that
presents an API key, so every process sharing the store sees a revocation on its next read.

Raises:
    AlreadyExists: creating a record whose ``jti`` is taken.
    NotFound: revoking an unknown ``jti``.
    StoreError: the store failed (CorruptDataError for an undecodable record).
"""

from __future__ import annotations

from ap_avs.domain.api_keys import ApiKey
from ap_avs.errors import AlreadyExists, CorruptDataError, NotFound
from ap_avs.store import codec, keys
from ap_avs.store.codec import JsonValue
from ap_avs.store.keys import InvalidKeyError
from ap_avs.store.kv import KV, Txn


def encode(key: ApiKey) -> bytes:
    record: dict[str, JsonValue] = {
        "jti": key.jti,
        "subject": key.subject,
        "roles": list(key.roles),
        "created_at_ms": key.created_at_ms,
        "expires_at_ms": key.expires_at_ms,
        "label": key.label,
    }
    if key.revoked_at_ms is not None:
        record["revoked_at_ms"] = key.revoked_at_ms
    return codec.dumps(record)


def _int(data: dict[str, JsonValue], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise CorruptDataError(f"stored API key record has a malformed {name}")
    return value


def decode(raw: bytes) -> ApiKey:
    data = codec.loads(raw)
    if not isinstance(data, dict):
        raise CorruptDataError("stored API key record is not an object")
    jti, subject, roles = data.get("jti"), data.get("subject"), data.get("roles")
    label = data.get("label", "")
    if not (isinstance(jti, str) and isinstance(subject, str) and isinstance(label, str)):
        raise CorruptDataError("stored API key record has malformed text fields")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise CorruptDataError("stored API key record has malformed roles")
    revoked = data.get("revoked_at_ms")
    return ApiKey(
        jti=jti,
        subject=subject,
        roles=tuple(str(r) for r in roles),
        created_at_ms=_int(data, "created_at_ms"),
        expires_at_ms=_int(data, "expires_at_ms"),
        label=label,
        revoked_at_ms=None if revoked is None else _int(data, "revoked_at_ms"),
    )


class ApiKeyRepo:
    """Reads and writes API key records."""

    def __init__(self, kv: KV) -> None:
        self._kv = kv

    async def get(self, jti: str) -> ApiKey | None:
        """The record of ``jti``; None when there is none (or ``jti`` cannot be a key id)."""
        try:
            key = keys.api_key(jti)
        except InvalidKeyError:
            return None
        raw = await self._kv.get(key)
        return None if raw is None else decode(raw)

    async def add(self, record: ApiKey) -> None:
        """Store a new record.

        Raises:
            AlreadyExists: a record with this ``jti`` exists.
        """
        key = keys.api_key(record.jti)

        def add(txn: Txn) -> None:
            if txn.get(key) is not None:
                raise AlreadyExists(f"API key {record.jti} exists")
            txn.put(key, encode(record))

        await self._kv.update(add)

    async def list(self) -> list[ApiKey]:
        """Every record, oldest first (revoked and expired ones included)."""
        return [decode(raw) for _, raw in await self._kv.scan(keys.API_KEYS)]

    async def revoke(self, jti: str, now_ms: int) -> ApiKey:
        """Mark ``jti`` revoked at ``now_ms`` (a revoked one keeps its first revocation time).

        Raises:
            NotFound: no record has this ``jti``.
        """
        try:
            key = keys.api_key(jti)
        except InvalidKeyError:
            raise NotFound(f"no API key {jti!r}") from None

        def revoke(txn: Txn) -> ApiKey:
            raw = txn.get(key)
            if raw is None:
                raise NotFound(f"no API key {jti!r}")
            record = decode(raw)
            revoked = record.revoke(now_ms)
            if revoked is not record:
                txn.put(key, encode(revoked))
            return revoked

        return await self._kv.update(revoke)
