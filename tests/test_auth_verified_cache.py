"""KeyService.verify remembers tokens it has verified; the time rules still apply on reuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from ap_avs import auth
from ap_avs.auth import AuthFailure, KeyService

SECRET = "test-secret-0123456789-abcdefghijklmnop"
CHAIN = 11155111
NOW = datetime(2026, 6, 3, 12, 0, 5, tzinfo=UTC)
ALICE = "0x" + "a1" * 20


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def token(**claims: object) -> str:
    body = {"iss": "AvaProtocol", "sub": ALICE, "aud": [str(CHAIN)], **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


def test_a_remembered_token_still_expires_and_waits_for_nbf() -> None:
    clock = Clock()
    keys = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=clock)
    start = int(NOW.timestamp())
    key = token(exp=start + 3600, nbf=start - 10)
    assert keys.verify(key).address.lower() == ALICE
    assert keys.verify(key).address.lower() == ALICE  # answered from the cache
    clock.now = NOW - timedelta(minutes=1)  # before nbf
    with pytest.raises(AuthFailure):
        keys.verify(key)
    clock.now = NOW + timedelta(hours=1)  # at exp
    with pytest.raises(AuthFailure):
        keys.verify(key)


def test_a_lower_lifetime_applies_to_remembered_user_keys() -> None:
    clock = Clock()
    keys = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=clock)
    key = token(exp=int(NOW.timestamp()) + 20 * 86400)
    assert keys.verify(key)
    clock.now = NOW - timedelta(days=15)  # exp now lies beyond the 30-day limit
    with pytest.raises(AuthFailure):
        keys.verify(key)


def test_a_tampered_token_is_not_taken_for_a_remembered_one() -> None:
    keys = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=Clock())
    key = token(exp=int(NOW.timestamp()) + 3600)
    assert keys.verify(key)
    with pytest.raises(AuthFailure):
        keys.verify(key[:-2] + ("AA" if not key.endswith("AA") else "BB"))


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_VERIFIED_CACHE_SIZE", 3)
    keys = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=Clock())
    tokens = [token(exp=int(NOW.timestamp()) + 3600 + n) for n in range(5)]
    for key in tokens:
        keys.verify(key)
    assert len(keys._verified) == 3
    assert list(keys._verified) == tokens[2:]
