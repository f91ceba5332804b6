"""Block and event reports checked against the aggregator's own view of the chain.

:class:`ChainVerifier` reads through the aggregator's :class:`~ap_avs.chain.ChainClient` (typed
by the operator's :class:`~ap_avs.chain.reader.ChainReader`, a few quick attempts) and
rebuilds the trigger output with the very functions the operator uses
(:func:`~ap_avs.operator.event_policy.event_data`,
:func:`~ap_avs.operator.watchers.block.block_data`, matching through
:class:`~ap_avs.domain.events.EventIndex`), so the run sees the chain's data and never the
report's.

* **Event** (occurrence ``<txHash>:<logIndex>``): the receipt of the transaction must exist and
  hold a log at that index, in a block at least ``event_confirmations`` below the head, whose
  header (canonical by number) has the receipt's block hash; the log must match one of the
  workflow's queries (address, topics, conditions); every field the report states (address,
  topics, data, block number and hash, ``removed``, decoded values…) must equal the rebuilt one.
* **Block** (occurrence = block number): not above the head, a multiple of the interval, and the
  reported hash (and other header fields) must be the chain's.

Raises (from :meth:`ChainVerifier.event` / :meth:`ChainVerifier.block`):
    ReportRefused: the report is false (evidence).
    Unavailable: the chain RPC does not answer, or the block is not deep enough yet (retry).
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from typing import Any, Final

from ap_avs.aggregator.verification._checks import (
    check_age,
    check_block_number,
    check_interval,
    data_object,
    integer,
    mismatches,
)
from ap_avs.aggregator.verification._model import Report, VerificationSettings
from ap_avs.chain import ChainClient
from ap_avs.chain.reader import ChainReader
from ap_avs.domain.events import EventIndex
from ap_avs.domain.trigger_data import (
    BlockHeader,
    block_data,
    event_data,
    is_erc20_transfer,
    parse_log,
)
from ap_avs.domain.triggers import BlockTriggerConfig, EventTriggerConfig, Trigger, TriggerKind
from ap_avs.domain.workflow import Workflow
from ap_avs.engine.queue import FiredTrigger
from ap_avs.errors import ReportRefused, Unavailable

_TX_HASH: Final = re.compile(r"0x[0-9a-fA-F]{64}")
_INDEX_CACHE: Final = 1024


def _event_occurrence(occurrence: str) -> tuple[str, int]:
    tx, _, index = occurrence.rpartition(":")
    if not _TX_HASH.fullmatch(tx) or not index.isdigit():
        raise ReportRefused(f"occurrence '{occurrence}' is not <txHash>:<logIndex>")
    return tx.lower(), int(index)


class ChainVerifier:
    """Checks block and event reports on one chain. Shares the caller's client."""

    def __init__(self, client: ChainClient, *, chain_id: int, settings: VerificationSettings):
        self._client = client
        self._chain_id = chain_id
        self._settings = settings
        self._reader = ChainReader(client, attempts=settings.rpc_attempts, backoff=0.05)
        self._indexes: OrderedDict[str, tuple[Trigger, EventIndex]] = OrderedDict()

    async def _request(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC call, retried quickly on transport failures."""
        for attempt in range(1, self._settings.rpc_attempts + 1):
            try:
                return await self._client.request(method, params)
            except Unavailable:
                if attempt == self._settings.rpc_attempts:
                    raise
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    async def _header_or_none(self, number: int) -> BlockHeader | None:
        """The header of ``number``, or None when the node does not have it (one attempt)."""
        try:
            raw = await self._client.request("eth_getBlockByNumber", [hex(number), False])
        except Unavailable:
            return None
        if not isinstance(raw, dict):
            return None
        return BlockHeader(
            number=int(str(raw.get("number")), 16),
            hash=str(raw.get("hash") or ""),
            parent_hash=str(raw.get("parentHash") or ""),
            timestamp=int(str(raw.get("timestamp")), 16),
            difficulty=int(str(raw.get("difficulty") or "0x0"), 16),
            gas_limit=int(str(raw.get("gasLimit")), 16),
            gas_used=int(str(raw.get("gasUsed")), 16),
        )

    def _index(self, wf: Workflow) -> EventIndex:
        """The workflow's queries, compiled once per trigger version (a small LRU)."""
        known = self._indexes.get(wf.id)
        if known is not None and known[0] == wf.trigger:
            self._indexes.move_to_end(wf.id)
            return known[1]
        config = wf.trigger.config
        assert isinstance(config, EventTriggerConfig)
        index = EventIndex()
        index.add(wf.id, config.queries)
        self._indexes[wf.id] = (wf.trigger, index)
        if len(self._indexes) > _INDEX_CACHE:
            self._indexes.popitem(last=False)
        return index

    async def event(self, wf: Workflow, report: Report, *, now_ms: int) -> FiredTrigger:
        """The event trigger of ``report`` rebuilt from the chain (see the module docstring)."""
        data = data_object(report.fired)
        tx, log_index = _event_occurrence(report.occurrence)
        if "transactionHash" in data and str(data["transactionHash"]).lower() != tx:
            raise ReportRefused("transactionHash differs from the occurrence")
        if "logIndex" in data and integer(data["logIndex"], "logIndex") != log_index:
            raise ReportRefused("logIndex differs from the occurrence")
        if data.get("removed") is True:
            raise ReportRefused("the log is reported as removed (reorged out): it never runs")
        claimed_number = data.get("blockNumber")
        reported = integer(claimed_number, "blockNumber") if claimed_number is not None else None
        header_task = None
        if reported is not None:  # read the header in the same round trip (one RPC latency)
            header_task = asyncio.ensure_future(self._header_or_none(reported))
        try:
            head, receipt = await asyncio.gather(
                self._reader.head(), self._request("eth_getTransactionReceipt", [tx])
            )
        finally:
            prefetched = await header_task if header_task is not None else None
        if not isinstance(receipt, dict):
            if reported is not None:
                check_block_number(reported, head, self._settings.max_blocks_ahead)
            raise ReportRefused(f"transaction {tx} is not on the chain")
        number = int(str(receipt.get("blockNumber")), 16)
        block_hash = str(receipt.get("blockHash") or "").lower()
        needed = self._settings.event_confirmations
        if head < number + needed:
            raise Unavailable(
                f"the log's block {number} has {max(0, head - number)} of {needed} "
                "confirmations on the aggregator's chain; retry later"
            )
        raw = next(
            (
                item
                for item in receipt.get("logs") or ()
                if isinstance(item, dict) and int(str(item.get("logIndex")), 16) == log_index
            ),
            None,
        )
        if raw is None:
            raise ReportRefused(f"transaction {tx} has no log at index {log_index}")
        log = parse_log(raw)
        if log.removed:
            raise ReportRefused("the log was removed from the chain (reorg)")
        header = prefetched
        if header is None or header.number != number:
            header = await self._reader.header(number)
        if header.hash.lower() != block_hash:
            raise Unavailable(f"block {number} changed while it was read (reorg); retry")
        self._check_block(data, number, block_hash)
        self._check_age(header, now_ms)
        matches = [m for m in self._index(wf).match(log) if m.query.workflow_id == wf.id]
        if not matches:
            raise ReportRefused(
                f"log {log_index} of {tx} does not match the workflow's event trigger"
            )
        token = await self._reader.token(log.address) if is_erc20_transfer(log) else None
        timestamp = log.block_timestamp if log.block_timestamp is not None else header.timestamp
        rebuilt = event_data(
            matches[0], chain_id=self._chain_id, block_timestamp=timestamp, token=token
        )
        problems = mismatches(data, rebuilt)
        if problems:
            raise ReportRefused("reported event differs from the chain: " + "; ".join(problems))
        return FiredTrigger(TriggerKind.EVENT, rebuilt)

    @staticmethod
    def _check_block(data: dict[str, Any], number: int, block_hash: str) -> None:
        claimed_hash = data.get("blockHash")
        if claimed_hash is not None and str(claimed_hash).lower() != block_hash:
            raise ReportRefused(
                f"block hash {claimed_hash} is not the chain's block {number} ({block_hash}): "
                "a block of another fork"
            )
        claimed = data.get("blockNumber")
        if claimed is not None and integer(claimed, "blockNumber") != number:
            raise ReportRefused(f"block number {claimed} is not the log's block {number}")

    def _check_age(self, header: BlockHeader, now_ms: int) -> None:
        check_age(
            header.timestamp * 1000,
            now_ms=now_ms,
            max_age_ms=self._settings.max_report_age_ms,
            what=f"block {header.number} of",
        )

    async def block(self, wf: Workflow, report: Report, *, now_ms: int) -> FiredTrigger:
        """The block trigger of ``report`` rebuilt from the chain's header."""
        data = data_object(report.fired)
        number = integer(report.occurrence, "the occurrence (block number)")
        if "blockNumber" in data and integer(data["blockNumber"], "blockNumber") != number:
            raise ReportRefused("blockNumber differs from the occurrence")
        config = wf.trigger.config
        assert isinstance(config, BlockTriggerConfig)
        check_interval(number, config.interval)
        head = await self._reader.head()
        check_block_number(number, head, self._settings.max_blocks_ahead)
        header = await self._reader.header(number)
        self._check_block(data, number, header.hash.lower())
        self._check_age(header, now_ms)
        rebuilt = block_data(header)
        assert isinstance(rebuilt, dict)
        problems = mismatches(data, rebuilt)
        if problems:
            raise ReportRefused("reported block differs from the chain: " + "; ".join(problems))
        return FiredTrigger(TriggerKind.BLOCK, rebuilt)
