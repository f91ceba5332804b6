"""The node-kind registry: everything the domain knows about a node kind, found by its kind.

A :class:`NodeKindSpec` says, for one kind, which config type its nodes carry, how a config is
validated, stored (JSON, both ways) and shown in a step. A :class:`NodeKinds` is an immutable
collection of specs; code that validates, stores or shows nodes takes one explicitly (the
built-in registry :data:`BUILTIN_NODE_KINDS` is the default, built here from the built-in kinds'
rules). Adding a kind is one :meth:`NodeKinds.with_kind` call with its spec; the engine pairs
the kinds with their runners in :mod:`ap_avs.engine.registry`. The wire (``NodeType``, the
``TaskNode`` oneof) is fixed by the protocol, so only :class:`~ap_avs.domain.nodes.NodeKind`
kinds travel over gRPC.

Raises:
    InvalidArgument: :meth:`NodeKinds.check` on a config with a problem.
    CorruptDataError: :meth:`NodeKinds.from_json` on a record that does not decode (an unknown
        kind included).
    ValueError: :meth:`NodeKinds.with_kind` for a kind (or kind name) already registered.
    KeyError: a node whose kind is not registered (a programming error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ap_avs.domain._checks import INVALID_NODE_CONFIG, check_texts, invalid, node_subject
from ap_avs.domain._json_reader import Reader, decoding
from ap_avs.domain._limits import WorkflowLimits
from ap_avs.domain._node_codec import config_from_json, config_to_json
from ap_avs.domain._node_display import shown_config
from ap_avs.domain._node_rules import config_problems
from ap_avs.domain.nodes import NODE_CONFIG_TYPES, AnyNodeKind, Node, NodeConfig, NodeKind
from ap_avs.domain.values import JsonValue


@dataclass(frozen=True, slots=True)
class NodeKindSpec:
    """What the domain needs to know about one node kind."""

    kind: AnyNodeKind
    config_type: type[NodeConfig]
    problems: Callable[[Any, WorkflowLimits], Iterator[str]]
    """The problems of a config (messages without the node's name); none means valid."""
    to_json: Callable[[Any], JsonValue]
    """The stored JSON of a config."""
    from_json: Callable[[JsonValue], NodeConfig]
    """The config stored as JSON; raises ``CorruptDataError`` (or ``TypeError``/``ValueError``/
    ``KeyError``, turned into it) when it does not decode."""
    display: Callable[[JsonValue], JsonValue]
    """The config as a step shows it, from its stored JSON."""


class NodeKinds:
    """An immutable registry of node kinds (see the module docstring)."""

    __slots__ = ("_by_kind", "_by_name")

    def __init__(self, specs: Iterable[NodeKindSpec]) -> None:
        by_kind: dict[AnyNodeKind, NodeKindSpec] = {}
        by_name: dict[str, NodeKindSpec] = {}
        for spec in specs:
            if spec.kind in by_kind or spec.kind.name in by_name:
                raise ValueError(f"node kind {spec.kind.name} is registered twice")
            by_kind[spec.kind] = spec
            by_name[spec.kind.name] = spec
        self._by_kind: Mapping[AnyNodeKind, NodeKindSpec] = MappingProxyType(by_kind)
        self._by_name: Mapping[str, NodeKindSpec] = MappingProxyType(by_name)

    @property
    def kinds(self) -> tuple[AnyNodeKind, ...]:
        """Every registered kind, in registration order."""
        return tuple(self._by_kind)

    def spec(self, kind: AnyNodeKind) -> NodeKindSpec:
        """The spec of ``kind`` (``KeyError`` when it is not registered)."""
        return self._by_kind[kind]

    def with_kind(self, spec: NodeKindSpec) -> NodeKinds:
        """A registry with the kinds of this one and ``spec`` (this one is unchanged)."""
        return NodeKinds((*self._by_kind.values(), spec))

    def check(self, node: Node, limits: WorkflowLimits) -> None:
        """Validate the config of ``node`` (its name and id are checked with the graph).

        Raises:
            InvalidArgument: the first problem found.
        """
        subject = node_subject(node)
        check_texts(subject, node.config, limits, code=INVALID_NODE_CONFIG)
        problem = next(self.spec(node.kind).problems(node.config, limits), None)
        if problem is not None:
            raise invalid(f"{subject}: {problem}", code=INVALID_NODE_CONFIG)

    def to_json(self, node: Node) -> JsonValue:
        """The stored JSON of a node: ``{id, name, kind, config}``."""
        config = self.spec(node.kind).to_json(node.config)
        return {"id": node.id, "name": node.name, "kind": node.kind.name, "config": config}

    def from_json(self, data: JsonValue) -> Node:
        """The node stored as ``data``.

        Raises:
            CorruptDataError: ``data`` is not a stored node of a registered kind.
        """
        with decoding():
            r = Reader(data, "node")
            name = r.text("kind")
            spec = self._by_name.get(name)
            if spec is None:
                raise r.corrupt("kind", f"unknown node kind {name!r}")
            return Node(r.text("id"), r.text("name"), spec.kind, spec.from_json(r.raw("config")))

    def display(self, node: Node) -> JsonValue:
        """The config of ``node`` as a step shows it."""
        spec = self.spec(node.kind)
        return spec.display(spec.to_json(node.config))


def _builtin(kind: NodeKind) -> NodeKindSpec:
    return NodeKindSpec(
        kind=kind,
        config_type=NODE_CONFIG_TYPES[kind],
        problems=config_problems,
        to_json=config_to_json,
        from_json=lambda data: config_from_json(kind, data),
        display=lambda stored: shown_config(kind, stored),
    )


BUILTIN_NODE_KINDS = NodeKinds(_builtin(kind) for kind in NodeKind)
"""The kinds of the wire protocol (immutable)."""
