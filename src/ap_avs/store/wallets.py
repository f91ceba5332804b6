"""Stored smart wallets: ``w:<owner>:<wallet>`` records and the ``wsalt:`` canonical index.

Raises:
    QuotaExceeded: adding a wallet beyond the owner's limit.
    StoreError: the store failed (CorruptDataError for an undecodable record).
"""

from __future__ import annotations

from dataclasses import replace

from ap_avs.domain.wallets import TaskCounts, Wallet, count_statuses
from ap_avs.errors import CorruptDataError, QuotaExceeded
from ap_avs.store import codec, keys
from ap_avs.store.codec import JsonValue
from ap_avs.store.kv import KV, ReadTxn, Txn


def _encode(wallet: Wallet) -> bytes:
    record: dict[str, JsonValue] = {
        "owner": wallet.owner,
        "address": wallet.address,
        "factory": wallet.factory,
        "salt": wallet.salt,
    }
    if wallet.is_hidden:
        record["is_hidden"] = True
    if wallet.stale_derivation:
        record["stale_derivation"] = True
    return codec.dumps(record)


def _decode(raw: bytes) -> Wallet:
    data = codec.loads(raw)
    if not isinstance(data, dict):
        raise CorruptDataError("stored wallet record is not an object")
    owner, address, salt = data.get("owner"), data.get("address"), data.get("salt")
    factory = data.get("factory", "")
    if not (isinstance(owner, str) and isinstance(address, str) and isinstance(factory, str)):
        raise CorruptDataError("stored wallet record has malformed addresses")
    if not isinstance(salt, int) or isinstance(salt, bool):
        raise CorruptDataError("stored wallet record has a malformed salt")
    return Wallet(
        owner,
        address,
        factory,
        salt,
        is_hidden=bool(data.get("is_hidden", False)),
        stale_derivation=bool(data.get("stale_derivation", False)),
    )


class WalletRepo:
    """Reads and writes wallet records; every multi-key change is one transaction."""

    def __init__(self, kv: KV) -> None:
        self._kv = kv

    async def get(self, owner: str, address: str) -> Wallet | None:
        raw = await self._kv.get(keys.wallet(owner, address))
        return None if raw is None else _decode(raw)

    async def exists(self, owner: str, address: str) -> bool:
        return await self._kv.get(keys.wallet(owner, address)) is not None

    async def list(self, owner: str) -> list[Wallet]:
        return [_decode(raw) for _, raw in await self._kv.scan(keys.wallet_prefix(owner))]

    async def add(self, wallet: Wallet, *, limit: int | None) -> Wallet:
        """Store ``wallet`` as the canonical one for (owner, factory, salt).

        A previous canonical wallet of the same triple at another address is kept but marked
        stale and hidden. An existing record at this address is returned unchanged.

        Raises:
            QuotaExceeded: the owner already has ``limit`` wallets (None: no limit).
        """

        def add(txn: Txn) -> Wallet:
            key = keys.wallet(wallet.owner, wallet.address)
            if (existing := txn.get(key)) is not None:
                return _decode(existing)
            if limit is not None and txn.count(keys.wallet_prefix(wallet.owner)) >= limit:
                raise QuotaExceeded(f"max smart wallet count reached for owner (limit={limit})")
            index = keys.wallet_salt(wallet.owner, wallet.factory, wallet.salt)
            previous = txn.get(index)
            if previous is not None and previous.decode() != wallet.address.lower():
                old_key = keys.wallet(wallet.owner, previous.decode())
                if (old := txn.get(old_key)) is not None:
                    stale = replace(_decode(old), stale_derivation=True, is_hidden=True)
                    txn.put(old_key, _encode(stale))
            txn.put(index, wallet.address.lower().encode())
            txn.put(key, _encode(wallet))
            return wallet

        return await self._kv.update(add)

    async def set_hidden(self, owner: str, address: str, hidden: bool) -> Wallet | None:
        """Set the hidden flag; None when the wallet is not stored."""

        def update(txn: Txn) -> Wallet | None:
            key = keys.wallet(owner, address)
            raw = txn.get(key)
            if raw is None:
                return None
            wallet = _decode(raw)
            if wallet.is_hidden != hidden:
                wallet = replace(wallet, is_hidden=hidden)
                txn.put(key, _encode(wallet))
            return wallet

        return await self._kv.update(update)

    async def task_counts(self, owner: str, address: str) -> TaskCounts:
        """Workflows of the wallet by status, from the ``u:`` index."""

        def count(txn: ReadTxn) -> TaskCounts:
            rows = txn.scan(keys.user_task_prefix(owner, address))
            return count_statuses(codec.decode_int(raw) for _, raw in rows)

        return await self._kv.view(count)
