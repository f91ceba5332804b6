"""Client-API throughput: ``GetTask``, ``ListTasks`` and ``CreateTask`` against a bare echo server.

Both servers run in their own process on uvloop, as ``ap-avs aggregator`` does (``daemon.py``),
and the load comes from this process: 64 concurrent clients, each on its own channel, each
sending the real request with its ``authkey`` and reading the reply. The baseline is a bare
``grpc.aio`` server (no interceptors, no store) that answers each method with the serialized
response the aggregator gave for the same request, so both sides move the same bytes and the
client does the same work. Rounds alternate echo and aggregator (5 rounds of 2 s each); the
figure is the median.

The CPU time of the server process and of this (client) process during each run is read from
``/proc`` and reported: a side near 100 % of one core is what limits the figure. The machine has
2 cores, so the client and the server each get about one.

This module is also the server side of the other process benchmarks: ``python -m
benchmarks.bench_rpc serve '<json>'`` runs an aggregator (or the echo server) until its stdin
closes (:class:`ServerProcess`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from ap_avs import wire as convert
from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.domain.nodes import CustomCodeConfig, Edge, Lang, Node, NodeKind
from ap_avs.domain.triggers import BlockTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.wallets import Wallet
from ap_avs.store import LmdbKV
from ap_avs.store.wallets import WalletRepo
from ap_avs.testing import user_key
from benchmarks.report import Result

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 64
FACTORY = "0x" + "fa" * 20
GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 16 << 20),
    ("grpc.max_send_message_length", 16 << 20),
    ("grpc.so_reuseport", 0),
]
ECHO_METHODS = ("GetTask", "ListTasks", "CreateTask")
INTERCEPTORS = ["error", "auth", "node"]
"""The aggregator's interceptor chain, in its order (``app.py``)."""
_TICKS = os.sysconf("SC_CLK_TCK")


# --- the server process -----------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def proc_rss_kb(pid: int) -> dict[str, int]:
    """``VmRSS``, ``RssAnon`` and ``RssFile`` of a process in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            found[name] = int(value.split()[0])
    return found


def proc_children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


@dataclass
class ServerProcess:
    """An aggregator or echo server in a child process (see the module docstring).

    Usage::

        async with ServerProcess.start({"kind": "aggregator", "db": str(path)}) as server:
            channel = grpc.aio.insecure_channel(server.target)
    """

    process: asyncio.subprocess.Process
    ready: dict[str, Any]
    spawned_s: float
    """From spawning the process to its "serving" line (interpreter, imports, start-up)."""
    log_path: Path
    final: dict[str, Any] = field(default_factory=dict)
    """The last line the process printed when it stopped."""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.ready['port']}"

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, spec: dict[str, Any], within: float = 300) -> AsyncIterator[ServerProcess]:
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below
            prefix="bench-server-", suffix=".log", delete=False
        )
        log_path = Path(log.name)
        began = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.bench_rpc",
            "serve",
            json.dumps(spec),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            limit=64 << 20,
        )
        log.close()
        assert process.stdout is not None
        assert process.stdin is not None
        server: ServerProcess | None = None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), within)
            if not line:
                raise RuntimeError(f"the server process failed:\n{_tail(log_path)}")
            server = cls(process, json.loads(line), time.perf_counter() - began, log_path)
            yield server
        finally:
            if process.returncode is None:
                process.stdin.close()
                rest = await asyncio.wait_for(process.stdout.read(), within)
                await process.wait()
                if server is not None and rest.strip():
                    server.final = json.loads(rest.splitlines()[-1])
            await process.stdin.wait_closed()
            with contextlib.suppress(OSError):
                os.remove(log_path)

    async def next_line(self, within: float) -> dict[str, Any]:
        """The next JSON line the running server prints (e.g. ``{"stored": ...}``)."""
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), within)
        if not line:
            raise RuntimeError(f"the server process ended:\n{_tail(self.log_path)}")
        parsed: dict[str, Any] = json.loads(line)
        return parsed

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def rss_kb(self) -> dict[str, int]:
        return proc_rss_kb(self.pid)

    def children_rss_kb(self) -> int:
        return sum(proc_rss_kb(child).get("VmRSS", 0) for child in proc_children(self.pid))


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _interceptors(names: Sequence[str]) -> list[grpc.aio.ServerInterceptor]:
    """The aggregator's own interceptors, to measure what they cost on top of bare gRPC."""
    from prometheus_client import CollectorRegistry

    from ap_avs.aggregator.interceptors import AuthInterceptor, ErrorInterceptor, RpcMetrics
    from ap_avs.aggregator.operator_auth import NodeAuthInterceptor, OperatorAllowList
    from ap_avs.auth import KeyService
    from ap_avs.testing import TEST_CHAIN_ID, TEST_JWT_SECRET

    class PassThrough(grpc.aio.ServerInterceptor):  # type: ignore[misc]
        async def intercept_service(self, continuation: Any, details: Any) -> Any:
            return await continuation(details)

    made: dict[str, Callable[[], grpc.aio.ServerInterceptor]] = {
        "pass": PassThrough,
        "error": lambda: ErrorInterceptor(RpcMetrics(CollectorRegistry())),
        "auth": lambda: AuthInterceptor(
            KeyService(jwt_secret=TEST_JWT_SECRET, chain_id=TEST_CHAIN_ID)
        ),
        "node": lambda: NodeAuthInterceptor(OperatorAllowList((), environment="development")),
    }
    return [made[name]() for name in names]


def _echo_server(responses: dict[str, bytes], interceptors: Sequence[str] = ()) -> grpc.aio.Server:
    def answer(blob: bytes) -> Callable[[bytes, Any], Awaitable[bytes]]:
        async def handler(request: bytes, context: Any) -> bytes:
            return blob

        return handler

    handlers = {
        name: grpc.unary_unary_rpc_method_handler(answer(blob)) for name, blob in responses.items()
    }
    server = grpc.aio.server(interceptors=_interceptors(interceptors), options=GRPC_OPTIONS)
    service = grpc.method_handlers_generic_handler("aggregator.Aggregator", handlers)
    server.add_generic_rpc_handlers((service,))
    return server


class _StoredRuns(logging.Handler):
    """Prints ``{"stored": [execution_id, monotonic_ns]}`` when an execution is stored:
    ``RunService`` logs "execution %s finished" right after the transaction that stores it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "execution %s finished: %s" and isinstance(record.args, tuple):
            at = time.monotonic_ns()
            print(json.dumps({"stored": [str(record.args[0]), at]}), flush=True)


async def _serve(spec: dict[str, Any]) -> None:
    from ap_avs.testing import aggregator_config, running_aggregator

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    stopped = asyncio.ensure_future(asyncio.to_thread(sys.stdin.buffer.read))
    final: dict[str, Any] = {}
    if spec["kind"] == "echo":
        responses = {k: bytes.fromhex(v) for k, v in spec["responses"].items()}
        server = _echo_server(responses, spec.get("interceptors", ()))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)
        await stopped
        await server.stop(1)
        return
    if spec.get("report_runs"):
        run_log = logging.getLogger("ap_avs.engine.runs")
        run_log.setLevel(logging.INFO)
        run_log.addHandler(_StoredRuns())
        run_log.propagate = False
    config = aggregator_config(Path(spec["db"]), **spec.get("config", {}))
    began = time.perf_counter()
    async with running_aggregator(config) as running:
        ready = {
            "port": running.rpc_port,
            "http_port": running.http_port,
            "pid": os.getpid(),
            "serve_s": time.perf_counter() - began,
        }
        print(json.dumps(ready), flush=True)
        await stopped
    print(json.dumps(final), flush=True)


# --- the client side --------------------------------------------------------------------------


def block_workflow_parts(
    source: str = "return [1, 2, 3].map(x => x * 2)",
) -> tuple[Trigger, tuple[Node, ...], tuple[Edge, ...]]:
    """A typical small workflow: every 10 blocks, one custom-code node."""
    trigger = Trigger("t", "blockTrigger", TriggerKind.BLOCK, BlockTriggerConfig(10))
    nodes = (Node("c", "code", NodeKind.CUSTOM_CODE, CustomCodeConfig(Lang.JAVASCRIPT, source)),)
    return trigger, nodes, (Edge("e", "t", "c"),)


def create_request(wallet: str, name: str) -> avs_pb2.CreateTaskReq:
    trigger, nodes, edges = block_workflow_parts()
    req = avs_pb2.CreateTaskReq(
        trigger=convert.trigger_to_pb(trigger),
        nodes=[convert.node_to_pb(n) for n in nodes],
        edges=[convert.edge_to_pb(e) for e in edges],
        max_execution=1000,
    )
    req.input_variables["settings"].CopyFrom(
        convert.json_to_value({"name": name, "runner": wallet})
    )
    return req


def address(n: int, tag: int) -> str:
    from eth_utils.address import to_checksum_address

    return to_checksum_address(f"0x{tag:02x}{n:038x}")


@dataclass(frozen=True, slots=True)
class Client:
    owner: str
    wallet: str
    auth: tuple[tuple[str, str], ...]


def clients(count: int) -> list[Client]:
    return [
        Client(address(n, 0xA0), address(n, 0xB0), (("authkey", user_key(address(n, 0xA0))),))
        for n in range(count)
    ]


async def store_wallets(db: Path, owners: Sequence[Client]) -> None:
    """Write each client's runner wallet, as GetWallet would have after a chain lookup."""
    kv = LmdbKV(db)
    try:
        repo = WalletRepo(kv)
        await asyncio.gather(
            *(repo.add(Wallet(c.owner, c.wallet, FACTORY, 0), limit=None) for c in owners)
        )
    finally:
        await kv.close()


Call = Callable[[int, int], Awaitable[object]]
"""``call(client_index, sequence)``: one request of one client."""


@dataclass(frozen=True, slots=True)
class LoadRun:
    rate: float
    server_cpu: float
    client_cpu: float


async def load(call: Call, server: ServerProcess, concurrency: int, seconds: float) -> LoadRun:
    """Run ``concurrency`` closed-loop clients for ``seconds``; requests/s and CPU shares."""
    done = 0
    deadline = 0.0

    async def client(index: int) -> None:
        nonlocal done
        n = 0
        while time.perf_counter() < deadline:
            await call(index, n)
            n += 1
            done += 1

    await asyncio.gather(*(call(i, 10_000_000) for i in range(concurrency)))  # warm channels
    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    began = time.perf_counter()
    deadline = began + seconds
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - began
    return LoadRun(
        done / elapsed,
        (server.cpu_seconds() - server_cpu) / elapsed,
        (time.process_time() - client_cpu) / elapsed,
    )


@dataclass
class _Fixture:
    """The aggregator's data for the load: each client's workflows and a page cursor."""

    users: list[Client]
    workflow_ids: list[list[str]]
    responses: dict[str, bytes] = field(default_factory=dict)


async def _prepare(
    stub: avs_pb2_grpc.AggregatorStub, users: list[Client], per_user: int
) -> _Fixture:
    fixture = _Fixture(users, [[] for _ in users])

    async def create(i: int) -> None:
        for n in range(per_user):
            resp = await stub.CreateTask(
                create_request(users[i].wallet, f"seed{n}"), metadata=users[i].auth
            )
            fixture.workflow_ids[i].append(resp.id)

    await asyncio.gather(*(create(i) for i in range(len(users))))
    user = users[0]
    got = await stub.GetTask(avs_pb2.IdReq(id=fixture.workflow_ids[0][0]), metadata=user.auth)
    listed = await stub.ListTasks(_list_request(user), metadata=user.auth)
    assert len(listed.items) == min(10, per_user)
    created = await stub.CreateTask(create_request(user.wallet, "probe"), metadata=user.auth)
    fixture.responses = {
        "GetTask": got.SerializeToString(),
        "ListTasks": listed.SerializeToString(),
        "CreateTask": created.SerializeToString(),
    }
    return fixture


def _list_request(user: Client) -> avs_pb2.ListTasksReq:
    return avs_pb2.ListTasksReq(smart_wallet_address=[user.wallet], limit=10)


def _calls(channels: list[grpc.aio.Channel], fixture: _Fixture) -> dict[str, Call]:
    users, ids = fixture.users, fixture.workflow_ids
    creates = [create_request(u.wallet, "bench") for u in users]
    lists = [_list_request(u) for u in users]

    def method(channel: grpc.aio.Channel, name: str, request: type, response: type) -> Any:
        return channel.unary_unary(
            f"/aggregator.Aggregator/{name}",
            request_serializer=request.SerializeToString,  # type: ignore[attr-defined]
            response_deserializer=response.FromString,  # type: ignore[attr-defined]
        )

    get = [method(c, "GetTask", avs_pb2.IdReq, avs_pb2.Task) for c in channels]
    page = [method(c, "ListTasks", avs_pb2.ListTasksReq, avs_pb2.ListTasksResp) for c in channels]
    make = [
        method(c, "CreateTask", avs_pb2.CreateTaskReq, avs_pb2.CreateTaskResp) for c in channels
    ]

    async def get_task(i: int, n: int) -> object:
        mine = ids[i]
        return await get[i](avs_pb2.IdReq(id=mine[n % len(mine)]), metadata=users[i].auth)

    async def list_tasks(i: int, n: int) -> object:
        return await page[i](lists[i], metadata=users[i].auth)

    async def create_task(i: int, n: int) -> object:
        return await make[i](creates[i], metadata=users[i].auth)

    return {"GetTask": get_task, "ListTasks": list_tasks, "CreateTask": create_task}


@contextlib.asynccontextmanager
async def open_channels(target: str, count: int) -> AsyncIterator[list[grpc.aio.Channel]]:
    channels = [grpc.aio.insecure_channel(target, options=GRPC_OPTIONS) for _ in range(count)]
    try:
        yield channels
    finally:
        for channel in channels:
            await channel.close()


TARGETS = {"GetTask": "≥ 0.6 x echo", "ListTasks": "≥ 0.4 x echo", "CreateTask": "≥ 0.3 x echo"}
LABELS = {
    "GetTask": "GetTask requests/s, {n} clients",
    "ListTasks": "ListTasks (limit 10) requests/s, {n} clients",
    "CreateTask": "CreateTask requests/s (durable commit), {n} clients",
}


def _limit(runs: list[LoadRun]) -> str:
    """What limited the runs: CPU shares of both sides, and server CPU time per request."""
    server = statistics.median(r.server_cpu for r in runs)
    client = statistics.median(r.client_cpu for r in runs)
    cost = statistics.median(1e6 * r.server_cpu / r.rate for r in runs)
    return f"server {server:.0%} CPU, {cost:.0f} µs/req; client {client:.0%}"


async def run(quick: bool) -> list[Result]:
    concurrency = 8 if quick else CLIENTS
    seconds = 0.3 if quick else 2.0
    rounds = 1 if quick else 5
    users = clients(concurrency)
    real: dict[str, list[LoadRun]] = {m: [] for m in ECHO_METHODS}
    echo: dict[str, list[LoadRun]] = {m: [] for m in ECHO_METHODS}
    layers: list[LoadRun] = []
    with tempfile.TemporaryDirectory(prefix="bench-rpc-") as tmp:
        db = Path(tmp) / "db"
        await store_wallets(db, users)
        spec = {"kind": "aggregator", "db": str(db)}
        async with (
            ServerProcess.start(spec) as aggregator,
            open_channels(aggregator.target, concurrency) as channels,
        ):
            fixture = await _prepare(
                avs_pb2_grpc.AggregatorStub(channels[0]), users, 3 if quick else 20
            )
            responses = {k: v.hex() for k, v in fixture.responses.items()}
            wrapped = {"kind": "echo", "responses": responses, "interceptors": INTERCEPTORS}
            async with (
                ServerProcess.start({"kind": "echo", "responses": responses}) as bare,
                open_channels(bare.target, concurrency) as echo_channels,
                ServerProcess.start(wrapped) as intercepted,
                open_channels(intercepted.target, concurrency) as intercepted_channels,
            ):
                real_calls = _calls(channels, fixture)
                echo_calls = _calls(echo_channels, fixture)
                get_intercepted = _calls(intercepted_channels, fixture)["GetTask"]
                for _ in range(rounds):
                    for name in ECHO_METHODS:
                        echo[name].append(await load(echo_calls[name], bare, concurrency, seconds))
                        real[name].append(
                            await load(real_calls[name], aggregator, concurrency, seconds)
                        )
                    layers.append(await load(get_intercepted, intercepted, concurrency, seconds))
    results = []
    for name in ECHO_METHODS:
        results.append(
            Result(
                f"{LABELS[name].format(n=concurrency)} "
                f"[{_limit(real[name])}; echo: {_limit(echo[name])}]",
                statistics.median(r.rate for r in real[name]),
                "req/s",
                statistics.median(r.rate for r in echo[name]),
                TARGETS[name],
            )
        )
    results.append(
        Result(
            "GetTask on the echo server behind the aggregator's 3 interceptors (error, authkey, "
            f"operator) [{_limit(layers)}]",
            statistics.median(r.rate for r in layers),
            "req/s",
            statistics.median(r.rate for r in echo["GetTask"]),
            "information",
        )
    )
    return results


def _main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] != "serve":
        raise SystemExit("usage: python -m benchmarks.bench_rpc serve '<json spec>'")
    import uvloop

    uvloop.run(_serve(json.loads(argv[1])))


if __name__ == "__main__":
    _main(sys.argv[1:])
