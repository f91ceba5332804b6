"""The one table that maps node kinds to their runners (adding a kind: a module + a line here)."""

from __future__ import annotations

from collections.abc import Mapping

from ap_avs.domain.nodes import NodeKind
from ap_avs.runners import branch, custom_code, filter, graphql, loop, rest_api
from ap_avs.runners.base import Runner


def default_runners(extra: Mapping[NodeKind, Runner] | None = None) -> dict[NodeKind, Runner]:
    """Every built-in runner, plus ``extra`` (on-chain runners need clients, so the
    composition root passes them in)."""
    runners: dict[NodeKind, Runner] = {
        NodeKind.REST_API: rest_api.run,
        NodeKind.GRAPHQL_QUERY: graphql.run,
        NodeKind.CUSTOM_CODE: custom_code.run,
        NodeKind.BRANCH: branch.run,
        NodeKind.FILTER: filter.run,
        NodeKind.LOOP: loop.run,
    }
    runners.update(extra or {})
    return runners
