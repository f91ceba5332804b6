"""Sign-in keys: issuing and checking the JWTs that authenticate Aggregator calls (no I/O).

:class:`KeyService` owns the HS256 secret. It builds the sign-in text (``GetSignatureFormat``),
turns a signed message into a user key (``GetKey``), mints API keys (``create-api-key``) and
checks the ``authkey`` of every authenticated call (``verifyAuth``), following PROTOCOL.md §2.1,
§2.2, §3 and the messages of §1.4 and §11. Deriving the caller's smart wallet (§3.3 step 5) is
left to the caller, which raises :class:`AuthFailure` with :data:`REASON_WALLET_DERIVATION`.

What a client sees when a call fails (the gRPC layer passes ``message`` through unchanged):

* ``GetKey``, signature not ``0x`` hex or shorter than 65 bytes: ``InvalidArgument``
  ``Unable to decode client's signature. Please check the message's format.``
* ``GetKey``, wrong signer, unrecoverable or longer than 65 bytes: ``Unauthenticated``
  ``User Auth key is invalid``.
* ``GetKey``, API key rejected: ``Unauthenticated`` ``User authentication error: API key is
  invalid``.
* ``GetKey``, ``Expire At`` in the past (checked after the signature): ``Unauthenticated``
  ``Malformed Expired Time``.
* ``verify``: :class:`AuthFailure` (an ``Unauthenticated``) with ``<prefix><reason>``, the prefix
  being :data:`AUTH_ERROR_PREFIX`, or :data:`CREATE_TASK_PREFIX` for CreateTask, and the reason
  one of the ``REASON_*`` strings.

Message-format failures of ``GetKey`` are those of :mod:`ap_avs.domain.signin`.

Decisions beyond upstream (LESSONS.md 24, a maximum token lifetime):

* ``GetKey`` issues ``exp = min(Expire At, now + max_key_lifetime)``.
* ``verify`` (and the API-key path of ``GetKey``) reject a token without ``roles`` whose ``exp``
  lies more than ``max_key_lifetime`` (plus five minutes of clock slack) ahead, so lowering the
  limit also retires longer tokens issued earlier. API keys (a non-empty ``roles`` claim, only
  mintable with the secret) keep their own ``exp``, 90 days by default.
* API keys are records (``domain/api_keys.py``): this module signs and checks the token and
  reports its ``jti`` (:attr:`Principal.key_id`, :attr:`KeyGrant.api_key_id`); the caller
  (``engine/api_keys.py``) then refuses a ``jti`` whose record is missing, revoked or expired.
* Every token must carry a numeric ``exp`` (golang-jwt would accept one without); ``nbf`` is
  honoured when present. ``exp``/``nbf`` are checked against the injected clock.
* The API-key path of ``GetKey`` applies the same audience rule as ``verify`` (upstream checks
  none), so a key for another chain cannot mint keys here either.
* ``verify(None)`` (no ``authkey`` metadata) is ``missing auth header``; an empty value is
  present, so it is ``User Auth key is invalid``, as in Go.
* A signature longer than 65 bytes is rejected as ``User Auth key is invalid``; ``v`` must be
  0, 1, 27 or 28.

Usage::

    keys = KeyService(jwt_secret=cfg.jwt_secret.get_secret_value(), chain_id=11155111)
    token = keys.get_key(message, signature)
    principal = keys.verify(token)
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from coincurve import PublicKey
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from jwt import PyJWS
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidKeyError, InvalidTokenError

from ap_avs.domain.addresses import address_bytes, is_hex_address
from ap_avs.domain.api_keys import DEFAULT_LIFETIME, ROLE_ADMIN, ApiKey, new_api_key
from ap_avs.domain.signin import (
    SIGNATURE_FORMAT_VALIDITY,
    SigninMessage,
    format_signin_message,
    parse_signin_message,
    validate_wallet_for_signature_format,
)
from ap_avs.errors import ConfigError, InternalError, InvalidArgument, Unauthenticated

logger = logging.getLogger(__name__)

ISSUER = "AvaProtocol"
ALGORITHM = "HS256"
LEGACY_HOLESKY_AUDIENCE = "17000"
LEGACY_MAINNET_AUDIENCE = "1"
LEGACY_API_KEY_SUBJECT = "apikey"
DEFAULT_MAX_KEY_LIFETIME = timedelta(days=30)
API_KEY_DEFAULT_LIFETIME = DEFAULT_LIFETIME
LIFETIME_SLACK = timedelta(minutes=5)
"""Clock slack allowed when checking a token's ``exp`` against the maximum lifetime."""

AUTH_ERROR_PREFIX = "User authentication error: "
CREATE_TASK_PREFIX = "User Auth key is invalid: "

# verifyAuth reasons (PROTOCOL.md §1.4), placed after a prefix.
REASON_NO_METADATA = "cannot read metadata from request"
REASON_MISSING_AUTH_HEADER = "missing auth header"
REASON_INVALID_KEY = "User Auth key is invalid"
REASON_NO_AUDIENCE = "User Auth key is invalid: error getting audience or audience is empty"
REASON_BAD_AUDIENCE = "User Auth key is invalid: invalid chainId in audience"
REASON_BAD_SUBJECT = "User Auth key is invalid: subject must be a valid EOA address"
REASON_ZERO_SUBJECT = "User Auth key is invalid: subject cannot be the zero address"
REASON_WALLET_DERIVATION = "failed to derive smart wallet: {error}"
REASON_API_KEY_REVOKED = "User Auth key is invalid: API key is revoked, expired or unknown"

# GetKey messages (PROTOCOL.md §3.2, §11), complete as the client sees them.
MSG_SIGNATURE_DECODE = "Unable to decode client's signature. Please check the message's format."
MSG_SIGNATURE_INVALID = "User Auth key is invalid"
MSG_API_KEY_INVALID = "User authentication error: API key is invalid"
MSG_MESSAGE_EXPIRED = "Malformed Expired Time"
MSG_INTERNAL = "Internal server error"

_SIGNATURE_LENGTH = 65
_SIGNATURE_HEX = re.compile(r"0[xX](?:[0-9a-fA-F]{2})*")
_EIP191_PREFIX = b"\x19Ethereum Signed Message:\n"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_MILLISECOND = timedelta(milliseconds=1)
_RECOMMENDED_SECRET_BYTES = 32
_VERIFIED_CACHE_SIZE = 4096
"""Tokens whose signature and claims ``verify`` has already checked (see ``_Verified``)."""


class AuthFailure(Unauthenticated):
    """``verifyAuth`` refused the caller; ``message`` is ``prefix + reason``.

    Attributes:
        reason: The bare reason (one of the ``REASON_*`` strings).
        prefix: :data:`AUTH_ERROR_PREFIX`, or :data:`CREATE_TASK_PREFIX` for CreateTask.
    """

    def __init__(self, reason: str, *, prefix: str = AUTH_ERROR_PREFIX) -> None:
        super().__init__(prefix + reason)
        self.reason = reason
        self.prefix = prefix

    def with_prefix(self, prefix: str) -> AuthFailure:
        """The same failure as another RPC reports it."""
        return AuthFailure(self.reason, prefix=prefix)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of an RPC."""

    address: str
    """The caller's EOA, EIP-55 checksummed (the JWT ``sub``)."""
    api_key: bool = False
    """The token is an API key (it has ``roles``): its record must be checked."""
    key_id: str = ""
    """An API key's ``jti`` ("" when it has none, which no record matches)."""


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """A user key from ``GetKey``, and the API key that vouched for it, if one did."""

    token: str
    api_key_id: str | None = None
    """The ``jti`` of the API key given as the signature ("" when it has none); None when a
    wallet signature vouched."""


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token that passed ``verify``: its caller and the time rules to check again on reuse.

    Verifying the HS256 signature, decoding the claims and checksumming the subject cost about
    50 µs, a third of a whole GetTask (benchmarks/bench_rpc.py); a client sends the same token
    on every call, so a token string seen before is answered from here while its times hold.
    """

    principal: Principal
    exp: float
    nbf: float | None
    bounded: bool
    """No ``roles`` claim: the maximum key lifetime applies to ``exp``."""


class _BadToken(Exception):
    """A token failed decoding or standard validation (never leaves this module)."""


class _HS256(HMACAlgorithm):
    """HMAC-SHA256 whose key length is reported once by :class:`KeyService`, not per call."""

    def __init__(self) -> None:
        super().__init__(HMACAlgorithm.SHA256)

    def check_key_length(self, key: bytes) -> str | None:
        return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class KeyService:
    """Issues and checks sign-in keys for one chain with one HS256 secret.

    Args:
        jwt_secret: The shared HMAC secret (its UTF-8 bytes are the key).
        chain_id: The chain id of the smart-wallet RPC.
        max_key_lifetime: The longest lifetime of a key from ``GetKey``.
        now: The clock, returning aware datetimes (tests pass a fake).

    Raises:
        ConfigError: The secret is empty or not usable as an HMAC key, the chain id is not
            positive, or the lifetime is not positive.

    Usage::

        keys = KeyService(jwt_secret=secret, chain_id=11155111)
        text = keys.signature_format("0xAbc…", version="2.14.3")
        principal = keys.verify(keys.get_key(text, signature))
    """

    __slots__ = ("_chain_id", "_clock", "_jws", "_max_lifetime", "_secret", "_verified")

    def __init__(
        self,
        *,
        jwt_secret: str,
        chain_id: int,
        max_key_lifetime: timedelta = DEFAULT_MAX_KEY_LIFETIME,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        if chain_id <= 0:
            raise ConfigError("chain id must be a positive integer")
        if max_key_lifetime <= timedelta(0):
            raise ConfigError("max_key_lifetime must be positive")
        secret = jwt_secret.encode("utf-8")
        if not secret:
            raise ConfigError("jwt_secret must not be empty")
        algorithm = _HS256()
        try:
            algorithm.prepare_key(secret)
        except InvalidKeyError as exc:
            raise ConfigError(f"jwt_secret cannot be used as an HMAC key: {exc}") from None
        if len(secret) < _RECOMMENDED_SECRET_BYTES:
            logger.warning(
                "jwt_secret is %d bytes; RFC 7518 recommends at least %d for HS256",
                len(secret),
                _RECOMMENDED_SECRET_BYTES,
            )
        jws = PyJWS(algorithms=[])
        jws.register_algorithm(ALGORITHM, algorithm)
        self._jws = jws
        self._secret = secret
        self._chain_id = chain_id
        self._max_lifetime = max_key_lifetime
        self._clock = now
        self._verified: dict[str, _Verified] = {}

    def __repr__(self) -> str:
        return f"KeyService(chain_id={self._chain_id}, max_key_lifetime={self._max_lifetime!r})"

    @property
    def chain_id(self) -> int:
        """The chain id of the smart-wallet RPC that keys are issued for."""
        return self._chain_id

    def signature_format(self, wallet: str, version: str) -> str:
        """The text a wallet signs to sign in (``GetSignatureFormat``, PROTOCOL.md §2.1).

        It is issued now and expires in 48 hours, and carries ``wallet`` exactly as given.

        Raises:
            InvalidArgument: ``wallet`` is empty, not a hex address, or the zero address.
        """
        validate_wallet_for_signature_format(wallet)
        issued_at = self._now()
        return format_signin_message(
            chain_id=self._chain_id,
            version=version,
            issued_at=issued_at,
            expire_at=issued_at + SIGNATURE_FORMAT_VALIDITY,
            wallet=wallet,
        )

    def get_key(self, message: str, signature: str) -> str:
        """The token of :meth:`exchange` (a caller that checks API key records uses that).

        Raises:
            InvalidArgument, Unauthenticated, InternalError: as :meth:`exchange`.
        """
        return self.exchange(message, signature).token

    def exchange(self, message: str, signature: str) -> KeyGrant:
        """Exchange a signed sign-in message for a user key (``GetKey``, PROTOCOL.md §3.2).

        ``signature`` is either a ``0x`` hex EIP-191 signature by the message's wallet or, when
        it contains a ``.``, an API key allowed to act for that wallet (§3.4).

        Returns:
            The grant: an HS256 JWT with claims exactly ``iss``, ``sub`` (checksummed wallet),
            ``aud`` (``[<chain id of the message>]``) and ``exp`` (``Expire At`` capped at now
            plus the maximum key lifetime), and the ``jti`` of the API key used, if any (whose
            record the caller must check before handing the token out).

        Raises:
            InvalidArgument: The message is malformed or for another chain, or the signature
                does not decode.
            Unauthenticated: The signature or API key does not vouch for the wallet, or the
                message has expired.
            InternalError: The key could not be signed.
        """
        signin = parse_signin_message(message, server_chain_id=self._chain_id)
        api_key_id: str | None = None
        if "." in signature:
            api_key_id = self._check_api_key(signature, signin)
        else:
            self._check_signature(message, signature, signin)
        now = self._now()
        if signin.expire_at < now:
            raise Unauthenticated(MSG_MESSAGE_EXPIRED)
        exp = min(_unix_seconds(signin.expire_at), _unix_seconds(now + self._max_lifetime))
        claims: dict[str, object] = {
            "iss": ISSUER,
            "sub": to_checksum_address(signin.wallet_address),
            "aud": [str(signin.chain_id)],
            "exp": exp,
        }
        return KeyGrant(self._sign(claims), api_key_id)

    def user_key(self, subject: str, lifetime: timedelta | None = None) -> str:
        """A stateless user key for ``subject``, as ``GetKey`` issues (tests, tools).

        Args:
            subject: A hex address; the key carries it checksummed.
            lifetime: Default and at most the maximum key lifetime.

        Raises:
            InvalidArgument: ``subject`` is not a hex address.
        """
        if not is_hex_address(subject):
            raise InvalidArgument("a user key subject must be a hex address")
        now = self._now()
        longest = self._max_lifetime if lifetime is None else min(lifetime, self._max_lifetime)
        claims: dict[str, object] = {
            "iss": ISSUER,
            "sub": to_checksum_address(address_bytes(subject)),
            "aud": [str(self._chain_id)],
            "exp": _unix_seconds(now + longest),
        }
        return self._sign(claims)

    def mint_api_key(self, record: ApiKey) -> str:
        """The token of an API key record (its claims: ``iss``, ``sub``, ``aud``, ``exp``,
        ``roles``, ``jti``, ``iat``). The record is what makes it valid: store it."""
        claims: dict[str, object] = {
            "iss": ISSUER,
            "sub": record.subject,
            "aud": [str(self._chain_id)],
            "exp": record.expires_at_ms // 1000,
            "iat": record.created_at_ms // 1000,
            "roles": list(record.roles),
            "jti": record.jti,
        }
        return self._sign(claims)

    def issue_api_key(
        self,
        subject: str,
        roles: Sequence[str],
        expires_at: datetime | None = None,
        *,
        label: str = "",
    ) -> tuple[ApiKey, str]:
        """A new API key record for ``subject`` and its token (PROTOCOL.md §3.4). The token is
        valid only once the record is stored (``engine/api_keys.py`` does both).

        Args:
            subject: The EOA the key acts as; a hex address, kept as given in ``sub``.
            roles: At least one of ``admin``, ``readonly`` (duplicates dropped). An admin key
                can mint user keys for any wallet through ``GetKey``.
            expires_at: When the key expires (aware, in the future); default 90 days on.
            label: Free text to recognise the key by.

        Returns:
            The record, and an HS256 JWT with claims ``iss``, ``sub``, ``aud``
            (``[<our chain id>]``), ``exp``, ``iat``, ``roles`` and ``jti`` (the record's id).

        Raises:
            InvalidArgument: A bad subject, no or unknown roles, a bad expiry or label.
        """
        now = self._now()
        expires_at_ms: int | None = None
        if expires_at is not None:
            if expires_at.tzinfo is None or expires_at.utcoffset() is None:
                raise InvalidArgument("API key expiry must include a time zone")
            expires_at_ms = _unix_ms(expires_at)
        record = new_api_key(
            subject, roles, now_ms=_unix_ms(now), expires_at_ms=expires_at_ms, label=label
        )
        return record, self.mint_api_key(record)

    def create_api_key(
        self, subject: str, roles: Sequence[str], expires_at: datetime | None = None
    ) -> str:
        """The token of :meth:`issue_api_key` (whose record the caller stores, or the token is
        refused by a server that checks records).

        Raises:
            InvalidArgument: as :meth:`issue_api_key`.
        """
        return self.issue_api_key(subject, roles, expires_at)[1]

    def verify(self, authkey: str | None, *, prefix: str = AUTH_ERROR_PREFIX) -> Principal:
        """Check the ``authkey`` of an authenticated call (``verifyAuth``, PROTOCOL.md §3.3 1-4).

        Args:
            authkey: The first ``authkey`` metadata value, None when the call had none.
            prefix: Put before the reason in the error message; :data:`CREATE_TASK_PREFIX`
                for CreateTask.

        Returns:
            The caller; roles are ignored.

        Raises:
            AuthFailure: With one of the ``REASON_*`` reasons.
        """
        if authkey is None:
            raise AuthFailure(REASON_MISSING_AUTH_HEADER, prefix=prefix)
        known = self._verified.get(authkey)
        if known is not None and self._times_hold(known, self._now().timestamp()):
            return known.principal
        try:
            claims = self._decode(authkey)
        except _BadToken:
            raise AuthFailure(REASON_INVALID_KEY, prefix=prefix) from None
        audience = _audience(claims)
        if not audience:
            raise AuthFailure(REASON_NO_AUDIENCE, prefix=prefix)
        if not self._audience_accepted(audience[0]):
            raise AuthFailure(REASON_BAD_AUDIENCE, prefix=prefix)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not is_hex_address(subject):
            raise AuthFailure(REASON_BAD_SUBJECT, prefix=prefix)
        owner = address_bytes(subject)
        if not any(owner):
            raise AuthFailure(REASON_ZERO_SUBJECT, prefix=prefix)
        roles = _roles(claims)
        jti = claims.get("jti")
        principal = Principal(
            address=to_checksum_address(owner),
            api_key=bool(roles),
            key_id=jti if roles and isinstance(jti, str) else "",
        )
        self._remember(authkey, principal, claims)
        return principal

    def _remember(self, token: str, principal: Principal, claims: dict[str, Any]) -> None:
        exp = _numeric_date(claims.get("exp"))
        if exp is None:  # _decode refused it already; nothing to remember
            return
        nbf = _numeric_date(claims["nbf"]) if "nbf" in claims else None
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = _Verified(principal, exp, nbf, bounded=not _roles(claims))

    def _times_hold(self, known: _Verified, now: float) -> bool:
        """The time rules of ``_decode`` for a token already verified (the rest cannot change)."""
        if now >= known.exp or (known.nbf is not None and now < known.nbf):
            return False
        longest = (self._max_lifetime + LIFETIME_SLACK).total_seconds()
        return not (known.bounded and known.exp > now + longest)

    def _check_api_key(self, token: str, signin: SigninMessage) -> str:
        """The API key's ``jti`` ("" when none) once it may vouch for the message's wallet."""
        try:
            claims = self._decode(token)
        except _BadToken:
            raise Unauthenticated(MSG_API_KEY_INVALID) from None
        audience = _audience(claims)
        subject = claims.get("sub")
        if (
            not audience
            or not self._audience_accepted(audience[0])
            or not isinstance(subject, str)
            or not subject
        ):
            raise Unauthenticated(MSG_API_KEY_INVALID)
        is_admin = ROLE_ADMIN in _roles(claims)
        jti = claims.get("jti")
        key_id = jti if isinstance(jti, str) else ""
        if subject == LEGACY_API_KEY_SUBJECT:
            if is_admin:
                return key_id
            raise Unauthenticated(MSG_API_KEY_INVALID)
        if is_admin:
            return key_id
        if is_hex_address(subject) and address_bytes(subject) == signin.wallet_address:
            return key_id
        raise Unauthenticated(MSG_API_KEY_INVALID)

    @staticmethod
    def _check_signature(message: str, signature: str, signin: SigninMessage) -> None:
        if _SIGNATURE_HEX.fullmatch(signature) is None:
            raise InvalidArgument(MSG_SIGNATURE_DECODE)
        raw = bytes.fromhex(signature[2:])
        if len(raw) < _SIGNATURE_LENGTH:
            raise InvalidArgument(MSG_SIGNATURE_DECODE)
        if recover_personal_sign(message, raw) != signin.wallet_address:
            raise Unauthenticated(MSG_SIGNATURE_INVALID)

    def _audience_accepted(self, audience: str) -> bool:
        return audience in (str(self._chain_id), LEGACY_HOLESKY_AUDIENCE, LEGACY_MAINNET_AUDIENCE)

    def _now(self) -> datetime:
        moment = self._clock()
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the KeyService clock must return timezone-aware datetimes")
        return moment

    def _sign(self, claims: dict[str, object]) -> str:
        payload = json.dumps(claims, separators=(",", ":")).encode("utf-8")
        try:
            return self._jws.encode(payload, self._secret, algorithm=ALGORITHM)
        except (InvalidTokenError, InvalidKeyError, ValueError, TypeError) as exc:
            logger.error("signing a key failed: %s", type(exc).__name__)
            raise InternalError(MSG_INTERNAL) from None

    def _decode(self, token: str) -> dict[str, Any]:
        """Verify the signature (HS256 only) and the time claims; return the claims.

        Raises:
            _BadToken: Anything is wrong.
        """
        try:
            decoded = self._jws.decode_complete(token, key=self._secret, algorithms=[ALGORITHM])
            header = decoded["header"]
            claims = json.loads(cast(bytes, decoded["payload"]))
        except (InvalidTokenError, ValueError, RecursionError, TypeError):
            raise _BadToken from None
        if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
            raise _BadToken
        if not isinstance(claims, dict):
            raise _BadToken
        now = self._now().timestamp()
        exp = _numeric_date(claims.get("exp"))
        if exp is None or now >= exp:
            raise _BadToken
        if "nbf" in claims:
            nbf = _numeric_date(claims["nbf"])
            if nbf is None or now < nbf:
                raise _BadToken
        if not _roles(claims):
            longest = (self._max_lifetime + LIFETIME_SLACK).total_seconds()
            if exp > now + longest:
                raise _BadToken
        return cast(dict[str, Any], claims)


def recover_personal_sign(message: str, signature: bytes) -> bytes | None:
    """The 20-byte address that signed ``message`` with EIP-191 ``personal_sign``.

    The hash covers the exact UTF-8 bytes of ``message``. ``signature`` is ``r || s || v``
    with ``v`` in 0, 1, 27 or 28.

    Returns:
        The signer's address, or None when ``signature`` is not 65 bytes or recovers nothing.
    """
    if len(signature) != _SIGNATURE_LENGTH:
        return None
    v = signature[64]
    if v in (27, 28):
        v -= 27
    if v not in (0, 1):
        return None
    data = message.encode("utf-8", "surrogatepass")
    digest = keccak(_EIP191_PREFIX + str(len(data)).encode("ascii") + data)
    try:
        public_key = PublicKey.from_signature_and_message(
            signature[:64] + bytes((v,)), digest, hasher=None
        )
    except ValueError:
        return None
    return keccak(public_key.format(compressed=False)[1:])[-20:]


def _audience(claims: dict[str, Any]) -> list[str] | None:
    """``aud`` as golang-jwt reads it: a string or an array of strings."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(item, str) for item in aud):
        return cast(list[str], aud)
    return None


def _roles(claims: dict[str, Any]) -> list[str]:
    roles = claims.get("roles")
    if not isinstance(roles, list):
        return []
    return [role for role in roles if isinstance(role, str)]


def _numeric_date(value: object) -> float | None:
    """A JWT NumericDate (JSON number of seconds); None for anything else or non-finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _unix_seconds(moment: datetime) -> int:
    return (moment - _EPOCH) // _SECOND


def _unix_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _MILLISECOND
