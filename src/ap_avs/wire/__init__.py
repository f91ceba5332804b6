"""The only place protobuf meets the domain: wire messages <-> frozen domain values.

Readers (``*_from_pb``) check the *shape* a message must have to become a domain value and
raise :class:`~ap_avs.errors.InvalidArgument` naming the trigger or node otherwise: a missing
``trigger_type``/``task_type``/``runner`` oneof, a missing ``config`` sub-message, an enum
number the domain does not know, a ``type`` field that names another kind than the oneof
(``type`` unset is accepted and taken from the oneof), a ``google.protobuf.Value`` nested deeper
than :data:`MAX_VALUE_DEPTH` or holding NaN/Infinity. Everything else (rules on the values) is
:mod:`ap_avs.domain.validation`'s job. Writers (``*_to_pb``) never fail.

Round trip: for every message a reader accepts, ``*_to_pb(*_from_pb(m))`` equals ``m`` except
for two documented normalisations: ``type`` is always written, and a ``Value`` that is JSON
``null`` where the domain keeps ``None`` for "unset" (``ManualTrigger.Config.data``,
``RestAPINode.Config.options``) is written back unset.

Values follow PROTOCOL.md §10.3: numbers are doubles on the wire; an integral double whose
magnitude is below 2**53 reads as a Python ``int`` (so ``5.0`` -> ``5``), any other as a
``float``; an ``int`` is written as a double (exact below 2**53, rounded above, as upstream).
A ``Value`` with no kind set reads as ``None``.

The package splits the work: ``_values`` (``google.protobuf.Value``), ``_triggers``,
``_nodes`` (and edges), ``_workflows``; helpers in ``_shared``.
"""

from __future__ import annotations

from ap_avs.wire._nodes import edge_from_pb, edge_to_pb, node_from_pb, node_to_pb
from ap_avs.wire._shared import MAX_VALUE_DEPTH
from ap_avs.wire._triggers import (
    TRIGGER_FIELD,
    TRIGGER_OF_OUTPUT_FIELD,
    TRIGGER_OUTPUT_FIELD,
    trigger_from_pb,
    trigger_to_pb,
)
from ap_avs.wire._values import json_to_value, value_to_json
from ap_avs.wire._workflows import workflow_from_create_req, workflow_to_pb

__all__ = [
    "MAX_VALUE_DEPTH",
    "TRIGGER_FIELD",
    "TRIGGER_OF_OUTPUT_FIELD",
    "TRIGGER_OUTPUT_FIELD",
    "edge_from_pb",
    "edge_to_pb",
    "json_to_value",
    "node_from_pb",
    "node_to_pb",
    "trigger_from_pb",
    "trigger_to_pb",
    "value_to_json",
    "workflow_from_create_req",
    "workflow_to_pb",
]
