"""Signed trigger reports: what an operator signs in ``NotifyTriggersReq.signature``.

The operator signs (EIP-191 ``personal_sign``, like the request headers of
:mod:`ap_avs.auth.operator_requests`) a text naming the report's content: the operator, the
workflow,
the occurrence (``trigger_request_id``), the trigger type and the digest of the trigger output.
Anyone with the operator's address can check a stored report later, so a refused report is
evidence that operator signed, not only something the aggregator says it received.

The digest is keccak-256 of the output's canonical JSON (keys sorted, no spaces, UTF-8), taken
of the data *as it crosses the wire* (``google.protobuf.Value``: integers above 2**53 become
floats), so both ends compute it from the same value.

Usage::

    signature = sign_report(signer, task_id=wf, occurrence=key, kind=kind, data=data)
    assert report_signer(signature, operator=signer.address, task_id=wf, occurrence=key,
                         kind=kind, digest=data_digest(data)) == signer.address

Nothing here raises for bad input: a signature that does not verify recovers to ``None``.
"""

from __future__ import annotations

import json

from eth_utils.crypto import keccak

from ap_avs.auth.operator_requests import OperatorSigner, recover_signer
from ap_avs.domain.triggers import TriggerKind
from ap_avs.domain.values import JsonValue


def canonical_json(data: JsonValue) -> bytes:
    """``data`` as canonical JSON bytes (sorted keys, no spaces, UTF-8, no NaN)."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def data_digest(data: JsonValue) -> str:
    """``0x`` + keccak-256 of :func:`canonical_json` of ``data``."""
    return "0x" + keccak(canonical_json(data)).hex()


def report_text(
    *, operator: str, task_id: str, occurrence: str, kind: TriggerKind, digest: str
) -> str:
    """The exact text an operator signs for one trigger report."""
    return (
        f"ap-avs trigger report\noperator: {operator.lower()}\ntask: {task_id.lower()}\n"
        f"occurrence: {occurrence}\ntrigger type: {kind.wire_name}\ndata digest: {digest}"
    )


def sign_report(
    signer: OperatorSigner, *, task_id: str, occurrence: str, kind: TriggerKind, data: JsonValue
) -> str:
    """The signature of a report whose trigger output is ``data`` (as sent on the wire)."""
    text = report_text(
        operator=signer.address,
        task_id=task_id,
        occurrence=occurrence,
        kind=kind,
        digest=data_digest(data),
    )
    return signer.sign_text(text)


def report_signer(
    signature: str, *, operator: str, task_id: str, occurrence: str, kind: TriggerKind, digest: str
) -> str | None:
    """The address that signed this report content, or None when ``signature`` is malformed."""
    text = report_text(
        operator=operator, task_id=task_id, occurrence=occurrence, kind=kind, digest=digest
    )
    return recover_signer(text, signature)
