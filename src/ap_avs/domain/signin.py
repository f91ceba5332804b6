"""The sign-in message: its exact text, its parser and the wallet checks around it (pure).

``GetSignatureFormat`` hands a client the eight-line text built by :func:`format_signin_message`;
the client signs it (EIP-191 ``personal_sign``) and sends it back to ``GetKey``, which reads it
with :func:`parse_signin_message`. Both follow PROTOCOL.md §3.1 and §3.2 to the character, and
every failure is an :class:`~ap_avs.errors.InvalidArgument` whose message is one of the literal
strings a client can observe (the ``MSG_*`` constants).

Decisions where the specification leaves room (see the report of issue 4):

* Hex addresses follow go-ethereum's ``IsHexAddress``: an optional ``0x`` or ``0X`` prefix, then
  exactly 40 hex digits of any case; the EIP-55 checksum is not enforced. This holds both for
  the ``wallet`` of ``GetSignatureFormat`` and for the ``Wallet:`` line of the message, so a
  message built for ``abc…`` (no prefix) can be signed in and compares equal to ``0xABC…``.
* Lines and values are trimmed with Go's ``strings.TrimSpace`` set of white space (not Python's
  ``str.strip``, which also strips the ASCII separators U+001C to U+001F).
* A line whose value is empty after trimming (``"Chain ID:"``) counts as missing.
* ``Chain ID`` is a base-10 integer as Go's ``strconv.ParseInt(s, 10, 64)`` reads it: ASCII
  digits with an optional sign, within the signed 64-bit range.
* ``Issued At`` and ``Expire At`` must be exactly ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the Go layout
  ``2006-01-02T15:04:05.000Z`` and JavaScript's ``Date.toISOString()``) and a real UTC instant;
  years before 0001 are rejected as unparseable.

Usage::

    text = format_signin_message(chain_id=11155111, version="2.14.3", issued_at=now,
                                 expire_at=now + SIGNATURE_FORMAT_VALIDITY, wallet=wallet)
    msg = parse_signin_message(text, server_chain_id=11155111)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ap_avs.domain.addresses import address_bytes, is_hex_address
from ap_avs.errors import InvalidArgument

SIGNIN_TITLE = "Please sign the below text for ownership verification."
SIGNIN_URI = "https://app.avaprotocol.org"
SIGNATURE_FORMAT_VALIDITY = timedelta(hours=48)
"""How long a message from ``GetSignatureFormat`` stays valid (Expire At = Issued At + 48 h)."""

LEGACY_MAINNET_CHAIN_ID = 1
"""A message for chain 1 is accepted whatever chain the server runs on (upstream behaviour)."""

# Literal client-visible messages (PROTOCOL.md §2.1, §3.2).
MSG_WALLET_REQUIRED = "Wallet address is required"
MSG_WALLET_FORMAT = "Invalid Ethereum wallet address format"
MSG_WALLET_ZERO = "Wallet address cannot be the zero address"
MSG_INVALID_FORMAT = "Invalid message format"
MSG_MISSING_CHAIN_ID = "Invalid message format: missing Chain ID"
MSG_CHAIN_ID_FORMAT = "Invalid Chain ID format"
MSG_MISSING_VERSION = "Invalid message format: missing Version"
MSG_MISSING_ISSUED_AT = "Invalid message format: missing Issued At"
MSG_ISSUED_AT_FORMAT = "Invalid Issued At format"
MSG_MISSING_EXPIRE_AT = "Invalid message format: missing Expire At"
MSG_EXPIRE_AT_FORMAT = "Invalid Expire At format"
MSG_MISSING_WALLET = "Invalid message format: missing Wallet"
MSG_MESSAGE_WALLET_FORMAT = "Invalid wallet address format"
CHAIN_ID_MISMATCH = (
    "Invalid chainId: requested chainId {requested} does not match SmartWallet chainId {ours}"
)

_CHAIN_ID = "Chain ID:"
_VERSION = "Version:"
_ISSUED_AT = "Issued At:"
_EXPIRE_AT = "Expire At:"
_WALLET = "Wallet:"
_FIELDS = (_CHAIN_ID, _VERSION, _ISSUED_AT, _EXPIRE_AT, _WALLET)
_MIN_LINES = 8

# Go's unicode.IsSpace: ASCII/Latin-1 spaces plus the Unicode White_Space property.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_DECIMAL_INT = re.compile(r"[+-]?[0-9]+")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z"
)
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_INT64_DIGITS = 19


@dataclass(frozen=True, slots=True)
class SigninMessage:
    """The fields ``GetKey`` reads from a sign-in message."""

    chain_id: int
    """The ``Chain ID`` line as an integer (its canonical decimal string goes into ``aud``)."""
    version: str
    """The ``Version`` line, trimmed; its value is not checked."""
    issued_at: datetime
    """The ``Issued At`` line, an aware UTC datetime with millisecond precision."""
    expire_at: datetime
    """The ``Expire At`` line, an aware UTC datetime with millisecond precision."""
    wallet: str
    """The ``Wallet`` line as given (trimmed): a hex address, ``0x`` optional, any case."""

    @property
    def wallet_address(self) -> bytes:
        """The 20 bytes of :attr:`wallet`."""
        return address_bytes(self.wallet)


def format_timestamp(moment: datetime) -> str:
    """Render an aware datetime as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC (milliseconds truncated).

    Raises:
        ValueError: ``moment`` is naive.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    t = moment.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond // 1000:03d}Z"
    )


def format_signin_message(
    *, chain_id: int, version: str, issued_at: datetime, expire_at: datetime, wallet: str
) -> str:
    """The exact sign-in text of PROTOCOL.md §3.1: eight LF-separated lines, no final newline.

    Args:
        chain_id: The chain id of the smart-wallet RPC.
        version: The server version string.
        issued_at: When the message was made (aware).
        expire_at: When it stops being accepted (aware).
        wallet: The wallet exactly as the client passed it.

    Raises:
        ValueError: A datetime is naive.
    """
    return "\n".join(
        (
            SIGNIN_TITLE,
            "",
            f"URI: {SIGNIN_URI}",
            f"{_CHAIN_ID} {chain_id}",
            f"{_VERSION} {version}",
            f"{_ISSUED_AT} {format_timestamp(issued_at)}",
            f"{_EXPIRE_AT} {format_timestamp(expire_at)}",
            f"{_WALLET} {wallet}",
        )
    )


def validate_wallet_for_signature_format(wallet: str) -> str:
    """Check the ``wallet`` of ``GetSignatureFormat`` (PROTOCOL.md §2.1 steps 1-3).

    Returns:
        ``wallet`` unchanged: the message carries it as given.

    Raises:
        InvalidArgument: It is empty, not a hex address, or the zero address.
    """
    if wallet == "":
        raise InvalidArgument(MSG_WALLET_REQUIRED)
    if not is_hex_address(wallet):
        raise InvalidArgument(MSG_WALLET_FORMAT)
    if not any(address_bytes(wallet)):
        raise InvalidArgument(MSG_WALLET_ZERO)
    return wallet


def parse_signin_message(message: str, *, server_chain_id: int | None = None) -> SigninMessage:
    """Read a sign-in message as ``GetKey`` does (PROTOCOL.md §3.2 steps 1-7).

    The message is split on ``\\n``; for each field the last trimmed line starting with its
    label wins, and other lines (title, URI, extras) are not checked. Checks run in the order
    of the specification, so the first failing one decides the message.

    Args:
        message: The text the client signed.
        server_chain_id: When given, the chain id must equal it or be 1 (step 3); this check
            runs before the later fields are looked at, as upstream does.

    Returns:
        The parsed fields.

    Raises:
        InvalidArgument: With one of the literal messages of §3.2.
    """
    lines = message.split("\n")
    if len(lines) < _MIN_LINES:
        raise InvalidArgument(MSG_INVALID_FORMAT)

    values: dict[str, str] = {}
    for raw in lines:
        line = raw.strip(_GO_SPACE)
        for label in _FIELDS:
            if line.startswith(label):
                values[label] = line[len(label) :].strip(_GO_SPACE)
                break

    chain_text = values.get(_CHAIN_ID, "")
    if not chain_text:
        raise InvalidArgument(MSG_MISSING_CHAIN_ID)
    chain_id = _parse_int64(chain_text)
    if chain_id is None:
        raise InvalidArgument(MSG_CHAIN_ID_FORMAT)
    if (
        server_chain_id is not None
        and chain_id != server_chain_id
        and chain_id != LEGACY_MAINNET_CHAIN_ID
    ):
        raise InvalidArgument(CHAIN_ID_MISMATCH.format(requested=chain_id, ours=server_chain_id))

    version = values.get(_VERSION, "")
    if not version:
        raise InvalidArgument(MSG_MISSING_VERSION)

    issued_text = values.get(_ISSUED_AT, "")
    if not issued_text:
        raise InvalidArgument(MSG_MISSING_ISSUED_AT)
    issued_at = parse_timestamp(issued_text)
    if issued_at is None:
        raise InvalidArgument(MSG_ISSUED_AT_FORMAT)

    expire_text = values.get(_EXPIRE_AT, "")
    if not expire_text:
        raise InvalidArgument(MSG_MISSING_EXPIRE_AT)
    expire_at = parse_timestamp(expire_text)
    if expire_at is None:
        raise InvalidArgument(MSG_EXPIRE_AT_FORMAT)

    wallet = values.get(_WALLET, "")
    if not wallet:
        raise InvalidArgument(MSG_MISSING_WALLET)
    if not is_hex_address(wallet):
        raise InvalidArgument(MSG_MESSAGE_WALLET_FORMAT)
    if not any(address_bytes(wallet)):
        raise InvalidArgument(MSG_WALLET_ZERO)

    return SigninMessage(
        chain_id=chain_id,
        version=version,
        issued_at=issued_at,
        expire_at=expire_at,
        wallet=wallet,
    )


def parse_timestamp(text: str) -> datetime | None:
    """Read ``YYYY-MM-DDTHH:MM:SS.mmmZ`` as an aware UTC datetime; None when it is not one."""
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, millis = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=UTC)
    except ValueError:
        return None


def _parse_int64(text: str) -> int | None:
    if _DECIMAL_INT.fullmatch(text) is None:
        return None
    negative = text.startswith("-")
    digits = text.lstrip("+-").lstrip("0") or "0"
    if len(digits) > _INT64_DIGITS:  # also keeps int() clear of its digit-count limit
        return None
    value = -int(digits) if negative else int(digits)
    if not _INT64_MIN <= value <= _INT64_MAX:
        return None
    return value
