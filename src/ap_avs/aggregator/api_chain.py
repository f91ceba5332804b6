"""The chain RPCs of the ``aggregator.Aggregator`` servicer: GetTokenMetadata, EstimateFees,
WithdrawFunds (PROTOCOL §2.7, §7.13).

:class:`ChainApi` is a mixin for ``AggregatorApi``: the servicer calls
``ChainApi.__init__(self, chain_services)`` from its own ``__init__``. Methods read the
request, call a use case from :class:`ChainServices` and build the response.
:func:`build_chain_stack` builds those use cases and the on-chain runners from the
smart-wallet config, for ``app.py``.

Raises (through the error interceptor):
    InvalidArgument, NotFound, FailedPrecondition, Unavailable: from the use cases, with the
        literal messages of §2.7 and §7.13. Missing smart-wallet configuration aborts
        WithdrawFunds with ``FAILED_PRECONDITION "smart wallet configuration not available…"``
        (upstream answered INTERNAL; it is the operator's configuration, not a bug).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account

from ap_avs import wire as convert
from ap_avs._proto import avs_pb2
from ap_avs.aggregator.interceptors import current_principal
from ap_avs.chain import ChainClient
from ap_avs.chain.aa import DirectSubmitter
from ap_avs.chain.tokens import PriceFeed, TokenRegistry, token_address
from ap_avs.chain.userops import Derive, RunnerWallets, UserOpSender, WalletLookup
from ap_avs.domain.nodes import NodeKind
from ap_avs.domain.values import JsonValue
from ap_avs.engine.fees import FeeEstimate, FeeEstimator
from ap_avs.engine.withdrawals import Withdrawals, check_request
from ap_avs.errors import FailedPrecondition, InvalidArgument, Unavailable
from ap_avs.runners import balance, contract_read, contract_write, eth_transfer
from ap_avs.runners.base import Runner
from ap_avs.runners.onchain import ChainDeps

Ctx = Any  # grpc.aio.ServicerContext
EXECUTION_TIER_1 = 1


@dataclass(frozen=True, slots=True)
class ChainServices:
    """The use cases behind the chain RPCs, built by ``app.py`` (see :func:`build_chain_stack`)."""

    tokens: TokenRegistry | None
    fees: FeeEstimator | None
    withdrawals: Withdrawals | None
    """None when no controller key, or neither a bundler nor a submitter key, is configured."""
    execution_fee_usd: float = 0.02
    tier_1_percent: float = 0.03


@dataclass(frozen=True, slots=True)
class ChainStack:
    """Everything :func:`build_chain_stack` makes."""

    services: ChainServices
    runners: dict[NodeKind, Runner]
    sender: UserOpSender | None

    async def aclose(self) -> None:
        if self.sender is not None:
            await self.sender.aclose()


def build_chain_stack(
    chain: ChainClient,
    chain_id: int,
    *,
    lookup: WalletLookup,
    derive: Derive,
    default_wallet: Callable[[str], Awaitable[str]],
    factory: str,
    entrypoint: str,
    bundler_url: str,
    controller_key: str | None,
    paymaster: str | None,
    price_feed: str | None = None,
    token_dir: Path | None = None,
    confirm_timeout: float = 60.0,
    execution_fee_usd: float = 0.02,
    tier_1_percent: float = 0.03,
    submitter_key: str | None = None,
) -> ChainStack:
    """The chain use cases and the four on-chain runners for one smart-wallet chain.

    ``lookup`` is ``WalletRepo.get``, ``derive`` ``WalletService.derive``, ``default_wallet``
    ``WalletService.default_wallet``. Without a bundler URL, UserOps go straight to the
    EntryPoint (``handleOps`` sent from the funded ``submitter_key``; ``DirectSubmitter``).
    Without a controller key, or with neither a bundler URL nor a submitter key, UserOps cannot
    be sent: WithdrawFunds answers FAILED_PRECONDITION and real writes fail; reads and
    simulations work.
    """
    wallets = RunnerWallets(lookup, derive, default_factory=factory)
    tokens = TokenRegistry(chain, chain_id, token_dir)
    feed = PriceFeed(chain, price_feed) if price_feed else None
    sender = None
    if controller_key and (bundler_url or submitter_key):
        direct = None
        if not bundler_url and submitter_key:
            direct = DirectSubmitter(
                chain.url,
                entrypoint,
                private_key=submitter_key,
                chain_id=chain_id,
                confirm_timeout=confirm_timeout,
            )
        sender = UserOpSender(
            chain,
            bundler_url,
            entrypoint=entrypoint,
            factory=factory,
            controller_key=controller_key,
            chain_id=chain_id,
            paymaster=paymaster or None,
            confirm_timeout=confirm_timeout,
            bundler=direct,
        )
    deps = ChainDeps(chain, chain_id, wallets, tokens, sender, feed, confirm_timeout)
    controller = Account.from_key(controller_key).address if controller_key else factory
    fees = FeeEstimator(
        chain,
        chain_id,
        wallets,
        default_wallet=default_wallet,
        controller=controller,
        price_feed=feed,
    )
    withdrawals = (
        Withdrawals(chain, sender, lookup, default_wallet, confirm_timeout=confirm_timeout)
        if sender is not None
        else None
    )
    runners: dict[NodeKind, Runner] = {
        NodeKind.CONTRACT_READ: contract_read.make_runner(deps),
        NodeKind.CONTRACT_WRITE: contract_write.make_runner(deps),
        NodeKind.ETH_TRANSFER: eth_transfer.make_runner(deps),
        NodeKind.BALANCE: balance.make_runner(deps),
    }
    services = ChainServices(tokens, fees, withdrawals, execution_fee_usd, tier_1_percent)
    return ChainStack(services, runners, sender)


def _fee_response(estimate: FeeEstimate, services: ChainServices) -> avs_pb2.EstimateFeesResp:
    if estimate.on_chain:
        value_fee = avs_pb2.ValueFee(
            fee=avs_pb2.Fee(amount=f"{services.tier_1_percent:.2f}", unit="PERCENTAGE"),
            tier=EXECUTION_TIER_1,  # type: ignore[arg-type]
            value_base="input_token_value",
            classification_method="rule_based",
            confidence=1.0,
            reason="V1 default: workflow contains on-chain execution nodes",
        )
    else:
        value_fee = avs_pb2.ValueFee(
            fee=avs_pb2.Fee(amount="0", unit="PERCENTAGE"),
            classification_method="rule_based",
            confidence=1.0,
            reason="Workflow has no on-chain execution nodes",
        )
    return avs_pb2.EstimateFeesResp(
        success=True,
        chain_id=str(estimate.chain_id),
        native_token=avs_pb2.NativeToken(symbol="ETH", decimals=18),
        execution_fee=avs_pb2.Fee(amount=f"{services.execution_fee_usd:.6f}", unit="USD"),
        cogs=[
            avs_pb2.NodeCOGS(
                node_id=c.node_id,
                cost_type=c.cost_type,
                fee=avs_pb2.Fee(amount=str(c.wei), unit="WEI"),
                gas_units=str(c.gas_units),
            )
            for c in estimate.costs
        ],
        value_fee=value_fee,
        discounts=[],
        pricing_model="v1",
        warnings=list(estimate.warnings),
    )


class ChainApi:
    """GetTokenMetadata, EstimateFees and WithdrawFunds (mixed into ``AggregatorApi``)."""

    def __init__(self, chain_services: ChainServices) -> None:
        self._chain_services = chain_services

    async def GetTokenMetadata(
        self, request: avs_pb2.GetTokenMetadataReq, context: Ctx
    ) -> avs_pb2.GetTokenMetadataResp:
        address = token_address(request.address)
        tokens = self._chain_services.tokens
        if tokens is None:
            raise Unavailable("token enrichment service not available")
        token = await tokens.lookup(address)
        if token is None:
            return avs_pb2.GetTokenMetadataResp(found=False)
        return avs_pb2.GetTokenMetadataResp(
            token=avs_pb2.TokenMetadata(
                id=token.address, name=token.name, symbol=token.symbol, decimals=token.decimals
            ),
            found=True,
            source=token.source,
        )

    async def EstimateFees(
        self, request: avs_pb2.EstimateFeesReq, context: Ctx
    ) -> avs_pb2.EstimateFeesResp:
        if not request.HasField("trigger"):
            raise InvalidArgument("trigger is required")
        if not request.nodes:
            raise InvalidArgument("at least one node is required")
        if request.created_at <= 0:
            raise InvalidArgument("created_at must be a positive timestamp")
        if request.expire_at <= 0:
            raise InvalidArgument("expire_at must be a positive timestamp")
        if request.expire_at <= request.created_at:
            raise InvalidArgument("expire_at must be after created_at")
        nodes = [convert.node_from_pb(node) for node in request.nodes]
        variables: Mapping[str, JsonValue] = {
            key: convert.value_to_json(value, where=f"input_variables.{key}")
            for key, value in request.input_variables.items()
        }
        fees = self._chain_services.fees
        if fees is None:
            raise Unavailable("fee estimation is not available: no smart-wallet chain configured")
        estimate = await fees.estimate(
            current_principal().address,
            nodes,
            runner=request.runner,
            input_variables=variables,
        )
        return _fee_response(estimate, self._chain_services)

    async def WithdrawFunds(
        self, request: avs_pb2.WithdrawFundsReq, context: Ctx
    ) -> avs_pb2.WithdrawFundsResp:
        checked = check_request(
            request.recipient_address, request.amount, request.token, request.smart_wallet_address
        )
        withdrawals = self._chain_services.withdrawals
        if withdrawals is None:
            raise FailedPrecondition(
                "smart wallet configuration not available: withdrawals need "
                "smart_wallet.controller_private_key and a bundler or a submitter key"
            )
        outcome = await withdrawals.withdraw(current_principal().address, checked)
        return avs_pb2.WithdrawFundsResp(
            success=outcome.success,
            status=outcome.status,
            message=outcome.message,
            user_op_hash=outcome.user_op_hash,
            transaction_hash=outcome.transaction_hash,
            submitted_at=outcome.submitted_at,
            smart_wallet_address=request.smart_wallet_address,
            recipient_address=request.recipient_address,
            amount=request.amount,
            token=request.token,
        )
