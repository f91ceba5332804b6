"""Sample logs, addresses and ABIs shared by the operator's unit tests."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from ap_avs.domain.events import TRANSFER_TOPIC, Log
from ap_avs.domain.values import JsonValue

__all__ = ["TRANSFER_TOPIC"]

TOKEN = "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238"
OTHER_TOKEN = "0x779877A7B0D9E8603169DdbD7836e478b4624789"
ALICE = "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B"
BOB = "0x00000000219ab540356cBB839Cbe05303d7705Fa"
FEED = "0x694AA1769357215DE4FAC081bf1f309aDC325306"
ANSWER_UPDATED_ABI: JsonValue = {
    "type": "event",
    "name": "AnswerUpdated",
    "anonymous": False,
    "inputs": [
        {"name": "current", "type": "int256", "indexed": True},
        {"name": "roundId", "type": "uint256", "indexed": True},
        {"name": "updatedAt", "type": "uint256", "indexed": False},
    ],
}
TRANSFER_ABI: JsonValue = {
    "type": "event",
    "name": "Transfer",
    "inputs": [
        {"name": "from", "type": "address", "indexed": True},
        {"name": "to", "type": "address", "indexed": True},
        {"name": "value", "type": "uint256", "indexed": False},
    ],
}


def pad(address: str) -> str:
    return "0x" + address[2:].lower().rjust(64, "0")


def transfer_log(
    token: str, sender: str, recipient: str, value: int, *, index: int = 0, removed: bool = False
) -> Log:
    return Log(
        address=token.lower(),
        topics=(TRANSFER_TOPIC, pad(sender), pad(recipient)),
        data=value.to_bytes(32, "big"),
        block_number=100,
        block_hash="0x" + "ab" * 32,
        transaction_hash="0x" + f"{index:064x}",
        transaction_index=0,
        log_index=index,
        removed=removed,
    )


def answer_log(answer: int, round_id: int = 7) -> Log:
    topic0 = "0x" + keccak(text="AnswerUpdated(int256,uint256,uint256)").hex()
    return Log(
        address=FEED.lower(),
        topics=(topic0, "0x" + encode(["int256"], [answer]).hex(), "0x" + f"{round_id:064x}"),
        data=encode(["uint256"], [1_700_000_000]),
        block_number=5,
        block_hash="0x" + "00" * 32,
        transaction_hash="0x" + "11" * 32,
        transaction_index=0,
        log_index=0,
    )
