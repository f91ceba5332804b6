"""Bad input: hypothesis-driven fuzzing of every Aggregator RPC with random and mutated protobuf
messages, plus fixed hostile requests (graph cycles, 10,000-node workflows, deep nesting).

For every request the server must answer ``OK`` or refuse with one of :data:`REFUSALS` and a
non-empty message (never ``INTERNAL``/``UNKNOWN``), keep serving (a health check after each
call), write nothing when it refuses (the whole store is compared before and after), and never
touch another user's records (the "victim" whose ids, cursors, wallet and secret names are fed
to the fuzzer).

Messages are built from the descriptors in ``ap_avs._proto.avs_pb2``: any subset of fields,
strings from a pool of real ids, cursors and addresses mixed with random, huge (1 MB) and
template-like text, unknown enum numbers, extreme integers and floats, deeply nested
``google.protobuf.Value``. Fields named ``url`` only ever point at loopback.

The aggregator runs in a thread with its own loop (hypothesis drives synchronous tests).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from eth_account import Account
from google.protobuf import struct_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.devnet import DevnetState
from ap_avs.store.keys import QueueState
from ap_avs.testing import aggregator_config, user_key

from .support import (
    SERVICE,
    AggregatorThread,
    chain_settings,
    code_node,
    manual_run,
    workflow,
)

pytestmark = pytest.mark.integration

EXAMPLES = 40  # random messages per RPC
MUTATIONS = 12  # mutated encodings per RPC
VALID_MUTATIONS = 25  # valid requests with random fields merged in, per RPC
METHODS = [m.name for m in SERVICE.methods]
OK = grpc.StatusCode.OK
REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.PERMISSION_DENIED,
    }
)
OVERSIZED_ERROR = "Stream removed (received metadata size exceeds hard limit"
FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)


@dataclass
class Seeds:
    """Real identifiers of the two users, fed to the fuzzer."""

    strings: list[str] = field(default_factory=list)
    victim_owner: str = ""
    victim_task: str = ""
    fuzzer_wallet: str = ""
    fuzzer_task: str = ""
    fuzzer_execution: str = ""


class Target:
    """The aggregator under fuzz and the checks applied to every call."""

    def __init__(self, agg: AggregatorThread, channel: grpc.Channel, fuzzer: str) -> None:
        self.agg = agg
        self.channel = channel
        self.auth = (("authkey", user_key(fuzzer)),)
        self.health = health_pb2_grpc.HealthStub(channel)
        self.seeds = Seeds()
        self.unimplemented: set[str] = set()
        self.victim_records: dict[bytes, bytes] = {}
        self._strategies: dict[str, st.SearchStrategy[Message]] = {}
        self.valid: dict[str, Message] = {}
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)

    # --- the store ------------------------------------------------------------------------

    def snapshot(self) -> dict[bytes, bytes]:
        kv = self.agg.server.app.queue._kv  # the app's store (test-only access)
        return dict(self.agg.run(kv.scan(b"")))

    def wait_idle(self) -> None:
        queue = self.agg.server.app.queue

        async def depth() -> int:
            return await queue.depth(QueueState.PENDING) + await queue.depth(QueueState.IN_PROGRESS)

        deadline = time.monotonic() + 30
        while self.agg.run(depth()):
            assert time.monotonic() < deadline, "queued runs did not finish"
            time.sleep(0.01)

    def victim_view(self, records: dict[bytes, bytes]) -> dict[bytes, bytes]:
        owner = self.seeds.victim_owner.lower().encode()
        marks = (owner, self.seeds.victim_task.encode())

        def victims(key: bytes) -> bool:
            if key.startswith(b"secret:"):
                # A secret may name any workflow id, the victim's included, but it lives under
                # its creator's key and is never loaded for the victim's runs: only secrets
                # under the victim's own address are the victim's.
                return owner in key
            return any(m in key for m in marks)

        return {k: v for k, v in records.items() if victims(k)}

    # --- calls ----------------------------------------------------------------------------

    def raw(self, method: str, payload: bytes, timeout: float = 60) -> tuple[grpc.StatusCode, str]:
        call = self.channel.unary_unary(f"/aggregator.Aggregator/{method}")
        try:
            call(payload, metadata=self.auth, timeout=timeout)
        except grpc.RpcError as exc:
            return exc.code(), exc.details() or ""
        return OK, ""

    def check(self, method: str, payload: bytes, *, parses: bool = True) -> grpc.StatusCode:
        """Send ``payload`` and apply every rule of the module docstring."""
        before = self.snapshot()
        code, details = self.raw(method, payload)
        allowed = REFUSALS | {OK}
        if method in self.unimplemented:
            allowed |= {grpc.StatusCode.UNIMPLEMENTED}
        if not parses:
            # Known bug (test_a_request_that_does_not_parse_is_invalid_argument): an encoding
            # that does not decode is answered UNKNOWN by grpcio before any of our code runs.
            allowed |= {grpc.StatusCode.UNKNOWN}
        if details.startswith(OVERSIZED_ERROR):
            # Known bug (test_refusals_of_huge_input_stay_readable): the refusal echoed a huge
            # input and its message overflowed the client's metadata limit.
            self.outcomes[method]["oversized refusal"] += 1
        else:
            self.outcomes[method][code.name] += 1
        assert code in allowed, f"{method}: {code.name} {details[:300]!r}"
        if code is OK:
            self.wait_idle()
        else:
            assert details.strip(), f"{method}: {code.name} without a message"
            after = self.snapshot()
            if after != before:
                changed = sorted(set(after.items()) ^ set(before.items()))[:5]
                raise AssertionError(f"{method} refused ({code.name}) but wrote {changed}")
        reply = self.health.Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        assert self.victim_view(self.snapshot()) == self.victim_records, (
            f"{method} changed the victim's records"
        )
        return code

    def strategy(self, method: str) -> st.SearchStrategy[Message]:
        if method not in self._strategies:
            desc = SERVICE.methods_by_name[method].input_type
            self._strategies[method] = Builder(self.seeds.strings).message(desc, 0)
        return self._strategies[method]


# --- strategies from descriptors ------------------------------------------------------------

MAX_DEPTH = 4
HUGE = st.sampled_from([10_000, 1_000_000]).map(lambda n: "é" * n)
LOOPBACK_URLS = [
    "http://127.0.0.1:9/x",
    "http://127.0.0.1:9/{{settings.runner}}",
    "https://mock-api.ap-aggregator.local/echo",
    "http://[::1]:9/",
    "ftp://127.0.0.1/x",
    "not a url",
    "",
]
CONSTANT_STRINGS = [
    "",
    " ",
    "0",
    "-1",
    "18446744073709551616",
    "0x",
    "0x" + "0" * 40,
    "0x" + "f" * 40,
    "0x" + "Z" * 40,
    "0x" + "1" * 42,
    "0xAbCdEf",
    "01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "zzzzzzzzzzzzzzzzzzzzzzzzzz",
    "@@",
    "eyJ0eXAiOiJKV1QifQ.e30.",
    "W10=",
    "{{ 1 + 1 }}",
    "{{ process.exit(1) }}",
    "{{",
    "${x}",
    "* * * * *",
    "*/0 * * * *",
    "1 2 3 4 5 6 7",
    "__proto__",
    "constructor",
    "../../etc/passwd",
    "a:b:c",
    "\x00\x01",
    "\u202e\ufeff",
    "return 1",
    "while(true){}",
    "SELECT 1; --",
    "ETH",
    "1000000000000000000000000000000",
]


class Builder:
    """Hypothesis strategies for protobuf messages, by descriptor."""

    def __init__(self, pool: list[str]) -> None:
        self._strings = st.one_of(
            st.sampled_from(pool + CONSTANT_STRINGS),
            st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
            HUGE,
        )

    def message(self, desc: Descriptor, depth: int) -> st.SearchStrategy[Message]:
        cls = GetMessageClass(desc)
        if desc.full_name == "google.protobuf.Value":
            return deep_values()
        if depth >= MAX_DEPTH:
            return st.builds(cls)
        fields = {f.name: self.field(f, depth) for f in desc.fields}
        return st.fixed_dictionaries({}, optional=fields).map(lambda values: build(cls, values))

    def field(self, f: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            key = self.scalar(f.message_type.fields_by_name["key"])
            item = self.single(f.message_type.fields_by_name["value"], depth + 1)
            return st.dictionaries(key, item, max_size=3)
        one = self.single(f, depth)
        if f.is_repeated:
            return st.lists(one, max_size=4)
        return one

    def single(self, f: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
        if f.message_type is not None:
            return self.message(f.message_type, depth + 1)
        return self.scalar(f)

    def scalar(self, f: FieldDescriptor) -> st.SearchStrategy[Any]:
        t = f.type
        if t == FieldDescriptor.TYPE_STRING:
            if f.name == "url":
                return st.sampled_from(LOOPBACK_URLS)
            return self._strings
        if t == FieldDescriptor.TYPE_BYTES:
            return st.binary(max_size=64)
        if t == FieldDescriptor.TYPE_BOOL:
            return st.booleans()
        if t == FieldDescriptor.TYPE_ENUM:
            known = [v.number for v in f.enum_type.values]
            return st.one_of(st.sampled_from(known), st.integers(-5, 10_000))
        if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            width = 64 if t == FieldDescriptor.TYPE_DOUBLE else 32
            return st.floats(width=width)
        bits, signed = INT_TYPES[t]
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
        edges = [v for v in (0, 1, -1, low, high, 7, 86_400_000) if low <= v <= high]
        return st.one_of(st.sampled_from(edges), st.integers(low, high))


INT_TYPES = {
    FieldDescriptor.TYPE_INT32: (32, True),
    FieldDescriptor.TYPE_SINT32: (32, True),
    FieldDescriptor.TYPE_SFIXED32: (32, True),
    FieldDescriptor.TYPE_INT64: (64, True),
    FieldDescriptor.TYPE_SINT64: (64, True),
    FieldDescriptor.TYPE_SFIXED64: (64, True),
    FieldDescriptor.TYPE_UINT32: (32, False),
    FieldDescriptor.TYPE_FIXED32: (32, False),
    FieldDescriptor.TYPE_UINT64: (64, False),
    FieldDescriptor.TYPE_FIXED64: (64, False),
}


def build(cls: Callable[[], Message], values: dict[str, Any]) -> Message:
    message = cls()
    for name, item in values.items():
        f = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if isinstance(item, dict):
            for key, entry in item.items():
                if isinstance(entry, Message):
                    target[key].CopyFrom(entry)
                else:
                    target[key] = entry
        elif isinstance(item, list):
            for entry in item:
                if isinstance(entry, Message):
                    target.add().CopyFrom(entry)
                else:
                    target.append(entry)
        elif isinstance(item, Message):
            target.CopyFrom(item)
        elif f.type == FieldDescriptor.TYPE_ENUM:
            setattr(message, name, item)  # proto3 enums are open: unknown numbers stay
        else:
            setattr(message, name, item)
    return message


def nested(depth: int, leaf: struct_pb2.Value) -> struct_pb2.Value:
    """``leaf`` wrapped ``depth`` times, alternating lists and objects."""
    current = leaf
    for level in range(depth):
        outer = struct_pb2.Value()
        if level % 2:
            outer.list_value.values.add().CopyFrom(current)
        else:
            outer.struct_value.fields["k"].CopyFrom(current)
        current = outer
    return current


def deep_values() -> st.SearchStrategy[struct_pb2.Value]:
    leaves = st.one_of(
        st.floats().map(lambda x: struct_pb2.Value(number_value=x)),
        st.text(max_size=20).map(lambda s: struct_pb2.Value(string_value=s)),
        st.booleans().map(lambda b: struct_pb2.Value(bool_value=b)),
        st.just(struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)),
        st.just(struct_pb2.Value()),  # no kind set at all
    )
    depths = st.sampled_from([0, 1, 3, 10, 30, 40, 45, 60, 100, 300])
    return st.builds(nested, depths, leaves)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def target(devnet: DevnetState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    db = tmp_path_factory.mktemp("fuzz") / "db"
    config = aggregator_config(
        db, smart_wallet=chain_settings(devnet), engine={"allow_private_urls": True}
    )
    agg = AggregatorThread(config)
    server = agg.start()
    fuzzer, victim = Account.create().address, Account.create().address
    try:
        with grpc.insecure_channel(
            f"127.0.0.1:{server.rpc_port}",
            options=[("grpc.max_send_message_length", 64 << 20)],
        ) as channel:
            t = Target(agg, channel, fuzzer)
            seed(t, channel, victim, fuzzer)
            yield t
            print(f"\nfuzzing outcomes (unimplemented: {sorted(t.unimplemented)}):")
            for method, counts in sorted(t.outcomes.items()):
                print(f"  {method}: {dict(counts)}")
    finally:
        agg.stop()


def seed(t: Target, channel: grpc.Channel, victim: str, fuzzer: str) -> None:
    """Give both users a wallet, a workflow, an execution, a secret; collect every id."""
    stub = avs_pb2_grpc.AggregatorStub(channel)
    pool: list[str] = [victim, fuzzer, victim.lower()]
    for owner in (victim, fuzzer):
        md = (("authkey", user_key(owner)),)
        wallet = stub.GetWallet(avs_pb2.GetWalletReq(salt="0"), metadata=md).address
        task = stub.CreateTask(
            workflow(wallet, nodes=[code_node("return start.data")]), metadata=md
        ).id
        run = stub.TriggerTask(manual_run(task, {"n": 1}, blocking=True), metadata=md)
        stub.CreateSecret(
            avs_pb2.CreateOrUpdateSecretReq(name=f"secret_{owner[2:8]}", secret="s3cr3t-value"),
            metadata=md,
        )
        tasks = stub.ListTasks(
            avs_pb2.ListTasksReq(smart_wallet_address=[wallet], limit=1), metadata=md
        )
        runs = stub.ListExecutions(avs_pb2.ListExecutionsReq(task_ids=[task], limit=1), metadata=md)
        secrets = stub.ListSecrets(avs_pb2.ListSecretsReq(limit=1), metadata=md)
        pool += [wallet, task, run.execution_id, f"secret_{owner[2:8]}"]
        pool += [p.page_info.end_cursor for p in (tasks, runs, secrets)]
        if owner == victim:
            t.seeds.victim_owner, t.seeds.victim_task = victim, task
        else:
            t.seeds.fuzzer_wallet, t.seeds.fuzzer_task = wallet, task
            t.seeds.fuzzer_execution = run.execution_id
    pool += [
        miss for address in (victim, fuzzer, t.seeds.fuzzer_wallet) for miss in near_misses(address)
    ]
    t.seeds.strings = [s for s in pool if s]
    t.valid = valid_requests(t, fuzzer)
    t.victim_records = t.victim_view(t.snapshot())
    assert t.victim_records
    for method in METHODS:
        code, _ = t.raw(method, b"")
        if code is grpc.StatusCode.UNIMPLEMENTED:
            t.unimplemented.add(method)


def near_misses(address: str) -> list[str]:
    """Strings one edit away from a real address: a trailing line break or space, a leading
    space, a doubled or upper-case prefix. Each must be refused cleanly, never INTERNAL."""
    digits = address[2:]
    return [f"{address}\n", f"{address} ", f" {address}", f"0x0x{digits}", f"0X{digits}"]


def valid_requests(t: Target, fuzzer: str) -> dict[str, Message]:
    """One request per RPC that the fuzzer's own data makes valid (the mutation seeds)."""
    seeds = t.seeds
    create = workflow(seeds.fuzzer_wallet, nodes=[code_node("return start.data")])
    task, run = seeds.fuzzer_task, seeds.fuzzer_execution
    block = avs_pb2.TaskTrigger(id="t1", name="tick", type=avs_pb2.TRIGGER_TYPE_BLOCK)
    block.block.config.interval = 5
    simulate = avs_pb2.SimulateTaskReq(
        trigger=create.trigger, nodes=create.nodes, edges=create.edges
    )
    simulate.input_variables["settings"].CopyFrom(create.input_variables["settings"])
    return {
        "GetSignatureFormat": avs_pb2.GetSignatureFormatReq(wallet=fuzzer),
        "GetNonce": avs_pb2.NonceRequest(owner=seeds.fuzzer_wallet),
        "GetWallet": avs_pb2.GetWalletReq(salt="1"),
        "SetWallet": avs_pb2.SetWalletReq(salt="0", is_hidden=False),
        "ListWallets": avs_pb2.ListWalletReq(),
        "CreateTask": create,
        "ListTasks": avs_pb2.ListTasksReq(smart_wallet_address=[seeds.fuzzer_wallet], limit=2),
        "GetTask": avs_pb2.IdReq(id=task),
        "ListExecutions": avs_pb2.ListExecutionsReq(task_ids=[task], limit=2),
        "GetExecution": avs_pb2.ExecutionReq(task_id=task, execution_id=run),
        "GetExecutionStatus": avs_pb2.ExecutionReq(task_id=task, execution_id=run),
        "SetTaskEnabled": avs_pb2.SetTaskEnabledReq(id=task, enabled=True),
        "TriggerTask": manual_run(task, {"n": 2}),
        "CreateSecret": avs_pb2.CreateOrUpdateSecretReq(name="fuzz_secret", secret="value-1"),
        "UpdateSecret": avs_pb2.CreateOrUpdateSecretReq(name="fuzz_secret", secret="value-2"),
        "DeleteSecret": avs_pb2.DeleteSecretReq(name="fuzz_secret"),
        "ListSecrets": avs_pb2.ListSecretsReq(limit=2, include_timestamps=True),
        "GetWorkflowCount": avs_pb2.GetWorkflowCountReq(addresses=[seeds.fuzzer_wallet]),
        "GetExecutionCount": avs_pb2.GetExecutionCountReq(workflow_ids=[task]),
        "GetExecutionStats": avs_pb2.GetExecutionStatsReq(workflow_ids=[task], days=7),
        "RunNodeWithInputs": avs_pb2.RunNodeWithInputsReq(node=code_node("return 41 + 1")),
        "RunTrigger": avs_pb2.RunTriggerReq(trigger=block),
        "SimulateTask": simulate,
    }


# --- the fuzz tests -------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@settings(FUZZ_SETTINGS, max_examples=EXAMPLES)
@given(data=st.data())
def test_random_requests_are_answered_or_refused_cleanly(
    target: Target, method: str, data: st.DataObject
) -> None:
    request = data.draw(target.strategy(method), label="request")
    payload = request.SerializeToString()
    target.check(method, payload, parses=parses(method, payload))


@pytest.mark.parametrize("method", METHODS)
@settings(FUZZ_SETTINGS, max_examples=VALID_MUTATIONS)
@given(data=st.data())
def test_valid_requests_with_random_fields_are_answered_or_refused_cleanly(
    target: Target, method: str, data: st.DataObject
) -> None:
    """A valid request of the fuzzer's own data with random fields merged over it (on the
    wire: protobuf merges concatenated encodings)."""
    seed_request = target.valid.get(method)
    base = seed_request.SerializeToString() if seed_request is not None else b""
    overrides = data.draw(target.strategy(method), label="overrides")
    payload = base + overrides.SerializeToString()
    target.check(method, payload, parses=parses(method, payload))


MUTATIONS_OF = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("tail"), st.integers(0, 2**32), st.integers(0, 255)),
)


def mutate(payload: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(payload)
    for kind, where, byte in edits:
        at = where % (len(data) + 1)
        if kind == "flip" and data:
            data[at % len(data)] ^= byte
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data.insert(at, byte)
        else:  # an unknown or mistyped field at the end
            data += bytes([byte]) + where.to_bytes(5, "little")
    return bytes(data)


def parses(method: str, payload: bytes) -> bool:
    cls = GetMessageClass(SERVICE.methods_by_name[method].input_type)
    try:
        cls.FromString(payload)
    except (DecodeError, RecursionError):
        return False
    return True


@pytest.mark.parametrize("method", METHODS)
@settings(FUZZ_SETTINGS, max_examples=MUTATIONS)
@given(data=st.data())
def test_mutated_encodings_are_answered_or_refused_cleanly(
    target: Target, method: str, data: st.DataObject
) -> None:
    request = data.draw(target.strategy(method), label="request")
    edits = data.draw(st.lists(MUTATIONS_OF, min_size=1, max_size=4), label="edits")
    payload = mutate(request.SerializeToString(), edits)
    target.check(method, payload, parses=parses(method, payload))


# --- fixed hostile requests -----------------------------------------------------------------


def graph(n: int, *, cycle: bool) -> avs_pb2.CreateTaskReq:
    """A manual workflow of ``n`` custom-code nodes in a chain (closed into a ring)."""
    nodes = [code_node("return 1", node_id=f"n{i}", name=f"node{i}") for i in range(n)]
    req = workflow("0x" + "1" * 40, nodes=nodes)
    if cycle:
        req.edges.add(id="back", source=f"n{n - 1}", target="n0")
    return req


def test_cycles_and_huge_graphs_are_refused_quickly_and_store_nothing(target: Target) -> None:
    wallet = target.seeds.fuzzer_wallet
    cases: list[tuple[str, str, Message]] = []
    for n, cycle in ((2, True), (1, True), (10_000, False), (10_000, True)):
        req = graph(n, cycle=cycle)
        req.input_variables["settings"].struct_value["runner"] = wallet
        cases.append(("CreateTask", f"{n} nodes, cycle={cycle}", req))
        sim = avs_pb2.SimulateTaskReq(trigger=req.trigger, nodes=req.nodes, edges=req.edges)
        sim.input_variables["settings"].CopyFrom(req.input_variables["settings"])
        cases.append(("SimulateTask", f"{n} nodes, cycle={cycle}", sim))
    for method, what, req in cases:
        started = time.monotonic()
        code = target.check(method, req.SerializeToString())
        took = time.monotonic() - started
        assert code is grpc.StatusCode.INVALID_ARGUMENT, (method, what, code)
        # A liveness guard (about 20x what validating 10,000 nodes takes here), not a figure.
        assert took < 10, (method, what, took)


def test_a_request_that_does_not_parse_is_invalid_argument(target: Target) -> None:
    deep = avs_pb2.RunNodeWithInputsReq(node=code_node("return 1"))
    deep.input_variables["x"].CopyFrom(nested(200, struct_pb2.Value(number_value=1)))
    payloads = [b"\xff\xff\xff", b"\x0a\x80\x80\x80\x80\x10", b"\x0a\x05ab"]
    for method in METHODS:
        for payload in [*payloads, deep.SerializeToString()]:
            code, details = target.raw(method, payload)
            assert (code, "DecodeError" in details) == (grpc.StatusCode.INVALID_ARGUMENT, False), (
                method,
                payload[:10],
                code,
                details,
            )


def test_near_miss_addresses_are_invalid_argument(target: Target) -> None:
    wallet = target.seeds.fuzzer_wallet
    for miss in near_misses(wallet)[:4]:
        for limit in (2, -1):
            request = avs_pb2.ListTasksReq(smart_wallet_address=[miss], limit=limit)
            code, details = target.raw("ListTasks", request.SerializeToString())
            assert (code, details) == (
                grpc.StatusCode.INVALID_ARGUMENT,
                "invalid smart account address",
            ), repr(miss)
        token = avs_pb2.GetTokenMetadataReq(address=miss)
        code, details = target.raw("GetTokenMetadata", token.SerializeToString())
        assert (code, details) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid token address format",
        ), repr(miss)
        for method, request in (
            ("GetWorkflowCount", avs_pb2.GetWorkflowCountReq(addresses=[miss])),
            ("GetSignatureFormat", avs_pb2.GetSignatureFormatReq(wallet=miss)),
            ("GetNonce", avs_pb2.NonceRequest(owner=miss)),
        ):
            target.check(method, request.SerializeToString())


def test_the_victim_is_untouched_after_the_fuzzing(target: Target) -> None:
    assert target.victim_view(target.snapshot()) == target.victim_records


def test_refusals_of_huge_input_stay_readable(target: Target) -> None:
    big = "y" * 20_000
    unknown_node = avs_pb2.TaskNode(id=big, name=big, type=9999)
    cron = workflow(target.seeds.fuzzer_wallet)
    cron.trigger.type = avs_pb2.TRIGGER_TYPE_CRON
    cron.trigger.cron.config.schedules.append(big)
    cases: list[tuple[str, Message]] = [
        ("CreateTask", cron),
        ("GetWallet", avs_pb2.GetWalletReq(salt=big)),
        ("SetWallet", avs_pb2.SetWalletReq(salt=big)),
        ("SetWallet", avs_pb2.SetWalletReq(factory_address=big)),
        ("ListWallets", avs_pb2.ListWalletReq(salt=big)),
        ("RunNodeWithInputs", avs_pb2.RunNodeWithInputsReq(node=unknown_node)),
        (
            "RunTrigger",
            avs_pb2.RunTriggerReq(
                trigger=avs_pb2.TaskTrigger(id=big, name=big, type=avs_pb2.TRIGGER_TYPE_BLOCK)
            ),
        ),
    ]
    for method, request in cases:
        code, details = target.raw(method, request.SerializeToString())
        assert (code, len(details) <= 1024) == (grpc.StatusCode.INVALID_ARGUMENT, True), (
            method,
            code,
            details[:120],
        )


def loop_node(items_variable: str) -> avs_pb2.TaskNode:
    node = avs_pb2.TaskNode(id="loop1", name="each", type=avs_pb2.NODE_TYPE_LOOP)
    node.loop.config.input_variable = items_variable
    node.loop.config.iter_val = "item"
    node.loop.custom_code.config.lang = avs_pb2.LANG_JAVASCRIPT
    node.loop.custom_code.config.source = "return item"
    return node


def test_documented_limits_are_enforced_at_their_defaults(target: Target) -> None:
    """Message size 16 MiB, 200 nodes, 100 KiB scripts, 4,096-character templates (checked at
    creation, nothing stored) and 1,000 loop iterations (checked when the loop runs)."""
    wallet = target.seeds.fuzzer_wallet
    too_many = graph(201, cycle=False)
    long_script = workflow(wallet, nodes=[code_node("x" * (100 * 1024 + 1))])
    long_template = workflow(wallet, nodes=[code_node("return 1")])
    long_template.nodes[0].custom_code.config.source = "return {{ " + "a" * 4097 + " }}"
    too_many.input_variables["settings"].struct_value["runner"] = wallet
    for what, request in (
        ("201 nodes", too_many),
        ("a 100 KiB + 1 script", long_script),
        ("a 4,097-character template", long_template),
    ):
        code = target.check("CreateTask", request.SerializeToString())
        assert code is grpc.StatusCode.INVALID_ARGUMENT, what
    huge = avs_pb2.IdReq(id="a" * (16 * 1024 * 1024 + 1)).SerializeToString()
    assert target.check("GetTask", huge) is grpc.StatusCode.RESOURCE_EXHAUSTED

    stub = avs_pb2_grpc.AggregatorStub(target.channel)
    for count, allowed in ((1000, True), (1001, False)):
        request = avs_pb2.RunNodeWithInputsReq(node=loop_node("items"))
        request.input_variables["items"].list_value.values.extend(
            struct_pb2.Value(number_value=i) for i in range(count)
        )
        reply = stub.RunNodeWithInputs(request, metadata=target.auth, timeout=60)
        assert reply.success is allowed, (count, reply.error)
        if not allowed:
            assert "at most 1000" in reply.error


def test_a_withdrawal_without_a_bundler_is_not_internal(target: Target) -> None:
    request = avs_pb2.WithdrawFundsReq(
        smart_wallet_address=target.seeds.fuzzer_wallet,
        recipient_address="0x" + "2" * 40,
        amount="1",
        token="ETH",
    )
    code, details = target.raw("WithdrawFunds", request.SerializeToString())
    assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), details
