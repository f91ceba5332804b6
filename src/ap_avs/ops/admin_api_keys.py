"""The admin console's API key commands: ``api-keys``, ``api-key-create``, ``api-key-revoke``.

They run on the live server's :class:`ApiKeyService` (through the admin socket) or on a stopped
store (``ap-avs api-key …`` without a server). A token is shown once, in the answer to
``api-key-create``; listings show the records only.

Raises:
    InvalidArgument: a bad argument (subject, roles, expiry, label).
    NotFound: revoking an unknown key.
    FailedPrecondition: no API key service here, or no signing key for ``api-key-create``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Final

from ap_avs.clock import now_ms as clock_now_ms
from ap_avs.domain.api_keys import ApiKey
from ap_avs.domain.values import JsonValue
from ap_avs.engine.api_keys import ApiKeyService
from ap_avs.errors import FailedPrecondition, InvalidArgument

COMMANDS: Final = {
    "api-keys": "list API keys: id, subject, roles, created, expiry, label, state",
    "api-key-create": "issue an API key (args: subject, roles, expires (ISO), label)",
    "api-key-revoke": "revoke an API key at once (args: id)",
}

Handler = Callable[[Mapping[str, JsonValue]], Awaitable[JsonValue]]


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def key_json(key: ApiKey, now_ms: int) -> dict[str, JsonValue]:
    """What the console shows of a record."""
    return {
        "id": key.jti,
        "subject": key.subject,
        "roles": list(key.roles),
        "created_at": _iso(key.created_at_ms),
        "expires_at": _iso(key.expires_at_ms),
        "label": key.label,
        "state": key.state(now_ms),
        "revoked_at": None if key.revoked_at_ms is None else _iso(key.revoked_at_ms),
    }


def parse_expiry(text: str | None) -> datetime | None:
    """An ISO date or datetime (UTC when it has no zone); None for None or "".

    Raises:
        InvalidArgument: not an ISO date or datetime.
    """
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"expires: not an ISO date or datetime: {text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(args: Mapping[str, JsonValue], name: str, default: str | None = None) -> str:
    value = args.get(name, default)
    if not isinstance(value, str):
        raise InvalidArgument(f"'{name}' must be a string")
    return value


def handlers(
    api_keys: ApiKeyService | None, *, now_ms: Callable[[], int] | None = None
) -> dict[str, Handler]:
    """The three commands over ``api_keys`` (each refuses when it is None)."""
    clock = now_ms or clock_now_ms

    def service() -> ApiKeyService:
        if api_keys is None:
            raise FailedPrecondition("API keys are not available in this process")
        return api_keys

    async def list_keys(args: Mapping[str, JsonValue]) -> JsonValue:
        now = clock()
        return [key_json(key, now) for key in await service().list()]

    async def create(args: Mapping[str, JsonValue]) -> JsonValue:
        roles = args.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise InvalidArgument("'roles' must be a list of role names")
        issued = await service().create(
            _text(args, "subject"),
            [str(r) for r in roles],
            expires_at=parse_expiry(_text(args, "expires", "")),
            label=_text(args, "label", ""),
        )
        return {**key_json(issued.record, clock()), "token": issued.token}

    async def revoke(args: Mapping[str, JsonValue]) -> JsonValue:
        return key_json(await service().revoke(_text(args, "id")), clock())

    return {"api-keys": list_keys, "api-key-create": create, "api-key-revoke": revoke}
