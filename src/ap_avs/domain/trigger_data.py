"""The data a fired trigger carries (PROTOCOL.md §6.5): the one builder for block, event and
time triggers, used by the operator's watchers, RunTrigger and SimulateTask alike, so a test
run shows exactly what a real run will see. Also the typed reading of the JSON-RPC block and
log objects that data is built from. Pure.

* Block: ``blockNumber``, ``blockHash``, ``timestamp`` (seconds, as upstream), ``parentHash``,
  ``difficulty`` (decimal string), ``gasLimit``, ``gasUsed``.
* Event: ``address``/``contractAddress`` (checksummed), ``blockNumber``, ``blockHash``,
  ``blockTimestamp`` (ms), ``transactionHash``, ``transactionIndex``, ``logIndex``, ``topics``,
  ``data``, ``removed``, ``chainId``, plus the ABI-decoded fields and ``eventName`` when the
  query's ABI describes the log. An ERC-20 ``Transfer`` (three topics, 32-byte data) also gets
  the token's name, symbol and decimals, ``fromAddress``/``toAddress``, ``value`` (raw, decimal
  string) and ``valueFormatted``, and when the matching query fixed the sender or the
  recipient, the ``direction`` (``sent``/``received``) and ``walletAddress``.
* Time (cron, fixed time): ``timestamp`` (ms) and ``timestampIso``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils.address import to_checksum_address

from ap_avs.domain.erc20 import Erc20Metadata, format_units
from ap_avs.domain.events import TRANSFER_TOPIC, Log, Match, json_of
from ap_avs.domain.values import JsonValue


@dataclass(frozen=True, slots=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str
    timestamp: int
    """Seconds."""
    difficulty: int
    gas_limit: int
    gas_used: int


def _int(value: Any) -> int:
    return int(str(value), 16) if value not in (None, "") else 0


def parse_header(raw: Mapping[str, Any]) -> BlockHeader:
    """A JSON-RPC block object as a :class:`BlockHeader`."""
    return BlockHeader(
        number=_int(raw.get("number")),
        hash=str(raw.get("hash") or ""),
        parent_hash=str(raw.get("parentHash") or ""),
        timestamp=_int(raw.get("timestamp")),
        difficulty=_int(raw.get("difficulty")),
        gas_limit=_int(raw.get("gasLimit")),
        gas_used=_int(raw.get("gasUsed")),
    )


def parse_log(raw: Mapping[str, Any]) -> Log:
    """A JSON-RPC log object as a :class:`Log` (addresses and hashes lower-case)."""
    timestamp = raw.get("blockTimestamp")
    return Log(
        address=str(raw["address"]).lower(),
        topics=tuple(str(t).lower() for t in raw.get("topics") or ()),
        data=bytes.fromhex(str(raw.get("data") or "0x")[2:]),
        block_number=_int(raw.get("blockNumber")),
        block_hash=str(raw.get("blockHash") or "").lower(),
        transaction_hash=str(raw.get("transactionHash") or "").lower(),
        transaction_index=_int(raw.get("transactionIndex")),
        log_index=_int(raw.get("logIndex")),
        removed=bool(raw.get("removed", False)),
        block_timestamp=_int(timestamp) if timestamp is not None else None,
    )


def block_data(header: BlockHeader) -> JsonValue:
    """The data of a block firing."""
    return {
        "blockNumber": header.number,
        "blockHash": header.hash,
        "timestamp": header.timestamp,
        "parentHash": header.parent_hash,
        "difficulty": str(header.difficulty),
        "gasLimit": header.gas_limit,
        "gasUsed": header.gas_used,
    }


def iso_ms(ms: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` of a millisecond timestamp (UTC)."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def time_data(ms: int) -> dict[str, JsonValue]:
    """The data of a cron or fixed-time firing at ``ms``."""
    return {"timestamp": ms, "timestampIso": iso_ms(ms)}


def is_erc20_transfer(log: Log) -> bool:
    """``Transfer(address indexed, address indexed, uint256)`` (ERC-721 has a 4th topic)."""
    return len(log.topics) == 3 and log.topics[0] == TRANSFER_TOPIC and len(log.data) == 32


def _address(topic: str) -> str:
    return to_checksum_address("0x" + topic[-40:])


def event_data(
    match: Match, *, chain_id: int, block_timestamp: int | None, token: Erc20Metadata | None
) -> dict[str, JsonValue]:
    """The data of an event firing (see the module docstring); ``block_timestamp`` in seconds,
    ``token`` the log's contract's metadata when it is an ERC-20 transfer."""
    log = match.log
    contract = to_checksum_address(log.address)
    data: dict[str, JsonValue] = {
        "address": contract,
        "contractAddress": contract,
        "blockNumber": log.block_number,
        "blockHash": log.block_hash,
        "blockTimestamp": block_timestamp * 1000 if block_timestamp is not None else None,
        "transactionHash": log.transaction_hash,
        "transactionIndex": log.transaction_index,
        "logIndex": log.log_index,
        "topics": list(log.topics),
        "data": "0x" + log.data.hex(),
        "removed": log.removed,
        "chainId": chain_id,
    }
    if match.event is not None:
        data["eventName"] = match.event.name
        for name, value in match.event.fields.items():
            data.setdefault(name, json_of(value))
    if not is_erc20_transfer(log):
        return data
    value = int.from_bytes(log.data, "big")
    decimals = token.decimals if token else None
    data.update(
        {
            "eventName": "Transfer",
            "tokenName": token.name if token else None,
            "tokenSymbol": token.symbol if token else None,
            "tokenDecimals": decimals,
            "fromAddress": _address(log.topics[1]),
            "toAddress": _address(log.topics[2]),
            "value": str(value),
            "valueFormatted": format_units(value, decimals),
        }
    )
    wanted = match.query.topics
    if len(wanted) > 1 and wanted[1] is not None:
        data["direction"], data["walletAddress"] = "sent", data["fromAddress"]
    elif len(wanted) > 2 and wanted[2] is not None:
        data["direction"], data["walletAddress"] = "received", data["toAddress"]
    return data
