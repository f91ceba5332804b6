"""A scripted chain for watcher tests: a head to move, logs per block, failures on demand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from ap_avs.domain.erc20 import Erc20Metadata
from ap_avs.domain.events import Log, LogFilter
from ap_avs.domain.trigger_data import BlockHeader
from ap_avs.domain.triggers import Trigger, TriggerConfig, TriggerKind
from ap_avs.errors import Unavailable
from ap_avs.operator.model import Assignment, Signal, TriggerFired


class FakeReader:
    """Duck-types :class:`ap_avs.chain.reader.ChainReader`."""

    def __init__(self, head: int = 0) -> None:
        self.head_number = head
        self.logs_by_block: dict[int, list[Log]] = {}
        self.fail_logs = 0
        self.log_calls: list[tuple[int, int]] = []
        self.forks: dict[int, int] = {}
        """Block number -> fork id: a block of another fork has another hash."""
        self.headers_down = False
        """Header reads fail (the RPC is unreachable for them)."""

    async def chain_id(self) -> int:
        return 31337

    async def head(self) -> int:
        return self.head_number

    async def header(self, number: int) -> BlockHeader:
        if self.headers_down:
            raise Unavailable("chain RPC is unavailable (eth_getBlockByNumber): refused")
        return BlockHeader(
            number=number,
            hash="0x" + f"{self.forks.get(number, 0):04x}{number:060x}",
            parent_hash="0x" + f"{number - 1:064x}",
            timestamp=1_000 + 12 * number,
            difficulty=0,
            gas_limit=30_000_000,
            gas_used=21_000,
        )

    async def headers(self, numbers: Sequence[int]) -> dict[int, BlockHeader]:
        return {n: await self.header(n) for n in numbers}

    async def logs(self, log_filter: LogFilter, first: int, last: int) -> list[Log]:
        self.log_calls.append((first, last))
        if self.fail_logs:
            self.fail_logs -= 1
            raise Unavailable("chain RPC eth_getLogs failed: header not found")
        return [log for n in range(first, last + 1) for log in self.logs_by_block.get(n, [])]

    async def token(self, address: str) -> Erc20Metadata:
        return Erc20Metadata("Test USD", "TUSD", 6)


class Recorder:
    """A sink that records what it receives."""

    def __init__(self) -> None:
        self.signals: list[Signal] = []

    async def __call__(self, signals: Sequence[Signal]) -> None:
        self.signals.extend(signals)

    @property
    def fired(self) -> list[TriggerFired]:
        return [s for s in self.signals if isinstance(s, TriggerFired)]

    def keys(self, workflow_id: str | None = None) -> list[str]:
        return [s.key for s in self.fired if workflow_id is None or s.workflow_id == workflow_id]


def data(fired: TriggerFired) -> dict[str, Any]:
    """A firing's data, which every watcher makes a JSON object."""
    assert isinstance(fired.data, dict)
    return fired.data


def assignment(
    workflow_id: str, kind: TriggerKind, config: TriggerConfig, **window: int
) -> Assignment:
    trigger = Trigger(id=f"t-{workflow_id}", name="trigger", kind=kind, config=config)
    return Assignment(workflow_id, trigger, **window)


async def wait_for(condition: Callable[[], Any], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)
