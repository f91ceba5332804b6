"""How a built-in node kind's stored config is shown in a step (pure; the rules are in
:mod:`ap_avs.domain.step_config`). Used through the kinds' registration in
:mod:`ap_avs.domain.node_kinds`.

Raises: nothing.
"""

from __future__ import annotations

from typing import Final

from ap_avs.domain.nodes import ExecutionMode, Lang, NodeKind
from ap_avs.domain.values import JsonValue

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


def shown_lang(stored: dict[str, JsonValue]) -> dict[str, JsonValue]:
    if "lang" not in stored:
        return stored
    shown = {k: v for k, v in stored.items() if k != "lang"}
    name = stored["lang"]
    if isinstance(name, str) and name != Lang.UNSPECIFIED.name:
        shown["lang"] = f"LANG_{name}"
    return shown


def shown_config(kind: NodeKind, stored: JsonValue) -> JsonValue:
    if not isinstance(stored, dict):
        return stored
    shown = shown_lang(stored)
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
                "config": shown_config(runner_kind, runner.get("config")),
            }
    return shown
