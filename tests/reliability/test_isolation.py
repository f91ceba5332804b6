"""Isolation, table-driven over every Aggregator RPC: user B, holding A's workflow ids,
execution ids, cursors, wallet addresses and secret names, gets nothing of A's and changes
nothing of A's (LESSONS 24).

For each case: the call is made as B; an answer must not mention any of A's private markers
(ids, addresses, secret names and values, workflow name) beyond what the case's request itself
carries and the server echoes; A's records in the store are byte-for-byte unchanged after the
whole table, A's own reads answer exactly as before, and a run of A's workflow still sees A's
secret values. Public RPCs (sign-in text, nonce, token metadata) are marked as such.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from eth_account import Account
from google.protobuf.json_format import MessageToDict, MessageToJson

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.devnet import DevnetState
from ap_avs.testing import RunningAggregator, aggregator_config, running_aggregator

from .support import (
    SERVICE,
    User,
    chain_settings,
    channel,
    code_node,
    manual_run,
    manual_trigger,
    workflow,
)

pytestmark = pytest.mark.integration

A_SECRET_VALUE = "alice-secret-value-6f1c"
A_WF_SECRET_VALUE = "alice-workflow-secret-93ab"
A_SHARED_VALUE = "alice-shared-value-77d0"
A_NAME = "alice-private-flow"
A_CHECK = (
    "return [apContext.configVars.a_only_secret === 'alice-secret-value-6f1c',"
    " apContext.configVars.wf_secret === 'alice-workflow-secret-93ab',"
    " apContext.configVars.shared_name === 'alice-shared-value-77d0']"
)


@dataclass
class Alice:
    """A's records, as ids, cursors and markers."""

    user: User
    hidden_wallet: str
    task: str
    executions: list[str]
    task_cursor: str
    execution_cursor: str
    secret_cursor: str
    markers: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Case:
    method: str
    request: Any
    expect: str = "nothing"  # "refused", "nothing" (answer without A's data), "public"
    echo: tuple[str, ...] = ()  # A markers the answer may repeat from the request


async def make_alice(stub: avs_pb2_grpc.AggregatorStub) -> Alice:
    a = await User(stub, Account.create().address).with_wallet()
    hidden = (await a.call("GetWallet", avs_pb2.GetWalletReq(salt="7"))).address
    await a.call("SetWallet", avs_pb2.SetWalletReq(salt="7", is_hidden=False))
    request = workflow(a.runner, nodes=[code_node(A_CHECK)], name=A_NAME)
    task = (await a.call("CreateTask", request)).id
    for name, value, workflow_id in (
        ("a_only_secret", A_SECRET_VALUE, ""),
        ("shared_name", A_SHARED_VALUE, ""),
        ("wf_secret", A_WF_SECRET_VALUE, task),
    ):
        await a.call(
            "CreateSecret",
            avs_pb2.CreateOrUpdateSecretReq(name=name, secret=value, workflow_id=workflow_id),
        )
    runs = [
        (await a.call("TriggerTask", manual_run(task, {"n": i}, blocking=True))).execution_id
        for i in range(2)
    ]
    tasks = await a.call(
        "ListTasks", avs_pb2.ListTasksReq(smart_wallet_address=[a.runner], limit=1)
    )
    executions = await a.call("ListExecutions", avs_pb2.ListExecutionsReq(task_ids=[task], limit=1))
    secrets = await a.call("ListSecrets", avs_pb2.ListSecretsReq(limit=1))
    alice = Alice(
        a,
        hidden,
        task,
        runs,
        tasks.page_info.end_cursor,
        executions.page_info.end_cursor,
        secrets.page_info.end_cursor,
    )
    alice.markers = {
        m.lower()
        for m in (
            a.address,
            a.runner,
            hidden,
            task,
            *runs,
            "a_only_secret",
            "wf_secret",
            A_SECRET_VALUE,
            A_WF_SECRET_VALUE,
            A_SHARED_VALUE,
            A_NAME,
        )
    }
    return alice


def cases(alice: Alice, bob: User, bob_task: str, bob_run: str, token: str) -> list[Case]:
    a = alice
    a_run = a.executions[0]
    leak = code_node("return JSON.stringify(apContext.configVars)")
    with_a_runner = workflow(a.user.runner, nodes=[code_node("return 1")])
    simulate_a = avs_pb2.SimulateTaskReq(
        trigger=with_a_runner.trigger, nodes=with_a_runner.nodes, edges=with_a_runner.edges
    )
    simulate_a.input_variables["settings"].CopyFrom(with_a_runner.input_variables["settings"])
    bob_flow = workflow(bob.runner, nodes=[leak])
    simulate_b = avs_pb2.SimulateTaskReq(
        trigger=bob_flow.trigger, nodes=bob_flow.nodes, edges=bob_flow.edges
    )
    simulate_b.input_variables["settings"].CopyFrom(bob_flow.input_variables["settings"])
    block = avs_pb2.TaskTrigger(id="t1", name="tick", type=avs_pb2.TRIGGER_TYPE_BLOCK)
    block.block.config.interval = 10
    return [
        Case("GetKey", avs_pb2.GetKeyReq(message="", signature=bob.key), "refused"),
        Case("GetSignatureFormat", avs_pb2.GetSignatureFormatReq(wallet=a.user.address), "public"),
        Case("GetNonce", avs_pb2.NonceRequest(owner=a.user.runner), "public"),
        Case("GetWallet", avs_pb2.GetWalletReq(salt="7")),
        Case("SetWallet", avs_pb2.SetWalletReq(salt="7", is_hidden=True)),
        Case("ListWallets", avs_pb2.ListWalletReq()),
        Case("ListWallets", avs_pb2.ListWalletReq(salt="7")),
        Case(
            "WithdrawFunds",
            avs_pb2.WithdrawFundsReq(
                smart_wallet_address=a.user.runner,
                recipient_address=bob.address,
                amount="1",
                token="ETH",
            ),
            "refused",
            echo=(a.user.runner,),
        ),
        Case("CreateTask", with_a_runner, "refused"),
        Case("ListTasks", avs_pb2.ListTasksReq(smart_wallet_address=[a.user.runner]), "refused"),
        Case(
            "ListTasks",
            avs_pb2.ListTasksReq(smart_wallet_address=[bob.runner], after=a.task_cursor),
        ),
        Case(
            "ListTasks",
            avs_pb2.ListTasksReq(smart_wallet_address=[bob.runner], before=a.task_cursor),
        ),
        Case("GetTask", avs_pb2.IdReq(id=a.task), "refused"),
        Case("ListExecutions", avs_pb2.ListExecutionsReq(task_ids=[a.task]), "refused"),
        Case(
            "ListExecutions",
            avs_pb2.ListExecutionsReq(task_ids=[a.task, bob_task]),
            "refused",
        ),
        Case(
            "ListExecutions",
            avs_pb2.ListExecutionsReq(task_ids=[bob_task], after=a.execution_cursor),
        ),
        Case("GetExecution", avs_pb2.ExecutionReq(task_id=a.task, execution_id=a_run), "refused"),
        Case("GetExecution", avs_pb2.ExecutionReq(task_id=bob_task, execution_id=a_run), "refused"),
        Case(
            "GetExecutionStatus",
            avs_pb2.ExecutionReq(task_id=a.task, execution_id=a_run),
            "refused",
        ),
        Case(
            "GetExecutionStatus",
            avs_pb2.ExecutionReq(task_id=bob_task, execution_id=a_run),
            "refused",
        ),
        Case(
            "SetTaskEnabled",
            avs_pb2.SetTaskEnabledReq(id=a.task, enabled=False),
            echo=(a.task,),
        ),
        Case("DeleteTask", avs_pb2.IdReq(id=a.task), echo=(a.task,)),
        Case("CancelTask", avs_pb2.IdReq(id=a.task)),
        Case("TriggerTask", manual_run(a.task, {"n": 9}, blocking=True), "refused"),
        Case("TriggerTask", manual_run(a.task, {"n": 9}), "refused"),
        # A secret may name any workflow id (upstream's rule): Bob's lives under his own key
        # and never reaches A's runs (checked at the end of the test).
        Case(
            "CreateSecret",
            avs_pb2.CreateOrUpdateSecretReq(name="wf_secret", secret="x" * 8, workflow_id=a.task),
            echo=(a.task, "wf_secret"),
        ),
        Case(
            "CreateSecret",
            avs_pb2.CreateOrUpdateSecretReq(name="shared_name", secret="bob-shared-value"),
        ),
        Case(
            "UpdateSecret",
            avs_pb2.CreateOrUpdateSecretReq(name="a_only_secret", secret="bob-overwrite"),
            "refused",
            echo=("a_only_secret",),
        ),
        Case(
            "UpdateSecret",
            avs_pb2.CreateOrUpdateSecretReq(name="wf_secret", secret="bob-xx", workflow_id=a.task),
            echo=(a.task, "wf_secret"),
        ),
        Case(
            "DeleteSecret",
            avs_pb2.DeleteSecretReq(name="a_only_secret"),
            echo=("a_only_secret",),
        ),
        Case(
            "DeleteSecret",
            avs_pb2.DeleteSecretReq(name="wf_secret", workflow_id=a.task),
            echo=("wf_secret", a.task),
        ),
        Case("ListSecrets", avs_pb2.ListSecretsReq(include_timestamps=True)),
        Case("ListSecrets", avs_pb2.ListSecretsReq(workflow_id=a.task)),
        Case("ListSecrets", avs_pb2.ListSecretsReq(after=a.secret_cursor)),
        Case("ListSecrets", avs_pb2.ListSecretsReq(before=a.secret_cursor)),
        Case("GetWorkflowCount", avs_pb2.GetWorkflowCountReq(addresses=[a.user.runner])),
        Case("GetExecutionCount", avs_pb2.GetExecutionCountReq(workflow_ids=[a.task])),
        Case("GetExecutionStats", avs_pb2.GetExecutionStatsReq(workflow_ids=[a.task])),
        Case("RunNodeWithInputs", avs_pb2.RunNodeWithInputsReq(node=leak)),
        Case("RunTrigger", avs_pb2.RunTriggerReq(trigger=block)),
        Case("SimulateTask", simulate_a),  # §7.12: no ownership check on a runner it never uses
        Case("SimulateTask", simulate_b),
        Case("GetTokenMetadata", avs_pb2.GetTokenMetadataReq(address=token), "public"),
        Case(
            "EstimateFees",
            avs_pb2.EstimateFeesReq(
                trigger=manual_trigger(), nodes=with_a_runner.nodes, runner=a.user.runner
            ),
        ),
    ]


@pytest.fixture
async def server(devnet: DevnetState, tmp_path: Path) -> AsyncIterator[RunningAggregator]:
    wallet = chain_settings(devnet) | {
        "bundler_url": devnet.bundler_url,
        "controller_private_key": devnet.controller.private_key,
        "entrypoint_address": devnet.entrypoint,
        "paymaster_address": devnet.paymaster,
    }
    config = aggregator_config(tmp_path / "db", smart_wallet=wallet)
    async with running_aggregator(config) as running:
        yield running


async def alice_records(server: RunningAggregator, alice: Alice) -> dict[bytes, bytes]:
    kv = server.app.queue._kv  # the app's store (test-only access)
    owner = alice.user.address.lower().encode()
    marks = [owner, alice.task.encode()]

    def alices(key: bytes) -> bool:
        if key.startswith(b"secret:"):
            return owner in key  # another user's secret naming A's workflow id is theirs
        return any(m in key for m in marks)

    return {k: v for k, v in await kv.scan(b"") if alices(k)}


async def alice_view(alice: Alice) -> list[Any]:
    a = alice.user
    reads = [
        await a.call("GetTask", avs_pb2.IdReq(id=alice.task)),
        await a.call("ListExecutions", avs_pb2.ListExecutionsReq(task_ids=[alice.task])),
        await a.call("ListSecrets", avs_pb2.ListSecretsReq(include_timestamps=True)),
        await a.call("ListWallets", avs_pb2.ListWalletReq()),
        await a.call("GetWorkflowCount", avs_pb2.GetWorkflowCountReq()),
    ]
    return [MessageToDict(r) for r in reads]


async def test_user_b_with_a_s_identifiers_gets_nothing_and_changes_nothing(
    server: RunningAggregator, devnet: DevnetState
) -> None:
    async with channel(server.target) as ch:
        stub = avs_pb2_grpc.AggregatorStub(ch)
        alice = await make_alice(stub)
        bob = await User(stub, Account.create().address).with_wallet()
        bob_task = (await bob.call("CreateTask", workflow(bob.runner))).id
        bob_run = (
            await bob.call("TriggerTask", manual_run(bob_task, {}, blocking=True))
        ).execution_id
        table = cases(alice, bob, bob_task, bob_run, devnet.tokens[0].address)
        assert {c.method for c in table} == {m.name for m in SERVICE.methods}, "an RPC is missing"

        records_before = await alice_records(server, alice)
        view_before = await alice_view(alice)
        problems = []
        for case in table:
            problem = await run_case(bob, alice, case)
            if problem:
                problems.append(f"{case.method}: {problem}")
        assert not problems, "\n".join(problems)

        assert await alice_records(server, alice) == records_before
        assert await alice_view(alice) == view_before
        await bob.call(
            "CreateSecret",
            avs_pb2.CreateOrUpdateSecretReq(
                name="wf_secret", secret="bob-planted", workflow_id=alice.task
            ),
        )
        check = await alice.user.call("TriggerTask", manual_run(alice.task, {}, blocking=True))
        assert MessageToDict(check.steps[1].custom_code.data) == [True, True, True]


async def run_case(bob: User, alice: Alice, case: Case) -> str | None:
    try:
        reply = await bob.call(case.method, case.request)
    except grpc.aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL):
            return f"{exc.code().name} {exc.details()}"
        if not exc.details():
            return f"{exc.code().name} without a message"
        return mentions(exc.details() or "", alice, case)
    if case.expect == "refused" and not refused_in_body(reply):
        return f"answered {MessageToJson(reply)[:3000]}"
    if case.expect == "public":
        return None
    return mentions(MessageToJson(reply), alice, case)


def refused_in_body(reply: Any) -> bool:
    """Some RPCs refuse in the answer (``success: false``) rather than with a status."""
    return getattr(reply, "success", True) is False


def mentions(text: str, alice: Alice, case: Case) -> str | None:
    allowed = {e.lower() for e in case.echo}
    found = sorted(m for m in alice.markers - allowed if m in text.lower())
    return f"answer mentions A's {found}: {text[:300]}" if found else None
