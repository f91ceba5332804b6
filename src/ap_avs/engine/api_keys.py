"""API keys as records: issuing, listing and revoking them, and refusing a key whose record is
missing, revoked or expired (the use cases behind ``ap-avs api-key``, the admin console, the
auth interceptor and ``GetKey``).

Every check reads the record from the store (one LMDB point read, about a microsecond; no
cache), so a revocation holds from the next call on, in every process that shares the store.

Usage::

    api_keys = ApiKeyService(ApiKeyRepo(store), keys)
    issued = await api_keys.create("0xAbc…", ["admin"], label="deploy bot")
    print(issued.token)                      # shown once
    await api_keys.revoke(issued.record.jti)
    await api_keys.ensure_active(principal)  # AuthFailure for a revoked key

Raises:
    InvalidArgument: a bad subject, role, expiry or label.
    NotFound: revoking an unknown key.
    FailedPrecondition: creating a key where no signing key is set up.
    AuthFailure / Unauthenticated: a key that is no longer valid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ap_avs.auth import (
    AUTH_ERROR_PREFIX,
    MSG_API_KEY_INVALID,
    REASON_API_KEY_REVOKED,
    AuthFailure,
    KeyService,
    Principal,
)
from ap_avs.clock import now_ms
from ap_avs.domain.api_keys import ApiKey
from ap_avs.errors import FailedPrecondition, Unauthenticated
from ap_avs.store.api_keys import ApiKeyRepo


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new API key: its record and its token (the token is not stored anywhere)."""

    record: ApiKey
    token: str


class ApiKeyService:
    """API key records of one store.

    Args:
        repo: The records.
        keys: Signs new keys and checks ``GetKey``; None where only listing and revoking are
            needed (the stopped-store console without a chain id).
        now_ms: The clock, in milliseconds since the epoch.
    """

    def __init__(
        self,
        repo: ApiKeyRepo,
        keys: KeyService | None,
        *,
        now_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._repo = repo
        self._keys = keys
        self.now_ms = now_ms

    async def create(
        self,
        subject: str,
        roles: Sequence[str],
        *,
        expires_at: datetime | None = None,
        label: str = "",
    ) -> IssuedKey:
        """Issue a key and store its record (default lifetime 90 days).

        Raises:
            InvalidArgument: a bad subject, role, expiry or label.
            FailedPrecondition: no signing key here.
        """
        if self._keys is None:
            raise FailedPrecondition("API keys cannot be signed here (no chain id or secret)")
        record, token = self._keys.issue_api_key(subject, roles, expires_at, label=label)
        await self._repo.add(record)
        return IssuedKey(record, token)

    async def list(self) -> list[ApiKey]:
        """Every record, oldest first, revoked and expired ones included."""
        return await self._repo.list()

    async def revoke(self, jti: str) -> ApiKey:
        """Revoke ``jti`` from now on (again: unchanged).

        Raises:
            NotFound: no such key.
        """
        return await self._repo.revoke(jti.strip().lower(), self.now_ms())

    async def usable(self, jti: str) -> bool:
        """Whether a record for ``jti`` exists and is neither revoked nor expired."""
        record = await self._repo.get(jti) if jti else None
        return record is not None and record.usable(self.now_ms())

    async def ensure_active(self, principal: Principal, *, prefix: str = AUTH_ERROR_PREFIX) -> None:
        """Refuse a caller whose API key is no longer valid (user keys pass untouched).

        Raises:
            AuthFailure: :data:`REASON_API_KEY_REVOKED` after ``prefix``.
        """
        if principal.api_key and not await self.usable(principal.key_id):
            raise AuthFailure(REASON_API_KEY_REVOKED, prefix=prefix)

    async def get_key(self, message: str, signature: str) -> str:
        """``GetKey``: the user key of :meth:`KeyService.exchange`, refused when an API key
        vouched and its record is missing, revoked or expired.

        Raises:
            Unauthenticated: :data:`MSG_API_KEY_INVALID` for such a key; else as ``exchange``.
            FailedPrecondition: no signing key here.
        """
        if self._keys is None:
            raise FailedPrecondition("keys cannot be signed here (no chain id or secret)")
        grant = self._keys.exchange(message, signature)
        if grant.api_key_id is not None and not await self.usable(grant.api_key_id):
            raise Unauthenticated(MSG_API_KEY_INVALID)
        return grant.token
