"""Operators are not trusted: every trigger report is verified before anything is queued.

Owns the verification of ``NotifyTriggers`` reports against the aggregator's own chain and
clock (event logs, blocks, cron and fixed-time fire times), the data the run gets (rebuilt from
the chain with the operator's own builders), the accountability of refused reports (evidence,
suspension, through :mod:`ap_avs.store.evidence`) and quorum mode (``k`` of ``n`` assigned
operators must agree; the ``votes:`` keys). :class:`TriggerGate` is the entry point.

Raises: see :mod:`ap_avs.aggregator.verification._gate`.
"""

from ap_avs.aggregator.verification._chain import ChainVerifier
from ap_avs.aggregator.verification._checks import mismatches, verify_time
from ap_avs.aggregator.verification._gate import OnSuspended, TriggerGate
from ap_avs.aggregator.verification._model import Report, VerificationSettings

__all__ = [
    "ChainVerifier",
    "OnSuspended",
    "Report",
    "TriggerGate",
    "VerificationSettings",
    "mismatches",
    "verify_time",
]
