"""API keys as records: what an issued key is, when it may be used, and the rules for issuing.

An API key is an HS256 JWT with ``roles`` and a ``jti``; the record stored under that ``jti``
(``apikey:<jti>``, see ``store/keys.py``) is what makes it valid. A key whose record is missing,
revoked or expired is refused on its next call. Keys from sign-in (``GetKey``) are not records:
they stay stateless and short-lived.

Pure: the caller passes the time in.

Usage::

    key = new_api_key(subject, ["admin"], now_ms=now, expires_at_ms=None, label="ci")
    if not key.usable(now_ms): ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Final

from ap_avs.domain.addresses import address_bytes, is_hex_address
from ap_avs.domain.ids import new_id
from ap_avs.errors import InvalidArgument

ROLE_ADMIN: Final = "admin"
ROLE_READONLY: Final = "readonly"
ROLES: Final = (ROLE_ADMIN, ROLE_READONLY)
DEFAULT_LIFETIME: Final = timedelta(days=90)
"""Lifetime of a new API key unless ``--expires`` asks for another."""
MAX_LABEL: Final = 200


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One issued API key (never the token itself: it is shown once, when created)."""

    jti: str
    """The key's id: a lower-case ULID, the token's ``jti`` claim."""
    subject: str
    """The EOA the key acts as, as given (the token's ``sub``)."""
    roles: tuple[str, ...]
    created_at_ms: int
    expires_at_ms: int
    label: str = ""
    revoked_at_ms: int | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at_ms is not None

    def usable(self, now_ms: int) -> bool:
        """Neither revoked nor expired at ``now_ms``."""
        return self.revoked_at_ms is None and now_ms < self.expires_at_ms

    def state(self, now_ms: int) -> str:
        """``active``, ``expired`` or ``revoked`` (for listings)."""
        if self.revoked:
            return "revoked"
        return "active" if now_ms < self.expires_at_ms else "expired"

    def revoke(self, now_ms: int) -> ApiKey:
        """The record revoked at ``now_ms`` (unchanged when it is revoked already)."""
        return self if self.revoked else replace(self, revoked_at_ms=now_ms)


def new_api_key(
    subject: str,
    roles: Sequence[str],
    *,
    now_ms: int,
    expires_at_ms: int | None = None,
    label: str = "",
) -> ApiKey:
    """A new key record after checking what the caller asked for.

    Args:
        subject: The EOA the key acts as: ``0x`` and 40 hex digits, not the zero address.
        roles: At least one of ``admin``, ``readonly`` (duplicates dropped).
        now_ms: Now, in milliseconds since the epoch.
        expires_at_ms: When it expires; default :data:`DEFAULT_LIFETIME` from now.
        label: Free text to recognise the key by (at most 200 characters).

    Raises:
        InvalidArgument: a bad subject, no or unknown roles, an expiry not in the future, or
            a label too long.
    """
    if not is_hex_address(subject):
        raise InvalidArgument("API key subject must be a hex address (0x and 40 hex digits)")
    if not any(address_bytes(subject)):
        raise InvalidArgument("API key subject cannot be the zero address")
    if isinstance(roles, str):
        raise InvalidArgument("API key roles must be a list of role names")
    if not roles:
        raise InvalidArgument("an API key needs at least one role (admin or readonly)")
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise InvalidArgument(f"unknown API key role {unknown[0]!r}: use admin or readonly")
    if expires_at_ms is None:
        expires_at_ms = now_ms + int(DEFAULT_LIFETIME.total_seconds() * 1000)
    if expires_at_ms <= now_ms:
        raise InvalidArgument("API key expiry must be in the future")
    if len(label) > MAX_LABEL:
        raise InvalidArgument(f"API key label is longer than {MAX_LABEL} characters")
    return ApiKey(
        jti=new_id(now_ms=now_ms),
        subject=subject,
        roles=tuple(dict.fromkeys(roles)),
        created_at_ms=now_ms,
        expires_at_ms=expires_at_ms,
        label=label,
    )
