"""Deploying EigenLayer's core on the devnet, and our AVS's operator set, at fixed addresses.

The core contracts (from the ``eigensdk`` package data) sit behind OpenZeppelin 4.9
``TransparentUpgradeableProxy``s owned by one ``ProxyAdmin`` (npm artifacts). Each proxy is
created through the CREATE2 deployer with its own salt, first pointing at a placeholder (the
implementations' constructors need each other's proxy addresses), then upgraded to its
implementation and initialised in one call. Our stand-ins (pauser registry, EigenPod manager,
the 1:1 strategy, the AVS registrar) come from ``contracts/artifacts``.

Then the AVS (the devnet deployer's account) sets its metadata URI and registrar and creates
operator set 0 with the strategy over a stake token ("AVS Stake", STAKE, minted to the test
accounts). Every address is compared with the one recorded in :data:`EXPECTED`.

The Solidity sources of the core contracts are BUSL-1.1: this is for local chains and tests
only; real networks use EigenLayer's own deployments by address.

Raises:
    DevnetError: a deployment or a set-up call fails, or a contract lands elsewhere than
        :data:`EXPECTED` says (a changed package or compiler: update the table).
"""

from __future__ import annotations

import logging
from typing import Final

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ap_avs.devnet._deploy import _call_data, _Deployer, _Keys
from ap_avs.devnet._model import DevAccount, DevnetError, EigenLayerInfo, TokenInfo
from ap_avs.eigenlayer import ContractAbi, artifact_abi, core_abi

logger = logging.getLogger(__name__)

VERSION: Final = "v1.0.0-devnet"
AVS_METADATA_URI: Final = "https://avaprotocol.org/avs-metadata.json"
OPERATOR_SET_ID: Final = 0
#: Blocks before an operator's allocation delay (set at registration) takes effect.
ALLOCATION_CONFIGURATION_DELAY: Final = 1
#: Blocks before a deallocation (or a deregistration's slashability) ends.
DEALLOCATION_DELAY: Final = 5
MIN_WITHDRAWAL_DELAY: Final = 5
STAKE_TOKEN: Final = ("AVS Stake", "STAKE", 18)
_MINT_STAKE: Final = 1_000_000 * 10**18

#: Where everything lands (CREATE2: same on every run and chain id).
EXPECTED: Final = {
    "proxy_admin": "0x5c7d4125f9325F03B4b1b01afe663B1640cdA41a",
    "placeholder": "0xF46cb9126e183C68070783f922F463b5Eb805d85",
    "pauser_registry": "0xe00cC95c022F7e4EC8db518726c47b1130064EaB",
    "eigen_pod_manager": "0x88FF4B8FC553d4667814ad914BC5190CC44A2d64",
    "permission_controller": "0xB1b3ECFFfF02BDAC6eD5Ef66E6e7136E10C3cCd5",
    "delegation_manager": "0x9BD1787cA32C21aEd923d715d3dB5F5c6C56cD46",
    "strategy_manager": "0xC84FcFcc62Ef56736fA5bCAB0A8516AF3408b235",
    "allocation_manager": "0xb32117d9BD8B0d77d72b5D8A661074D0c488880D",
    "avs_directory": "0xaE233D7C65083EaBC17d5F332D631D5717D04801",
    "stake_token": "0x05B40880aC9E57E712E0035B0741c1b18E920A71",
    "strategy": "0x99f221b6f9bCaE500D9Dda1572f57B352C35f0ac",
    "registrar": "0x21Fd2f785750daF83ef94a259Bddb74bbdE7E172",
}


def _salt(label: str) -> bytes:
    return keccak(text=f"ap-avs/devnet/eigenlayer/{label}")


class _EigenDeployer:
    def __init__(self, d: _Deployer, keys: _Keys) -> None:
        self.d = d
        self.owner = keys.deployer.address
        oz = d.options.node_modules / "@openzeppelin/contracts/build/contracts"
        self.proxy = artifact_abi(oz / "TransparentUpgradeableProxy.json")
        self.proxy_admin_abi = artifact_abi(oz / "ProxyAdmin.json")
        self.found: dict[str, str] = {}

    def artifact(self, name: str) -> ContractAbi:
        return artifact_abi(self.d.options.artifacts / f"{name}.json")

    async def deploy(self, label: str, init: bytes) -> str:
        address = await self.d.create2_code(label, init, _salt(label))
        self.found[label] = address
        expected = EXPECTED[label]
        if expected != address:
            raise DevnetError(f"EigenLayer {label} landed at {address}, not {expected}")
        return address

    async def proxy_admin(self) -> str:
        """The ProxyAdmin, handed from the CREATE2 deployer (its constructor's caller) to us."""
        admin = await self.deploy("proxy_admin", self.proxy_admin_abi.constructor())
        rpc = self.d.rpc
        word = "0x" + self.owner[2:].lower().zfill(64)
        await rpc.call("anvil_setStorageAt", admin, "0x0", word)  # Ownable._owner, slot 0
        raw = await rpc.eth_call(admin, _call_data("owner()"))
        if to_checksum_address(raw[12:32]) != self.owner:
            raise DevnetError("could not hand the EigenLayer ProxyAdmin to the deployer")
        return admin

    async def upgrade(self, admin: str, proxy: str, impl: str, init: bytes = b"") -> None:
        name = "upgradeAndCall" if init else "upgrade"
        args = (proxy, impl, init) if init else (proxy, impl)
        await self.d.rpc.transact(self.owner, admin, self.proxy_admin_abi.encode(name, *args))

    async def call(self, sender: str, to: str, abi: ContractAbi, name: str, *args: object) -> None:
        await self.d.rpc.transact(sender, to, abi.encode(name, *args))


async def deploy_eigenlayer(
    d: _Deployer, keys: _Keys, stakers: tuple[DevAccount, ...]
) -> EigenLayerInfo:
    """Deploy the core behind proxies, the stand-ins, the stake token and strategy, and our
    AVS's operator set; mint the stake token to ``stakers``."""
    e = _EigenDeployer(d, keys)
    owner = keys.deployer.address
    admin = await e.proxy_admin()
    placeholder = await e.deploy("placeholder", e.artifact("DevProxyPlaceholder").constructor())
    pauser = await e.deploy(
        "pauser_registry", e.artifact("DevPauserRegistry").constructor(owner, owner)
    )
    pods = await e.deploy("eigen_pod_manager", e.artifact("DevEigenPodManager").constructor())

    names = ("delegation_manager", "strategy_manager", "allocation_manager", "avs_directory")
    proxies = {
        label: await e.deploy(label, e.proxy.constructor(placeholder, admin, b""))
        for label in (*names, "permission_controller")
    }
    delegation, strategies = proxies["delegation_manager"], proxies["strategy_manager"]
    allocations, directory = proxies["allocation_manager"], proxies["avs_directory"]
    permissions = proxies["permission_controller"]

    abis = {
        "permission_controller": core_abi("PermissionController"),
        "delegation_manager": core_abi("DelegationManager"),
        "strategy_manager": core_abi("StrategyManager"),
        "allocation_manager": core_abi("AllocationManager"),
        "avs_directory": core_abi("AVSDirectory"),
    }
    impl_args: dict[str, tuple[object, ...]] = {
        "permission_controller": (VERSION,),
        "delegation_manager": (
            strategies,
            pods,
            allocations,
            pauser,
            permissions,
            MIN_WITHDRAWAL_DELAY,
            VERSION,
        ),
        "strategy_manager": (delegation, pauser, VERSION),
        "allocation_manager": (
            delegation,
            pauser,
            permissions,
            DEALLOCATION_DELAY,
            ALLOCATION_CONFIGURATION_DELAY,
            VERSION,
        ),
        "avs_directory": (delegation, pauser, VERSION),
    }
    inits = {
        "permission_controller": b"",
        "delegation_manager": abis["delegation_manager"].encode("initialize", owner, 0),
        "strategy_manager": abis["strategy_manager"].encode("initialize", owner, owner, 0),
        "allocation_manager": abis["allocation_manager"].encode("initialize", owner, 0),
        "avs_directory": abis["avs_directory"].encode("initialize", owner, 0),
    }
    for label, abi in abis.items():
        impl = await d.create2_code(
            f"{abi.name} implementation",
            abi.constructor(*impl_args[label]),
            _salt(label + "/implementation"),
        )
        await e.upgrade(admin, proxies[label], impl, inits[label])

    name, symbol, decimals = STAKE_TOKEN
    token_init = e.artifact("TestToken").constructor(name, symbol, decimals)
    token = TokenInfo(await e.deploy("stake_token", token_init), name, symbol, decimals)
    for staker in stakers:
        await d.rpc.transact(
            owner,
            token.address,
            e.artifact("TestToken").encode("mint", staker.address, _MINT_STAKE),
        )
    strategy = await e.deploy(
        "strategy", e.artifact("DevStrategy").constructor(strategies, token.address)
    )
    await e.call(
        owner, strategies, abis["strategy_manager"], "addStrategiesToDepositWhitelist", [strategy]
    )

    avs = owner
    registrar = await e.deploy(
        "registrar", e.artifact("DevAvsRegistrar").constructor(allocations, avs)
    )
    am = abis["allocation_manager"]
    await e.call(avs, allocations, am, "updateAVSMetadataURI", avs, AVS_METADATA_URI)
    await e.call(avs, allocations, am, "setAVSRegistrar", avs, registrar)
    await e.call(avs, allocations, am, "createOperatorSets", avs, [(OPERATOR_SET_ID, [strategy])])
    logger.debug("EigenLayer deployed: %s", e.found)
    return EigenLayerInfo(
        delegation_manager=delegation,
        strategy_manager=strategies,
        allocation_manager=allocations,
        avs_directory=directory,
        permission_controller=permissions,
        proxy_admin=admin,
        pauser_registry=pauser,
        eigen_pod_manager=pods,
        avs=avs,
        registrar=registrar,
        operator_set_id=OPERATOR_SET_ID,
        strategy=strategy,
        stake_token=token,
        allocation_configuration_delay=ALLOCATION_CONFIGURATION_DELAY,
        deallocation_delay=DEALLOCATION_DELAY,
    )
