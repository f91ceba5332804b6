"""Smart-wallet use cases: derive, store, hide, list, and decide whether a caller owns a wallet.

Addresses come from the factory's ``getAddress(owner, salt)`` on the smart-wallet chain. The
salt-0 wallet of the default factory is every owner's implicit wallet; the derivation is cached
in this object (single event loop, no shared state across threads).

Raises:
    InvalidArgument: bad salt or factory, or a factory that derives nothing.
    NotFound: SetWallet on a wallet that was never stored.
    QuotaExceeded: more wallets than ``max_wallets_per_owner``.
    Unavailable: the chain RPC is down or not configured (nothing is stored then).
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from ap_avs.chain import CallReverted, ChainClient
from ap_avs.domain import wallets as rules
from ap_avs.domain.addresses import ZERO_ADDRESS, is_address
from ap_avs.domain.wallets import TaskCounts, Wallet
from ap_avs.errors import InvalidArgument, NotFound, Unavailable
from ap_avs.store.wallets import WalletRepo


@dataclass(frozen=True, slots=True)
class WalletView:
    """A wallet with its workflow counters, as GetWallet and SetWallet answer."""

    wallet: Wallet
    counts: TaskCounts


class WalletService:
    """Wallet operations for authenticated owners."""

    def __init__(
        self,
        repo: WalletRepo,
        chain: ChainClient | None,
        *,
        default_factory: str,
        entrypoint: str,
        max_wallets_per_owner: int,
    ) -> None:
        self._repo = repo
        self._chain = chain
        self.default_factory = to_checksum_address(default_factory)
        self._entrypoint = entrypoint
        self._limit = max_wallets_per_owner
        self._default_wallets: dict[str, str] = {}

    def _require_chain(self) -> ChainClient:
        if self._chain is None:
            raise Unavailable("the smart-wallet chain RPC is not configured")
        return self._chain

    async def derive(self, owner: str, factory: str, salt: int) -> str:
        """The wallet address ``factory`` gives ``owner`` for ``salt``.

        Raises:
            InvalidArgument: the call reverted or gave the zero address.
            Unavailable: the RPC is down.
        """
        try:
            address = await self._require_chain().smart_wallet_address(factory, owner, salt)
        except CallReverted as exc:
            raise InvalidArgument(
                "Failed to derive sender address or derived address is nil or zero. "
                f"Error: {exc.message}"
            ) from None
        if address.lower() == ZERO_ADDRESS:
            raise InvalidArgument(
                "Failed to derive sender address or derived address is nil or zero. "
                "Error: the factory returned the zero address"
            )
        return address

    async def default_wallet(self, owner: str) -> str:
        """The owner's salt-0 wallet of the default factory (cached)."""
        cached = self._default_wallets.get(owner)
        if cached is None:
            cached = await self.derive(owner, self.default_factory, 0)
            self._default_wallets[owner] = cached
        return cached

    async def owns(self, owner: str, wallet: str) -> bool:
        """Whether ``wallet`` belongs to ``owner``: stored for them, or their salt-0 wallet."""
        if not is_address(wallet):
            return False
        if await self._repo.exists(owner, wallet):
            return True
        return (await self.default_wallet(owner)).lower() == wallet.lower()

    async def get_wallet(self, owner: str, salt: str, factory: str) -> WalletView:
        """GetWallet: derive, store if new (within the limit), answer with counters."""
        factory = rules.factory_or_default(
            factory, self.default_factory, invalid_message="invalid factory address"
        )
        salt_value = rules.salt_for_get_wallet(salt)
        address = await self.derive(owner, factory, salt_value)
        wallet = Wallet(owner, address, to_checksum_address(factory), salt_value)
        stored = await self._repo.add(wallet, limit=self._limit)
        return WalletView(stored, await self._repo.task_counts(owner, address))

    async def set_wallet(self, owner: str, salt: str, factory: str, hidden: bool) -> WalletView:
        """SetWallet: hide or unhide a stored wallet."""
        factory = rules.factory_or_default(
            factory,
            self.default_factory,
            invalid_message=f"Invalid factory address format: {factory}",
        )
        salt_value = rules.salt_for_set_wallet(salt)
        address = await self.derive(owner, factory, salt_value)
        updated = await self._repo.set_hidden(owner, address, hidden)
        if updated is None:
            raise NotFound("Wallet not found for the specified salt and factory.")
        return WalletView(updated, await self._repo.task_counts(owner, address))

    async def list_wallets(self, owner: str, *, factory: str, salt: str) -> list[Wallet]:
        """ListWallets: the salt-0 wallet first (stored on first sight), then the stored ones by
        factory and salt; stale derivations and duplicates left out.

        Raises:
            InvalidArgument: a malformed filter.
        """
        if factory and not is_address(factory):
            raise InvalidArgument("invalid factory address")
        salt_filter = None
        if salt:
            salt_filter = rules.parse_salt_number(salt)
            if salt_filter is None or salt_filter < 0:
                raise InvalidArgument(f"invalid salt value: {salt}")
        items: list[Wallet] = []
        wants_default = (not factory or factory.lower() == self.default_factory.lower()) and (
            salt_filter in (None, 0)
        )
        if wants_default:
            address = await self.default_wallet(owner)
            default = Wallet(owner, address, self.default_factory, 0)
            items.append(await self._repo.add(default, limit=None))
        seen = {w.address.lower() for w in items}
        stored = sorted(await self._repo.list(owner), key=lambda w: (w.factory.lower(), w.salt))
        for wallet in stored:
            if wallet.stale_derivation or wallet.address.lower() in seen:
                continue
            if factory and wallet.factory.lower() != factory.lower():
                continue
            if salt_filter is not None and wallet.salt != salt_filter:
                continue
            seen.add(wallet.address.lower())
            items.append(wallet)
        return items

    async def nonce(self, sender: str) -> int:
        """GetNonce: the EntryPoint nonce (key 0) of a smart wallet.

        Raises:
            InvalidArgument: ``sender`` is not an address.
            Unavailable: ``cannot determine nonce for smart wallet``.
        """
        if not is_address(sender):
            raise InvalidArgument("owner must be a smart wallet address (0x + 40 hex digits)")
        try:
            return await self._require_chain().entrypoint_nonce(self._entrypoint, sender)
        except Unavailable as exc:
            raise Unavailable(f"cannot determine nonce for smart wallet: {exc.message}") from None
