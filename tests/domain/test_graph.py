"""The pure schedule: which nodes become ready as others finish."""

from __future__ import annotations

from ap_avs.domain.graph import Schedule, plan
from ap_avs.domain.nodes import CustomCodeConfig, Edge, Lang, Node, NodeKind

T = "trigger"


def nodes(*ids: str) -> list[Node]:
    return [Node(i, i, NodeKind.CUSTOM_CODE, CustomCodeConfig(Lang.JAVASCRIPT, "1")) for i in ids]


def edges(*pairs: tuple[str, str]) -> list[Edge]:
    return [Edge(f"e{i}", s, t) for i, (s, t) in enumerate(pairs)]


def test_chain() -> None:
    s = Schedule(plan(nodes("a", "b", "c"), edges((T, "a"), ("a", "b"), ("b", "c")), T))
    assert s.start() == ["a"]
    assert s.finish("a") == ["b"]
    assert s.finish("b") == ["c"]
    assert s.finish("c") == []


def test_fan_out_and_fan_in() -> None:
    graph = edges((T, "a"), ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"))
    s = Schedule(plan(nodes("a", "b", "c", "d"), graph, T))
    assert s.start() == ["a"]
    assert s.finish("a") == ["b", "c"]
    assert s.finish("c") == []  # d waits for b too
    assert s.finish("b") == ["d"]


def test_branch_with_else_opens_only_the_chosen_path() -> None:
    graph = edges((T, "br"), ("br.yes", "y"), ("br.no", "n"), ("n", "after"))
    shape = plan(nodes("br", "y", "n", "after"), graph, T)
    taken = Schedule(shape)
    assert taken.start() == ["br"]
    assert taken.finish("br", chosen="br.no") == ["n"]
    assert taken.finish("n") == ["after"]
    assert taken.started == {"br", "n", "after"}
    none = Schedule(shape)
    none.start()
    assert none.finish("br", chosen=None) == []


def test_failed_node_still_finishes_and_other_branches_go_on() -> None:
    graph = edges((T, "bad"), (T, "good"), ("bad", "x"), ("good", "y"))
    s = Schedule(plan(nodes("bad", "good", "x", "y"), graph, T))
    assert s.start() == ["bad", "good"]
    assert s.finish("bad") == ["x"]  # finished means done, whatever the outcome
    assert s.finish("good") == ["y"]


def test_disconnected_nodes_start_at_once_and_nothing_runs_twice() -> None:
    s = Schedule(plan(nodes("a", "loose"), edges((T, "a")), T))
    assert s.start() == ["a", "loose"]
    assert s.finish("a") == []
    assert s.finish("loose") == []
