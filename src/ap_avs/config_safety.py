"""What production refuses to start with: weak JWT secrets, open operator admission, plaintext
on a public address. Pure checks of a loaded :class:`AggregatorConfig` (no I/O).

:func:`check_production` raises one :class:`ConfigError` listing every unsafe setting, each
naming its key and what to do, and returns the warnings to log (settings that are allowed but
worth a line). Development is not checked: it keeps working with no secrets set.

Refused in production:

* ``jwt_secret`` missing, a known placeholder (the example config's, common stand-ins, the test
  suite's), shorter than 32 bytes, or low in entropy (see :func:`secret_problem`);
* ``approved_operators`` empty while EigenLayer admission is not configured (an empty list
  refuses every operator in production, so nothing would ever run);
* ``rpc_bind_address`` or ``http_bind_address`` not on loopback while ``tls`` is not set,
  unless ``allow_plaintext_public: true`` says TLS ends in front (then a warning).

Usage::

    for warning in check_production(cfg):   # ConfigError: the aggregator exits with status 2
        logger.warning("%s", warning)
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from itertools import pairwise
from typing import Final

from ap_avs.config import AggregatorConfig, split_host_port
from ap_avs.errors import ConfigError

MIN_SECRET_BYTES: Final = 32
MIN_SECRET_BITS: Final = 80.0
"""Least estimated entropy of ``jwt_secret``: 32 random hex digits (128 real bits) estimate
at least 94 (about 115 on average) by :func:`estimated_bits`; ``openssl rand -base64 32``
about 215."""
MIN_DISTINCT: Final = 8
KNOWN_PLACEHOLDERS: Final = frozenset(
    {
        "change-me-to-a-long-random-string",  # config/aggregator.example.yaml
        "test-secret-for-loopback-only-0123456789",  # ap_avs.testing
    }
)
PLACEHOLDER_WORDS: Final = (
    "change-me",
    "changeme",
    "change_me",
    "replace-me",
    "replaceme",
    "replace_me",
    "your-secret",
    "your_secret",
    "placeholder",
    "example",
    "secret-key-here",
)
GENERATE_HINT: Final = "generate one with `openssl rand -hex 32` and set AP_AVS_JWT_SECRET"


def estimated_bits(text: str) -> float:
    """Entropy estimate of ``text``: its length times the Shannon entropy of its characters."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    per_char = -sum(c / n * math.log2(c / n) for c in counts.values())
    return per_char * n


def _mostly_sequential(text: str) -> bool:
    """More than half the neighbouring characters repeat or step by one (``aaaa``, ``1234``)."""
    steps = [abs(ord(b) - ord(a)) for a, b in pairwise(text)]
    return bool(steps) and sum(1 for s in steps if s <= 1) * 2 > len(steps)


def _repetitive(text: str) -> bool:
    """A quarter or more of its three-character pieces occur earlier too (``abc1abc1abc1``)."""
    grams = [text[i : i + 3] for i in range(len(text) - 2)]
    return bool(grams) and len(set(grams)) < 0.75 * len(grams)


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is unfit to sign production keys, or None when it is fine."""
    lowered = secret.strip().lower()
    if lowered in KNOWN_PLACEHOLDERS or any(word in lowered for word in PLACEHOLDER_WORDS):
        return "is a known placeholder (it is published, so anyone could sign keys with it)"
    size = len(secret.encode("utf-8"))
    if size < MIN_SECRET_BYTES:
        return f"is {size} bytes; production needs at least {MIN_SECRET_BYTES}"
    if (
        len(set(secret)) < MIN_DISTINCT
        or estimated_bits(secret) < MIN_SECRET_BITS
        or _mostly_sequential(secret)
        or _repetitive(secret)
    ):
        return "is low in entropy (repeated or predictable characters)"
    return None


def eigenlayer_configured(cfg: AggregatorConfig) -> bool:
    """Whether operators are admitted by EigenLayer registration and stake (``eigenlayer``)."""
    return cfg.eigenlayer is not None


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP; any other name or address (``0.0.0.0``, ``::``) is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _public_plaintext(cfg: AggregatorConfig) -> list[tuple[str, str]]:
    if cfg.tls.enabled:
        return []
    found = []
    for key, value in (
        ("rpc_bind_address", cfg.rpc_bind_address),
        ("http_bind_address", cfg.http_bind_address),
    ):
        if value and not is_loopback(split_host_port(value)[0]):
            found.append((key, value))
    return found


def check_production(cfg: AggregatorConfig) -> list[str]:
    """Refuse an unsafe production config; nothing is checked in development.

    Returns:
        Warnings to log (plaintext on a public address allowed by ``allow_plaintext_public``).

    Raises:
        ConfigError: every unsafe setting, each naming its key and what to do.
    """
    if cfg.environment != "production":
        return []
    problems: list[str] = []
    warnings: list[str] = []
    if cfg.jwt_secret is None or not cfg.jwt_secret.get_secret_value():
        problems.append(f"config key 'jwt_secret': required in production; {GENERATE_HINT}")
    elif (why := secret_problem(cfg.jwt_secret.get_secret_value())) is not None:
        problems.append(f"config key 'jwt_secret': {why}; {GENERATE_HINT}")
    if not cfg.approved_operators and not eigenlayer_configured(cfg):
        problems.append(
            "config key 'approved_operators': empty, and EigenLayer admission is not configured, "
            "so no operator could serve; list the operator addresses allowed to connect"
        )
    for key, value in _public_plaintext(cfg):
        if cfg.allow_plaintext_public:
            warnings.append(
                f"config key '{key}': {value} is not loopback and serves plaintext "
                "(allow_plaintext_public: true); make sure TLS ends in front of it"
            )
        else:
            problems.append(
                f"config key '{key}': {value} is not loopback and TLS is not configured; set "
                "tls.cert_file and tls.key_file, bind to 127.0.0.1, or set "
                "allow_plaintext_public: true when a proxy in front terminates TLS"
            )
    if problems:
        raise ConfigError("unsafe production configuration: " + "; ".join(problems))
    return warnings
