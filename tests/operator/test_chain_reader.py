"""Chain reads with retries (LESSONS 12), range splitting and cached token metadata."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode

from ap_avs.chain import CallReverted
from ap_avs.chain.reader import ChainReader
from ap_avs.domain.erc20 import Erc20Metadata
from ap_avs.domain.events import LogFilter
from ap_avs.domain.trigger_data import parse_log
from ap_avs.errors import Unavailable

TOKEN = "0x1c7d4b196cb0c7b01d743fbc6116a902379c7238"


class FakeClient:
    """Duck-types ``ChainClient``: scripted answers per method, recorded calls."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Any]] = {}
        self.calls: list[tuple[str, Any]] = []
        self.contract: dict[bytes, bytes | Exception] = {}

    def _next(self, method: str) -> Any:
        queue = self.answers[method]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]  # the last answer repeats
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def request(self, method: str, params: list[Any]) -> Any:
        self.calls.append((method, params))
        if method == "eth_getLogs":
            first, last = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            if last - first >= 4:
                raise Unavailable("chain RPC eth_getLogs failed: query returned more than 10000")
            return [raw_log(n) for n in range(first, last + 1)]
        return self._next(method)

    async def block_number(self) -> int:
        return int(self._next("eth_blockNumber"))

    async def chain_id(self) -> int:
        return 1

    async def eth_call(self, to: str, data: bytes, *, block: str = "latest") -> bytes:
        self.calls.append(("eth_call", data.hex()))
        answer = self.contract[data]
        if isinstance(answer, Exception):
            raise answer
        return answer


def raw_log(number: int) -> dict[str, Any]:
    return {
        "address": TOKEN.upper().replace("0X", "0x"),
        "topics": ["0x" + "AB" * 32],
        "data": "0x" + "00" * 31 + "05",
        "blockNumber": hex(number),
        "blockHash": "0x" + "cd" * 32,
        "blockTimestamp": hex(1_700_000_000 + number),
        "transactionHash": "0x" + "ef" * 32,
        "transactionIndex": "0x1",
        "logIndex": "0x2",
        "removed": False,
    }


async def no_sleep(seconds: float) -> None:
    return None


def reader_for(client: FakeClient, attempts: int = 4) -> ChainReader:
    return ChainReader(client, attempts=attempts, sleep=no_sleep)  # type: ignore[arg-type]


HEADER = {
    "number": "0x10",
    "hash": "0x" + "11" * 32,
    "parentHash": "0x" + "22" * 32,
    "timestamp": "0x64",
    "difficulty": "0x0",
    "gasLimit": "0x1c9c380",
    "gasUsed": "0x5208",
}


async def test_header_not_found_and_null_are_retried() -> None:
    client = FakeClient()
    not_found = Unavailable("chain RPC eth_getBlockByNumber failed: header not found")
    client.answers["eth_getBlockByNumber"] = [not_found, None, HEADER]
    header = await reader_for(client).header(16)
    assert (header.number, header.timestamp, header.gas_limit, header.gas_used) == (
        16,
        100,
        30_000_000,
        21_000,
    )
    assert len(client.calls) == 3


async def test_retries_give_up_with_unavailable() -> None:
    client = FakeClient()
    client.answers["eth_getBlockByNumber"] = [None]
    with pytest.raises(Unavailable, match="does not know it yet"):
        await reader_for(client, attempts=3).header(16)
    assert len(client.calls) == 3


async def test_log_ranges_the_node_refuses_are_split() -> None:
    client = FakeClient()
    logs = await reader_for(client).logs(LogFilter((TOKEN,), ("0x" + "ab" * 32,)), 1, 10)
    assert [log.block_number for log in logs] == list(range(1, 11))
    ranges = [(p[0]["fromBlock"], p[0]["toBlock"]) for m, p in client.calls if m == "eth_getLogs"]
    assert ranges[0] == ("0x1", "0xa")
    assert ranges[-1] == ("0x9", "0xa")
    assert client.calls[0][1][0]["address"] == [TOKEN]
    assert client.calls[0][1][0]["topics"] == [["0x" + "ab" * 32]]


def test_parse_log_normalises_case() -> None:
    log = parse_log(raw_log(7))
    assert log.address == TOKEN
    assert log.topics == ("0x" + "ab" * 32,)
    assert (log.block_number, log.log_index, log.transaction_index) == (7, 2, 1)
    assert log.block_timestamp == 1_700_000_007
    assert log.data[-1] == 5


async def test_token_metadata_is_read_once() -> None:
    client = FakeClient()
    client.contract = {
        bytes.fromhex("06fdde03"): encode(["string"], ["Test USD"]),
        bytes.fromhex("95d89b41"): b"TUSD".ljust(32, b"\0"),  # bytes32, like MKR
        bytes.fromhex("313ce567"): encode(["uint8"], [6]),
    }
    reader = reader_for(client)
    assert await reader.token(TOKEN) == Erc20Metadata("Test USD", "TUSD", 6)
    assert await reader.token(TOKEN.upper().replace("0X", "0x")) == Erc20Metadata(
        "Test USD", "TUSD", 6
    )
    assert len(client.calls) == 3


async def test_token_metadata_of_a_contract_that_does_not_answer() -> None:
    client = FakeClient()
    reverted = CallReverted("eth_call reverted")
    client.contract = {
        bytes.fromhex("06fdde03"): reverted,
        bytes.fromhex("95d89b41"): b"",
        bytes.fromhex("313ce567"): reverted,
    }
    assert await reader_for(client).token(TOKEN) == Erc20Metadata(None, None, None)
