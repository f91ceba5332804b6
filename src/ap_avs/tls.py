"""TLS for gRPC: server credentials from the aggregator's ``tls`` files, and client channels
that use TLS when the address says so (``https://host:port``) or the caller asks.

A TLS client always verifies the server's certificate: against ``ca_file`` when given (a
self-signed or private CA), else the system's roots; ``server_name`` overrides the name checked
(when the address is an IP the certificate does not carry). A plaintext client reaching a TLS
port fails to connect (``UNAVAILABLE``): the server never falls back.

Usage::

    target, secure = split_target("https://avs.example.org:2206")
    channel = client_channel(target, ClientTls(ca_file=Path("ca.pem")) if secure else None)
    port = server.add_secure_port("0.0.0.0:2206", server_credentials(cfg.tls))

Raises:
    ConfigError: a certificate, key or CA file cannot be read (naming the config key).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from ap_avs.config import ClientTlsConfig, TlsConfig
from ap_avs.errors import ConfigError

_SCHEMES = ("https://", "http://")


@dataclass(frozen=True, slots=True)
class ClientTls:
    """How a client verifies the server (and proves itself, when the server asks)."""

    ca_file: Path | None = None
    server_name: str = ""
    cert_file: Path | None = None
    key_file: Path | None = None

    @classmethod
    def from_config(cls, section: ClientTlsConfig) -> ClientTls:
        return cls(
            ca_file=Path(section.ca_file) if section.ca_file else None,
            server_name=section.server_name,
            cert_file=Path(section.cert_file) if section.cert_file else None,
            key_file=Path(section.key_file) if section.key_file else None,
        )


def split_target(address: str, *, tls: bool = False) -> tuple[str, bool]:
    """``host:port`` and whether to use TLS: ``https://`` says yes, ``http://`` and a bare
    ``host:port`` say what ``tls`` says. A trailing ``/`` is dropped."""
    for scheme in _SCHEMES:
        if address.startswith(scheme):
            return address.removeprefix(scheme).rstrip("/"), scheme == "https://" or tls
    return address, tls


def _read(path: Path | str, key: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"config key '{key}': cannot read {path}: {exc.strerror}") from None


def channel_credentials(tls: ClientTls, *, key_prefix: str = "tls") -> grpc.ChannelCredentials:
    """Credentials that verify the server as ``tls`` says.

    Raises:
        ConfigError: a file cannot be read.
    """
    root = _read(tls.ca_file, f"{key_prefix}.ca_file") if tls.ca_file else None
    cert = _read(tls.cert_file, f"{key_prefix}.cert_file") if tls.cert_file else None
    key = _read(tls.key_file, f"{key_prefix}.key_file") if tls.key_file else None
    return grpc.ssl_channel_credentials(
        root_certificates=root, private_key=key, certificate_chain=cert
    )


def client_channel(
    target: str,
    tls: ClientTls | None,
    *,
    options: Sequence[tuple[str, Any]] = (),
    key_prefix: str = "tls",
) -> grpc.aio.Channel:
    """A channel to ``target`` (``host:port``): TLS when ``tls`` is given, else plaintext.

    Raises:
        ConfigError: a file cannot be read.
    """
    if tls is None:
        return grpc.aio.insecure_channel(target, options=list(options))
    extra = list(options)
    if tls.server_name:
        extra.append(("grpc.ssl_target_name_override", tls.server_name))
    credentials = channel_credentials(tls, key_prefix=key_prefix)
    return grpc.aio.secure_channel(target, credentials, options=extra)


def server_credentials(section: TlsConfig) -> grpc.ServerCredentials:
    """The aggregator's certificate and key (and client CA: clients must then present a
    certificate it signed).

    Raises:
        ConfigError: a file cannot be read.
    """
    cert = _read(section.cert_file, "tls.cert_file")
    key = _read(section.key_file, "tls.key_file")
    client_ca = (
        _read(section.client_ca_file, "tls.client_ca_file") if section.client_ca_file else None
    )
    return grpc.ssl_server_credentials(
        [(key, cert)],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )
