"""The values of trigger verification: a report as received, and the settings. Pure data."""

from __future__ import annotations

from dataclasses import dataclass

from ap_avs.engine.queue import FiredTrigger


@dataclass(frozen=True, slots=True)
class Report:
    """One ``NotifyTriggers`` call, read from the wire."""

    operator: str
    """Lower-case address of the authenticated operator."""
    workflow_id: str
    request_id: str
    """``trigger_request_id`` exactly as sent (it is what the operator signed)."""
    occurrence: str
    """The occurrence part of the request id (``<txHash>:<logIndex>``, block, fire time)."""
    fired: FiredTrigger
    """The trigger type and output as reported (never run as such in strict mode)."""
    digest: str
    """:func:`~ap_avs.auth.trigger_reports.data_digest` of the reported output."""
    signature: str
    request: bytes
    """The request's protobuf bytes, kept as evidence."""


@dataclass(frozen=True, slots=True)
class VerificationSettings:
    """From the config keys ``trigger_verification``, ``verification`` and ``trigger_quorum``.

    Usage::

        settings = VerificationSettings(strict=True, event_confirmations=2, quorum_k=2,
                                        quorum_n=3)
    """

    strict: bool = True
    event_confirmations: int = 0
    max_blocks_ahead: int = 5
    clock_skew_ms: int = 30_000
    max_report_age_ms: int = 72 * 3_600_000
    """An occurrence older than this (fire time, or its block's timestamp) is refused: its
    idempotency mark may be gone (``retention.idempotency_window_hours`` is longer), so a late
    report could otherwise run it a second time."""
    suspend_after: int = 5
    require_signature: bool = True
    rpc_attempts: int = 2
    quorum_k: int = 1
    quorum_n: int = 1
