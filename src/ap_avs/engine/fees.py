"""Fee estimates for a workflow before it runs (EstimateFees, PROTOCOL §7.13).

:class:`FeeEstimator` prices each on-chain node (contract write, ETH transfer, and loops over
them, per iteration) by running its calls from the runner wallet with ``eth_estimateGas`` —
nothing is ever sent — plus the gas a UserOp adds around the call (validation, paymaster,
EntryPoint bookkeeping; measured on the devnet). A runner wallet without code adds a
``_wallet_creation`` cost: the gas of the factory's ``createAccount``. Costs are in wei at the
node's current gas price, and in USD when a price feed is configured.

Templates are resolved from the request's input variables only (dotted paths); a node whose
calls cannot be resolved or estimated gets a default gas figure and a warning.

Raises:
    InvalidArgument: a runner that is not an address (``Failed to resolve runner address: …``).
    NotFound: a runner the caller does not own (``Failed to resolve runner address: …``).
    Unavailable: the chain RPC is down.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from eth_abi.abi import encode

from ap_avs.chain import ChainClient, selector
from ap_avs.chain.tokens import PriceFeed
from ap_avs.chain.userops import RunnerWallets, SmartWallet
from ap_avs.domain.addresses import is_address
from ap_avs.domain.nodes import (
    ContractWriteConfig,
    EthTransferConfig,
    LoopConfig,
    MethodCall,
    Node,
    NodeConfig,
)
from ap_avs.domain.templating import UNDEFINED, render, simple_resolver
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ApAvsError, InvalidArgument, NotFound
from ap_avs.runners.abi import encode_call, find_function, parse_abi
from ap_avs.runners.base import NodeFailure

USEROP_OVERHEAD_GAS: Final = 90_000
"""Gas a sponsored v0.6 UserOp of a deployed wallet uses besides its call (devnet: 88.9 k)."""
INIT_CODE_OVERHEAD_GAS: Final = 30_000
"""What deploying through ``initCode`` adds to ``createAccount`` itself (devnet: 175.3 k measured
against 145.4 k estimated for ``createAccount``)."""
DEFAULT_CALL_GAS: Final = 100_000
TRANSFER_GAS: Final = 21_000
WALLET_CREATION: Final = "_wallet_creation"
_CREATE_ACCOUNT: Final = selector("createAccount(address,uint256)")


@dataclass(frozen=True, slots=True)
class Cost:
    """One cost of goods: gas of an on-chain node, or of creating the wallet."""

    node_id: str
    cost_type: str
    gas_units: int
    wei: int
    usd: Decimal | None


@dataclass(frozen=True, slots=True)
class FeeEstimate:
    """What one execution of a workflow is expected to cost in gas."""

    chain_id: int
    runner: str
    gas_price: int
    costs: tuple[Cost, ...]
    eth_usd: Decimal | None
    warnings: tuple[str, ...]
    on_chain: bool
    """The workflow has contract-write or ETH-transfer nodes (value fee tier 1)."""


def _on_chain(config: NodeConfig) -> ContractWriteConfig | EthTransferConfig | None:
    if isinstance(config, ContractWriteConfig | EthTransferConfig):
        return config
    if isinstance(config, LoopConfig) and isinstance(
        config.runner.config, ContractWriteConfig | EthTransferConfig
    ):
        return config.runner.config
    return None


def has_on_chain_nodes(nodes: Sequence[Node]) -> bool:
    return any(_on_chain(n.config) is not None for n in nodes)


class FeeEstimator:
    """Estimates the gas cost of workflows on one chain."""

    def __init__(
        self,
        chain: ChainClient,
        chain_id: int,
        wallets: RunnerWallets,
        *,
        default_wallet: Callable[[str], Awaitable[str]],
        controller: str,
        price_feed: PriceFeed | None = None,
        userop_overhead_gas: int = USEROP_OVERHEAD_GAS,
    ) -> None:
        self._chain = chain
        self.chain_id = chain_id
        self._wallets = wallets
        self._default_wallet = default_wallet
        self._controller = controller
        self._price_feed = price_feed
        self._overhead = userop_overhead_gas

    async def _runner(self, owner: str, runner: str) -> SmartWallet:
        runner = runner.strip() or await self._default_wallet(owner)
        if not is_address(runner):
            raise InvalidArgument(f"Failed to resolve runner address: invalid address {runner!r}")
        try:
            return await self._wallets.resolve(owner, runner)
        except NotFound as exc:
            raise NotFound(
                f"Failed to resolve runner address: {exc.message}", error_code=exc.error_code
            ) from None

    async def _estimate(self, tx: dict[str, str]) -> int | str:
        """Gas of ``tx``, or the reason it could not be estimated."""
        try:
            return int(str(await self._chain.request("eth_estimateGas", [tx])), 16)
        except ApAvsError as exc:
            return exc.message

    async def _node_gas(
        self,
        node: Node,
        config: ContractWriteConfig | EthTransferConfig,
        wallet: str,
        scope: Mapping[str, JsonValue],
    ) -> tuple[int, list[str]]:
        """Call gas of one node (without the UserOp overhead) and warnings."""
        resolve = simple_resolver(scope)

        def text(value: str) -> str | None:
            rendered = render(value, resolve).strip()
            return None if UNDEFINED in rendered else rendered

        if isinstance(config, EthTransferConfig):
            to, amount = text(config.destination), text(config.amount)
            value = 0
            if amount is not None and amount.isdigit():
                value = int(amount)
            if to is None or not is_address(to):
                return TRANSFER_GAS, [f"node {node.id}: destination unresolved; 21000 gas assumed"]
            gas = await self._estimate({"from": wallet, "to": to, "value": hex(value)})
            if isinstance(gas, str):
                return TRANSFER_GAS, [f"node {node.id}: {gas}; 21000 gas assumed"]
            return gas, []
        target = text(config.contract_address)
        calls = config.method_calls or (MethodCall(call_data=config.call_data),)
        total, warnings = 0, []
        for index, call in enumerate(calls):
            data = self._call_data(config, call, text)
            if target is None or not is_address(target) or data is None:
                total += DEFAULT_CALL_GAS
                warnings.append(
                    f"node {node.id}: call {index} depends on run-time values; "
                    f"{DEFAULT_CALL_GAS} gas assumed"
                )
                continue
            gas = await self._estimate({"from": wallet, "to": target, "data": "0x" + data.hex()})
            if isinstance(gas, str):
                total += DEFAULT_CALL_GAS
                warnings.append(
                    f"node {node.id}: call {index}: {gas}; {DEFAULT_CALL_GAS} gas assumed"
                )
            else:
                total += gas
        return total, warnings

    @staticmethod
    def _call_data(
        config: ContractWriteConfig, call: MethodCall, text: Callable[[str], str | None]
    ) -> bytes | None:
        try:
            if call.call_data and call.call_data.strip():
                rendered = text(call.call_data)
                return None if rendered is None else bytes.fromhex(rendered.removeprefix("0x"))
            params = [text(p) for p in call.method_params]
            if any(p is None for p in params):
                return None
            fn = find_function(parse_abi(config.contract_abi), call.method_name, len(params))
            return encode_call(fn, [p for p in params if p is not None])
        except (NodeFailure, ValueError):
            return None

    async def _wallet_creation(self, wallet: SmartWallet) -> int:
        data = _CREATE_ACCOUNT + encode(["address", "uint256"], [wallet.owner, wallet.salt])
        gas = await self._estimate(
            {"from": self._controller, "to": wallet.factory, "data": "0x" + data.hex()}
        )
        return gas + INIT_CODE_OVERHEAD_GAS if isinstance(gas, int) else 0

    async def estimate(
        self,
        owner: str,
        nodes: Sequence[Node],
        *,
        runner: str = "",
        input_variables: Mapping[str, JsonValue] | None = None,
    ) -> FeeEstimate:
        """The gas costs of one execution of ``nodes`` run by ``runner`` (default: the owner's
        salt-0 wallet).

        Raises:
            InvalidArgument, NotFound: the runner (see the module docstring).
            Unavailable: the chain RPC is down.
        """
        scope = dict(input_variables or {})
        settings = scope.get("settings")
        if not runner and isinstance(settings, dict) and isinstance(settings.get("runner"), str):
            runner = str(settings["runner"])
        wallet = await self._runner(owner, runner)
        price = int(str(await self._chain.request("eth_gasPrice", [])), 16)
        eth_usd = await self._price_feed.usd_price() if self._price_feed is not None else None
        warnings: list[str] = []
        if self._price_feed is None:
            warnings.append("USD conversion unavailable: no price feed is configured")

        def cost(node_id: str, kind: str, gas: int) -> Cost:
            wei = gas * price
            usd = None if eth_usd is None else Decimal(wei).scaleb(-18) * eth_usd
            return Cost(node_id, kind, gas, wei, usd)

        costs: list[Cost] = []
        if not await self._chain.get_code(wallet.address):
            costs.append(
                cost(WALLET_CREATION, "wallet_creation", await self._wallet_creation(wallet))
            )
        for node in nodes:
            config = _on_chain(node.config)
            if config is None:
                continue
            gas, notes = await self._node_gas(node, config, wallet.address, scope)
            warnings.extend(notes)
            if isinstance(node.config, LoopConfig):
                warnings.append(f"node {node.id}: loop cost is per iteration")
            costs.append(cost(node.id, "gas", gas + self._overhead))
        return FeeEstimate(
            chain_id=self.chain_id,
            runner=wallet.address,
            gas_price=price,
            costs=tuple(costs),
            eth_usd=eth_usd,
            warnings=tuple(warnings),
            on_chain=has_on_chain_nodes(nodes),
        )
