"""The README's Python quick start, run as written against a real aggregator on the devnet."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from ap_avs._proto import avs_pb2
from ap_avs.client import AvsClient
from ap_avs.devnet import DevnetState
from ap_avs.testing import aggregator_config, running_aggregator

pytestmark = pytest.mark.integration


async def quick_start(endpoint: str, private_key: str) -> avs_pb2.TriggerTaskResp:
    # --- README quick start (Python) ---
    async with AvsClient(endpoint) as client:
        await client.sign_in(private_key)
        wallet = await client.call("GetWallet", avs_pb2.GetWalletReq(salt="0"))
        task = avs_pb2.CreateTaskReq(
            trigger=avs_pb2.TaskTrigger(
                id="t1", name="start", type=avs_pb2.TRIGGER_TYPE_MANUAL, manual={"config": {}}
            ),
            nodes=[
                avs_pb2.TaskNode(
                    id="n1",
                    name="hello",
                    type=avs_pb2.NODE_TYPE_REST_API,
                    rest_api={"config": {"url": "https://mock-api.ap-aggregator.local/hi"}},
                )
            ],
            edges=[avs_pb2.TaskEdge(id="e1", source="t1", target="n1")],
        )
        task.input_variables["settings"].struct_value.update(
            {"name": "hello", "runner": wallet.address}
        )
        created = await client.call("CreateTask", task)
        return await client.call(
            "TriggerTask", avs_pb2.TriggerTaskReq(task_id=created.id, is_blocking=True)
        )
    # --- end ---


async def test_python_quick_start(devnet: DevnetState, tmp_path: Path) -> None:
    cfg = aggregator_config(
        tmp_path / "db",
        smart_wallet={
            "eth_rpc_url": devnet.rpc_url,
            "chain_id": devnet.chain_id,
            "factory_address": devnet.factory,
        },
    )
    async with running_aggregator(cfg) as server:
        result = await quick_start(server.target, Account.create().key.hex())
    assert result.status == avs_pb2.EXECUTION_STATUS_SUCCESS, result.error
    assert [s.name for s in result.steps] == ["start", "hello"]
    assert result.steps[1].rest_api.data.struct_value["status"] == 200
