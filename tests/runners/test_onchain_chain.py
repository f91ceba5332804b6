"""The on-chain runners' shared helpers without a chain: call simulation with and without a
tracing node, call-frame and log order, amounts, and who a run acts for."""

from __future__ import annotations

from typing import Any

import pytest

from ap_avs.chain import CallReverted
from ap_avs.errors import Unavailable
from ap_avs.runners.base import NodeFailure
from ap_avs.runners.onchain import (
    frame_logs,
    outcome_of_frame,
    parse_wei,
    simulate_call,
    wallet_frames,
)

WALLET = "0x" + "aa" * 20
TOKEN = "0x" + "bb" * 20
ENTRYPOINT = "0x" + "ee" * 20


class NoTraceChain:
    """A node without debug_traceCall; eth_call and eth_estimateGas answer or revert."""

    def __init__(self, revert: bool = False, down: bool = False) -> None:
        self.revert = revert
        self.down = down
        self.methods: list[str] = []

    async def request(self, method: str, params: list[Any]) -> Any:
        self.methods.append(method)
        if method == "debug_traceCall":
            raise Unavailable("chain RPC debug_traceCall failed: Method not found")
        if self.down:
            raise Unavailable("chain RPC is unavailable (eth_call): ConnectError")
        if self.revert:
            raise CallReverted("eth_call reverted: execution reverted: nope")
        if method == "eth_call":
            return "0x" + "00" * 31 + "01"
        return hex(51_000)


async def test_simulation_falls_back_to_eth_call_without_tracing() -> None:
    chain = NoTraceChain()
    outcome = await simulate_call(chain, WALLET, TOKEN, 0, b"\x01")  # type: ignore[arg-type]
    assert outcome.success
    assert (outcome.output, outcome.gas_used, outcome.traced) == (
        b"\x00" * 31 + b"\x01",
        51_000,
        False,
    )
    assert chain.methods == ["debug_traceCall", "eth_call", "eth_estimateGas"]

    reverted = await simulate_call(NoTraceChain(revert=True), WALLET, TOKEN, 0, b"")  # type: ignore[arg-type]
    assert (reverted.success, reverted.error) == (
        False,
        "eth_call reverted: execution reverted: nope",
    )

    with pytest.raises(NodeFailure, match="simulation failed: chain RPC is unavailable") as down:
        await simulate_call(NoTraceChain(down=True), WALLET, TOKEN, 0, b"")  # type: ignore[arg-type]
    assert down.value.error_code == 5000


def test_trace_frames_logs_and_reverts() -> None:
    frame = {
        "from": WALLET,
        "to": TOKEN,
        "gasUsed": "0x100",
        "output": "0x01",
        "logs": [{"position": "0x0", "n": 1}, {"position": "0x1", "n": 3}],
        "calls": [
            {"logs": [{"position": "0x0", "n": 2}]},
            {"error": "execution reverted", "logs": [{"position": "0x0", "n": "dropped"}]},
        ],
    }
    assert [log["n"] for log in frame_logs(frame)] == [1, 2, 3]
    outcome = outcome_of_frame(frame)
    assert (outcome.success, outcome.output, outcome.gas_used) == (True, b"\x01", 256)
    failed = outcome_of_frame({"error": "execution reverted", "revertReason": "too poor"})
    assert (failed.success, failed.error, failed.logs) == (False, "too poor", ())


def test_wallet_frames_are_the_wallets_own_calls_in_order() -> None:
    call_1 = {"type": "CALL", "from": WALLET, "to": TOKEN, "input": "0x01"}
    call_2 = {
        "type": "CALL",
        "from": WALLET.upper().replace("0X", "0x"),
        "to": TOKEN,
        "input": "0x02",
    }
    prefund = {"type": "CALL", "from": WALLET, "to": ENTRYPOINT}
    trace = {
        "type": "CALL",
        "from": "0xbundler",
        "to": ENTRYPOINT,
        "calls": [
            {"type": "CALL", "from": ENTRYPOINT, "to": WALLET, "calls": [prefund]},
            {
                "type": "CALL",
                "from": ENTRYPOINT,
                "to": WALLET,
                "calls": [{"type": "DELEGATECALL", "from": WALLET, "calls": [call_1, call_2]}],
            },
        ],
    }
    assert wallet_frames(trace, WALLET, [ENTRYPOINT]) == [call_1, call_2]


@pytest.mark.parametrize(("text", "value"), [("0", 0), (" 12 ", 12), ("0x10", 16)])
def test_parse_wei(text: str, value: int) -> None:
    assert parse_wei(text, label="amount") == value


@pytest.mark.parametrize("text", ["", "-1", "1.5", "1e18", "ten"])
def test_parse_wei_rejects(text: str) -> None:
    with pytest.raises(NodeFailure, match="invalid amount"):
        parse_wei(text, label="amount")
