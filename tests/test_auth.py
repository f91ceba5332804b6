"""Keys: GetSignatureFormat, GetKey, API keys and verifyAuth (PROTOCOL.md §2.1, §3, §1.4)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given
from hypothesis import strategies as st

from ap_avs.auth import (
    AUTH_ERROR_PREFIX,
    CREATE_TASK_PREFIX,
    REASON_WALLET_DERIVATION,
    AuthFailure,
    KeyService,
    Principal,
    recover_personal_sign,
)
from ap_avs.domain.signin import format_signin_message
from ap_avs.errors import ConfigError, InvalidArgument, Unauthenticated

SECRET = "test-secret-0123456789-abcdefghijklmnop"
CHAIN = 11155111
NOW = datetime(2026, 6, 3, 12, 0, 5, 123456, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
ALICE = Account.from_key("0x" + "11" * 32)
BOB = Account.from_key("0x" + "22" * 32)
ZERO = "0x" + "0" * 40


class Clock:
    """A settable clock for KeyService."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def keys(clock: Clock) -> KeyService:
    return KeyService(
        jwt_secret=SECRET, chain_id=CHAIN, max_key_lifetime=timedelta(days=30), now=clock
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload))


def forge(
    claims: dict[str, Any],
    *,
    alg: str = "HS256",
    secret: str = SECRET,
    header: dict[str, Any] | None = None,
) -> str:
    """A token with any header and claims, signed by hand (HS256/HS512) or unsigned."""
    head = b64(json.dumps(header or {"alg": alg, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signing_input = f"{head}.{body}".encode()
    if alg == "HS256":
        sig = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    elif alg == "HS512":
        sig = hmac.new(secret.encode(), signing_input, hashlib.sha512).digest()
    else:
        sig = b""
    return f"{head}.{body}.{b64(sig)}"


def user_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": "AvaProtocol",
        "sub": ALICE.address,
        "aud": [str(CHAIN)],
        "exp": NOW_S + 3600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def message_for(
    wallet: str,
    *,
    chain_id: int = CHAIN,
    issued_at: datetime = NOW,
    expire_at: datetime | None = None,
) -> str:
    return format_signin_message(
        chain_id=chain_id,
        version="2.14.3",
        issued_at=issued_at,
        expire_at=expire_at or issued_at + timedelta(hours=48),
        wallet=wallet,
    )


def sign(message: str, account: Any = ALICE) -> bytes:
    return bytes(Account.sign_message(encode_defunct(text=message), account.key).signature)


def hex0x(raw: bytes) -> str:
    return "0x" + raw.hex()


# --- construction and secrecy -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"chain_id": 0}, "chain id"),
        ({"max_key_lifetime": timedelta(0)}, "max_key_lifetime"),
        ({"jwt_secret": ""}, "must not be empty"),
        ({"jwt_secret": "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----"}, "HMAC"),
    ],
)
def test_bad_construction_is_a_config_error(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"jwt_secret": SECRET, "chain_id": CHAIN, **kwargs}
    with pytest.raises(ConfigError, match=match) as info:
        KeyService(**args)
    assert SECRET not in str(info.value)


def test_short_secret_warns_once_in_the_log_and_still_works(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ap_avs.auth"):
        short = KeyService(jwt_secret="sixteen-chars-ok", chain_id=CHAIN, now=lambda: NOW)
    assert "recommends at least 32" in caplog.text
    assert "sixteen-chars-ok" not in caplog.text
    message = message_for(ALICE.address)
    token = short.get_key(message, hex0x(sign(message)))
    assert short.verify(token) == Principal(ALICE.address)


def test_repr_and_errors_never_show_the_secret(keys: KeyService) -> None:
    assert SECRET not in repr(keys)
    assert (
        repr(keys) == "KeyService(chain_id=11155111, max_key_lifetime=datetime.timedelta(days=30))"
    )
    failures: list[Exception] = []
    for authkey in [None, "", "a.b.c", forge(user_claims(), secret="other-secret-of-some-length")]:
        with pytest.raises(AuthFailure) as info:
            keys.verify(authkey)
        failures.append(info.value)
    with pytest.raises(Unauthenticated) as api:
        keys.get_key(message_for(ALICE.address), "x.y.z")
    failures.append(api.value)
    for exc in failures:
        assert SECRET not in str(exc)
        assert SECRET not in repr(exc)
        assert exc.__cause__ is None


def test_naive_clock_is_a_bug() -> None:
    broken = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=lambda: datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        broken.signature_format(ALICE.address, "1")


# --- GetSignatureFormat (§2.1) ------------------------------------------------------------------


def test_signature_format_text(keys: KeyService) -> None:
    text = keys.signature_format(ALICE.address.lower(), "2.14.3")
    assert text == (
        "Please sign the below text for ownership verification.\n"
        "\n"
        "URI: https://app.avaprotocol.org\n"
        "Chain ID: 11155111\n"
        "Version: 2.14.3\n"
        "Issued At: 2026-06-03T12:00:05.123Z\n"
        "Expire At: 2026-06-05T12:00:05.123Z\n"
        f"Wallet: {ALICE.address.lower()}"
    )


@pytest.mark.parametrize(
    ("wallet", "expected"),
    [
        ("", "Wallet address is required"),
        ("0x123", "Invalid Ethereum wallet address format"),
        (ZERO, "Wallet address cannot be the zero address"),
    ],
)
def test_signature_format_rejects_bad_wallets(keys: KeyService, wallet: str, expected: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        keys.signature_format(wallet, "2.14.3")
    assert info.value.message == expected


# --- GetKey with a signature (§3.2) -------------------------------------------------------------


@pytest.mark.parametrize(
    "wallet",
    [ALICE.address, ALICE.address.lower(), ALICE.address[2:].upper(), "0X" + ALICE.address[2:]],
)
def test_round_trip_gives_the_checksummed_address(keys: KeyService, wallet: str) -> None:
    message = keys.signature_format(wallet, "2.14.3")
    token = keys.get_key(message, hex0x(sign(message)))
    assert keys.verify(token) == Principal(address=ALICE.address)


def test_key_has_the_exact_header_and_claims(keys: KeyService) -> None:
    message = keys.signature_format(ALICE.address.lower(), "2.14.3")
    token = keys.get_key(message, hex0x(sign(message)))
    header, claims = parts(token)
    assert token.split(".")[0] == b64(b'{"alg":"HS256","typ":"JWT"}')
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims == {
        "iss": "AvaProtocol",
        "sub": ALICE.address,
        "aud": [str(CHAIN)],
        "exp": NOW_S + 48 * 3600,
    }
    assert isinstance(claims["exp"], int)
    expected_sig = hmac.new(
        SECRET.encode(), token.rsplit(".", 1)[0].encode(), hashlib.sha256
    ).digest()
    assert unb64(token.split(".")[2]) == expected_sig


@pytest.mark.parametrize("v_offset", [0, -27])
def test_v_27_28_and_0_1_both_work(keys: KeyService, v_offset: int) -> None:
    for account in (ALICE, BOB):
        message = message_for(account.address)
        raw = bytearray(sign(message, account))
        assert raw[64] in (27, 28)
        raw[64] += v_offset
        assert keys.verify(keys.get_key(message, hex0x(bytes(raw)))).address == account.address


def test_uppercase_hex_prefix_and_digits_decode(keys: KeyService) -> None:
    message = message_for(ALICE.address)
    signature = "0X" + sign(message).hex().upper()
    assert keys.verify(keys.get_key(message, signature)).address == ALICE.address


def test_max_lifetime_caps_exp(keys: KeyService) -> None:
    message = message_for(ALICE.address, expire_at=NOW + timedelta(days=3650))
    _, claims = parts(keys.get_key(message, hex0x(sign(message))))
    assert claims["exp"] == NOW_S + 30 * 86400


def test_exp_is_the_message_expiry_when_sooner(keys: KeyService) -> None:
    expire = NOW + timedelta(minutes=5, milliseconds=800)  # 12:05:05.923
    message = message_for(ALICE.address, expire_at=expire)
    _, claims = parts(keys.get_key(message, hex0x(sign(message))))
    assert claims["exp"] == NOW_S + 300


def test_chain_id_one_is_accepted_and_goes_into_aud(keys: KeyService) -> None:
    message = message_for(ALICE.address, chain_id=1)
    token = keys.get_key(message, hex0x(sign(message)))
    assert parts(token)[1]["aud"] == ["1"]
    assert keys.verify(token).address == ALICE.address


def test_wrong_chain_id_is_rejected(keys: KeyService) -> None:
    message = message_for(ALICE.address, chain_id=17000)
    with pytest.raises(InvalidArgument) as info:
        keys.get_key(message, hex0x(sign(message)))
    assert info.value.message == (
        "Invalid chainId: requested chainId 17000 does not match SmartWallet chainId 11155111"
    )


DECODE = "Unable to decode client's signature. Please check the message's format."
BAD_SIG = "User Auth key is invalid"


def signature_cases() -> list[tuple[str, type[Exception], str]]:
    message = message_for(ALICE.address)
    good = sign(message)
    r_zero = bytes(32) + good[32:]
    return [
        ("", InvalidArgument, DECODE),
        ("0x", InvalidArgument, DECODE),
        (good.hex(), InvalidArgument, DECODE),
        ("0x" + good.hex()[:-2], InvalidArgument, DECODE),
        ("0x" + good.hex()[:-1], InvalidArgument, DECODE),
        ("0x" + good.hex()[:-1] + "g", InvalidArgument, DECODE),
        ("0x " + good.hex(), InvalidArgument, DECODE),
        ("0x" + good.hex() + "\n", InvalidArgument, DECODE),
        (hex0x(good[:64]), InvalidArgument, DECODE),
        (hex0x(good + b"\x00"), Unauthenticated, BAD_SIG),
        (hex0x(good[:64] + b"\x1d"), Unauthenticated, BAD_SIG),
        (hex0x(good[:64] + b"\x02"), Unauthenticated, BAD_SIG),
        (hex0x(r_zero), Unauthenticated, BAD_SIG),
        (hex0x(b"\xff" * 65), Unauthenticated, BAD_SIG),
        (hex0x(sign(message, BOB)), Unauthenticated, BAD_SIG),
        (hex0x(sign(message + " ")), Unauthenticated, BAD_SIG),
    ]


@pytest.mark.parametrize(("signature", "error", "expected"), signature_cases())
def test_bad_signatures(
    keys: KeyService, signature: str, error: type[Exception], expected: str
) -> None:
    with pytest.raises(error) as info:
        keys.get_key(message_for(ALICE.address), signature)
    assert type(info.value) is error
    assert str(info.value) == expected


def test_expired_message_is_rejected_after_the_signature(keys: KeyService, clock: Clock) -> None:
    message = message_for(ALICE.address)
    signature = hex0x(sign(message))
    clock.now = NOW + timedelta(hours=48, milliseconds=1)
    with pytest.raises(Unauthenticated) as info:
        keys.get_key(message, signature)
    assert info.value.message == "Malformed Expired Time"
    with pytest.raises(Unauthenticated) as wrong:
        keys.get_key(message, hex0x(sign(message, BOB)))
    assert wrong.value.message == "User Auth key is invalid"


def test_message_errors_come_before_signature_errors(keys: KeyService) -> None:
    with pytest.raises(InvalidArgument) as info:
        keys.get_key("too short", "not hex")
    assert info.value.message == "Invalid message format"


def test_recover_personal_sign_hashes_the_utf8_bytes() -> None:
    message = "héllo ✓\nthree-byte characters count by bytes"
    raw = sign(message)
    assert recover_personal_sign(message, raw) == bytes.fromhex(ALICE.address[2:])
    assert recover_personal_sign(message, raw[:64]) is None
    assert recover_personal_sign("\udc80", raw) != bytes.fromhex(ALICE.address[2:])


# --- GetKey with an API key (§3.4) --------------------------------------------------------------

API_KEY_INVALID = "User authentication error: API key is invalid"


def test_admin_key_mints_for_any_wallet(keys: KeyService) -> None:
    admin = keys.create_api_key(ALICE.address, ["admin"])
    token = keys.get_key(message_for(BOB.address.lower()), admin)
    assert parts(token)[1]["sub"] == BOB.address
    assert keys.verify(token).address == BOB.address


def test_non_admin_key_mints_only_for_its_subject(keys: KeyService) -> None:
    readonly = keys.create_api_key(ALICE.address.lower(), ["readonly"])
    token = keys.get_key(message_for(ALICE.address[2:]), readonly)
    assert keys.verify(token).address == ALICE.address
    with pytest.raises(Unauthenticated) as info:
        keys.get_key(message_for(BOB.address), readonly)
    assert info.value.message == API_KEY_INVALID


def test_a_user_key_can_renew_itself_but_not_another_wallet(keys: KeyService) -> None:
    message = message_for(ALICE.address)
    user = keys.get_key(message, hex0x(sign(message)))
    assert keys.verify(keys.get_key(message, user)).address == ALICE.address
    with pytest.raises(Unauthenticated, match=f"^{API_KEY_INVALID}$"):
        keys.get_key(message_for(BOB.address), user)


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        (user_claims(sub="apikey", roles=["admin"]), True),
        (user_claims(sub="apikey", roles=["readonly", "admin"]), True),
        (user_claims(sub="apikey", roles=["readonly"]), False),
        (user_claims(sub="apikey"), False),
        (user_claims(sub="apikey", roles="admin"), False),
        (user_claims(sub=BOB.address, roles=["admin"]), True),
        (user_claims(sub=BOB.address, roles=["readonly"]), False),
        (user_claims(sub=BOB.address), False),
        (user_claims(sub=ALICE.address.lower()), True),
        (user_claims(sub=ALICE.address[2:]), True),
        (user_claims(sub=""), False),
        (user_claims(sub=None), False),
        (user_claims(sub=5, roles=["admin"]), False),
        (user_claims(aud=None, roles=["admin"]), False),
        (user_claims(aud=["5"], roles=["admin"]), False),
        (user_claims(aud="1", roles=["admin"]), True),
        (user_claims(exp=NOW_S, roles=["admin"]), False),
        (user_claims(exp=None, roles=["admin"]), False),
        (user_claims(exp=NOW_S + 86400 * 3650), False),
        (user_claims(exp=NOW_S + 86400 * 3650, roles=["admin"]), True),
        (user_claims(nbf=NOW_S + 60, roles=["admin"]), False),
    ],
)
def test_api_key_rules(keys: KeyService, claims: dict[str, Any], accepted: bool) -> None:
    message = message_for(ALICE.address)
    token = forge(claims)
    if accepted:
        assert keys.verify(keys.get_key(message, token)).address == ALICE.address
    else:
        with pytest.raises(Unauthenticated) as info:
            keys.get_key(message, token)
        assert info.value.message == API_KEY_INVALID


@pytest.mark.parametrize(
    "token",
    [
        forge(user_claims(roles=["admin"]), alg="HS512"),
        forge(user_claims(roles=["admin"]), alg="none"),
        forge(user_claims(roles=["admin"]), header={"alg": "RS256", "typ": "JWT"}),
        forge(user_claims(roles=["admin"]), secret="another-secret-of-the-same-size!!!!!!"),
        "a.b",
        "....",
    ],
)
def test_api_keys_with_bad_algorithms_or_signatures_are_rejected(
    keys: KeyService, token: str
) -> None:
    with pytest.raises(Unauthenticated) as info:
        keys.get_key(message_for(ALICE.address), token)
    assert info.value.message == API_KEY_INVALID


def test_tampered_api_key_is_rejected(keys: KeyService) -> None:
    readonly = keys.create_api_key(BOB.address, ["readonly"])
    head, body, sig = readonly.split(".")
    claims = json.loads(unb64(body))
    claims["roles"] = ["admin"]
    tampered = f"{head}.{b64(json.dumps(claims).encode())}.{sig}"
    with pytest.raises(Unauthenticated, match=f"^{API_KEY_INVALID}$"):
        keys.get_key(message_for(ALICE.address), tampered)


def test_expired_api_key_is_rejected(keys: KeyService, clock: Clock) -> None:
    admin = keys.create_api_key(ALICE.address, ["admin"], NOW + timedelta(hours=1))
    clock.now = NOW + timedelta(hours=1)
    with pytest.raises(Unauthenticated, match=f"^{API_KEY_INVALID}$"):
        keys.get_key(message_for(BOB.address, issued_at=clock.now), admin)


def test_api_key_path_still_checks_message_expiry(keys: KeyService, clock: Clock) -> None:
    admin = keys.create_api_key(ALICE.address, ["admin"])
    message = message_for(BOB.address)
    clock.now = NOW + timedelta(days=3)
    with pytest.raises(Unauthenticated, match=r"^Malformed Expired Time$"):
        keys.get_key(message, admin)


# --- create_api_key -----------------------------------------------------------------------------


def test_api_key_claims(keys: KeyService) -> None:
    record, token = keys.issue_api_key(
        ALICE.address.lower(), ["readonly", "admin", "readonly"], label="ci"
    )
    header, claims = parts(token)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert claims == {
        "iss": "AvaProtocol",
        "sub": ALICE.address.lower(),
        "aud": [str(CHAIN)],
        "exp": int((NOW + timedelta(days=90)).timestamp()),
        "iat": NOW_S,
        "roles": ["readonly", "admin"],
        "jti": record.jti,
    }
    assert record.roles == ("readonly", "admin")
    assert record.label == "ci"
    assert record.expires_at_ms // 1000 == claims["exp"]
    assert keys.verify(token) == Principal(ALICE.address, api_key=True, key_id=record.jti)


def test_api_key_with_explicit_expiry_and_the_90_day_default(clock: Clock) -> None:
    keys = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=clock)
    expires = NOW + timedelta(days=900, seconds=0.7)
    assert parts(keys.create_api_key(ALICE.address, ["admin"], expires))[1]["exp"] == int(
        expires.timestamp()
    )
    clock.now = datetime(2028, 2, 29, tzinfo=UTC)
    default = parts(keys.create_api_key(ALICE.address, ["admin"]))[1]["exp"]
    assert default == int(datetime(2028, 5, 29, tzinfo=UTC).timestamp())


def test_api_key_is_not_capped_by_the_user_key_lifetime(keys: KeyService, clock: Clock) -> None:
    expires = NOW + timedelta(days=3650)
    record, token = keys.issue_api_key(ALICE.address.lower(), ["readonly"], expires)
    clock.now = NOW + timedelta(days=3000)
    assert keys.verify(token) == Principal(ALICE.address, api_key=True, key_id=record.jti)


@pytest.mark.parametrize(
    ("subject", "roles", "expires_at", "match"),
    [
        ("admin", ["admin"], None, "hex address"),
        ("apikey", ["admin"], None, "hex address"),
        ("0x1234", ["admin"], None, "hex address"),
        (ZERO, ["admin"], None, "zero address"),
        (ALICE.address, [], None, "at least one role"),
        (ALICE.address, "admin", None, "list of role names"),
        (ALICE.address, ["admin", "root"], None, "unknown API key role 'root'"),
        (ALICE.address, ["admin"], datetime(2030, 1, 1), "time zone"),
        (ALICE.address, ["admin"], NOW, "in the future"),
        (ALICE.address, ["admin"], NOW - timedelta(days=1), "in the future"),
    ],
)
def test_api_key_bad_input(
    keys: KeyService, subject: str, roles: Any, expires_at: datetime | None, match: str
) -> None:
    with pytest.raises(InvalidArgument, match=match):
        keys.create_api_key(subject, roles, expires_at)


# --- verifyAuth (§3.3) --------------------------------------------------------------------------

INVALID = "User Auth key is invalid"
NO_AUD = "User Auth key is invalid: error getting audience or audience is empty"
BAD_AUD = "User Auth key is invalid: invalid chainId in audience"
BAD_SUB = "User Auth key is invalid: subject must be a valid EOA address"
ZERO_SUB = "User Auth key is invalid: subject cannot be the zero address"


@pytest.mark.parametrize(
    ("authkey", "reason"),
    [
        (None, "missing auth header"),
        ("", INVALID),
        ("not a token", INVALID),
        ("a.b.c", INVALID),
        ("Bearer " + forge(user_claims()), INVALID),
        (forge(user_claims(), alg="HS512"), INVALID),
        (forge(user_claims(), alg="none"), INVALID),
        (forge(user_claims(), header={"alg": "none"}), INVALID),
        (forge(user_claims(), header={"alg": "RS256", "typ": "JWT"}), INVALID),
        (forge(user_claims(), header={"alg": "HS256", "b64": False}), INVALID),
        (forge(user_claims(), header={"typ": "JWT"}), INVALID),
        (forge(user_claims(), secret=SECRET + "x"), INVALID),
        (forge(user_claims()) + "x", INVALID),
        (forge(user_claims(exp=NOW_S)), INVALID),
        (forge(user_claims(exp=NOW_S - 1)), INVALID),
        (forge(user_claims(exp=None)), INVALID),
        (forge(user_claims(exp="9999999999")), INVALID),
        (forge(user_claims(exp=True)), INVALID),
        (forge(user_claims(exp=10**400)), INVALID),
        (forge(user_claims(nbf=NOW_S + 10)), INVALID),
        (forge(user_claims(nbf="0")), INVALID),
        (forge(user_claims(exp=NOW_S + 31 * 86400)), INVALID),
        (forge([1, 2]), INVALID),  # type: ignore[arg-type]
        (forge(user_claims(aud=None)), NO_AUD),
        (forge(user_claims(aud=[])), NO_AUD),
        (forge(user_claims(aud=11155111)), NO_AUD),
        (forge(user_claims(aud=[11155111])), NO_AUD),
        (forge(user_claims(aud=["5"])), BAD_AUD),
        (forge(user_claims(aud=["5", str(CHAIN)])), BAD_AUD),
        (forge(user_claims(aud=[""])), BAD_AUD),
        (forge(user_claims(aud=["+1"])), BAD_AUD),
        (forge(user_claims(sub=None)), BAD_SUB),
        (forge(user_claims(sub="apikey")), BAD_SUB),
        (forge(user_claims(sub=7)), BAD_SUB),
        (forge(user_claims(sub=ALICE.address + "00")), BAD_SUB),
        (forge(user_claims(sub=ZERO)), ZERO_SUB),
    ],
)
def test_verify_failures(keys: KeyService, authkey: str | None, reason: str) -> None:
    with pytest.raises(AuthFailure) as info:
        keys.verify(authkey)
    assert isinstance(info.value, Unauthenticated)
    assert info.value.reason == reason
    assert info.value.message == "User authentication error: " + reason
    with pytest.raises(AuthFailure) as create_task:
        keys.verify(authkey, prefix=CREATE_TASK_PREFIX)
    assert create_task.value.message == "User Auth key is invalid: " + reason


@pytest.mark.parametrize(
    ("claims", "address"),
    [
        (user_claims(), ALICE.address),
        (user_claims(aud=str(CHAIN)), ALICE.address),
        (user_claims(aud=["17000"]), ALICE.address),
        (user_claims(aud=["1", "5"]), ALICE.address),
        (user_claims(sub=BOB.address.lower()), BOB.address),
        (user_claims(sub=BOB.address[2:].upper()), BOB.address),
        (user_claims(iss="someone else"), ALICE.address),
        (user_claims(nbf=NOW_S), ALICE.address),
        (user_claims(exp=NOW_S + 30 * 86400 + 60), ALICE.address),
        (user_claims(exp=float(NOW_S + 60)), ALICE.address),
        (user_claims(exp=NOW_S + 86400 * 3650, roles=["readonly"]), ALICE.address),
        (user_claims(roles=["nobody"]), ALICE.address),
    ],
)
def test_verify_accepts(keys: KeyService, claims: dict[str, Any], address: str) -> None:
    principal = keys.verify(forge(claims))
    assert principal.address == address
    assert principal.api_key is ("roles" in claims)  # then its record is checked by the caller


def test_verify_rejects_a_key_once_it_expires(keys: KeyService, clock: Clock) -> None:
    message = message_for(ALICE.address, expire_at=NOW + timedelta(hours=1))
    token = keys.get_key(message, hex0x(sign(message)))
    clock.now = NOW + timedelta(minutes=59)
    assert keys.verify(token).address == ALICE.address
    clock.now = NOW + timedelta(hours=1)
    with pytest.raises(AuthFailure, match=f"^User authentication error: {INVALID}$"):
        keys.verify(token)


def test_lowering_the_max_lifetime_retires_longer_keys(clock: Clock) -> None:
    long_lived = KeyService(
        jwt_secret=SECRET, chain_id=CHAIN, max_key_lifetime=timedelta(days=30), now=clock
    )
    message = message_for(ALICE.address, expire_at=NOW + timedelta(days=365))
    token = long_lived.get_key(message, hex0x(sign(message)))
    short_lived = KeyService(
        jwt_secret=SECRET, chain_id=CHAIN, max_key_lifetime=timedelta(days=1), now=clock
    )
    with pytest.raises(AuthFailure):
        short_lived.verify(token)
    clock.now = NOW + timedelta(days=29)
    assert short_lived.verify(token).address == ALICE.address


def test_keys_for_another_chain_are_refused(clock: Clock) -> None:
    other = KeyService(jwt_secret=SECRET, chain_id=5, now=clock)
    here = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=clock)
    message = message_for(ALICE.address, chain_id=5)
    token = other.get_key(message, hex0x(sign(message)))
    with pytest.raises(AuthFailure) as info:
        here.verify(token)
    assert info.value.reason == BAD_AUD


def test_auth_failure_helpers() -> None:
    failure = AuthFailure(REASON_WALLET_DERIVATION.format(error="rpc down"))
    assert failure.message == "User authentication error: failed to derive smart wallet: rpc down"
    assert failure.prefix == AUTH_ERROR_PREFIX
    moved = failure.with_prefix(CREATE_TASK_PREFIX)
    assert moved.message == "User Auth key is invalid: failed to derive smart wallet: rpc down"
    assert moved.reason == failure.reason


def test_deeply_nested_header_is_just_invalid(keys: KeyService) -> None:
    head = b64(b"[" * 5000 + b"]" * 5000)
    with pytest.raises(AuthFailure, match=f"{INVALID}$"):
        keys.verify(f"{head}.{b64(b'{}')}.")


# --- properties -------------------------------------------------------------------------------

_TOKENISH = st.one_of(
    st.text(),
    st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_=+/"), max_size=5).map(
        ".".join
    ),
)


@given(authkey=_TOKENISH)
def test_verify_raises_only_auth_failure(authkey: str) -> None:
    keys = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=lambda: NOW)
    with contextlib.suppress(AuthFailure):
        keys.verify(authkey)


@given(message=st.text(), signature=_TOKENISH)
def test_get_key_raises_only_client_errors(message: str, signature: str) -> None:
    keys = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=lambda: NOW)
    with contextlib.suppress(InvalidArgument, Unauthenticated):
        keys.get_key(message, signature)


@given(signature=_TOKENISH)
def test_get_key_signature_handling_raises_only_client_errors(signature: str) -> None:
    keys = KeyService(jwt_secret=SECRET, chain_id=CHAIN, now=lambda: NOW)
    with contextlib.suppress(InvalidArgument, Unauthenticated):
        keys.get_key(message_for(ALICE.address), signature)
