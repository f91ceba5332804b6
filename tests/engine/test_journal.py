"""The step journal in the executor: an outcome recorded before a restart is reused (the node is
not run again); an intent without an outcome makes the runner resend with the same
Idempotency-Key and say so; a step in flight that the runner cannot settle stops the run
(EffectInDoubt) instead of being recorded; loop iterations are steps of their own.

The REST runner is the real one, talking to an ``httpx.MockTransport`` that counts requests;
the journal lives in a ``MemoryKV``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from ap_avs.domain.journal import HTTP, USEROP, StepEntry, StepId
from ap_avs.domain.nodes import (
    Edge,
    ExecutionMode,
    LoopConfig,
    LoopRunner,
    Node,
    NodeKind,
    RestApiConfig,
)
from ap_avs.engine.executor import Executor, RunState
from ap_avs.engine.journal import RunJournal
from ap_avs.engine.templates import TemplateEngine
from ap_avs.errors import EffectInDoubt
from ap_avs.runners import loop, rest_api
from ap_avs.runners.base import EngineOptions, NodeResult, RunContext
from ap_avs.sandbox import Limits, SandboxPool
from ap_avs.store import MemoryKV
from ap_avs.store.journal import JournalRepo

TRIGGER = "trig"
EXECUTION = "01jexecution0000000000000a"
REST = Node("call", "call", NodeKind.REST_API, RestApiConfig(url="http://sink.test/pay"))


class Sink:
    """Answers 200 and keeps the Idempotency-Key of every request."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("idempotency-key"))
        return httpx.Response(200, json={"n": len(self.keys), "path": request.url.path})


@pytest.fixture
async def env() -> AsyncIterator[tuple[Executor, Sink, JournalRepo]]:
    sink = Sink()
    async with (
        SandboxPool(size=1, limits=Limits()) as pool,
        httpx.AsyncClient(transport=httpx.MockTransport(sink)) as http,
    ):
        executor = Executor(
            {NodeKind.REST_API: rest_api.run, NodeKind.LOOP: loop.run},
            TemplateEngine(pool),
            pool,
            http,
            EngineOptions(chain_id=31337),
        )
        yield executor, sink, JournalRepo(MemoryKV())


def run_state(repo: JournalRepo, items: list[int] | None = None) -> RunState:
    return RunState({"items": items or []}, journal=RunJournal(repo, EXECUTION))


async def test_a_finished_step_is_not_run_again_after_a_restart(
    env: tuple[Executor, Sink, JournalRepo],
) -> None:
    executor, sink, repo = env
    edges = [Edge("e", TRIGGER, "call")]
    (first,) = await executor.run_graph([REST], edges, TRIGGER, run_state(repo))
    (again,) = await executor.run_graph([REST], edges, TRIGGER, run_state(repo))
    assert sink.keys == [f"{EXECUTION}:call"]
    assert first.success
    assert again.output == first.output
    assert "recorded before a restart" in again.log
    (entry,) = await repo.entries(EXECUTION)
    assert (entry.kind, entry.attempt, entry.finished) == (HTTP, 1, True)


async def test_a_step_in_flight_at_a_crash_is_resent_with_the_same_key(
    env: tuple[Executor, Sink, JournalRepo],
) -> None:
    executor, sink, repo = env
    key = f"{EXECUTION}:call"
    crashed = StepEntry(StepId(EXECUTION, "call"), HTTP, 1, {"idempotencyKey": key}, 1)
    await repo.intend(crashed)  # what a kill after the send leaves
    (step,) = await executor.run_graph(
        [REST], [Edge("e", TRIGGER, "call")], TRIGGER, run_state(repo)
    )
    assert sink.keys == [key]
    assert step.success
    assert step.log.startswith("resent after a restart (attempt 2) with the same Idempotency-Key")
    (entry,) = await repo.entries(EXECUTION)
    assert (entry.attempt, entry.finished) == (2, True)


async def test_a_userop_in_flight_that_cannot_be_settled_stops_the_run(
    env: tuple[Executor, Sink, JournalRepo],
) -> None:
    """A runner that fails before reaching its send (here: a REST node standing in for an
    on-chain one, with an earlier UserOp intent) must not be recorded as failed: the UserOp
    of the earlier attempt may have landed."""
    executor, sink, repo = env
    broken = Node("call", "call", NodeKind.REST_API, RestApiConfig(url="x", method="BREW"))
    intent = {"sender": "0x" + "11" * 20, "nonce": "0x1", "userOpHash": "0x", "fromBlock": 1}
    await repo.intend(StepEntry(StepId(EXECUTION, "call"), USEROP, 1, intent, 1))
    with pytest.raises(EffectInDoubt, match="was in flight at a restart"):
        await executor.run_graph([broken], [Edge("e", TRIGGER, "call")], TRIGGER, run_state(repo))
    (entry,) = await repo.entries(EXECUTION)
    assert not entry.finished
    assert sink.keys == []


async def test_an_http_step_that_fails_before_resending_is_recorded_with_a_note(
    env: tuple[Executor, Sink, JournalRepo],
) -> None:
    executor, _, repo = env
    broken = Node("call", "call", NodeKind.REST_API, RestApiConfig(url="x", method="BREW"))
    await repo.intend(StepEntry(StepId(EXECUTION, "call"), HTTP, 1, {"idempotencyKey": "k"}, 1))
    (step,) = await executor.run_graph(
        [broken], [Edge("e", TRIGGER, "call")], TRIGGER, run_state(repo)
    )
    assert not step.success
    assert "an earlier attempt may have sent this request" in step.log
    (entry,) = await repo.entries(EXECUTION)
    assert entry.finished


async def test_loop_iterations_are_steps_with_their_own_keys(
    env: tuple[Executor, Sink, JournalRepo],
) -> None:
    executor, sink, repo = env
    body = LoopRunner(NodeKind.REST_API, RestApiConfig(url="http://sink.test/item"))
    each = Node(
        "each",
        "each",
        NodeKind.LOOP,
        LoopConfig("items", "x", "", ExecutionMode.PARALLEL, 0, body),
    )
    edges = [Edge("e", TRIGGER, "each")]
    (step,) = await executor.run_graph([each], edges, TRIGGER, run_state(repo, [1, 2, 3]))
    assert step.success, step.error
    assert sorted(k or "" for k in sink.keys) == [f"{EXECUTION}:each:{i}" for i in range(3)]
    await executor.run_graph([each], edges, TRIGGER, run_state(repo, [1, 2, 3]))
    assert len(sink.keys) == 3  # every iteration's outcome was reused
    entries = await repo.entries(EXECUTION)
    assert sorted(e.step.iteration for e in entries if e.step.iteration is not None) == [0, 1, 2]


async def test_simulations_have_no_journal_and_send_no_key(
    env: tuple[Executor, Sink, JournalRepo],
) -> None:
    executor, sink, _ = env
    result = await executor.invoke(REST, RunState({}, simulated=True), {})
    assert isinstance(result, NodeResult)
    assert result.success
    assert sink.keys == [None]


def test_runner_context_has_no_step_by_default() -> None:
    assert RunContext.__dataclass_fields__["step"].default is None


async def test_secret_values_are_never_stored_in_the_journal(
    env: tuple[Executor, Sink, JournalRepo],
) -> None:
    executor, sink, _ = env
    kv = MemoryKV()
    repo = JournalRepo(kv)
    secret = "s3cr3t-value-123"
    node = Node("call", "call", NodeKind.REST_API, RestApiConfig(url=f"http://sink.test/{secret}"))
    state = RunState(
        {}, secrets={"key": secret}, journal=RunJournal(repo, EXECUTION, secrets=[secret])
    )
    (step,) = await executor.run_graph([node], [Edge("e", TRIGGER, "call")], TRIGGER, state)
    assert step.success
    assert len(sink.keys) == 1
    (entry,) = await repo.entries(EXECUTION)
    assert entry.finished
    stored = b"".join(v for _, v in await kv.scan(b""))
    assert b"***" in stored
    assert secret.encode() not in stored
