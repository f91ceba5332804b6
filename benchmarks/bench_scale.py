"""A large store: ``ListTasks`` tail latency, aggregator memory and start-up time.

Two stores are seeded straight into LMDB (one write transaction, keys appended in order, values
made from a few encoded templates, so a million workflows take seconds): a large one of
1,000,000 workflows and a small one of 1,000, with the same shape. Each owner has 100 workflows
on one wallet; one in ten is Enabled (block, cron or event trigger, in turn) and the rest are
Completed, so the large store holds 100,000 enabled workflows, the ones the aggregator loads
for operator dispatch at start-up.

For each store, in 5 alternating rounds, an aggregator process (uvloop, as in production; see
:class:`~benchmarks.bench_rpc.ServerProcess`) is started, and we note:

* start-up: from spawning the process to its "serving" line (interpreter and imports included),
  against the same with the small store;
* memory: the RSS of the aggregator process once serving (its two sandbox worker processes are
  reported apart), against the small store's;
* ``ListTasks`` (limit 10) p99: 4 clients in a closed loop, each call for an owner drawn at
  random from 256 owners spread over the whole store, against the small store's p99.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lmdb
from ulid import ULID

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.domain.triggers import (
    BlockTriggerConfig,
    CronTriggerConfig,
    EventQuery,
    EventTriggerConfig,
    Trigger,
    TriggerKind,
)
from ap_avs.domain.wallets import Wallet
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.store import LmdbKV, codec, keys
from ap_avs.store.wallets import WalletRepo
from ap_avs.store.workflows import write_workflow
from ap_avs.testing import user_key
from benchmarks.bench_rpc import (
    FACTORY,
    ServerProcess,
    address,
    block_workflow_parts,
    open_channels,
)
from benchmarks.report import Result

PER_OWNER = 100
ENABLED_EVERY = 10
BASE_MS = 1_700_000_000_000
_ID = "7zzzzzzzzzzzzzzzzzzzzzzzzz"
_OWNER = address(0xFFFFFF, 0xCC)
_WALLET = address(0xFFFFFF, 0xDD)
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def workflow_id(n: int) -> str:
    return str(ULID.from_int(((BASE_MS + n) << 80) | n)).lower()


def _template(status: TaskStatus, kind: TriggerKind) -> bytes:
    """One encoded workflow with placeholder id, owner and wallet (replaced per workflow)."""
    _, nodes, edges = block_workflow_parts()
    configs = {
        TriggerKind.BLOCK: BlockTriggerConfig(10),
        TriggerKind.CRON: CronTriggerConfig(("*/5 * * * *",)),
        TriggerKind.EVENT: EventTriggerConfig(
            (EventQuery(topics=(TRANSFER, "", _WALLET)),), cooldown_seconds=0
        ),
    }
    wf = Workflow(
        id=_ID,
        owner=_OWNER,
        smart_wallet_address=_WALLET,
        start_at=0,
        expired_at=0,
        name="seeded",
        completed_at=0 if status is TaskStatus.ENABLED else BASE_MS,
        max_execution=1000,
        execution_count=0,
        last_ran_at=0,
        status=status,
        trigger=Trigger("t", "trigger", kind, configs[kind]),
        nodes=nodes,
        edges=edges,
        input_variables={"settings": {"name": "seeded", "runner": _WALLET, "id": _ID}},
    )
    captured: dict[bytes, bytes] = {}

    class Capture:
        def put(self, key: bytes, value: bytes) -> None:
            captured[key] = value

        def delete(self, key: bytes) -> None:
            raise AssertionError

    write_workflow(Capture(), wf)  # type: ignore[arg-type]
    return captured[keys.task(status, _ID)]


def seed(db: Path, total: int) -> list[int]:
    """Write ``total`` workflows (see the module docstring); the owners' numbers."""
    owners = range(total // PER_OWNER)
    kinds = (TriggerKind.BLOCK, TriggerKind.CRON, TriggerKind.EVENT)
    enabled = [_template(TaskStatus.ENABLED, k) for k in kinds]
    completed = _template(TaskStatus.COMPLETED, TriggerKind.BLOCK)
    status_of = {
        True: codec.encode_int(int(TaskStatus.ENABLED)),
        False: codec.encode_int(int(TaskStatus.COMPLETED)),
    }
    placeholders = (_ID.encode(), _OWNER.encode(), _WALLET.encode())

    owner_of = [address(o, 0xA0).encode() for o in owners]
    wallet_of = [address(o, 0xB0).encode() for o in owners]

    def value(n: int, new_id: bytes) -> bytes:
        owner = n // PER_OWNER
        template = enabled[n // ENABLED_EVERY % 3] if n % ENABLED_EVERY == 0 else completed
        replacements = (new_id, owner_of[owner], wallet_of[owner])
        for old, new in zip(placeholders, replacements, strict=True):
            template = template.replace(old, new)
        return template

    def tasks(active: bool) -> Iterator[tuple[bytes, bytes]]:
        prefix = keys.task_prefix(TaskStatus.ENABLED if active else TaskStatus.COMPLETED)
        for n in range(total):
            if (n % ENABLED_EVERY == 0) is active:
                new_id = workflow_id(n).encode()
                yield prefix + new_id, value(n, new_id)

    def index() -> Iterator[tuple[bytes, bytes]]:
        for owner in owners:
            prefix = keys.user_task_prefix(owner_of[owner].decode(), wallet_of[owner].decode())
            for n in range(owner * PER_OWNER, (owner + 1) * PER_OWNER):
                yield prefix + workflow_id(n).encode(), status_of[n % ENABLED_EVERY == 0]

    env = lmdb.open(str(db), map_size=max(64 << 20, total * 4096), subdir=True, sync=False)
    try:
        with env.begin(write=True) as txn:
            cursor = txn.cursor()
            for rows in (tasks(True), tasks(False), index()):
                cursor.putmulti(rows, append=True)
        env.sync(True)
    finally:
        env.close()
    return list(owners)


async def _wallets(db: Path, owners: range) -> None:
    kv = LmdbKV(db)
    try:
        repo = WalletRepo(kv)
        for start in range(0, len(owners), 5000):
            await asyncio.gather(
                *(
                    repo.add(Wallet(address(o, 0xA0), address(o, 0xB0), FACTORY, 0), limit=None)
                    for o in owners[start : start + 5000]
                )
            )
    finally:
        await kv.close()


@dataclass
class Sample:
    startup_s: float
    serve_s: float
    rss_mb: float
    anon_mb: float
    sandbox_mb: float
    p99_ms: float


async def _list_p99(target: str, owners: list[int], calls: int, seed: int) -> float:
    rng = random.Random(seed)
    chosen = rng.sample(owners, min(256, len(owners)))
    auth = {o: (("authkey", user_key(address(o, 0xA0))),) for o in chosen}
    latencies: list[float] = []
    async with open_channels(target, 4) as channels:
        stubs = [avs_pb2_grpc.AggregatorStub(c) for c in channels]

        async def client(stub: avs_pb2_grpc.AggregatorStub, count: int) -> None:
            for _ in range(count):
                owner = rng.choice(chosen)
                request = avs_pb2.ListTasksReq(
                    smart_wallet_address=[address(owner, 0xB0)], limit=10
                )
                began = time.perf_counter()
                resp = await stub.ListTasks(request, metadata=auth[owner])
                latencies.append((time.perf_counter() - began) * 1000)
                assert len(resp.items) == 10

        await asyncio.gather(*(client(s, 50) for s in stubs))  # warm up
        latencies.clear()
        await asyncio.gather(*(client(s, calls // len(stubs)) for s in stubs))
    latencies.sort()
    return latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]


async def _sample(db: Path, owners: list[int], calls: int, seed: int) -> Sample:
    async with ServerProcess.start({"kind": "aggregator", "db": str(db)}) as server:
        await asyncio.sleep(0.5)  # let start-up garbage settle before reading memory
        rss = server.rss_kb()
        sandbox = server.children_rss_kb()
        p99 = await _list_p99(server.target, owners, calls, seed)
    return Sample(
        server.spawned_s,
        float(server.ready["serve_s"]),
        rss["VmRSS"] / 1024,
        rss.get("RssAnon", 0) / 1024,
        sandbox / 1024,
        p99,
    )


async def run(quick: bool) -> list[Result]:
    large, small = (2_000, 200) if quick else (1_000_000, 1_000)
    rounds, calls = (1, 100) if quick else (5, 3000)
    samples: dict[int, list[Sample]] = {large: [], small: []}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        stores = {}
        for size in (small, large):
            db = Path(tmp) / f"db{size}"
            began = time.perf_counter()
            owners = await asyncio.to_thread(seed, db, size)
            await _wallets(db, range(len(owners)))
            print(
                f"   seeded {size:,} workflows in {time.perf_counter() - began:.1f} s", flush=True
            )
            stores[size] = (db, owners)
        for r in range(rounds):
            for size in (small, large):
                db, owners = stores[size]
                samples[size].append(await _sample(db, owners, calls, seed=r))

    def med(size: int, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in samples[size])

    enabled = large // ENABLED_EVERY
    return [
        Result(
            f"ListTasks (limit 10) p99 with {large:,} workflows stored (vs {small:,})",
            med(large, "p99_ms"),
            "ms",
            med(small, "p99_ms"),
            "≤ 2 x",
        ),
        Result(
            f"aggregator RSS with {enabled:,} enabled workflows (anon "
            f"{med(large, 'anon_mb'):.0f} MB; sandbox workers +{med(large, 'sandbox_mb'):.0f} MB; "
            f"baseline {small // ENABLED_EVERY} enabled)",
            med(large, "rss_mb"),
            "MB",
            med(small, "rss_mb"),
            "≤ 500 MB",
        ),
        Result(
            f"aggregator start-up with {large:,} workflows stored, spawn → serving "
            f"(in process {med(large, 'serve_s'):.1f} s; baseline {small:,} stored)",
            med(large, "startup_s"),
            "s",
            med(small, "startup_s"),
            "≤ 10 s",
        ),
    ]
