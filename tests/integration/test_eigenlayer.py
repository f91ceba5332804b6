"""EigenLayer on the devnet: the real core contracts (eigensdk package data) behind proxies.

* the devnet deploys them and our operator set at the recorded addresses;
* ``ap-avs status`` explains each missing step, ``ap-avs register`` takes them, refusals come
  back with the contracts' reasons decoded;
* a real aggregator (config ``eigenlayer``) admits staked operator daemons and assigns them
  work, refuses an unregistered operator with a valid signature (PERMISSION_DENIED), and when an
  operator deregisters, or deallocates below the minimum, its workflows go to another operator
  within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from typer.testing import CliRunner

from ap_avs._proto import avs_pb2, avs_pb2_grpc, node_pb2, node_pb2_grpc
from ap_avs.auth.operator_requests import OperatorSigner
from ap_avs.chain import ChainClient
from ap_avs.cli import app as cli_app
from ap_avs.config import EigenLayerConfig, OperatorConfig, load_settings
from ap_avs.devnet import EIGENLAYER_ADDRESSES as EXPECTED
from ap_avs.devnet import EIGENLAYER_VERSION as VERSION
from ap_avs.devnet import DevnetOptions, DevnetState
from ap_avs.devstack import (
    DEVNET_MINIMUM_STAKE,
    StackOptions,
    aggregator_settings,
    eigenlayer_settings,
    operator_settings,
    stake_operator,
)
from ap_avs.eigenlayer import (
    WAD,
    ContractRefused,
    EigenLayerReader,
    EigenLayerTarget,
    OperatorTransactions,
    target_of,
)
from ap_avs.eigenlayer.keys import create_keystore
from ap_avs.eigenlayer.operator_flow import RegisterOptions, register
from ap_avs.operator import OperatorApp
from ap_avs.testing import DevnetThread, aggregator_config, running_aggregator, user_key

from .support import Chain

pytestmark = pytest.mark.integration
STAKE_UNIT = 10**18


@pytest.fixture(scope="module")
def el_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetState]:
    """A devnet with EigenLayer and no bundler, for this module only (tests change its stake)."""
    state_file = tmp_path_factory.mktemp("el-devnet") / "state.json"
    runner = DevnetThread(DevnetOptions(state_file=state_file, bundler=False, eigenlayer=True))
    state = runner.start()
    try:
        yield state
    finally:
        runner.stop()


@pytest.fixture
async def el_chain(el_devnet: DevnetState) -> AsyncIterator[Chain]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield Chain(client, el_devnet.rpc_url)


def target(devnet: DevnetState) -> EigenLayerTarget:
    section = eigenlayer_settings(devnet)
    assert section is not None
    return target_of(EigenLayerConfig(**section))


async def fresh_operator(chain: Chain, devnet: DevnetState, stake_tokens: int = 10_000) -> str:
    """A new account with ETH and STAKE tokens; returns its key."""
    account = Account.create()
    await chain.call("anvil_setBalance", account.address, hex(100 * 10**18))
    el = devnet.eigenlayer
    assert el is not None
    data = keccak(text="mint(address,uint256)")[:4] + encode(
        ["address", "uint256"], [account.address, stake_tokens * STAKE_UNIT]
    )
    await chain.send(devnet.deployer.address, el.stake_token.address, data=data)
    return "0x" + bytes(account.key).hex()


async def stake(devnet: DevnetState, key: str, deposit: str = "1000") -> None:
    async with ChainClient(devnet.rpc_url) as client:
        t = target(devnet)

        async def mine() -> None:
            await client.request("evm_mine", [])

        outcome = await register(
            EigenLayerReader(client, t),
            OperatorTransactions(client, t, key),
            RegisterOptions(deposit=deposit, allocate_percent=Decimal(100), wait_seconds=30),
            advance=mine,
        )
    assert outcome.steps == (), outcome.steps


# --- the deployment ---------------------------------------------------------------------------


async def test_devnet_deploys_eigenlayer_at_the_recorded_addresses(
    el_devnet: DevnetState, el_chain: Chain
) -> None:
    el = el_devnet.eigenlayer
    assert el is not None
    for label in (
        "delegation_manager",
        "strategy_manager",
        "allocation_manager",
        "avs_directory",
        "permission_controller",
        "proxy_admin",
        "pauser_registry",
        "eigen_pod_manager",
        "registrar",
        "strategy",
    ):
        address = getattr(el, label)
        assert address == EXPECTED[label], label
        assert len(await el_chain.code(address)) > 2, label
    assert el.stake_token.address == EXPECTED["stake_token"]
    # The proxies run the package's implementations, initialised with our deployer as owner.
    for label in ("delegation_manager", "strategy_manager", "allocation_manager", "avs_directory"):
        address = getattr(el, label)
        (version,) = await el_chain.read(address, "version()", [], [], ["string"])
        assert version == VERSION
        (owner,) = await el_chain.read(address, "owner()", [], [], ["address"])
        assert owner.lower() == el_devnet.deployer.address.lower()
    (supports,) = await el_chain.read(
        el.registrar, "supportsAVS(address)", ["address"], [el.avs], ["bool"]
    )
    assert supports is True
    async with ChainClient(el_devnet.rpc_url) as client:
        reader = EigenLayerReader(client, target(el_devnet))
        assert await reader.set_exists()
        assert await reader.set_strategies() == [el.strategy]
    # The state file describes it, and reads back the same.
    assert DevnetState.from_json(el_devnet.to_json()) == el_devnet


def test_derived_configs_admit_by_stake(el_devnet: DevnetState, tmp_path: Path) -> None:
    options = StackOptions(directory=tmp_path)
    agg = aggregator_config(
        tmp_path,
        **{
            k: v
            for k, v in aggregator_settings(el_devnet, options).items()
            if k in ("eigenlayer", "approved_operators")
        },
    )
    assert agg.eigenlayer is not None
    assert agg.approved_operators == []
    assert agg.eigenlayer.strategies[0].minimum_stake == DEVNET_MINIMUM_STAKE
    op = load_settings(OperatorConfig, operator_settings(el_devnet, options), "derived")
    assert op.eigenlayer is not None
    assert op.eigenlayer.allocation_manager == agg.eigenlayer.allocation_manager


# --- the operator's commands ------------------------------------------------------------------


def write_operator_config(devnet: DevnetState, path: Path, **extra: Any) -> Path:
    section = eigenlayer_settings(devnet)
    assert section is not None
    del section["refresh_seconds"], section["event_poll_seconds"]
    path.write_text(yaml.safe_dump({"eigenlayer": section, **extra}))
    return path


def test_status_explains_each_missing_step_and_register_takes_them(
    el_devnet: DevnetState, tmp_path: Path
) -> None:
    async def setup() -> str:
        async with httpx.AsyncClient(timeout=10.0) as client:
            return await fresh_operator(Chain(client, el_devnet.rpc_url), el_devnet, 1000)

    key = asyncio.run(setup())
    config = write_operator_config(el_devnet, tmp_path / "op.yaml", ecdsa_private_key=key)
    cli = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        return cli.invoke(cli_app, [*args, "-c", str(config)], env=env)

    fresh = run("status")
    assert fresh.exit_code == 1, fresh.output
    out = fresh.output
    assert "EigenLayer operator   not registered" in out
    assert "1. register as an EigenLayer operator" in out
    assert f"2. deposit at least {DEVNET_MINIMUM_STAKE} more shares" in out
    assert "3. allocate stake of strategy" in out
    assert "4. register for the AVS's operator set" in out
    assert f"ap-avs register -c {config} --allocate 100" in out

    # Refused before anything is sent: more tokens than it holds.
    broke = run("register", "--deposit", "5000")
    assert broke.exit_code == 2
    assert "holds only 1000000000000000000000" in broke.output
    assert "1. register as an EigenLayer operator" in run("status").output  # nothing was sent

    joined = run("register", "--deposit", "50", "--allocate", "100", "--dev-mine")
    assert joined.exit_code == 0, joined.output
    assert "sent: register as operator" in joined.output
    assert "sent: register for the operator set" in joined.output
    below = run("status")
    assert below.exit_code == 1
    assert "operator set          member" in below.output
    assert f"slashable {50 * STAKE_UNIT}, minimum {DEVNET_MINIMUM_STAKE}: below minimum" in (
        below.output
    )
    assert f"deposit at least {50 * STAKE_UNIT} more shares" in below.output

    topped = run("register", "--deposit", "60")
    assert topped.exit_code == 0, topped.output
    assert "skipped: already registered as an EigenLayer operator" in topped.output
    assert "skipped: already a member of operator set 0" in topped.output
    ready = run("status")
    assert ready.exit_code == 0, ready.output
    assert f"slashable {110 * STAKE_UNIT}, minimum {DEVNET_MINIMUM_STAKE}: ok" in ready.output
    assert "ready: a member with the minimum slashable stake" in ready.output

    left = run("deregister")
    assert left.exit_code == 0, left.output
    assert "sent: deregister from the operator set" in left.output
    again = run("deregister")
    assert "skipped: not a member of operator set 0" in again.output
    gone = run("status")
    assert gone.exit_code == 1
    assert "register for the AVS's operator set" in gone.output

    # The same operator from an encrypted keystore, password from the environment.
    keystore = tmp_path / "op.ecdsa.key.json"
    create_keystore(keystore, "secret", key, iterations=2)
    by_file = write_operator_config(
        el_devnet, tmp_path / "file.yaml", ecdsa_private_key_store_path=str(keystore)
    )
    no_password = cli.invoke(cli_app, ["status", "-c", str(by_file)], env={})
    assert no_password.exit_code == 2
    assert "AP_AVS_ECDSA_KEY_PASSWORD" in no_password.output
    from_file = cli.invoke(
        cli_app, ["status", "-c", str(by_file)], env={"AP_AVS_ECDSA_KEY_PASSWORD": "secret"}
    )
    assert Account.from_key(key).address in from_file.output


async def test_refusals_carry_the_contracts_reasons(
    el_devnet: DevnetState, el_chain: Chain
) -> None:
    key = await fresh_operator(el_chain, el_devnet)
    async with ChainClient(el_devnet.rpc_url) as client:
        txs = OperatorTransactions(client, target(el_devnet), key)
        with pytest.raises(ContractRefused, match=r"InvalidOperator\(\)") as info:
            await txs.register_for_set()
        assert "not registered as an EigenLayer operator" in info.value.message
        await txs.register_as_operator(allocation_delay=0, metadata_uri="")
        el = el_devnet.eigenlayer
        assert el is not None
        with pytest.raises(ContractRefused, match=r"UninitializedAllocationDelay\(\)"):
            await txs.allocate({el.strategy: WAD})
        with pytest.raises(ContractRefused, match=r"ActivelyDelegated|already"):
            await txs.register_as_operator(allocation_delay=0, metadata_uri="")


# --- admission by the aggregator ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def aggregator(devnet: DevnetState, tmp_path: Path) -> AsyncIterator[Any]:
    section = eigenlayer_settings(devnet)
    assert section is not None
    section.update(event_poll_seconds=0.2, refresh_seconds=30.0)
    cfg = aggregator_config(
        tmp_path / "agg",
        smart_wallet={
            "eth_rpc_url": devnet.rpc_url,
            "chain_id": devnet.chain_id,
            "factory_address": devnet.factory,
        },
        eigenlayer=section,
        operators={"operator_timeout_seconds": 30, "reconnect_window_seconds": 0.2},
    )
    async with running_aggregator(cfg) as server:
        yield server


@contextlib.asynccontextmanager
async def daemon(
    devnet: DevnetState, key: str, target: str, db: Path
) -> AsyncIterator[OperatorApp]:
    cfg = load_settings(
        OperatorConfig,
        {
            "ecdsa_private_key": key,
            "aggregator_server_ip_port_address": target,
            "enable_node_api": False,
            "db_path": str(db),
            "target_chain": {"eth_rpc_url": devnet.rpc_url},
        },
        "test",
    )
    app = OperatorApp(cfg, poll_interval=0.05, resync_grace=1.0, ping_interval=0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(app.run(stop))
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


async def until(predicate: Callable[[], bool], what: str, within: float = 20.0) -> None:
    """Wait for ``predicate``; the bound is a liveness guard (about 10x the expected figure)."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.05)


def watching(app: OperatorApp, ids: list[str]) -> set[str]:
    roster = getattr(app, "roster", None)
    return {i for i in ids if roster is not None and roster.watching(i)}


async def cron_workflows(target: str, count: int) -> list[str]:
    owner = Account.create().address
    auth = (("authkey", user_key(owner)),)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = avs_pb2_grpc.AggregatorStub(channel)
        runner = (await stub.GetWallet(avs_pb2.GetWalletReq(salt="0"), metadata=auth)).address
        made = []
        for i in range(count):
            trigger = avs_pb2.TaskTrigger(id="t", name="yearly", type=avs_pb2.TRIGGER_TYPE_CRON)
            trigger.cron.config.schedules.append(f"{i} 0 1 1 *")
            node = avs_pb2.TaskNode(
                id="n1",
                name="noop",
                type=avs_pb2.NODE_TYPE_CUSTOM_CODE,
                custom_code=avs_pb2.CustomCodeNode(
                    config=avs_pb2.CustomCodeNode.Config(
                        lang=avs_pb2.LANG_JAVASCRIPT, source="return 1"
                    )
                ),
            )
            req = avs_pb2.CreateTaskReq(
                trigger=trigger,
                nodes=[node],
                edges=[avs_pb2.TaskEdge(id="e1", source="t", target="n1")],
                max_execution=1,
            )
            req.input_variables["settings"].struct_value.update(
                {"name": f"el-{i}", "runner": runner}
            )
            made.append((await stub.CreateTask(req, metadata=auth)).id)
        return made


async def ping_error(target: str, key: str) -> grpc.aio.AioRpcError:
    signer = OperatorSigner(key)
    async with grpc.aio.insecure_channel(target) as channel:
        stub = node_pb2_grpc.NodeStub(channel)
        metadata = signer.metadata("/aggregator.Node/Ping", time.time_ns() // 1_000_000)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.Ping(node_pb2.Checkin(address=signer.address), metadata=metadata)
    return info.value


async def telemetry_shows(server: Any, chain: Chain, operator: str) -> None:
    """/telemetry shows the live operator's membership, allocated stake and the block it last
    reported (its Ping every 0.5 s carries the block its watchers reached)."""
    for _ in range(3):
        await chain.call("evm_mine")
    head = int(await chain.call("eth_blockNumber"), 16)
    url = f"http://127.0.0.1:{server.http_port}"
    async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:

        async def row() -> dict[str, Any]:
            report = (await http.get("/telemetry.json")).json()
            (found,) = [op for op in report["operators"] if op["address"] == operator]
            return dict(found)

        deadline = time.monotonic() + 20  # liveness guard: pings every 0.5 s, cache 5 s
        while (shown := await row())["block_number"] < head:
            assert time.monotonic() < deadline, f"telemetry block stays at {shown}"
            await asyncio.sleep(0.2)
        assert shown["connected"] is True
        assert shown["eigenlayer"]["member"] is True
        assert shown["eigenlayer"]["admitted"] is True
        assert list(shown["eigenlayer"]["slashable"].values()) == [str(1000 * STAKE_UNIT)]
        page = (await http.get("/telemetry")).text
        assert "member, admitted" in page
        assert "1,000" in page
        assert f'<td class="num">{shown["block_number"]}</td>' in page


async def test_admission_follows_stake_and_work_moves_when_it_goes(
    el_devnet: DevnetState, el_chain: Chain, tmp_path: Path
) -> None:
    a, b, c, d = [await fresh_operator(el_chain, el_devnet) for _ in range(4)]
    for key in (a, b, d):
        await stake(el_devnet, key)
    async with aggregator(el_devnet, tmp_path) as server:
        admission = server.app.admission
        assert admission is not None

        # An operator with a valid signature but no registration is refused, and told why.
        refused = await ping_error(server.target, c)
        assert refused.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "is not a member of EigenLayer operator set 0" in (refused.details() or "")
        assert "ap-avs register" in (refused.details() or "")

        ids = await cron_workflows(server.target, 4)
        dispatcher = server.app.node.dispatcher
        async with daemon(el_devnet, a, server.target, tmp_path / "a") as op_a:
            await until(lambda: watching(op_a, ids) == set(ids), "A watches every workflow")
            await telemetry_shows(server, el_chain, Account.from_key(a).address)
            async with (
                daemon(el_devnet, b, server.target, tmp_path / "b") as op_b,
                daemon(el_devnet, d, server.target, tmp_path / "d") as op_d,
            ):
                everyone = (op_a, op_b, op_d)
                await until(
                    lambda: all(watching(op, ids) for op in everyone),
                    "the work is spread over A, B and D",
                )
                addr_a, addr_b, addr_d = (Account.from_key(k).address for k in (a, b, d))
                # A leaves the operator set: its stream ends, its workflows go to B and D.
                async with ChainClient(el_devnet.rpc_url) as client:
                    await OperatorTransactions(client, target(el_devnet), a).deregister_from_set()
                await until(
                    lambda: (
                        not dispatcher.assigned_to(addr_a)
                        and set(dispatcher.assignments()) == set(ids)
                    ),
                    "A's workflows reassigned",
                )
                await until(
                    lambda: watching(op_b, ids) | watching(op_d, ids) == set(ids),
                    "B and D watch everything",
                )
                # A may still watch what it had (refused, it cannot learn otherwise), but
                # nothing it says is taken.
                err = await ping_error(server.target, a)
                assert err.code() is grpc.StatusCode.PERMISSION_DENIED

                # B deallocates below the minimum: admitted until the deallocation takes
                # effect (DEALLOCATION_DELAY blocks), then its workflows go to D.
                el = el_devnet.eigenlayer
                assert el is not None
                async with ChainClient(el_devnet.rpc_url) as client:
                    txs = OperatorTransactions(client, target(el_devnet), b)
                    sent = await txs.allocate({el.strategy: WAD // 20})  # 1000 -> 50 STAKE
                verdict = admission.verdict(addr_b)
                assert verdict is not None
                assert verdict.admitted
                assert dispatcher.assigned_to(addr_b)
                for _ in range(el.deallocation_delay + 1):
                    await el_chain.call("evm_mine")
                head = int(await el_chain.call("eth_blockNumber"), 16)
                assert head >= sent.block + el.deallocation_delay
                await until(
                    lambda: (
                        {wf for wf, op in dispatcher.assignments().items() if op == addr_d.lower()}
                        == set(ids)
                    ),
                    "D holds every workflow",
                )
                await until(lambda: watching(op_d, ids) == set(ids), "D watches everything")
                verdict = admission.verdict(addr_b)
                assert verdict is not None
                assert "less than the minimum slashable stake" in (verdict.refusal or "")


async def test_make_run_stakes_its_operator(el_devnet: DevnetState, el_chain: Chain) -> None:
    key = await fresh_operator(el_chain, el_devnet)
    outcome = await stake_operator(el_devnet, key)
    assert outcome.steps == ()
    assert outcome.standing.member
    assert outcome.standing.strategies[0].slashable == 1000 * STAKE_UNIT
