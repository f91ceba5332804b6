"""Building the aggregator's chain stack: the chain use cases and the on-chain runners.

Part of the aggregator's composition root with ``app.py`` (which calls it): it builds objects
from the smart-wallet config and hands them, built, to the servicer (:class:`ChainServices`)
and to the node registry (the four on-chain runners). No servicer module builds anything.

Raises: nothing of its own (constructors may raise on a malformed key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from ap_avs.aggregator.api_chain import ChainServices
from ap_avs.chain import ChainClient
from ap_avs.chain.aa import DirectSubmitter
from ap_avs.chain.tokens import PriceFeed, TokenRegistry
from ap_avs.chain.userops import Derive, RunnerWallets, UserOpSender, WalletLookup
from ap_avs.domain.nodes import NodeKind
from ap_avs.engine.fees import FeeEstimator
from ap_avs.engine.withdrawals import Withdrawals
from ap_avs.runners import balance, contract_read, contract_write, eth_transfer
from ap_avs.runners.base import Runner
from ap_avs.runners.onchain import ChainDeps


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
