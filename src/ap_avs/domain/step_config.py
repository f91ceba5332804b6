"""The ``config`` a step shows: a node's or trigger's config in the display format (pure).

Steps (and the ``<name>.input`` variable) show configs as upstream does, not in our storage
format (:mod:`ap_avs.domain.workflow_codec`). The differences:

* ``lang`` is the protobuf enum name (``LANG_JSON``, ``LANG_JAVASCRIPT`` …), left out when
  unspecified;
* a loop's ``executionMode`` is ``"sequential"`` or ``"parallel"``;
* a loop's runner is ``{type: <the node type's camelCase name>, config: {…}}`` (e.g.
  ``{type: "customCode", config: {lang: "LANG_JAVASCRIPT", source: …}}``), its config shown
  by the same rules;
* a balance node shows ``minUsdValue`` in dollars instead of ``minUsdValueCents``.

Everything else is the stored camelCase JSON.

Raises:
    nothing.
"""

from __future__ import annotations

from ap_avs.domain._node_display import shown_lang
from ap_avs.domain.node_kinds import BUILTIN_NODE_KINDS, NodeKinds
from ap_avs.domain.nodes import Node
from ap_avs.domain.triggers import Trigger
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow_codec import trigger_to_json


def node_display_config(node: Node, kinds: NodeKinds = BUILTIN_NODE_KINDS) -> JsonValue:
    """The config of ``node`` as a step shows it (by its kind's registration in ``kinds``)."""
    return kinds.display(node)


def trigger_display_config(trigger: Trigger) -> JsonValue:
    """The config of ``trigger`` as a step shows it."""
    stored = trigger_to_json(trigger)
    config = stored.get("config") if isinstance(stored, dict) else None
    return shown_lang(config) if isinstance(config, dict) else config
