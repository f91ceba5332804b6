"""Encryption of secret values at rest (AES-256-GCM), bound to their storage key.

A sealed value is ``version (1 byte) ‖ nonce (12) ‖ tag (16) ‖ ciphertext``. The storage key is
the associated data, so a sealed value copied under another key does not open.

Raises:
    CorruptDataError: a sealed value that does not open (wrong key, tampered, truncated).
"""

from __future__ import annotations

import os
from typing import Final

from Crypto.Cipher import AES
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

from ap_avs.domain.secrets import SecretValue
from ap_avs.errors import ConfigError, CorruptDataError

_VERSION: Final = b"\x01"
_NONCE: Final = 12
_TAG: Final = 16


class SecretCipher:
    """Seals and opens secret values with one 32-byte key. Its repr shows no key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigError("the secrets encryption key must be 32 bytes (64 hex digits)")
        self._key = key

    @classmethod
    def derive(cls, material: str) -> SecretCipher:
        """A cipher whose key is derived (HKDF-SHA256) from ``material``."""
        key = HKDF(material.encode(), 32, b"ap-avs secrets v1", SHA256)
        assert isinstance(key, bytes)
        return cls(key)

    def __repr__(self) -> str:
        return "SecretCipher(key=***)"

    def seal(self, value: SecretValue, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        cipher.update(aad)
        ciphertext, tag = cipher.encrypt_and_digest(value.reveal().encode())
        return _VERSION + nonce + tag + ciphertext

    def open(self, sealed: bytes, aad: bytes) -> SecretValue:
        """Raises:
        CorruptDataError: the value does not open with this key and ``aad``.
        """
        if len(sealed) < 1 + _NONCE + _TAG or sealed[:1] != _VERSION:
            raise CorruptDataError("stored secret is not in a known sealed format")
        nonce = sealed[1 : 1 + _NONCE]
        tag = sealed[1 + _NONCE : 1 + _NONCE + _TAG]
        cipher = AES.new(self._key, AES.MODE_GCM, nonce=nonce)
        cipher.update(aad)
        try:
            plain = cipher.decrypt_and_verify(sealed[1 + _NONCE + _TAG :], tag)
        except ValueError:
            raise CorruptDataError(
                "stored secret does not decrypt (wrong secrets key or tampered data)"
            ) from None
        return SecretValue(plain.decode())
