"""Exactly-once effects: SIGKILL of the aggregator at each point of a step never repeats a payment.

The aggregator runs as ``python -m ap_avs aggregator`` in a subprocess, on the devnet, with the
test-only fault hook (``AP_AVS_TEST_FAULT``, ``ap_avs.faults``) naming where it kills itself
with SIGKILL: ``before-send`` (intent committed, UserOp not sent), ``after-send`` (sent, no
receipt read), ``after-receipt`` (outcome known, not journaled) and ``during-record`` (inside
the transaction that stores the execution). Two workflows run queued (non-blocking
``TriggerTask``): a REST call to a sink on 127.0.0.1 followed by an ETH transfer, and a
contract write minting a test token. Each round starts the daemon with the hook armed at one
point (an occurrence drawn from a seeded generator), fires :data:`RUNS` runs of each workflow
and waits for the kill; the next round's daemon recovers the runs the kill interrupted (and may
itself be killed while doing so); every point gets ``AP_AVS_CRASH_REPEATS`` rounds, and a final
start without the hook drains the queue. Effects only accumulate, so a repeated payment in any
round would show in the final count. With the bundler (sponsored by the paymaster) and without
it (``handleOps`` from a submitter key, the wallet paying its own gas, steps of one wallet in
flight together on their own nonce keys).

Counted from the outside world: the recipient's balance and the token's ``Transfer`` logs on
chain equal the SUCCESS executions, which equal the accepted triggers (answered calls plus the
runs of calls cut by the kill that were stored); indexes have no gaps; no queue marker or
journal entry is left. The sink's ``Idempotency-Key`` headers: every key is the execution's, and
a key seen twice belongs to a step whose log says it was resent after a restart.

``AP_AVS_CRASH_REPEATS`` (default 1) sets the kills per point and mode (20 for the soak run
recorded in docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import re
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from google.protobuf import struct_pb2

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.devnet import DevnetState
from ap_avs.faults import ENV_VAR
from ap_avs.store import keys

from .support import (
    AggregatorProcess,
    HttpTarget,
    StoreView,
    User,
    channel,
    count_prefixes,
    eventually,
    manual_run,
    manual_trigger,
    read_store,
    rest_node,
    value,
)

pytestmark = pytest.mark.integration

POINTS = ("before-send", "after-send", "after-receipt", "during-record")
REPEATS = int(os.environ.get("AP_AVS_CRASH_REPEATS", "1"))
RUNS = 3  # runs of each workflow per round
AMOUNT = 1_000_003  # wei per transfer: an odd figure no gas refund can imitate
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
LEFTOVERS = (
    b"trigger:",
    b"pending:",
    b"running:",
    b"pending_bound:",
    b"queued:",
    b"journal:",
    keys.queue_prefix("default", keys.QueueState.PENDING),
    keys.queue_prefix("default", keys.QueueState.IN_PROGRESS),
)
MINT_ABI = {
    "type": "function",
    "name": "mint",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [],
    "stateMutability": "nonpayable",
}
KEY_HEADER = re.compile(rb"\r\nidempotency-key: *([^\r]*)", re.IGNORECASE)


def transfer_node(destination: str) -> avs_pb2.TaskNode:
    return avs_pb2.TaskNode(
        id="pay",
        name="pay",
        type=avs_pb2.NODE_TYPE_ETH_TRANSFER,
        eth_transfer=avs_pb2.ETHTransferNode(
            config=avs_pb2.ETHTransferNode.Config(destination=destination, amount=str(AMOUNT))
        ),
    )


def mint_node(token: str, recipient: str) -> avs_pb2.TaskNode:
    node = avs_pb2.TaskNode(id="mint", name="mint", type=avs_pb2.NODE_TYPE_CONTRACT_WRITE)
    config = node.contract_write.config
    config.contract_address = token
    abi = struct_pb2.Value()
    abi.struct_value.update(MINT_ABI)
    config.contract_abi.append(abi)
    config.method_calls.add(method_name="mint", method_params=[recipient, "1"])
    return node


def create_request(runner: str, nodes: list[avs_pb2.TaskNode]) -> avs_pb2.CreateTaskReq:
    trigger = manual_trigger()
    ids = [trigger.id, *(n.id for n in nodes)]
    edges = [
        avs_pb2.TaskEdge(id=f"e{i}", source=a, target=b)
        for i, (a, b) in enumerate(itertools.pairwise(ids))
    ]
    req = avs_pb2.CreateTaskReq(trigger=trigger, nodes=nodes, edges=edges, max_execution=10_000)
    req.input_variables["settings"].CopyFrom(value({"name": "exactly once", "runner": runner}))
    return req


async def rpc(client: httpx.AsyncClient, url: str, method: str, *params: Any) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    payload = (await client.post(url, json=body)).json()
    assert "error" not in payload, payload
    return payload["result"]


@dataclass
class Tally:
    """What the test saw from outside the daemon."""

    answered: dict[str, str] = field(default_factory=dict)  # execution id -> workflow id
    cut: int = 0  # TriggerTask calls cut by a kill (maybe accepted, maybe not)
    kills: Counter[str] = field(default_factory=Counter)
    during_recovery: int = 0  # kills before the daemon served (recovering interrupted runs)
    unreached: Counter[str] = field(default_factory=Counter)
    """Rounds whose kill point was not reached (fewer steps ran, e.g. calls cut on a loaded
    machine): the test killed the daemon itself, at whatever point it was."""


async def fire(user: User, workflow_ids: list[str], tally: Tally, round_no: int) -> None:
    async def one(workflow_id: str, i: int) -> None:
        try:
            reply = await user.call(
                "TriggerTask", manual_run(workflow_id, {"round": round_no, "i": i}), deadline=60
            )
        except grpc.aio.AioRpcError:
            tally.cut += 1
            return
        tally.answered[reply.execution_id] = workflow_id

    await asyncio.gather(*(one(wf, i) for i in range(RUNS) for wf in workflow_ids))


async def died(proc: AggregatorProcess) -> bool:
    """Wait for the fault hook to kill the daemon; True if it did. A round takes ~3 s: when the
    hook has not fired after 60 s its point was not reached this round (fewer steps ran), and
    the daemon is killed here instead (still a kill -9 at some point of its work)."""
    assert proc.proc is not None

    def exited() -> bool:
        return proc.proc is not None and proc.proc.poll() is not None

    try:
        await eventually(exited, within=60, every=0.05, what="the fault hook killed the daemon")
    except AssertionError:
        proc.proc.kill()
        proc.proc.wait()
        return False
    assert proc.proc.returncode == -signal.SIGKILL, proc.log_text()[-3000:]
    return True


@pytest.mark.timeout(90 + 40 * REPEATS * len(POINTS))
@pytest.mark.parametrize("mode", ["bundler", "direct"])
async def test_kills_at_every_point_of_a_step_never_repeat_an_effect(
    devnet: DevnetState, tmp_path: Path, mode: str
) -> None:
    assert devnet.bundler_url
    recipient = Account.create().address
    minted_to = Account.create().address
    token = devnet.token("TUSD").address
    smart_wallet: dict[str, Any] = {
        "entrypoint_address": devnet.entrypoint,
        "controller_private_key": devnet.controller.private_key,
        "confirm_timeout_seconds": 30,
    }
    async with httpx.AsyncClient(timeout=10) as client:
        if mode == "bundler":
            smart_wallet |= {
                "bundler_url": devnet.bundler_url,
                "paymaster_address": devnet.paymaster,
            }
        else:
            submitter = Account.create()
            await rpc(client, devnet.rpc_url, "anvil_setBalance", submitter.address, hex(10**20))
            smart_wallet |= {
                "bundler_url": "",
                "paymaster_address": "",
                "submitter_private_key": submitter.key.hex(),
            }
        proc = AggregatorProcess(
            tmp_path,
            devnet,
            {
                "smart_wallet": smart_wallet,
                "engine": {"workers": 4},
                "limits": {"default_max_execution": 10_000},
            },
        )
        async with HttpTarget() as sink:
            try:
                tally, workflow_ids, view = await rounds(
                    proc, mode == "bundler", client, sink, devnet, recipient, token, minted_to
                )
            finally:
                proc.ensure_stopped()
            balance = int(
                await rpc(client, devnet.rpc_url, "eth_getBalance", recipient, "latest"), 16
            )
            logs = await rpc(
                client,
                devnet.rpc_url,
                "eth_getLogs",
                {
                    "address": token,
                    "fromBlock": "0x0",
                    "toBlock": "latest",
                    "topics": [
                        TRANSFER_TOPIC,
                        "0x" + "00" * 32,
                        "0x" + "00" * 12 + minted_to[2:].lower(),
                    ],
                },
            )
            check(view, tally, workflow_ids, balance, len(logs), sink.requests, mode)


async def setup(
    user: User,
    client: httpx.AsyncClient,
    devnet: DevnetState,
    sink: HttpTarget,
    recipient: str,
    token: str,
    minted_to: str,
    workflow_ids: list[str],
) -> None:
    """The user's wallet (funded) and the two workflows."""
    await user.with_wallet()
    await rpc(client, devnet.rpc_url, "anvil_setBalance", user.runner, hex(10**20))
    notify = rest_node(sink.url + "/pay", node_id="notify", name="notify")
    for nodes in ([notify, transfer_node(recipient)], [mint_node(token, minted_to)]):
        reply = await user.call("CreateTask", create_request(user.runner, nodes))
        workflow_ids.append(reply.id)


async def rounds(
    proc: AggregatorProcess,
    http_round: bool,
    client: httpx.AsyncClient,
    sink: HttpTarget,
    devnet: DevnetState,
    recipient: str,
    token: str,
    minted_to: str,
) -> tuple[Tally, list[str], StoreView]:
    tally = Tally()
    chooser = random.Random(f"exactly once {REPEATS}")
    owner = Account.create().address
    workflow_ids: list[str] = []
    user = User(None, owner)  # type: ignore[arg-type]
    plan = [(point, "" if point == "during-record" else ":userop") for point in POINTS]
    if http_round:  # a REST request answered, its outcome not journaled: resent after restart
        plan.append(("after-send", ":http"))
    plan = [entry for entry in plan for _ in range(REPEATS)]
    for round_no, (point, kind) in enumerate(plan):
        occurrence = chooser.randint(1, 2 * RUNS - 1)
        proc.start({ENV_VAR: f"{point}:{occurrence}{kind}"})
        try:
            await proc.wait_serving()
        except AssertionError:  # killed while recovering the previous round's runs
            tally.during_recovery += 1
        else:
            async with channel(proc.target) as ch:
                user.stub = avs_pb2_grpc.AggregatorStub(ch)
                if not workflow_ids:
                    await setup(
                        user, client, devnet, sink, recipient, token, minted_to, workflow_ids
                    )
                await fire(user, workflow_ids, tally, round_no)
        if await died(proc):
            tally.kills[point + kind] += 1
        else:
            tally.unreached[point + kind] += 1
    proc.start()
    await proc.wait_serving()

    def drained() -> bool:
        counts = count_prefixes(proc.db_path, [*LEFTOVERS[:-2], LEFTOVERS[-1], LEFTOVERS[-2]])
        history = count_prefixes(proc.db_path, [b"history:"])[b"history:"]
        return not any(counts.values()) and history >= len(tally.answered)

    # liveness guard: the recovered runs take a few seconds; 90 s means they never finished
    await eventually(drained, within=90, every=0.1, what="the queue drained")
    assert await proc.stop() == 0, proc.log_text()[-3000:]
    return tally, workflow_ids, StoreView.of(read_store(proc.db_path))


def step_logs(execution: dict[str, Any]) -> str:
    return "\n".join(str(s.get("log", "")) for s in execution["steps"])


def check(
    view: StoreView,
    tally: Tally,
    workflow_ids: list[str],
    balance: int,
    minted: int,
    requests: list[bytes],
    mode: str,
) -> None:
    pay_wf, mint_wf = workflow_ids
    for prefix in LEFTOVERS:
        assert not view.with_prefix(prefix), (prefix, view.with_prefix(prefix)[:3])
    executions: dict[str, dict[str, Any]] = {}
    for workflow_id in workflow_ids:
        history = view.history.get(workflow_id, {})
        executions.update(history)
        indexes = sorted(e["index"] for e in history.values())
        assert indexes == list(range(len(history))), f"index gap in {workflow_id}: {indexes}"
        assert view.workflow(workflow_id)["executionCount"] == len(history)
    assert set(tally.answered) <= set(executions), "an accepted trigger was lost"
    extra = set(executions) - set(tally.answered)
    assert len(extra) <= tally.cut, (extra, tally.cut)
    accepted = len(executions)
    statuses = Counter(e["status"] for e in executions.values())
    assert statuses == {"SUCCESS": accepted}, [
        (e["status"], e["error"]) for e in executions.values() if e["status"] != "SUCCESS"
    ]
    pays = [e for e in executions.values() if e["workflow_id"] == pay_wf]
    mints = [e for e in executions.values() if e["workflow_id"] == mint_wf]
    # effects on chain == SUCCESS executions == accepted triggers
    assert balance == AMOUNT * len(pays), (balance // AMOUNT, balance % AMOUNT, len(pays))
    assert minted == len(mints), (minted, len(mints))

    seen = Counter(m.group(1).decode() for r in requests if (m := KEY_HEADER.search(r)))
    assert sum(seen.values()) == len(requests)
    assert set(seen) == {f"{e['id']}:notify" for e in pays}, "a REST step without its key"
    for key, times in seen.items():
        if times > 1:
            execution = executions[key.split(":")[0]]
            assert "resent after a restart" in step_logs(execution), (key, times)
    logs = "\n".join(step_logs(e) for e in executions.values())
    found = logs.count("already included")
    resent = logs.count("so it was sent again with the same nonce")
    reused = logs.count("recorded before a restart")
    print(
        f"\nexactly once [{mode}]: kills {dict(tally.kills)} ({tally.during_recovery} while "
        f"recovering), {accepted} triggers accepted "
        f"({tally.cut} calls cut), {len(pays)} transfers and {len(mints)} mints on chain = "
        f"SUCCESS executions; after restarts {found} UserOps found on chain, {resent} resent "
        f"with the same nonce, {reused} recorded outcomes reused; REST keys seen twice: "
        f"{sum(1 for n in seen.values() if n > 1)}; points not reached (killed by the test): "
        f"{dict(tally.unreached)}"
    )
    planned = len(POINTS) * REPEATS + (REPEATS if mode == "bundler" else 0)
    assert sum(tally.kills.values()) + sum(tally.unreached.values()) == planned
    assert tally.kills, "the fault hook never fired"
    if tally.kills["after-send:http"]:  # the sink saw those requests twice, and was told so
        assert sum(1 for n in seen.values() if n > 1) >= tally.kills["after-send:http"]
