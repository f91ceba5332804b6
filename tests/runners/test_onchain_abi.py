"""The pure ABI helpers of the on-chain runners: encoding workflow strings, decoding results and
logs into JSON without losing precision, formatting token amounts."""

from __future__ import annotations

import json

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from ap_avs.domain.erc20 import format_units
from ap_avs.runners.abi import (
    decode_logs,
    decode_result,
    encode_call,
    find_function,
    function_for_selector,
    parse_abi,
    signature,
)
from ap_avs.runners.base import NodeFailure

TRANSFER = {
    "type": "function",
    "name": "transfer",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [{"name": "", "type": "bool"}],
}
SWAP = {
    "type": "function",
    "name": "swap",
    "inputs": [
        {
            "name": "params",
            "type": "tuple",
            "components": [
                {"name": "tokenIn", "type": "address"},
                {"name": "fee", "type": "uint24"},
                {"name": "amounts", "type": "uint256[]"},
            ],
        },
        {"name": "flag", "type": "bool"},
        {"name": "data", "type": "bytes"},
        {"name": "tag", "type": "bytes32"},
        {"name": "note", "type": "string"},
    ],
    "outputs": [
        {"name": "amountOut", "type": "uint256"},
        {"name": "delta", "type": "int24"},
        {"name": "", "type": "address"},
    ],
}
OVERLOADED = [
    {"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint8"}], "outputs": []},
    {
        "type": "function",
        "name": "f",
        "inputs": [{"name": "a", "type": "uint8"}, {"name": "b", "type": "uint8"}],
        "outputs": [],
    },
]
ALICE = "0x" + "11" * 20
ALICE_CHECKSUM = "0x1111111111111111111111111111111111111111"


def test_parse_abi_accepts_objects_json_strings_and_a_whole_array() -> None:
    assert parse_abi([TRANSFER]) == [TRANSFER]
    assert parse_abi([json.dumps(TRANSFER)]) == [TRANSFER]
    assert parse_abi([json.dumps([TRANSFER, SWAP])]) == [TRANSFER, SWAP]
    with pytest.raises(NodeFailure, match="not valid JSON"):
        parse_abi(["{nope"])
    with pytest.raises(NodeFailure, match="must be objects"):
        parse_abi([[1, 2]])


def test_find_function_by_name_overload_or_signature() -> None:
    abi = [TRANSFER, *OVERLOADED]
    assert find_function(abi, "transfer") is TRANSFER
    assert find_function(abi, "f", 2) is OVERLOADED[1]
    assert find_function(abi, "f(uint8)") is OVERLOADED[0]
    assert signature(SWAP) == "swap((address,uint24,uint256[]),bool,bytes,bytes32,string)"
    with pytest.raises(NodeFailure, match="method g not found in the contract ABI"):
        find_function(abi, "g")


def test_encode_call_coerces_workflow_strings() -> None:
    data = encode_call(TRANSFER, [ALICE, "0x10"])
    assert data[:4] == keccak(text="transfer(address,uint256)")[:4]
    assert data[4:] == encode(["address", "uint256"], [ALICE_CHECKSUM, 16])
    swap = encode_call(
        SWAP,
        [
            json.dumps({"tokenIn": ALICE, "fee": 3000, "amounts": ["1", 2]}),
            "true",
            "0xdead",
            "0x" + "ab" * 32,
            "hello",
        ],
    )
    expected = encode(
        ["(address,uint24,uint256[])", "bool", "bytes", "bytes32", "string"],
        [(ALICE_CHECKSUM, 3000, [1, 2]), True, b"\xde\xad", b"\xab" * 32, "hello"],
    )
    assert swap[4:] == expected
    # A tuple may also be a JSON array.
    as_array = encode_call(
        SWAP, [f'["{ALICE}", 3000, [1, 2]]', "1", "0xdead", "0x" + "ab" * 32, "hello"]
    )
    assert as_array == swap


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([ALICE], "method transfer takes 2 parameters, got 1"),
        (["0x12", "1"], "parameter to of transfer is not a valid address"),
        ([ALICE, "1.5"], "parameter amount of transfer is not a valid uint256"),
        ([ALICE, "-1"], "cannot encode the parameters of transfer"),
    ],
)
def test_encode_call_names_the_bad_parameter(params: list[str], message: str) -> None:
    with pytest.raises(NodeFailure, match=message.replace("(", r"\(")):
        encode_call(TRANSFER, params)


def test_decode_result_single_named_and_precise() -> None:
    assert decode_result(TRANSFER, encode(["bool"], [True])) is True
    big = 2**200 + 1
    raw = encode(["uint256", "int24", "address"], [big, -5, ALICE_CHECKSUM])
    assert decode_result(SWAP, raw) == {"amountOut": str(big), "delta": -5, "2": ALICE_CHECKSUM}
    assert decode_result(OVERLOADED[0], b"") is None
    with pytest.raises(NodeFailure, match="cannot decode the result"):
        decode_result(SWAP, b"\x01")
    assert function_for_selector([TRANSFER, SWAP], encode_call(TRANSFER, [ALICE, "1"])) is TRANSFER
    assert function_for_selector([TRANSFER], b"\x00\x00\x00\x00") is None


def test_decode_logs_indexed_plain_and_dynamic_topics() -> None:
    event = {
        "type": "event",
        "name": "Named",
        "inputs": [
            {"name": "who", "type": "address", "indexed": True},
            {"name": "label", "type": "string", "indexed": True},
            {"name": "amount", "type": "uint256", "indexed": False},
            {"name": "ok", "type": "bool", "indexed": False},
        ],
    }
    topic0 = "0x" + keccak(text="Named(address,string,uint256,bool)").hex()
    log = {
        "address": "0xabc",
        "topics": [
            topic0,
            "0x" + encode(["address"], [ALICE_CHECKSUM]).hex(),
            "0x" + keccak(text="hi").hex(),
        ],
        "data": "0x" + encode(["uint256", "bool"], [7, False]).hex(),
    }
    unrelated = {"address": "0xabc", "topics": ["0x" + "00" * 32], "data": "0x"}
    (decoded,) = decode_logs([event, TRANSFER], [unrelated, log])
    assert decoded.name == "Named"
    assert decoded.fields == {
        "who": ALICE_CHECKSUM,
        "label": "0x" + keccak(text="hi").hex(),
        "amount": "7",
        "ok": False,
    }
    wrong_topics = {**log, "topics": log["topics"][:2]}
    assert decode_logs([event], [wrong_topics]) == []


@pytest.mark.parametrize(
    ("raw", "decimals", "text"),
    [
        (1_500_000, 6, "1.5"),
        (1, 6, "0.000001"),
        (10**24, 18, "1000000"),
        (-25, 1, "-2.5"),
        (123, 0, "123"),
        (0, 18, "0"),
    ],
)
def test_format_units(raw: int, decimals: int, text: str) -> None:
    assert format_units(raw, decimals) == text
