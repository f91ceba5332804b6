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

from typing import Final

from ap_avs.domain.nodes import ExecutionMode, Lang, Node, NodeKind
from ap_avs.domain.triggers import Trigger
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow_codec import node_to_json, trigger_to_json

RUNNER_TYPES: Final = {
    NodeKind.ETH_TRANSFER: "ethTransfer",
    NodeKind.CONTRACT_WRITE: "contractWrite",
    NodeKind.CONTRACT_READ: "contractRead",
    NodeKind.GRAPHQL_QUERY: "graphqlDataQuery",
    NodeKind.REST_API: "restApi",
    NodeKind.CUSTOM_CODE: "customCode",
    NodeKind.BRANCH: "branch",
    NodeKind.FILTER: "filter",
    NodeKind.LOOP: "loop",
    NodeKind.BALANCE: "balance",
}
"""Each node kind's camelCase name, as a loop runner's ``type``."""


def _lang(stored: dict[str, JsonValue]) -> dict[str, JsonValue]:
    if "lang" not in stored:
        return stored
    shown = {k: v for k, v in stored.items() if k != "lang"}
    name = stored["lang"]
    if isinstance(name, str) and name != Lang.UNSPECIFIED.name:
        shown["lang"] = f"LANG_{name}"
    return shown


def _node(kind: NodeKind, stored: JsonValue) -> JsonValue:
    if not isinstance(stored, dict):
        return stored
    shown = _lang(stored)
    if kind is NodeKind.BALANCE and "minUsdValueCents" in shown:
        cents = shown.pop("minUsdValueCents")
        shown["minUsdValue"] = cents / 100 if isinstance(cents, int) else cents
    if kind is NodeKind.LOOP:
        mode = shown.get("executionMode")
        if isinstance(mode, str) and mode in ExecutionMode.__members__:
            shown["executionMode"] = mode.lower()
        runner = shown.get("runner")
        if isinstance(runner, dict) and isinstance(runner.get("kind"), str):
            runner_kind = NodeKind[str(runner["kind"])]
            shown["runner"] = {
                "type": RUNNER_TYPES[runner_kind],
                "config": _node(runner_kind, runner.get("config")),
            }
    return shown


def node_display_config(node: Node) -> JsonValue:
    """The config of ``node`` as a step shows it."""
    stored = node_to_json(node)
    return _node(node.kind, stored.get("config") if isinstance(stored, dict) else None)


def trigger_display_config(trigger: Trigger) -> JsonValue:
    """The config of ``trigger`` as a step shows it."""
    stored = trigger_to_json(trigger)
    config = stored.get("config") if isinstance(stored, dict) else None
    return _lang(config) if isinstance(config, dict) else config
