"""What checking an API key's record costs on every call: ``verify`` of a remembered token plus
the record read from LMDB (``ApiKeyService.ensure_active``), against ``verify`` alone (a user
key from sign-in, which has no record). Both run on the event loop as the auth interceptor
runs them. Target: the record read (LMDB get, JSON decode) adds well under the cost of a whole
GetTask (about 150 µs): issue 24 wants no cache that could outlive a revocation, so every call
reads the store. Measured here (2 shared cores, loaded): about 20-40 µs beside 4-7 µs.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from ap_avs.auth import KeyService
from ap_avs.engine.api_keys import ApiKeyService
from ap_avs.store import LmdbKV
from ap_avs.store.api_keys import ApiKeyRepo
from ap_avs.testing import TEST_CHAIN_ID, TEST_JWT_SECRET
from benchmarks.report import Result, median

SUBJECT = "0x" + "12" * 20


async def _per_call_us(calls: int, check: object) -> float:
    assert callable(check)
    started = time.perf_counter()
    for _ in range(calls):
        await check()
    return (time.perf_counter() - started) / calls * 1e6


async def run(quick: bool) -> list[Result]:
    calls, rounds = (200, 3) if quick else (20_000, 7)
    keys = KeyService(jwt_secret=TEST_JWT_SECRET, chain_id=TEST_CHAIN_ID)
    with tempfile.TemporaryDirectory() as tmp:
        async with LmdbKV(Path(tmp) / "db") as store:
            api_keys = ApiKeyService(ApiKeyRepo(store), keys)
            for n in range(100):  # a store with some keys, a few revoked
                issued = await api_keys.create(SUBJECT, ["readonly"], label=f"k{n}")
                if n % 10 == 0:
                    await api_keys.revoke(issued.record.jti)
            api_key = (await api_keys.create(SUBJECT, ["admin"])).token
            user_key = keys.user_key(SUBJECT)

            async def user_call() -> None:
                keys.verify(user_key)

            async def api_call() -> None:
                await api_keys.ensure_active(keys.verify(api_key))

            baseline, measured = [], []
            for _ in range(rounds):
                baseline.append(await _per_call_us(calls, user_call))
                measured.append(await _per_call_us(calls, api_call))
    return [
        Result(
            "auth check of an API key (verify + record read)",
            median(measured),
            "µs/call",
            baseline=median(baseline),
            target="adds well under a GetTask (~150 µs)",
        )
    ]


if __name__ == "__main__":
    for result in asyncio.run(run(quick=False)):
        print(result.line())
