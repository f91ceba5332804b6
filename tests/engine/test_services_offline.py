"""Engine services on the in-memory store, with the chain client on an injected transport:
no anvil, no bundler (the factory's ``getAddress`` is answered by a MockTransport)."""

from __future__ import annotations

import json

import httpx
from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.chain import ChainClient
from ap_avs.domain.validation import WorkflowLimits
from ap_avs.engine.wallets import WalletService
from ap_avs.engine.workflow_events import WorkflowEvents
from ap_avs.engine.workflows import WorkflowService
from ap_avs.store.memory import MemoryKV
from ap_avs.store.wallets import WalletRepo
from ap_avs.store.workflows import WorkflowRepo

FACTORY = "0x" + "fa" * 20
ENTRYPOINT = "0x5FF137D4b0FDCD49DcA30c7CF57E578a026d2789"
OWNER = to_checksum_address("0x" + "0b" * 20)


def factory(request: httpx.Request) -> httpx.Response:
    """``getAddress(owner, salt)``: a made-up but stable wallet per (owner, salt)."""
    body = json.loads(request.content)
    assert body["method"] == "eth_call"
    owner, salt = decode(["address", "uint256"], bytes.fromhex(body["params"][0]["data"][10:]))
    wallet = keccak(bytes.fromhex(owner[2:]) + salt.to_bytes(32, "big"))[:20]
    result = "0x" + encode(["address"], ["0x" + wallet.hex()]).hex()
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], "result": result})


async def test_wallets_and_workflow_counts_run_without_a_chain() -> None:
    kv = MemoryKV()
    chain = ChainClient("http://chain.test", transport=httpx.MockTransport(factory))
    wallets = WalletService(
        WalletRepo(kv),
        chain,
        default_factory=FACTORY,
        entrypoint=ENTRYPOINT,
        max_wallets_per_owner=5,
    )
    workflows = WorkflowService(
        WorkflowRepo(kv), wallets, WorkflowEvents(), WorkflowLimits(), max_active_per_owner=10
    )
    view = await wallets.get_wallet(OWNER, "0", "")
    assert view.wallet.address == await wallets.derive(OWNER, FACTORY, 0)
    assert await wallets.owns(OWNER, view.wallet.address)
    assert not await wallets.owns(OWNER, view.wallet.address + "\n")
    assert await workflows.count(OWNER, [view.wallet.address, view.wallet.address + "\n"]) == 0
    await chain.aclose()
