"""Event matching on the operator: one block of logs against every watched event query.

Figure: the time ``EventIndex.match`` takes for every log of a block (1,000 logs) with 10,000
event workflows watched, in milliseconds per block. Baseline, same run: one dict lookup per log
(``(address, topic0)``), the least any matcher must do. Two workloads:

* wallets: 10,000 workflows each watching ERC-20 ``Transfer`` to (6,000, any token) or from
  (4,000, one token) its own wallet; the design case of the index (one bucket per wallet).
* mixed: the same with 1,000 of them replaced by "large transfer" alerts: a token address, the
  ``Transfer`` ABI and a ``value > 10^24`` condition, 50 alerts on each of 20 popular tokens.
  Each log of a popular token then has 50 candidates to decode and test.

The block: 700 ``Transfer`` logs over 100 tokens (the 20 popular ones carry half of them),
2 % of them to or from a watched wallet, and 300 other logs (``Approval``, ``Sync``).
Target (issue 10): under 20 ms per block.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from ap_avs.domain.events import TRANSFER_TOPIC, EventIndex, Log
from ap_avs.domain.triggers import EventCondition, EventQuery
from benchmarks.report import Result

APPROVAL_TOPIC = "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"
SYNC_TOPIC = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"
TRANSFER_ABI = (
    {
        "type": "event",
        "name": "Transfer",
        "anonymous": False,
        "inputs": [
            {"name": "from", "type": "address", "indexed": True},
            {"name": "to", "type": "address", "indexed": True},
            {"name": "value", "type": "uint256", "indexed": False},
        ],
    },
)
LARGE = EventCondition("value", "gt", str(10**24), "uint256")


def _address(tag: int, n: int) -> str:
    return f"0x{tag:02x}{n:038x}"


def _topic(address: str) -> str:
    return "0x" + address[2:].rjust(64, "0")


def build_index(workflows: int, alerts: int) -> tuple[EventIndex, list[str], list[str]]:
    """The index, the watched wallets and the tokens (the first 20 are the popular ones)."""
    tokens = [_address(0x70, n) for n in range(100)]
    wallets = [_address(0xAA, n) for n in range(workflows - alerts)]
    index = EventIndex()
    for n, wallet in enumerate(wallets):
        if n % 10 < 6:  # received, any token
            query = EventQuery(topics=(TRANSFER_TOPIC, "", wallet))
        else:  # sent, one token
            query = EventQuery(addresses=(tokens[n % 100],), topics=(TRANSFER_TOPIC, wallet))
        index.add(f"w{n:05d}", [query])
    for n in range(alerts):
        query = EventQuery(
            addresses=(tokens[n % 20],),
            topics=(TRANSFER_TOPIC,),
            contract_abi=TRANSFER_ABI,
            conditions=(LARGE,),
        )
        index.add(f"a{n:05d}", [query])
    return index, wallets, tokens


def build_block(
    wallets: list[str], tokens: list[str], size: int, large_share: float = 0.01, seed: int = 7
) -> list[Log]:
    rng = random.Random(seed)
    logs = []
    for i in range(size):
        if i % 10 < 7:
            token = tokens[rng.randrange(20)] if rng.random() < 0.5 else rng.choice(tokens)
            sender, receiver = (
                _address(0xEE, rng.randrange(10**6)),
                _address(0xEE, rng.randrange(10**6)),
            )
            if wallets and rng.random() < 0.02:
                if rng.random() < 0.5:
                    receiver = rng.choice(wallets)
                else:
                    sender = rng.choice(wallets)
            value = 5 * 10**24 if rng.random() < large_share else 10**18
            address, topics = token, (TRANSFER_TOPIC, _topic(sender), _topic(receiver))
            data = value.to_bytes(32, "big")
        else:
            address = _address(0x50, rng.randrange(500))
            topics = (rng.choice((APPROVAL_TOPIC, SYNC_TOPIC)), _topic(_address(0xEE, i)))
            data = bytes(64)
        logs.append(
            Log(
                address=address,
                topics=topics,
                data=data,
                block_number=1000,
                block_hash="0x" + "bb" * 32,
                transaction_hash=f"0x{i:064x}",
                transaction_index=i // 4,
                log_index=i,
            )
        )
    return logs


def _ms_per_block(rounds: int, work: Callable[[], object]) -> float:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def _measure(
    workflows: int, alerts: int, logs_per_block: int, rounds: int
) -> tuple[float, float, int]:
    index, wallets, tokens = build_index(workflows, alerts)
    logs = build_block(wallets, tokens, logs_per_block)
    lookup = {(token, TRANSFER_TOPIC): token for token in tokens}

    def baseline() -> int:
        return sum(1 for log in logs if (log.address, log.topics[0]) in lookup)

    def matching() -> int:
        return sum(len(index.match(log)) for log in logs)

    matched = matching()  # warm up
    return _ms_per_block(rounds, matching), _ms_per_block(rounds * 5, baseline), matched


async def run(quick: bool) -> list[Result]:
    workflows, logs, rounds = (1000, 100, 3) if quick else (10_000, 1000, 9)
    results = []
    for name, alerts in (("wallets", 0), ("mixed", workflows // 10)):
        figure, baseline, matched = _measure(workflows, alerts, logs, rounds)
        results.append(
            Result(
                f"event matching, {workflows:,} workflows ({name}) x {logs:,} logs "
                f"[{matched} matches]",
                figure,
                "ms/block",
                baseline,
                "< 20 ms per block",
            )
        )
    return results
