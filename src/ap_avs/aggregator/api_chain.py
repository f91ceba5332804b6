"""The chain RPCs of the ``aggregator.Aggregator`` servicer: GetTokenMetadata, EstimateFees,
WithdrawFunds (PROTOCOL §2.7, §7.13).

:class:`ChainApi` is a mixin for ``AggregatorApi``: the servicer calls
``ChainApi.__init__(self, chain_services)`` from its own ``__init__``. Methods read the
request, call a use case from :class:`ChainServices` and build the response.
The composition root (:mod:`ap_avs.aggregator.compose`) builds those use cases and the on-chain
runners; this module only takes them built.

Raises (through the error interceptor):
    InvalidArgument, NotFound, FailedPrecondition, Unavailable: from the use cases, with the
        literal messages of §2.7 and §7.13. Missing smart-wallet configuration aborts
        WithdrawFunds with ``FAILED_PRECONDITION "smart wallet configuration not available…"``
        (upstream answered INTERNAL; it is the operator's configuration, not a bug).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ap_avs import wire as convert
from ap_avs._proto import avs_pb2
from ap_avs.aggregator.interceptors import current_principal
from ap_avs.chain.tokens import TokenRegistry, token_address
from ap_avs.domain.values import JsonValue
from ap_avs.engine.fees import FeeEstimate, FeeEstimator
from ap_avs.engine.withdrawals import Withdrawals, check_request
from ap_avs.errors import FailedPrecondition, InvalidArgument, Unavailable

Ctx = Any  # grpc.aio.ServicerContext
EXECUTION_TIER_1 = 1


@dataclass(frozen=True, slots=True)
class ChainServices:
    """The use cases behind the chain RPCs (built by
    :func:`ap_avs.aggregator.compose.build_chain_stack`)."""

    tokens: TokenRegistry | None
    fees: FeeEstimator | None
    withdrawals: Withdrawals | None
    """None when no controller key, or neither a bundler nor a submitter key, is configured."""
    execution_fee_usd: float = 0.02
    tier_1_percent: float = 0.03


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
