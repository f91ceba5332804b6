"""Harness of the reliability scenarios: real daemons in subprocesses, real clients, loopback
fault injection, and readers of the raw store.

Everything here talks to 127.0.0.1 only. Processes are started by the test, remembered by pid,
and ended by that pid (``SIGTERM`` for a graceful stop, ``SIGKILL`` for a crash).

Usage::

    proc = AggregatorProcess(tmp_path, devnet)
    proc.start()
    await proc.wait_serving()
    ...
    proc.kill()            # kill -9
    proc.start()           # same db, same config
    store = read_store(proc.db_path)   # after proc.stop()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import lmdb
import yaml
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ap_avs import wire as convert
from ap_avs._proto import avs_pb2, avs_pb2_grpc, node_pb2, node_pb2_grpc
from ap_avs.auth.operator_requests import OperatorSigner
from ap_avs.auth.trigger_reports import sign_report
from ap_avs.chain import ChainClient
from ap_avs.chain.reader import ChainReader
from ap_avs.config import AggregatorConfig
from ap_avs.devnet import DevnetState
from ap_avs.domain.trigger_data import block_data
from ap_avs.domain.triggers import TriggerKind
from ap_avs.store import codec, keys
from ap_avs.testing import TEST_JWT_SECRET, running_aggregator, user_key
from ap_avs.wire import value_to_json

CLI = (sys.executable, "-m", "ap_avs")
SERVICE = avs_pb2.DESCRIPTOR.services_by_name["Aggregator"]
NODE = node_pb2.DESCRIPTOR.services_by_name["Node"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default), from /proc."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc status")


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# --- configuration --------------------------------------------------------------------------


def chain_settings(devnet: DevnetState) -> dict[str, Any]:
    """The ``smart_wallet`` section for an aggregator on the devnet."""
    return {
        "eth_rpc_url": devnet.rpc_url,
        "chain_id": devnet.chain_id,
        "factory_address": devnet.factory,
    }


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``extra``, nested sections merged key by key."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


# --- daemons in subprocesses ----------------------------------------------------------------


class AggregatorProcess:
    """``python -m ap_avs aggregator`` in a subprocess, restartable on the same store.

    Each ``start`` picks a fresh gRPC port (a killed process may leave its port briefly busy).
    """

    def __init__(
        self, workdir: Path, devnet: DevnetState | None, extra: dict[str, Any] | None = None
    ) -> None:
        self.workdir = workdir
        self.db_path = workdir / "aggregator-db"
        self.devnet = devnet
        self.extra = extra or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"aggregator-{self.starts}.log"

    def config(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "jwt_secret": TEST_JWT_SECRET,
            "db_path": str(self.db_path),
            "rpc_bind_address": f"127.0.0.1:{self.port}",
            "http_bind_address": "",
            "log_level": "info",
            "log_format": "json",
            "grace_period_seconds": 1.0,
            "engine": {"allow_private_urls": True},
        }
        base["smart_wallet"] = (
            chain_settings(self.devnet) if self.devnet is not None else {"chain_id": 31337}
        )
        return merge(base, self.extra)

    def start(self, env: dict[str, str] | None = None) -> None:
        """Start the daemon; ``env`` adds environment variables (e.g. the test-only fault
        hook ``AP_AVS_TEST_FAULT``)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        self.port = free_port()
        path = self.workdir / f"aggregator-{self.starts}.yaml"
        path.write_text(yaml.safe_dump(self.config()))
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [*CLI, "aggregator", "-c", str(path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )

    async def wait_serving(self, within: float = 60.0) -> None:
        """Wait until the gRPC health check answers SERVING."""
        deadline = time.monotonic() + within
        async with grpc.aio.insecure_channel(self.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"aggregator exited with {self.proc.returncode}:\n{self.log_text()}"
                    )
                with contextlib.suppress(grpc.aio.AioRpcError):
                    reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(f"aggregator not serving:\n{self.log_text()}")
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        """``kill -9`` (by pid) and reap."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    async def stop(self, within: float = 30.0) -> int:
        """SIGTERM (by pid), wait for a graceful exit; the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + within
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
                raise AssertionError("aggregator did not stop on SIGTERM")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    def ensure_stopped(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log_text(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")
            for p in sorted(self.workdir.glob("aggregator-*.log"))
            if p.exists()
        )


class OperatorProcess:
    """``python -m ap_avs operator`` in a subprocess (so it can be killed with SIGKILL)."""

    def __init__(self, workdir: Path, private_key: str, rpc_url: str) -> None:
        self.workdir = workdir
        self.private_key = private_key
        self.rpc_url = rpc_url
        self.address = OperatorSigner(private_key).address
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, aggregator: str) -> None:
        self.starts += 1
        config = {
            "ecdsa_private_key": self.private_key,
            "aggregator_server_ip_port_address": aggregator,
            "enable_node_api": False,
            "db_path": str(self.workdir / "operator-db"),
            "target_chain": {"eth_rpc_url": self.rpc_url},
            "poll_interval_seconds": 0.1,
            "resync_grace_seconds": 2.0,
            "ping_interval_seconds": 0.5,
            "log_format": "json",
        }
        path = self.workdir / f"operator-{self.starts}.yaml"
        path.write_text(yaml.safe_dump(config))
        with (self.workdir / f"operator-{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [*CLI, "operator", "-c", str(path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def ensure_stopped(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


# --- the raw store --------------------------------------------------------------------------


def read_store(db_path: Path) -> dict[bytes, bytes]:
    """Every key and value of a (stopped, or another process's) LMDB store, read-only."""
    env = lmdb.open(str(db_path), readonly=True, max_dbs=0, subdir=True)
    try:
        with env.begin() as txn:
            return {bytes(k): bytes(v) for k, v in txn.cursor()}
    finally:
        env.close()


def count_prefixes(db_path: Path, prefixes: Sequence[bytes]) -> dict[bytes, int]:
    """How many keys start with each prefix (read-only, safe while the daemon runs)."""
    env = lmdb.open(str(db_path), readonly=True, max_dbs=0, subdir=True)
    try:
        counts = {}
        with env.begin() as txn:
            for prefix in prefixes:
                cursor = txn.cursor()
                n = 0
                if cursor.set_range(prefix):
                    for key in cursor.iternext(values=False):
                        if not bytes(key).startswith(prefix):
                            break
                        n += 1
                counts[prefix] = n
        return counts
    finally:
        env.close()


@dataclass
class StoreView:
    """A decoded view of the parts of a store the scenarios check."""

    raw: dict[bytes, bytes]
    task_keys: dict[str, list[str]] = field(default_factory=dict)
    """workflow id -> status letters of its ``t:`` keys."""
    user_task_status: dict[str, list[int]] = field(default_factory=dict)
    """workflow id -> statuses in its ``u:`` keys."""
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    """workflow id -> execution id -> decoded execution record."""

    @classmethod
    def of(cls, raw: dict[bytes, bytes]) -> StoreView:
        view = cls(raw)
        for key, value in raw.items():
            if key.startswith(keys.TASKS):
                status, task_id = keys.parse_task(key)
                view.task_keys.setdefault(task_id, []).append(keys.status_letter(status))
            elif key.startswith(b"u:"):
                parsed = keys.parse_user_task(key)
                view.user_task_status.setdefault(parsed.task_id, []).append(codec.decode_int(value))
            elif key.startswith(b"history:"):
                parsed_exec = keys.parse_history(key)
                record = codec.loads(value)
                assert isinstance(record, dict)
                view.history.setdefault(parsed_exec.task_id, {})[parsed_exec.execution_id] = record
        return view

    def workflow(self, task_id: str) -> dict[str, Any]:
        (letter,) = self.task_keys[task_id]
        status = keys.status_from_letter(letter)
        record = codec.loads(self.raw[keys.task(status, task_id)])
        assert isinstance(record, dict)
        return record

    def with_prefix(self, prefix: bytes) -> list[bytes]:
        return [k for k in self.raw if k.startswith(prefix)]


# --- users and requests ---------------------------------------------------------------------


@dataclass
class User:
    """An authenticated caller of the Aggregator service."""

    stub: avs_pb2_grpc.AggregatorStub
    address: str
    runner: str = ""
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            self.key = user_key(self.address)

    @property
    def auth(self) -> tuple[tuple[str, str]]:
        return (("authkey", self.key),)

    async def call(self, method: str, request: Any, deadline: float | None = 30) -> Any:
        return await getattr(self.stub, method)(request, metadata=self.auth, timeout=deadline)

    async def with_wallet(self) -> User:
        self.runner = (await self.call("GetWallet", avs_pb2.GetWalletReq(salt="0"))).address
        return self


def value(data: Any) -> struct_pb2.Value:
    return convert.json_to_value(data)


def manual_trigger(name: str = "start") -> avs_pb2.TaskTrigger:
    return avs_pb2.TaskTrigger(
        id="t1",
        name=name,
        type=avs_pb2.TRIGGER_TYPE_MANUAL,
        manual=avs_pb2.ManualTrigger(config=avs_pb2.ManualTrigger.Config(lang=avs_pb2.LANG_JSON)),
    )


def block_trigger(interval: int, name: str = "start") -> avs_pb2.TaskTrigger:
    trigger = avs_pb2.TaskTrigger(id="t1", name=name, type=avs_pb2.TRIGGER_TYPE_BLOCK)
    trigger.block.config.interval = interval
    return trigger


def cron_trigger(schedule: str, name: str = "start") -> avs_pb2.TaskTrigger:
    trigger = avs_pb2.TaskTrigger(id="t1", name=name, type=avs_pb2.TRIGGER_TYPE_CRON)
    trigger.cron.config.schedules.append(schedule)
    return trigger


def fixed_time_trigger(epoch_ms: int, name: str = "start") -> avs_pb2.TaskTrigger:
    trigger = avs_pb2.TaskTrigger(id="t1", name=name, type=avs_pb2.TRIGGER_TYPE_FIXED_TIME)
    trigger.fixed_time.config.epochs.append(epoch_ms)
    return trigger


def event_trigger(address: str, topics: Sequence[str], name: str = "start") -> avs_pb2.TaskTrigger:
    trigger = avs_pb2.TaskTrigger(id="t1", name=name, type=avs_pb2.TRIGGER_TYPE_EVENT)
    query = trigger.event.config.queries.add()
    query.addresses.append(address)
    query.topics.extend(topics)
    trigger.event.config.cooldown_seconds = 0
    return trigger


def code_node(source: str, node_id: str = "n1", name: str = "code") -> avs_pb2.TaskNode:
    return avs_pb2.TaskNode(
        id=node_id,
        name=name,
        type=avs_pb2.NODE_TYPE_CUSTOM_CODE,
        custom_code=avs_pb2.CustomCodeNode(
            config=avs_pb2.CustomCodeNode.Config(lang=avs_pb2.LANG_JAVASCRIPT, source=source)
        ),
    )


def rest_node(
    url: str,
    node_id: str = "n1",
    name: str = "call",
    method: str = "GET",
    body: str = "",
    headers: dict[str, str] | None = None,
) -> avs_pb2.TaskNode:
    return avs_pb2.TaskNode(
        id=node_id,
        name=name,
        type=avs_pb2.NODE_TYPE_REST_API,
        rest_api=avs_pb2.RestAPINode(
            config=avs_pb2.RestAPINode.Config(
                url=url, method=method, body=body, headers=headers or {}
            )
        ),
    )


def workflow(
    runner: str,
    trigger: avs_pb2.TaskTrigger | None = None,
    nodes: Sequence[avs_pb2.TaskNode] = (),
    *,
    name: str = "reliability",
    max_execution: int = 0,
) -> avs_pb2.CreateTaskReq:
    """A CreateTask request: the trigger, then the nodes in a chain."""
    trigger = trigger or manual_trigger()
    nodes = list(nodes) or [code_node("return 1")]
    edges = [avs_pb2.TaskEdge(id="e0", source=trigger.id, target=nodes[0].id)]
    edges += [
        avs_pb2.TaskEdge(id=f"e{i}", source=a.id, target=b.id)
        for i, (a, b) in enumerate(itertools.pairwise(nodes), start=1)
    ]
    req = avs_pb2.CreateTaskReq(
        trigger=trigger, nodes=nodes, edges=edges, max_execution=max_execution
    )
    req.input_variables["settings"].CopyFrom(value({"name": name, "runner": runner}))
    return req


def manual_run(task_id: str, data: Any, *, blocking: bool = False) -> avs_pb2.TriggerTaskReq:
    return avs_pb2.TriggerTaskReq(
        task_id=task_id,
        trigger_type=avs_pb2.TRIGGER_TYPE_MANUAL,
        manual_trigger=avs_pb2.ManualTrigger.Output(data=value(data)),
        is_blocking=blocking,
    )


# --- a raw operator -------------------------------------------------------------------------

ALL_CAPABILITIES = node_pb2.SyncMessagesReq.Capabilities(
    event_monitoring=True, block_monitoring=True, time_monitoring=True
)


class RawOperator:
    """A hand-driven operator: signed Node calls and SyncMessages streams it controls."""

    def __init__(self, target: str, private_key: str, rpc_url: str | None = None) -> None:
        self.rpc_url = rpc_url
        self._headers: dict[int, Any] = {}
        self.signer = OperatorSigner(private_key)
        self.address = self.signer.address
        self.channel = grpc.aio.insecure_channel(target)
        self.stub = node_pb2_grpc.NodeStub(self.channel)
        self.watching: set[str] = set()
        self._streams: list[Any] = []
        self._readers: list[asyncio.Task[None]] = []
        self.changed = asyncio.Event()

    def md(self, method: str) -> tuple[tuple[str, str], ...]:
        return self.signer.metadata(f"/aggregator.Node/{method}", now_ms())

    def sync(self) -> Any:
        request = node_pb2.SyncMessagesReq(address=self.address, capabilities=ALL_CAPABILITIES)
        call = self.stub.SyncMessages(request, metadata=self.md("SyncMessages"))
        self._streams.append(call)
        self._readers.append(asyncio.create_task(self._read(call)))
        return call

    async def _read(self, call: Any) -> None:
        with contextlib.suppress(grpc.aio.AioRpcError, asyncio.CancelledError):
            async for message in call:
                if call is not self._streams[-1]:
                    continue
                workflow_id = message.task_metadata.task_id or message.id
                if message.op in (node_pb2.MonitorTaskTrigger, node_pb2.ImmediateTrigger):
                    self.watching.add(workflow_id)
                else:
                    self.watching.discard(workflow_id)
                self.changed.set()

    async def wait_watching(self, workflow_ids: set[str], within: float = 15) -> None:
        async with asyncio.timeout(within):
            while not workflow_ids <= self.watching:
                self.changed.clear()
                await self.changed.wait()

    async def honest_block(self, block: int) -> Any:
        """The data an honest operator reports for ``block`` of the devnet at ``rpc_url``
        (blocks are mined up to it first); without a chain, a made-up hash."""
        if self.rpc_url is None:
            return {"blockNumber": block, "blockHash": "0xab"}
        if block not in self._headers:
            async with ChainClient(self.rpc_url) as client:
                head = await client.block_number()
                if head < block:
                    await client.request("anvil_mine", [hex(block - head)])
                header = await ChainReader(client).header(block)
            self._headers[block] = block_data(header)
        return self._headers[block]

    async def notify_block(
        self, task_id: str, block: int, deadline: float = 10
    ) -> node_pb2.NotifyTriggersResp:
        request_id = f"{task_id}:{block}"
        request = node_pb2.NotifyTriggersReq(
            address=self.address,
            task_id=task_id,
            trigger_type=avs_pb2.TRIGGER_TYPE_BLOCK,
            trigger_request_id=request_id,
        )
        request.block_trigger.data.CopyFrom(value(await self.honest_block(block)))
        request.signature = sign_report(
            self.signer,
            task_id=task_id,
            occurrence=request_id,
            kind=TriggerKind.BLOCK,
            data=value_to_json(request.block_trigger.data),
        )
        return await self.stub.NotifyTriggers(
            request, metadata=self.md("NotifyTriggers"), timeout=deadline
        )

    async def close(self) -> None:
        for call in self._streams:
            call.cancel()
        for reader in self._readers:
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self.channel.close()


# --- loopback servers and fault injection ----------------------------------------------------


class HttpTarget:
    """A tiny HTTP/1.1 server on 127.0.0.1: answers JSON echoing the request after ``delay``,
    and records every request it received (raw bytes)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> HttpTarget:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = await reader.readexactly(length) if length else b""
            self.requests.append(head + body)
            if self.delay:
                await asyncio.sleep(self.delay)
            payload = codec.dumps({"ok": True, "path": head.split(b" ")[1].decode()})
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


class TcpProxy:
    """A loopback TCP relay to ``upstream`` that can fail like a network.

    * ``refuse()``: close every relayed connection and refuse new ones (a node that went down);
    * ``partition()``: keep every socket open but move no bytes (a stream dropped without a
      close); ``heal()`` moves bytes again;
    * ``restore()``: accept connections again.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._refusing = False
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.heal()
        self._drop_all()
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def _drop_all(self) -> None:
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()

    def refuse(self) -> None:
        self._refusing = True
        self._drop_all()

    def restore(self) -> None:
        self._refusing = False

    def partition(self) -> None:
        self._flowing.clear()

    def heal(self) -> None:
        self._flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while True:
                await self._flowing.wait()
                data = await src.read(65536)
                if not data:
                    break
                await self._flowing.wait()
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                dst.transport.abort()
            self._writers.discard(dst)


# --- logs -----------------------------------------------------------------------------------


class LogCapture(logging.Handler):
    """Every record logged anywhere while installed, formatted with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records)

    def by_logger(self) -> Counter[str]:
        return Counter(r.name for r in self.records)


@contextlib.contextmanager
def capture_logs(level: int = logging.DEBUG) -> Iterator[LogCapture]:
    """Install a :class:`LogCapture` on the root logger at ``level`` for the block."""
    root = logging.getLogger()
    handler = LogCapture()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


# --- waiting --------------------------------------------------------------------------------


async def eventually(
    check: Callable[[], Any], within: float = 30.0, every: float = 0.05, what: str = ""
) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy; return it."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what or check}")
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def channel(target: str) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(
        target, options=[("grpc.max_receive_message_length", 32 << 20)]
    ) as ch:
        yield ch


# --- an aggregator for synchronous (hypothesis) tests ----------------------------------------


class AggregatorThread:
    """An in-process aggregator on its own event loop in a daemon thread, so synchronous
    tests (hypothesis) can call it with the blocking gRPC API; :meth:`run` executes a
    coroutine on the server's loop (to read its store)."""

    def __init__(self, config: AggregatorConfig) -> None:
        self._config = config
        self._ready: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="aggregator", daemon=True)
        self.server: Any = None

    def _main(self) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            async with running_aggregator(self._config) as server:
                self._ready.set_result(server)
                await self._stop.wait()

        try:
            asyncio.run(serve())
        except BaseException as exc:
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise

    def start(self) -> Any:
        self._thread.start()
        self.server = self._ready.result(60)
        return self.server

    def run(self, coro: Any, within: float = 60) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(within)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@contextlib.contextmanager
def capture_daemon_logs(level: str = "debug") -> Iterator[LogCapture]:
    """Logging set up exactly as the daemons do (``ap_avs.log.configure``), plus a capture of
    every record that passes; the previous set-up is restored afterwards."""
    from ap_avs import log

    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    noisy = ("grpc", "uvicorn.access", "httpx", "httpcore", "web3", "asyncio")
    saved_levels = {name: logging.getLogger(name).level for name in noisy}
    log.configure(level, "json")  # type: ignore[arg-type]
    handler = LogCapture()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, value in saved_levels.items():
            logging.getLogger(name).setLevel(value)


async def stop_operator(task: asyncio.Task[None], stop: asyncio.Event, within: float = 10) -> bool:
    """Set an OperatorApp's stop event and wait for it; if its graceful stop hangs (a known
    bug: tests/reliability/test_operator_faults.py::test_a_cancelled_time_watcher_stops),
    cancel it once more. Returns whether it hung."""
    stop.set()
    done, _ = await asyncio.wait({task}, timeout=within)
    if done:
        task.result()
        return False
    task.cancel()
    await asyncio.wait({task}, timeout=within)
    return True
