"""Secrets never leave: not in RPC answers (runs, reads, simulations, errors), not in step
outputs, logs or errors, not in the log records of the whole server lifetime, and not in the
raw store files (encrypted at rest).

A workflow uses two secrets (user and workflow scope) every way it can: in a REST URL, header
and body (the loopback server echoes the path back), returned and logged by custom code, thrown
in an error, and in the URL of a call that fails. The value is letters and digits only, so its
JSON- and URL-escaped forms are the value itself.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from eth_account import Account
from google.protobuf.json_format import MessageToJson

from ap_avs._proto import avs_pb2, avs_pb2_grpc
from ap_avs.devnet import DevnetState
from ap_avs.testing import aggregator_config, running_aggregator

from .support import (
    HttpTarget,
    User,
    capture_daemon_logs,
    chain_settings,
    channel,
    code_node,
    eventually,
    manual_run,
    rest_node,
    workflow,
)

pytestmark = pytest.mark.integration

USER_SECRET = "S3cretUserValue7fA9b2Qx"
FLOW_SECRET = "S3cretFlowValue41cD8eZk"
SECRETS = (USER_SECRET.encode(), FLOW_SECRET.encode())


def uses(url: str) -> list[avs_pb2.TaskNode]:
    both = "{{apContext.configVars.api_key}}-{{apContext.configVars.flow_key}}"
    return [
        rest_node(
            f"{url}/hook/{both}",
            node_id="n1",
            name="call",
            method="POST",
            body='{"k": "' + both + '"}',
            headers={"Authorization": "Bearer {{apContext.configVars.api_key}}"},
        ),
        code_node(
            "console.log('key', apContext.configVars.api_key, apContext.configVars.flow_key);"
            " return {k: apContext.configVars.api_key, f: apContext.configVars.flow_key,"
            " echoed: call.data}",
            node_id="n2",
            name="reveal",
        ),
        code_node(
            "throw new Error('boom ' + apContext.configVars.api_key"
            " + apContext.configVars.flow_key)",
            node_id="n3",
            name="explode",
        ),
        rest_node(
            "http://127.0.0.1:9/{{apContext.configVars.api_key}}", node_id="n4", name="refused"
        ),
    ]


def leaks(text: str | bytes) -> list[bytes]:
    data = text.encode() if isinstance(text, str) else text
    return [s for s in SECRETS if s in data]


async def test_secret_values_never_leave_the_server(devnet: DevnetState, tmp_path: Path) -> None:
    db = tmp_path / "db"
    config = aggregator_config(db, smart_wallet=chain_settings(devnet))
    answers: list[str] = []
    with capture_daemon_logs("debug") as logs:
        async with HttpTarget() as http:
            async with running_aggregator(config) as server, channel(server.target) as ch:
                user = await User(
                    avs_pb2_grpc.AggregatorStub(ch), Account.create().address
                ).with_wallet()

                async def call(method: str, request: object) -> object:
                    try:
                        reply = await user.call(method, request)
                    except grpc.aio.AioRpcError as exc:
                        answers.append(f"{method} {exc.code().name}: {exc.details()}")
                        return None
                    answers.append(f"{method}: {MessageToJson(reply)}")  # type: ignore[arg-type]
                    return reply

                request = workflow(user.runner, nodes=uses(http.url))
                request.edges.add(id="x1", source="t1", target="n3")
                task = await call("CreateTask", request)
                assert task is not None, answers[-1]
                task_id = task.id  # type: ignore[attr-defined]
                await call(
                    "CreateSecret",
                    avs_pb2.CreateOrUpdateSecretReq(name="api_key", secret=USER_SECRET),
                )
                await call(
                    "CreateSecret",
                    avs_pb2.CreateOrUpdateSecretReq(
                        name="flow_key", secret=FLOW_SECRET, workflow_id=task_id
                    ),
                )
                await call(
                    "UpdateSecret",
                    avs_pb2.CreateOrUpdateSecretReq(name="api_key", secret=USER_SECRET),
                )
                # refusals that carry the value must not repeat it
                for bad in (
                    avs_pb2.CreateOrUpdateSecretReq(name="bad name!", secret=USER_SECRET),
                    avs_pb2.CreateOrUpdateSecretReq(name="x", secret=USER_SECRET * 10_000),
                    avs_pb2.CreateOrUpdateSecretReq(
                        name="api_key", secret=USER_SECRET, workflow_id="nope"
                    ),
                ):
                    await call("CreateSecret", bad)
                await call(
                    "UpdateSecret",
                    avs_pb2.CreateOrUpdateSecretReq(name="missing", secret=USER_SECRET),
                )

                blocking = await call("TriggerTask", manual_run(task_id, {"a": 1}, blocking=True))
                assert blocking is not None
                queued = await call("TriggerTask", manual_run(task_id, {"a": 2}))
                assert queued is not None

                async def finished() -> bool:
                    reply = await user.call(
                        "GetExecutionStatus",
                        avs_pb2.ExecutionReq(
                            task_id=task_id,
                            execution_id=queued.execution_id,  # type: ignore[attr-defined]
                        ),
                    )
                    return bool(reply.status != avs_pb2.EXECUTION_STATUS_PENDING)

                await eventually(finished, what="the queued run")
                for execution_id in (blocking.execution_id, queued.execution_id):  # type: ignore[attr-defined]
                    await call(
                        "GetExecution",
                        avs_pb2.ExecutionReq(task_id=task_id, execution_id=execution_id),
                    )
                await call("ListExecutions", avs_pb2.ListExecutionsReq(task_ids=[task_id]))
                await call("GetTask", avs_pb2.IdReq(id=task_id))
                await call(
                    "ListSecrets",
                    avs_pb2.ListSecretsReq(include_timestamps=True, include_created_by=True),
                )
                simulation = avs_pb2.SimulateTaskReq(
                    trigger=request.trigger, nodes=request.nodes, edges=request.edges
                )
                simulation.input_variables["settings"].CopyFrom(request.input_variables["settings"])
                simulation.trigger.manual.config.data.struct_value.update({"a": 3})
                await call("SimulateTask", simulation)
                for node in uses(http.url):
                    await call("RunNodeWithInputs", avs_pb2.RunNodeWithInputsReq(node=node))
            # the server has stopped: its files are final
            store_files = {p.name: p.read_bytes() for p in db.iterdir() if p.is_file()}

    assert any("finished" in r.getMessage() for r in logs.records), "the capture saw no run"
    assert http.requests, "the workflow never called the loopback server"
    assert any(USER_SECRET.encode() in r for r in http.requests), "the secret was not used"
    redacted = [a.split(":")[0] for a in answers if '"k": "***"' in a]
    assert len(redacted) >= 5, f"redacted step outputs only in {redacted}"
    problems = [a[:200] for a in answers if leaks(a)]
    problems += [f"log: {line[:200]}" for line in logs.text().splitlines() if leaks(line)]
    problems += [f"store file {name}" for name, data in store_files.items() if leaks(data)]
    assert not problems, "\n".join(problems)
    assert (db / "secrets.key").stat().st_mode & 0o077 == 0
