"""Persistence: the `KV` seam, its LMDB and in-memory engines, the key space and the codec.

Nothing outside ``store/`` imports lmdb or builds a key by hand. ``keys`` and ``codec`` are
modules to import as such (``from ap_avs.store import keys``); the names below are the rest.
"""

from ap_avs.store import codec, keys
from ap_avs.store.codec import CodecError, JsonValue
from ap_avs.store.kv import (
    KV,
    MAX_KEY_SIZE,
    ReadTxn,
    StoreClosedError,
    StoreError,
    StoreFullError,
    Txn,
)
from ap_avs.store.lmdb_kv import LmdbKV
from ap_avs.store.memory import MemoryKV

__all__ = [
    "KV",
    "MAX_KEY_SIZE",
    "CodecError",
    "JsonValue",
    "LmdbKV",
    "MemoryKV",
    "ReadTxn",
    "StoreClosedError",
    "StoreError",
    "StoreFullError",
    "Txn",
    "codec",
    "keys",
]
