"""What the step journal costs: executions/s of a UserOp workflow with it and without it.

Figure: a stored one-node workflow (an ETH transfer of 1 wei, sent as a sponsored UserOp
through the alto bundler on a private devnet) run end to end through ``RunService`` with the
step journal (intent committed before the send, outcome after, the UserOp on its step's own
nonce key, looked up on chain after a crash). Baseline, same run, same devnet, same wallets:
the same workflow through a ``RunService`` built without a journal (the UserOp on the wallet's
key-0 nonce). :data:`WALLETS` wallets, one worker each, rounds alternate between the two.
Target (issue 16): the journal costs at most 10 % (ratio >= 0.90).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from eth_account import Account

from ap_avs.aggregator.compose import build_chain_stack
from ap_avs.chain import ChainClient
from ap_avs.cipher import SecretCipher
from ap_avs.devnet import DevnetOptions, DevnetState
from ap_avs.domain.ids import new_id
from ap_avs.domain.nodes import Edge, EthTransferConfig, Node, NodeKind
from ap_avs.domain.triggers import ManualTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.wallets import Wallet
from ap_avs.domain.workflow import TaskStatus, Workflow
from ap_avs.engine.executor import Executor
from ap_avs.engine.queue import FiredTrigger
from ap_avs.engine.registry import default_runners
from ap_avs.engine.runs import RunService
from ap_avs.engine.secrets import RunSecrets
from ap_avs.engine.templates import TemplateEngine
from ap_avs.engine.workflow_events import WorkflowEvents
from ap_avs.runners.base import EngineOptions
from ap_avs.sandbox import Limits, SandboxPool
from ap_avs.store import LmdbKV
from ap_avs.store.executions import ExecutionRepo
from ap_avs.store.journal import JournalRepo
from ap_avs.store.secrets import SecretRepo
from ap_avs.store.workflows import WorkflowRepo
from ap_avs.testing import DevnetThread
from benchmarks.report import Result

WALLETS = 4
RECIPIENT = "0x" + "5a" * 20


def workflow(owner: str, wallet: str) -> Workflow:
    return Workflow(
        id=new_id(now_ms=time.time_ns() // 1_000_000),
        owner=owner,
        smart_wallet_address=wallet,
        start_at=0,
        expired_at=0,
        name="bench journal",
        completed_at=0,
        max_execution=1_000_000,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=Trigger("t", "start", TriggerKind.MANUAL, ManualTriggerConfig()),
        nodes=(Node("pay", "pay", NodeKind.ETH_TRANSFER, EthTransferConfig(RECIPIENT, "1")),),
        edges=(Edge("e", "t", "pay"),),
        input_variables={"settings": {"name": "bench", "runner": wallet}},
    )


async def _rates(devnet: DevnetState, tmp: Path, runs: int, rounds: int) -> tuple[float, float]:
    chain = ChainClient(devnet.rpc_url)
    stored: dict[tuple[str, str], Wallet] = {}

    async def lookup(owner: str, address: str) -> Wallet | None:
        return stored.get((owner.lower(), address.lower()))

    async def derive(owner: str, factory: str, salt: int) -> str:
        return await chain.smart_wallet_address(factory, owner, salt)

    stack = build_chain_stack(
        chain,
        devnet.chain_id,
        lookup=lookup,
        derive=derive,
        default_wallet=lambda owner: derive(owner, devnet.factory, 0),
        factory=devnet.factory,
        entrypoint=devnet.entrypoint,
        bundler_url=devnet.bundler_url or "",
        controller_key=devnet.controller.private_key,
        paymaster=devnet.paymaster,
        confirm_timeout=30.0,
    )
    kv = LmdbKV(tmp / "db")
    flows: list[Workflow] = []
    try:
        for _ in range(WALLETS):
            owner = Account.create().address
            address = await derive(owner, devnet.factory, 0)
            stored[(owner.lower(), address.lower())] = Wallet(owner, address, devnet.factory, 0)
            await chain.request("anvil_setBalance", [address, hex(10**18)])
            flow = workflow(owner, address)
            await WorkflowRepo(kv).create(flow, max_active_per_owner=None)
            flows.append(flow)

        async def owned(owner: str, wallet: str) -> bool:
            return True

        async with (
            SandboxPool(size=1, limits=Limits()) as pool,
            httpx.AsyncClient() as http,
        ):
            executor = Executor(
                default_runners(extra=stack.runners),
                TemplateEngine(pool),
                pool,
                http,
                EngineOptions(chain_id=devnet.chain_id),
            )
            secrets = RunSecrets(SecretRepo(kv, SecretCipher(b"j" * 32)), {})
            services = {
                journaled: RunService(
                    ExecutionRepo(kv),
                    executor,
                    secrets,
                    WorkflowEvents(),
                    owned,
                    journal=JournalRepo(kv) if journaled else None,
                )
                for journaled in (True, False)
            }

            async def rate(service: RunService, count: int) -> float:
                async def worker(flow: Workflow) -> None:
                    for _ in range(count):
                        fired = FiredTrigger(TriggerKind.MANUAL, {})
                        execution = await service.run(
                            flow.id, new_id(now_ms=time.time_ns() // 1_000_000), fired
                        )
                        if execution is None or execution.error:
                            raise RuntimeError(f"benchmark run failed: {execution}")

                start = time.perf_counter()
                await asyncio.gather(*(worker(flow) for flow in flows))
                return count * len(flows) / (time.perf_counter() - start)

            await rate(services[False], 1)  # deploys the wallets (initCode) outside the figures
            with_journal: list[float] = []
            without: list[float] = []
            for _ in range(rounds):
                without.append(await rate(services[False], runs))
                with_journal.append(await rate(services[True], runs))
    finally:
        await kv.close()
        await stack.aclose()
        await chain.aclose()
    return statistics.median(with_journal), statistics.median(without)


async def run(quick: bool) -> list[Result]:
    runs = 2 if quick else 10
    rounds = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        devnet = DevnetThread(DevnetOptions(state_file=Path(tmp) / "state.json"))
        state = await asyncio.to_thread(devnet.start)
        try:
            journaled, plain = await _rates(state, Path(tmp), runs, rounds)
        finally:
            await asyncio.to_thread(devnet.stop)
    return [
        Result(
            "executions/s, ETH transfer UserOp (bundler), with the step journal",
            journaled,
            "runs/s",
            plain,
            ">= 0.90 x the same runs without the journal",
        )
    ]
