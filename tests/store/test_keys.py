"""The key space: exact bytes, round-trips, validation, and ordering that scans rely on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ap_avs.store import keys
from ap_avs.store.keys import InvalidKeyError, QueueState

OWNER = "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01"
OWNER_LC = OWNER.lower()
WALLET = "0x1111111111111111111111111111111111111111"
FACTORY = "0x2222222222222222222222222222222222222222"
TASK = "01jd5x3m6y8q2w4e6r8t0y2u4i"
EXEC = "01jd5x3m6y8q2w4e6r8t0y2u4z"


def test_status_letters_match_upstream() -> None:
    assert dict(keys.STATUS_LETTERS) == {0: "a", 1: "c", 2: "f", 4: "x", 5: "i"}
    for status, letter in keys.STATUS_LETTERS.items():
        assert keys.status_letter(status) == letter
        assert keys.status_from_letter(letter) == status
    with pytest.raises(InvalidKeyError, match="status 3"):
        keys.status_letter(3)  # Canceled: v1.5.1 only
    with pytest.raises(InvalidKeyError, match="letter 'l'"):
        keys.status_from_letter("l")


def test_exact_key_bytes() -> None:
    assert keys.wallet(OWNER, WALLET) == f"w:{OWNER_LC}:{WALLET}".encode()
    assert keys.wallet_prefix(OWNER) == f"w:{OWNER_LC}:".encode()
    assert keys.wallet_salt(OWNER, FACTORY, 42) == f"wsalt:{OWNER_LC}:{FACTORY}:42".encode()
    assert keys.task(5, TASK) == f"t:i:{TASK}".encode()
    assert keys.task_prefix(0) == b"t:a:"
    assert keys.user_task(OWNER, WALLET, TASK) == f"u:{OWNER_LC}:{WALLET}:{TASK}".encode()
    assert keys.user_task_prefix(OWNER) == f"u:{OWNER_LC}:".encode()
    assert keys.user_task_prefix(OWNER, WALLET) == f"u:{OWNER_LC}:{WALLET}:".encode()
    assert keys.history(TASK, EXEC) == f"history:{TASK}:{EXEC}".encode()
    assert keys.trigger(TASK, EXEC) == f"trigger:{TASK}:{EXEC}".encode()
    assert keys.pending(TASK, EXEC) == f"pending:{TASK}:{EXEC}".encode()
    assert keys.pending_prefix(TASK) == f"pending:{TASK}:".encode()
    assert keys.execution_index_counter(TASK) == f"execution_index_counter:{TASK}".encode()
    assert keys.secret(OWNER, "api") == f"secret:_:{OWNER_LC}:_:api".encode()
    assert keys.secret(OWNER, "api", workflow_id=TASK) == f"secret:_:{OWNER_LC}:{TASK}:api".encode()
    assert keys.secret(OWNER, "api", org_id="org1") == f"secret:org1:{OWNER_LC}:_:api".encode()
    assert keys.owner_secrets_prefix(OWNER) == f"secret:_:{OWNER_LC}:".encode()
    assert keys.operator(OWNER) == f"operator:{OWNER_LC}".encode()
    assert keys.queue_job("default", QueueState.PENDING, 7) == b"q:default:q:" + b"0" * 19 + b"7"
    assert keys.queue_prefix("default", QueueState.FAILED) == b"q:default:f:"
    assert keys.queue_seq("default") == b"q:seq:default"
    assert keys.idem(TASK, f"{TASK}:1717000000000") == f"idem:{TASK}:{TASK}:1717000000000".encode()
    assert keys.assign(TASK) == f"assign:{TASK}".encode()
    assert keys.SCHEMA_VERSION == b"meta:schema_version"


def test_upstream_byte_offsets_hold() -> None:
    """PROTOCOL §5.1: the task id starts at byte 88 of u: keys, the execution id at 35."""
    assert keys.user_task(OWNER, WALLET, TASK)[88:] == TASK.encode()
    assert keys.history(TASK, EXEC)[35:] == EXEC.encode()


def test_parsers_invert_builders() -> None:
    assert keys.parse_wallet(keys.wallet(OWNER, WALLET)) == (OWNER_LC, WALLET)
    assert keys.parse_task(keys.task(4, TASK)) == keys.TaskKey(4, TASK)
    assert keys.parse_user_task(keys.user_task(OWNER, WALLET, TASK)) == (OWNER_LC, WALLET, TASK)
    assert keys.parse_history(keys.history(TASK, EXEC)) == keys.ExecutionKey(TASK, EXEC)
    assert keys.parse_trigger(keys.trigger(TASK, EXEC)) == (TASK, EXEC)
    assert keys.parse_pending(keys.pending(TASK, EXEC)) == (TASK, EXEC)
    assert keys.parse_operator(keys.operator(OWNER)) == OWNER_LC
    assert keys.parse_assign(keys.assign(TASK)) == TASK
    job = keys.parse_queue_job(keys.queue_job("default", QueueState.IN_PROGRESS, 12))
    assert job == keys.QueueJobKey("default", QueueState.IN_PROGRESS, 12)


@pytest.mark.parametrize(("workflow_id", "org_id"), [(None, None), (TASK, None), (None, "org-1")])
@pytest.mark.parametrize("name", ["api", "a:b", "::", "日本", "with space", "_"])
def test_secret_names_are_the_tail_and_may_hold_colons(
    name: str, workflow_id: str | None, org_id: str | None
) -> None:
    key = keys.secret(OWNER, name, workflow_id=workflow_id, org_id=org_id)
    assert key.startswith(keys.secret_prefix(OWNER, workflow_id=workflow_id, org_id=org_id))
    assert keys.parse_secret(key) == keys.SecretKey(OWNER_LC, name, workflow_id, org_id)


def test_secret_scopes_do_not_overlap() -> None:
    user = keys.secret_prefix(OWNER)
    workflow = keys.secret_prefix(OWNER, workflow_id=TASK)
    org = keys.secret_prefix(OWNER, org_id="org1")
    for a in (user, workflow, org):
        for b in (user, workflow, org):
            assert a == b or not a.startswith(b)
    assert user.startswith(keys.owner_secrets_prefix(OWNER))
    assert workflow.startswith(keys.owner_secrets_prefix(OWNER))
    assert not org.startswith(keys.owner_secrets_prefix(OWNER))
    with pytest.raises(InvalidKeyError, match="not both"):
        keys.secret(OWNER, "x", workflow_id=TASK, org_id="org1")
    with pytest.raises(InvalidKeyError, match="reserved"):
        keys.secret(OWNER, "x", workflow_id="_")


def test_queue_keys_sort_fifo_past_9_and_99() -> None:
    ids = [1, 2, 9, 10, 11, 99, 100, 101, 999, 1000, 10**19, 10**20 - 1]
    built = [keys.queue_job("default", QueueState.PENDING, i) for i in ids]
    assert sorted(built) == built
    assert all(k.startswith(keys.queue_prefix("default", QueueState.PENDING)) for k in built)
    assert [keys.parse_queue_job(k).job_id for k in built] == ids


@given(st.lists(st.integers(0, 10**20 - 1), min_size=2, max_size=20))
def test_queue_byte_order_is_numeric_order(ids: list[int]) -> None:
    built = {keys.queue_job("q1", QueueState.COMPLETE, i): i for i in ids}
    assert [built[k] for k in sorted(built)] == sorted(set(ids))


def test_task_prefixes_do_not_capture_other_families() -> None:
    assert not keys.trigger(TASK, EXEC).startswith(keys.TASKS)
    assert not keys.wallet_salt(OWNER, FACTORY, 1).startswith(b"w:")
    assert not keys.queue_seq("default").startswith(keys.queue_prefix("seq2", QueueState.PENDING))
    with pytest.raises(InvalidKeyError, match="seq"):
        keys.queue_prefix("seq", QueueState.PENDING)


@pytest.mark.parametrize(
    "build",
    [
        lambda: keys.task(0, "a:b"),
        lambda: keys.task(0, ""),
        lambda: keys.task(0, "has space"),
        lambda: keys.task(0, "ünï"),
        lambda: keys.history(TASK, "x:y"),
        lambda: keys.wallet("0x1234", WALLET),
        lambda: keys.wallet(OWNER, WALLET + "0"),
        lambda: keys.operator("not-an-address"),
        lambda: keys.wallet_salt(OWNER, FACTORY, -1),
        lambda: keys.queue_job("default", QueueState.PENDING, -1),
        lambda: keys.queue_job("default", QueueState.PENDING, 10**20),
        lambda: keys.queue_job("a:b", QueueState.PENDING, 1),
        lambda: keys.secret(OWNER, ""),
        lambda: keys.idem(TASK, ""),
    ],
)
def test_bad_parts_are_refused(build: object) -> None:
    assert callable(build)
    with pytest.raises(InvalidKeyError):
        build()


@pytest.mark.parametrize(
    ("parse", "key"),
    [
        (keys.parse_task, b"t:z:" + TASK.encode()),
        (keys.parse_task, b"t:a"),
        (keys.parse_task, b"w:a:b"),
        (keys.parse_wallet, f"w:{OWNER}:{WALLET}".encode()),  # not lower-cased
        (keys.parse_history, b"history:" + TASK.encode()),
        (keys.parse_history, f"history:{TASK}:{EXEC}:extra".encode()),
        (keys.parse_queue_job, b"q:default:q:7"),  # not zero-padded
        (keys.parse_queue_job, b"q:default:z:" + b"0" * 20),
        (keys.parse_secret, f"secret:_:{OWNER_LC}:_:".encode()),
        (keys.parse_operator, b"operator:\xff"),
    ],
)
def test_parsers_refuse_foreign_or_non_canonical_keys(parse: object, key: bytes) -> None:
    assert callable(parse)
    with pytest.raises(InvalidKeyError):
        parse(key)


def test_key_bytes_sort_like_their_ids() -> None:
    """ULIDs are fixed-width Crockford base32, so key order is creation order."""
    ids = ["01jd5x3m6y8q2w4e6r8t0y2u4a", "01jd5x3m6y8q2w4e6r8t0y2u4b", "01jd5x3m6y8q2w4e6r8t0y2u50"]
    assert sorted(keys.history(TASK, i) for i in ids) == [keys.history(TASK, i) for i in ids]
    assert sorted(keys.pending(TASK, i) for i in reversed(ids))[0] == keys.pending(TASK, ids[0])


def test_retention_keys() -> None:
    assert keys.retired(TASK) == f"retired:{TASK}".encode()
    assert keys.retired_hour(TASK, 493) == f"retired_hour:{TASK}:00000493".encode()
    assert keys.parse_retired_hour(keys.retired_hour(TASK, 493)) == (TASK, 493)
    assert keys.retired_hour(TASK, 9) < keys.retired_hour(TASK, 10)  # hours sort in order
    assert keys.purge(TASK) == f"purge:{TASK}".encode()
    assert keys.parse_purge(keys.purge(TASK)) == TASK
    assert not keys.retired_hour(TASK, 1).startswith(keys.retired(TASK))
    with pytest.raises(InvalidKeyError):
        keys.retired_hour(TASK, 10**8)
    with pytest.raises(InvalidKeyError):
        keys.parse_retired_hour(f"retired_hour:{TASK}:0001".encode())  # not canonical
    kinds = {kind for kind, _, _ in keys.workflow_records(TASK, OWNER)}
    assert {"history", "idem", "secret", "retired", "retired_hour", "queued"} <= kinds
    assert "secret" not in {kind for kind, _, _ in keys.workflow_records(TASK, None)}
    for _, key, _ in keys.workflow_records(TASK, OWNER):
        assert TASK.encode() in key
