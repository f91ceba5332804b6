"""The node registry: each node kind's domain spec paired with its runner, built in one place.

:class:`NodeRegistry` is immutable and passed explicitly (the composition root builds it with
:func:`default_registry` and hands ``kinds`` and ``runners`` to whoever validates, stores, shows
or runs nodes). Adding a kind is a runner module plus one :meth:`NodeRegistry.with_kind` call
with its :class:`~ap_avs.domain.node_kinds.NodeKindSpec`.

Raises:
    ValueError: :meth:`NodeRegistry.with_kind` for a kind already registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ap_avs.domain.node_kinds import BUILTIN_NODE_KINDS, NodeKinds, NodeKindSpec
from ap_avs.domain.nodes import AnyNodeKind, NodeKind
from ap_avs.runners import branch, custom_code, filter, graphql, loop, rest_api
from ap_avs.runners.base import Runner


@dataclass(frozen=True, slots=True, eq=False)
class NodeRegistry:
    """The node kinds and the runner of each (a kind without a runner fails its steps with
    "not supported by this server")."""

    kinds: NodeKinds
    runners: Mapping[AnyNodeKind, Runner]

    def with_kind(self, spec: NodeKindSpec, runner: Runner) -> NodeRegistry:
        """A registry with this one's kinds and ``spec`` run by ``runner``."""
        runners = {**self.runners, spec.kind: runner}
        return NodeRegistry(self.kinds.with_kind(spec), MappingProxyType(runners))


def default_registry(extra: Mapping[NodeKind, Runner] | None = None) -> NodeRegistry:
    """The built-in kinds with every built-in runner, plus ``extra`` (on-chain runners need
    clients, so the composition root passes them in)."""
    runners: dict[AnyNodeKind, Runner] = {
        NodeKind.REST_API: rest_api.run,
        NodeKind.GRAPHQL_QUERY: graphql.run,
        NodeKind.CUSTOM_CODE: custom_code.run,
        NodeKind.BRANCH: branch.run,
        NodeKind.FILTER: filter.run,
        NodeKind.LOOP: loop.run,
    }
    for kind, run in (extra or {}).items():
        runners[kind] = run
    return NodeRegistry(BUILTIN_NODE_KINDS, MappingProxyType(runners))


def default_runners(extra: Mapping[NodeKind, Runner] | None = None) -> dict[AnyNodeKind, Runner]:
    """The runners of :func:`default_registry` (a fresh dict)."""
    return dict(default_registry(extra).runners)
