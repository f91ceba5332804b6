"""Names, ids, edges, cycles and reachability, checked when a workflow is created."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ap_avs.domain.names import RESERVED_WORDS, identifier_problem
from ap_avs.domain.nodes import (
    BranchCondition,
    BranchConfig,
    Edge,
    FilterConfig,
    Node,
    NodeConfig,
    NodeKind,
    RestApiConfig,
)
from ap_avs.domain.triggers import BlockTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.validation import WorkflowLimits, validate_new_workflow
from ap_avs.domain.workflow import Workflow, WorkflowDraft
from ap_avs.errors import InvalidArgument

NOW = 1_800_000_000_000
RUNNER = "0x71c7656ec7ab88b098defb751b7401b5f6d8976f"
REST = RestApiConfig(url="https://example.org", method="GET")
BRANCH = BranchConfig((BranchCondition("yes", "if", "true"), BranchCondition("no", "else", "")))


def node(id: str, name: str, config: NodeConfig = REST) -> Node:
    kind = NodeKind.BRANCH if isinstance(config, BranchConfig) else NodeKind.REST_API
    if isinstance(config, FilterConfig):
        kind = NodeKind.FILTER
    return Node(id, name, kind, config)


TRIGGER = Trigger("trg", "trigger1", TriggerKind.BLOCK, BlockTriggerConfig(5))
A, B, C = node("a", "alpha"), node("b", "beta"), node("c", "gamma")
BR = node("br", "decide", BRANCH)


def edges(*pairs: str) -> tuple[Edge, ...]:
    return tuple(
        Edge(f"e{i}", pair.split(">")[0], pair.split(">")[1]) for i, pair in enumerate(pairs)
    )


def draft(nodes: tuple[Node, ...], edge_list: tuple[Edge, ...], **changes: Any) -> WorkflowDraft:
    base = WorkflowDraft(
        trigger=TRIGGER,
        nodes=nodes,
        edges=edge_list,
        input_variables={"settings": {"name": "wf", "runner": RUNNER}},
    )
    return dataclasses.replace(base, **changes)


def validate(d: WorkflowDraft, limits: WorkflowLimits | None = None) -> Workflow:
    return validate_new_workflow(d, workflow_id="w", owner="o", now_ms=NOW, limits=limits)


def message_of(d: WorkflowDraft, limits: WorkflowLimits | None = None) -> str:
    with pytest.raises(InvalidArgument) as info:
        validate(d, limits)
    assert info.value.message.startswith("Invalid task argument: ")
    return info.value.message.removeprefix("Invalid task argument: ")


# --- graphs that pass ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nodes", "edge_list"),
    [
        ((A,), edges("trg>a")),
        ((A, B, C), edges("trg>a", "a>b", "a>c", "b>c")),  # diamond-ish DAG
        ((A, B), edges("trg>a", "trg>b", "a>b")),  # trigger fans out
        ((BR, A, B), edges("trg>br", "br.yes>a", "br.no>b")),  # branch arms
        ((BR, A, B), edges("trg>br", "br.yes>a", "br.no>a", "a>b")),  # both arms join
        ((BR, A), edges("trg>br", "br>a")),  # a plain edge out of a branch
    ],
)
def test_valid_graphs(nodes: tuple[Node, ...], edge_list: tuple[Edge, ...]) -> None:
    assert validate(draft(nodes, edge_list)).edges == edge_list


# --- graphs that fail ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nodes", "edge_list", "problem"),
    [
        ((A,), edges("x>a"), "edge 'e0': source 'x' is neither the trigger, a node nor a branch"),
        ((A,), edges("trg>a", "a>zz"), "edge 'e1': target 'zz' is not a node"),
        ((A,), edges("trg>a", "a>trg"), "edge 'e1': an edge cannot lead into the trigger"),
        ((A,), edges("trg>a", "trg>a"), "edge 'e1': duplicates edge 'e0' (trg -> a)"),
        ((A, B), edges("trg>a", "a>b", "b>a"), "the graph has a cycle through node"),
        ((A,), edges("trg>a", "a>a"), "the graph has a cycle through node 'alpha' (id 'a')"),
        ((A, B, C), edges("trg>a", "b>c", "c>b"), "the graph has a cycle"),
        ((A, B), edges("trg>a"), "node 'beta' (id 'b') is not reachable from the trigger"),
        ((A, B), edges("trg>a", "b>a"), "node 'beta' (id 'b') is not reachable from the trigger"),
        ((BR, A), edges("trg>br", "br.maybe>a"), "source 'br.maybe' is neither"),
        ((BR, A), edges("trg>br", "a.yes>a"), "source 'a.yes' is neither"),
        ((BR, A), edges("trg>br", "br.yes>a", "a>br"), "cycle"),
    ],
)
def test_invalid_graphs(nodes: tuple[Node, ...], edge_list: tuple[Edge, ...], problem: str) -> None:
    assert problem in message_of(draft(nodes, edge_list))


def test_edge_ids_must_be_present_and_unique() -> None:
    assert "has an empty id" in message_of(draft((A,), (Edge("", "trg", "a"),)))
    twice = (Edge("e", "trg", "a"), Edge("e", "a", "b"))
    assert "edge 'e': the id is used by another edge" in message_of(draft((A, B), twice))


def test_edge_count_limit() -> None:
    limits = WorkflowLimits(max_edges=1)
    assert "more than 1 edges" in message_of(draft((A, B), edges("trg>a", "a>b")), limits)


@pytest.mark.parametrize(
    ("nodes", "problem"),
    [
        ((A, node("a", "other")), "node 'other' (id 'a'): the id is used by another node"),
        ((A, node("trg", "other")), "node 'other' (id 'trg'): the id is the trigger's id"),
        ((A, node("", "other")), "node 'other' has an empty id"),
        ((BR, node("br.yes", "other")), "condition 'yes' makes the edge source 'br.yes' ambiguous"),
    ],
)
def test_node_ids(nodes: tuple[Node, ...], problem: str) -> None:
    assert problem in message_of(draft(nodes, edges(*(f"trg>{n.id}" for n in nodes))))


def test_trigger_id_is_required() -> None:
    trigger = dataclasses.replace(TRIGGER, id="")
    assert "trigger 'trigger1' has an empty id" in message_of(
        draft((A,), edges(">a"), trigger=trigger)
    )


def test_deep_chains_do_not_recurse() -> None:
    chain = tuple(node(f"n{i}", f"step{i}") for i in range(2000))
    pairs = ["trg>n0", *(f"n{i}>n{i + 1}" for i in range(1999))]
    limits = WorkflowLimits(max_nodes=2000, max_edges=2000)
    assert len(validate(draft(chain, edges(*pairs)), limits).nodes) == 2000


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("1st", "is not a valid JavaScript identifier - it must start with a letter"),
        ("my-node", "node name 'my-node' is not a valid JavaScript identifier - "),
        ("my node", "is not a valid JavaScript identifier"),
        ("ñame", "is not a valid JavaScript identifier"),
        ("class", "node name 'class' is not a valid JavaScript identifier - it is a reserved"),
        ("Class", "it is a reserved JavaScript word"),
        ("CLASS", "it is a reserved JavaScript word"),
        ("instanceof", "reserved"),
        ("Instanceof", "reserved"),
        ("undefined", "reserved"),
        ("", "name is required"),
        ("x" * 101, "is longer than 100 characters"),
        ("apContext", "node name 'apContext' is reserved by the runtime"),
        ("Math", "is reserved by the runtime"),
    ],
)
def test_node_name_literals(name: str, problem: str) -> None:
    message = message_of(draft((node("a", name),), edges("trg>a")))
    assert message.startswith("node name validation failed: ")
    assert problem in message
    assert message.endswith("(node id 'a')")


@pytest.mark.parametrize("name", ["_x", "$", "$el", "a1", "camelCase", "CLASSy", "classic"])
def test_good_names(name: str) -> None:
    assert validate(draft((node("a", name),), edges("trg>a"))).nodes[0].name == name


def test_trigger_name_literal() -> None:
    trigger = dataclasses.replace(TRIGGER, name="my trigger")
    message = message_of(draft((A,), edges("trg>a"), trigger=trigger))
    assert message == (
        "trigger name validation failed: node name 'my trigger' is not a valid JavaScript "
        "identifier - it must start with a letter, an underscore or a dollar sign and contain "
        "only letters, digits, underscores and dollar signs (trigger id 'trg')"
    )
    empty = dataclasses.replace(TRIGGER, name="")
    assert "trigger name validation failed: name is required" in message_of(
        draft((A,), edges("trg>a"), trigger=empty)
    )


def test_names_are_unique_across_trigger_nodes_and_variables() -> None:
    twice = (A, node("b", "alpha"))
    assert "node 'alpha' (id 'b'): the name is already used by node id 'a'" in message_of(
        draft(twice, edges("trg>a", "a>b"))
    )
    shadow = (node("a", "trigger1"),)
    assert "the name is already used by the trigger" in message_of(draft(shadow, edges("trg>a")))
    settings = (node("a", "settings"),)
    assert "already used by the input variable 'settings'" in message_of(
        draft(settings, edges("trg>a"))
    )
    trigger = dataclasses.replace(TRIGGER, name="settings")
    assert "trigger name 'settings' collides with the input variable" in message_of(
        draft((A,), edges("trg>a"), trigger=trigger)
    )


def test_reserved_words_cover_three_cases() -> None:
    assert {"while", "While", "WHILE", "typeof", "Typeof", "TYPEOF"} <= RESERVED_WORDS
    assert identifier_problem("While") is not None
    assert identifier_problem("wHile") is None
