"""The balance node: native and ERC-20 balances of an address, read over the chain RPC
(PROTOCOL §7.8 output shape; no Moralis).

Rules:

* ``address`` (templated) is required. ``chain`` (name or id: ``ethereum``, ``sepolia``,
  ``base``, ``base-sepolia``, ``bsc``, ``31337``, ``0xaa36a7`` …; empty = this chain) must be
  the chain this aggregator serves.
* Tokens: ``token_addresses`` when given (exactly those; the native sentinel
  ``0xEeee…EEeE`` asks for the native balance), else the native token plus the chain's token
  list (:class:`ap_avs.chain.tokens.TokenRegistry`). Addresses that are not contracts are skipped.
* Zero balances are left out unless ``include_zero_balances`` or ``token_addresses`` is set.
  ``include_spam`` has no effect (the token list holds no spam).
* USD: with a price feed configured, the native token gets ``usdPrice`` and ``usdValue``;
  ERC-20s have no price source and get neither. ``min_usd_value_cents`` > 0 then keeps only
  items worth at least that much (items without a USD value are left out); without a feed the
  filter cannot apply and the step log says so.
* Output: a list of ``{symbol, name, balance (raw base units), balanceFormatted, decimals,
  tokenAddress, usdPrice?, usdValue?}``, native first.

Fails with ``address is required`` (MISSING_REQUIRED_FIELD), ``invalid address: …``,
``unknown chain: …``, ``chain … is not served by this aggregator …``, RPC errors (RPC_NODE_ERROR).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Final

from eth_abi.abi import encode

from ap_avs.chain.tokens import BALANCE_OF, NATIVE_TOKEN, NATIVE_TOKEN_CHECKSUM, TokenMetadata
from ap_avs.domain.erc20 import format_units
from ap_avs.domain.nodes import BalanceConfig, Node
from ap_avs.domain.values import JsonValue
from ap_avs.errors import ApAvsError
from ap_avs.runners._failures import config_of, reporting_failures
from ap_avs.runners.base import (
    MISSING_REQUIRED_FIELD,
    RPC_NODE_ERROR,
    NodeFailure,
    NodeResult,
    RunContext,
    Runner,
)
from ap_avs.runners.onchain import ChainDeps, execution_context, render_address

CHAIN_NAMES: Final = {
    "ethereum": 1,
    "eth": 1,
    "mainnet": 1,
    "sepolia": 11155111,
    "base": 8453,
    "base-sepolia": 84532,
    "base sepolia": 84532,
    "basesepolia": 84532,
    "bsc": 56,
    "binance": 56,
    "anvil": 31337,
    "devnet": 31337,
}


def chain_id_of(text: str) -> int | None:
    """The chain id a ``chain`` field names (name, decimal or 0x-hex id), or None."""
    cleaned = text.strip().lower()
    if cleaned in CHAIN_NAMES:
        return CHAIN_NAMES[cleaned]
    try:
        return int(cleaned, 16) if cleaned.startswith("0x") else int(cleaned, 10)
    except ValueError:
        return None


async def _tokens(deps: ChainDeps, config: BalanceConfig, ctx: RunContext) -> list[TokenMetadata]:
    if not config.token_addresses:
        return [await _native(deps), *deps.tokens.listed()]
    found: list[TokenMetadata] = []
    for index, text in enumerate(config.token_addresses):
        address = await render_address(ctx, text, label=f"token address {index}")
        token = await deps.tokens.lookup(address)
        if token is not None and token.address not in {t.address for t in found}:
            found.append(token)
    return found


async def _native(deps: ChainDeps) -> TokenMetadata:
    token = await deps.tokens.lookup(NATIVE_TOKEN)
    assert token is not None  # the sentinel always resolves
    return token


async def _balance_of(deps: ChainDeps, token: TokenMetadata, holder: str) -> int:
    if token.address == NATIVE_TOKEN:
        return await deps.chain.get_balance(holder)
    raw = await deps.chain.eth_call(token.address, BALANCE_OF + encode(["address"], [holder]))
    return int.from_bytes(raw[:32], "big") if len(raw) >= 32 else 0


def _item(token: TokenMetadata, balance: int, usd: Decimal | None) -> dict[str, JsonValue]:
    item: dict[str, JsonValue] = {
        "symbol": token.symbol,
        "name": token.name,
        "balance": str(balance),
        "balanceFormatted": format_units(balance, token.decimals),
        "decimals": token.decimals,
        "tokenAddress": NATIVE_TOKEN_CHECKSUM if token.address == NATIVE_TOKEN else token.address,
    }
    if usd is not None and token.address == NATIVE_TOKEN:
        item["usdPrice"] = float(usd)
        item["usdValue"] = float(Decimal(balance).scaleb(-token.decimals) * usd)
    return item


async def balances(deps: ChainDeps, config: BalanceConfig, ctx: RunContext) -> NodeResult:
    """Run a balance config."""
    if not config.address.strip():
        raise NodeFailure("address is required", error_code=MISSING_REQUIRED_FIELD)
    holder = await render_address(ctx, config.address, label="address")
    chain_text = (await ctx.render(config.chain, where="chain")).strip() if config.chain else ""
    if chain_text:
        wanted = chain_id_of(chain_text)
        if wanted is None:
            raise NodeFailure(f"unknown chain: {chain_text}")
        if wanted != deps.chain_id:
            raise NodeFailure(
                f"chain {chain_text} is not served by this aggregator "
                f"(it serves chain id {deps.chain_id})"
            )
    try:
        tokens = await _tokens(deps, config, ctx)
        amounts = await asyncio.gather(*(_balance_of(deps, t, holder) for t in tokens))
    except ApAvsError as exc:
        raise NodeFailure(
            f"cannot read balances: {exc.message}", error_code=RPC_NODE_ERROR
        ) from None
    usd = await deps.price_feed.usd_price() if deps.price_feed is not None else None
    keep_zero = config.include_zero_balances or bool(config.token_addresses)
    items = [
        _item(token, amount, usd)
        for token, amount in zip(tokens, amounts, strict=True)
        if amount > 0 or keep_zero
    ]
    log = f"{len(items)} balance(s) of {holder} on chain {deps.chain_id}"
    if config.min_usd_value_cents > 0:
        if deps.price_feed is None:
            log += "; min_usd_value_cents not applied: no price feed is configured"
        else:
            floor = Decimal(config.min_usd_value_cents) / 100
            items = [
                i
                for i in items
                if isinstance(i.get("usdValue"), float) and Decimal(str(i["usdValue"])) >= floor
            ]
    output: list[JsonValue] = list(items)
    return NodeResult(
        True,
        output=output,
        log=log,
        execution_context=execution_context(deps, simulated=False, provider="chain_rpc"),
    )


def make_runner(deps: ChainDeps) -> Runner:
    """The balance runner bound to ``deps``."""

    @reporting_failures
    async def run(node: Node, ctx: RunContext) -> NodeResult:
        return await balances(deps, config_of(node, BalanceConfig), ctx)

    return run
