"""Journal keys and the journal repository: keys round-trip (node ids with ``:``, iterations),
an intent never replaces an outcome, and recording the run removes its journal in the same
transaction (the test-only hook runs inside that transaction)."""

from __future__ import annotations

import pytest

from ap_avs.domain.execution import Execution, ExecutionStatus
from ap_avs.domain.journal import HTTP, USEROP, StepEntry, StepId
from ap_avs.store import MemoryKV, keys
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.journal import JournalRepo

RUN = "01jrun00000000000000000000"


@pytest.mark.parametrize(
    ("node", "iteration", "key"),
    [
        ("pay", None, b"journal:01jrun00000000000000000000:_:pay"),
        ("loop", 12, b"journal:01jrun00000000000000000000:12:loop"),
        ("a:b c", 0, b"journal:01jrun00000000000000000000:0:a:b c"),
    ],
)
def test_journal_keys_round_trip(node: str, iteration: int | None, key: bytes) -> None:
    assert keys.journal(RUN, node, iteration) == key
    assert keys.parse_journal(key) == (RUN, iteration, node)
    assert key.startswith(keys.journal_prefix(RUN))


@pytest.mark.parametrize(
    "bad", [b"journal:run:x:pay", b"journal:run:-1:pay", b"journal:run:01:pay", b"journal:run:_"]
)
def test_malformed_journal_keys_are_refused(bad: bytes) -> None:
    with pytest.raises(keys.InvalidKeyError):
        keys.parse_journal(bad)


def test_idempotency_key_names_execution_node_and_iteration() -> None:
    assert StepId(RUN, "notify").idempotency_key == f"{RUN}:notify"
    assert StepId(RUN, "each", 3).idempotency_key == f"{RUN}:each:3"


async def test_an_intent_never_replaces_an_outcome() -> None:
    repo = JournalRepo(MemoryKV())
    step = StepId(RUN, "pay")
    first = await repo.intend(StepEntry(step, USEROP, 1, {"nonce": "0x1"}, 10))
    await repo.finish(first.with_outcome({"success": True}, 20))
    again = await repo.intend(StepEntry(step, USEROP, 2, {"nonce": "0x1"}, 30))
    assert (again.attempt, again.outcome, again.done_at) == (1, {"success": True}, 20)
    assert await repo.get(step) == again


async def test_recording_the_run_clears_its_journal_in_the_same_transaction() -> None:
    kv = MemoryKV()
    repo = JournalRepo(kv)
    other = "01jother000000000000000000"
    for run in (RUN, other):
        await repo.intend(StepEntry(StepId(run, "call"), HTTP, 1, {"idempotencyKey": "k"}, 1))
    seen: list[int] = []

    async def journal_size() -> int:
        return len(await repo.entries(RUN))

    executions = ExecutionRepo(kv, before_commit=lambda: seen.append(1))
    execution = Execution(RUN, "wf1", 0, ExecutionStatus.SUCCESS, 1, 2)
    await executions.finish(execution, 3)
    assert seen == [1]
    assert await journal_size() == 0
    assert len(await repo.entries(other)) == 1
    assert await executions.get("wf1", RUN) is not None
