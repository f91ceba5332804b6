"""Authentication of operator RPCs: signed, timestamped, single-use request headers.

Every call an operator makes to the ``aggregator.Node`` service carries four metadata entries:

=========================  ============================================================
``x-ap-operator``           the operator's address (0x + 40 hex)
``x-ap-timestamp``          unix time in milliseconds when the call was signed
``x-ap-nonce``              32 random hex digits, never reused
``x-ap-signature``          EIP-191 ``personal_sign`` of :func:`signing_text`, 0x-hex
=========================  ============================================================

The signed text binds the method path, so a signature for ``Ping`` cannot be replayed as
``NotifyTriggers``; the timestamp must lie within :data:`MAX_SKEW_MS` of the server's clock and
the nonce must not have been seen in that window (:class:`ReplayGuard`). Only the signature is
verified here; whether the address may operate (allow-list, EigenLayer registration) is the
caller's decision.

Raises:
    Unauthenticated: missing or malformed headers, stale timestamp, replayed nonce, or a
        signature that does not recover to the claimed address.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from typing import Final

from coincurve import PrivateKey, PublicKey
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.domain.addresses import is_address
from ap_avs.errors import Unauthenticated

HEADER_OPERATOR: Final = "x-ap-operator"
HEADER_TIMESTAMP: Final = "x-ap-timestamp"
HEADER_NONCE: Final = "x-ap-nonce"
HEADER_SIGNATURE: Final = "x-ap-signature"
MAX_SKEW_MS: Final = 30_000
MAX_REMEMBERED_NONCES: Final = 100_000
_NONCE: Final = re.compile(r"[0-9a-f]{32}")


def signing_text(method: str, operator: str, timestamp_ms: int, nonce: str) -> str:
    """The exact text an operator signs for one call."""
    return (
        f"ap-avs operator request\nmethod: {method}\noperator: {operator.lower()}\n"
        f"timestamp: {timestamp_ms}\nnonce: {nonce}"
    )


def _digest(text: str) -> bytes:
    data = text.encode()
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)


def _address_of(public_key: PublicKey) -> str:
    return to_checksum_address(keccak(public_key.format(compressed=False)[1:])[12:])


class OperatorSigner:
    """Signs Node RPCs for one operator key. Its repr shows only the address."""

    __slots__ = ("_key", "address")

    def __init__(self, private_key: str | bytes) -> None:
        raw = (
            bytes.fromhex(private_key.removeprefix("0x"))
            if isinstance(private_key, str)
            else (private_key)
        )
        self._key = PrivateKey(raw)
        self.address = _address_of(self._key.public_key)

    def __repr__(self) -> str:
        return f"OperatorSigner(address={self.address})"

    def sign_text(self, text: str) -> str:
        """EIP-191 ``personal_sign`` of ``text``: 65 bytes as 0x-hex (v = 27 or 28)."""
        signature = self._key.sign_recoverable(_digest(text), hasher=None)
        return "0x" + (signature[:64] + bytes([signature[64] + 27])).hex()

    def metadata(self, method: str, now_ms: int) -> tuple[tuple[str, str], ...]:
        """The four headers for a call to ``method`` (e.g. ``/aggregator.Node/Ping``)."""
        nonce = secrets.token_hex(16)
        signature = self.sign_text(signing_text(method, self.address, now_ms, nonce))
        return (
            (HEADER_OPERATOR, self.address),
            (HEADER_TIMESTAMP, str(now_ms)),
            (HEADER_NONCE, nonce),
            (HEADER_SIGNATURE, signature),
        )


def recover_signer(text: str, signature: str) -> str | None:
    """The checksummed address whose ``personal_sign`` of ``text`` is ``signature`` (0x-hex,
    65 bytes); None when the signature is malformed or does not recover."""
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        return None
    if len(raw) != 65 or raw[64] not in (0, 1, 27, 28):
        return None
    try:
        public_key = PublicKey.from_signature_and_message(
            raw[:64] + bytes([raw[64] % 27]), _digest(text), hasher=None
        )
    except Exception:  # coincurve raises plain exceptions for bad signatures
        return None
    return _address_of(public_key)


class ReplayGuard:
    """Remembers nonces seen within the skew window (bounded; oldest forgotten first).

    Nonces live in memory, so a server passes ``not_before_ms`` = its start time: a request
    signed before the server started (which it could not have remembered) is refused too.
    """

    def __init__(self, capacity: int = MAX_REMEMBERED_NONCES, *, not_before_ms: int = 0) -> None:
        self._seen: OrderedDict[str, int] = OrderedDict()
        self._capacity = capacity
        self.not_before_ms = not_before_ms

    def check_and_remember(self, nonce: str, timestamp_ms: int, now_ms: int) -> bool:
        """False when ``nonce`` was used already; otherwise remember it and return True."""
        while self._seen:
            oldest_nonce, oldest_ts = next(iter(self._seen.items()))
            if oldest_ts >= now_ms - 2 * MAX_SKEW_MS and len(self._seen) < self._capacity:
                break
            del self._seen[oldest_nonce]
        if nonce in self._seen:
            return False
        self._seen[nonce] = timestamp_ms
        return True


def verify(
    metadata: Iterable[tuple[str, str | bytes]], method: str, now_ms: int, guard: ReplayGuard
) -> str:
    """The checksummed address of the operator that signed this call.

    Raises:
        Unauthenticated: with a message naming what is wrong.
    """
    headers: dict[str, str] = {}
    for key, value in metadata:
        if key in (HEADER_OPERATOR, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE):
            headers[key] = value if isinstance(value, str) else value.decode(errors="replace")
    missing = [
        h
        for h in (HEADER_OPERATOR, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
        if h not in headers
    ]
    if missing:
        raise Unauthenticated(f"operator authentication required: missing {', '.join(missing)}")
    operator, nonce = headers[HEADER_OPERATOR], headers[HEADER_NONCE]
    if not is_address(operator):
        raise Unauthenticated(f"operator authentication: {HEADER_OPERATOR} is not an address")
    if not _NONCE.fullmatch(nonce):
        raise Unauthenticated(f"operator authentication: {HEADER_NONCE} must be 32 hex digits")
    try:
        timestamp = int(headers[HEADER_TIMESTAMP])
    except ValueError:
        raise Unauthenticated("operator authentication: timestamp is not an integer") from None
    if abs(now_ms - timestamp) > MAX_SKEW_MS:
        raise Unauthenticated(
            "operator authentication: timestamp too far from the server clock "
            f"({(timestamp - now_ms) / 1000:+.1f} s; allowed ±{MAX_SKEW_MS // 1000} s)"
        )
    signature_hex = headers[HEADER_SIGNATURE].removeprefix("0x")
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise Unauthenticated("operator authentication: signature is not hex") from None
    if len(signature) != 65 or signature[64] not in (0, 1, 27, 28):
        raise Unauthenticated("operator authentication: signature must be 65 bytes")
    recoverable = signature[:64] + bytes([signature[64] % 27])
    try:
        public_key = PublicKey.from_signature_and_message(
            recoverable, _digest(signing_text(method, operator, timestamp, nonce)), hasher=None
        )
    except Exception:  # coincurve raises plain exceptions for bad signatures
        raise Unauthenticated("operator authentication: signature does not verify") from None
    signer = _address_of(public_key)
    if signer.lower() != operator.lower():
        raise Unauthenticated("operator authentication: signature is not from that operator")
    if timestamp < guard.not_before_ms:
        raise Unauthenticated(
            "operator authentication: request signed before this server started (possible "
            "replay); sign a new one"
        )
    if not guard.check_and_remember(nonce, timestamp, now_ms):
        raise Unauthenticated("operator authentication: request replayed (nonce already used)")
    return signer
