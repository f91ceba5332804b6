"""Pure parts of ap_avs.chain.aa (encodings, hashes, signatures) and BundlerClient on a mock
transport.

Hashes are checked against the EntryPoint and VerifyingPaymaster contracts themselves in
tests/integration/test_user_ops.py; here we check layout, determinism and sensitivity.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi.abi import decode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak

from ap_avs.chain import aa
from ap_avs.chain.aa import DUMMY_SIGNATURE, BundlerClient, UserOperation, UserOpError

ENTRYPOINT = aa.ENTRYPOINT_V06
FACTORY = "0x25172DF51d5B9bFF5392d4bFbaFd36ee94cf32C2"
PAYMASTER = "0x872B63d0Ab8C56B15178DCbdE55Ec38212504E1C"
OWNER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _op(**changes: Any) -> UserOperation:
    op = UserOperation(
        sender="0x25C5B88B080Ea0DcD66F22dF7632a452AE974Be5",
        nonce=7,
        init_code=aa.init_code(FACTORY, OWNER, 5),
        call_data=aa.execute_calldata(OWNER, 10**18, b"\xca\xfe"),
        call_gas_limit=100_000,
        verification_gas_limit=400_000,
        pre_verification_gas=50_000,
        max_fee_per_gas=3 * 10**9,
        max_priority_fee_per_gas=10**9,
    )
    return op.replace(**changes)


def test_selectors_are_the_ones_upstream_calls() -> None:
    assert aa.SELECTOR_CREATE_ACCOUNT.hex() == "5fbfb9cf"
    assert aa.SELECTOR_EXECUTE.hex() == "b61d27f6"
    assert aa.SELECTOR_EXECUTE_BATCH.hex() == "18dfb3c7"
    assert aa.SELECTOR_EXECUTE_BATCH_WITH_VALUES.hex() == "c3ff72fc"  # PROTOCOL.md §7.9


def test_init_code_is_factory_then_create_account() -> None:
    code = aa.init_code(FACTORY, OWNER, 2**130)
    assert code[:20] == bytes.fromhex(FACTORY[2:])
    assert code[20:24] == aa.SELECTOR_CREATE_ACCOUNT
    owner, salt = decode(["address", "uint256"], code[24:])
    assert owner.lower() == OWNER.lower()
    assert salt == 2**130


def test_execute_calldata_round_trips() -> None:
    data = aa.execute_calldata(OWNER, 5, b"\x01\x02")
    assert data[:4] == aa.SELECTOR_EXECUTE
    target, value, inner = decode(["address", "uint256", "bytes"], data[4:])
    assert (target.lower(), value, inner) == (OWNER.lower(), 5, b"\x01\x02")


def test_batch_calldata_round_trips_and_checks_lengths() -> None:
    data = aa.execute_batch_with_values_calldata([OWNER, FACTORY], [1, 2], [b"", b"\xff"])
    targets, values, datas = decode(["address[]", "uint256[]", "bytes[]"], data[4:])
    assert [t.lower() for t in targets] == [OWNER.lower(), FACTORY.lower()]
    assert (list(values), list(datas)) == ([1, 2], [b"", b"\xff"])
    plain = aa.execute_batch_calldata([OWNER], [b"\x01"])
    assert plain[:4] == aa.SELECTOR_EXECUTE_BATCH
    with pytest.raises(ValueError, match="differ in length"):
        aa.execute_batch_with_values_calldata([OWNER], [1, 2], [b""])
    with pytest.raises(ValueError, match="differ in length"):
        aa.execute_batch_calldata([OWNER], [])


@pytest.mark.parametrize(
    ("deployer", "salt", "init", "expected"),
    [  # EIP-1014's examples 0, 1 and 4
        (
            "0x0000000000000000000000000000000000000000",
            0,
            b"\x00",
            "0x4D1A2e2bB4F88F0250f26Ffff098B0b30B26BF38",
        ),
        (
            "0xdeadbeef00000000000000000000000000000000",
            0,
            b"\x00",
            "0xB928f69Bb1D91Cd65274e3c79d8986362984fDA3",
        ),
        (
            "0x00000000000000000000000000000000deadbeef",
            0xCAFEBABE,
            bytes.fromhex("deadbeef"),
            "0x60f3f640a8508fC6a86d45DF051962668E1e8AC7",
        ),
    ],
)
def test_create2_address_matches_eip_1014(
    deployer: str, salt: int, init: bytes, expected: str
) -> None:
    assert aa.create2_address(deployer, salt, keccak(init)) == expected


def test_proxy_creation_code_is_the_compiled_artifact() -> None:
    artifact = Path(__file__).resolve().parents[1] / "contracts/artifacts/ERC1967Proxy.json"
    bytecode = json.loads(artifact.read_text())["bytecode"]
    assert bytes.fromhex(bytecode.removeprefix("0x")) == aa.ERC1967_PROXY_CREATION_CODE


def test_create2_rejects_bad_lengths() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        aa.create2_address(FACTORY, b"\x00", keccak(b""))
    with pytest.raises(ValueError, match="not an address"):
        aa.create2_address("0x1234", 0, keccak(b""))


def test_user_op_hash_is_deterministic_and_covers_every_field() -> None:
    op = _op()
    digest = aa.user_op_hash(op, ENTRYPOINT, 31337)
    assert len(digest) == 32
    assert digest == aa.user_op_hash(_op(), ENTRYPOINT, 31337)
    assert digest != aa.user_op_hash(op, ENTRYPOINT, 11155111)
    assert digest != aa.user_op_hash(op, FACTORY, 31337)
    changes: dict[str, Any] = {
        "sender": OWNER,
        "nonce": 8,
        "init_code": b"",
        "call_data": b"\x00",
        "call_gas_limit": 1,
        "verification_gas_limit": 1,
        "pre_verification_gas": 1,
        "max_fee_per_gas": 1,
        "max_priority_fee_per_gas": 1,
        "paymaster_and_data": b"\x01",
    }
    for name, value in changes.items():
        assert aa.user_op_hash(op.replace(**{name: value}), ENTRYPOINT, 31337) != digest, name
    # The signature is not part of what is signed.
    assert aa.user_op_hash(op.replace(signature=b"\x01"), ENTRYPOINT, 31337) == digest


def test_sign_user_op_is_eip191_over_the_hash() -> None:
    op = aa.sign_user_op(_op(), KEY, ENTRYPOINT, 31337)
    assert len(op.signature) == 65
    digest = aa.user_op_hash(op, ENTRYPOINT, 31337)
    recovered = Account.recover_message(encode_defunct(primitive=digest), signature=op.signature)
    assert recovered == SIGNER
    assert op.replace(signature=b"") == _op()


def test_dummy_signature_is_well_formed() -> None:
    assert len(DUMMY_SIGNATURE) == 65
    assert DUMMY_SIGNATURE[64] in (27, 28)
    s = int.from_bytes(DUMMY_SIGNATURE[32:64], "big")
    assert s <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0  # low s
    recovered = Account.recover_message(
        encode_defunct(primitive=b"\x11" * 32), signature=DUMMY_SIGNATURE
    )
    assert int(recovered, 16) != 0


def test_paymaster_and_data_layout() -> None:
    data = aa.paymaster_and_data(PAYMASTER, 1_700_000_000, 5)
    assert len(data) == 20 + 64 + 65
    assert data[:20] == bytes.fromhex(PAYMASTER[2:])
    assert decode(["uint48", "uint48"], data[20:84]) == (1_700_000_000, 5)
    assert data[84:] == DUMMY_SIGNATURE


def _pm_hash(op: UserOperation, **overrides: Any) -> bytes:
    args: dict[str, Any] = {
        "chain_id": 31337,
        "paymaster": PAYMASTER,
        "sender_nonce": 0,
        "valid_until": 1_700_000_000,
        "valid_after": 0,
    }
    args.update(overrides)
    return aa.verifying_paymaster_hash(op, **args)


def test_verifying_paymaster_hash_ignores_what_it_cannot_cover() -> None:
    op = _op()
    digest = _pm_hash(op)
    # Neither the account signature nor the paymaster data itself are covered.
    assert _pm_hash(op.replace(signature=b"\x01" * 65)) == digest
    assert _pm_hash(op.replace(paymaster_and_data=b"\x02" * 149)) == digest
    for changed in (
        op.replace(nonce=8),
        op.replace(call_data=b"\x00"),
        op.replace(init_code=b""),
        op.replace(max_fee_per_gas=1),
    ):
        assert _pm_hash(changed) != digest
    for override in (
        {"chain_id": 1},
        {"paymaster": FACTORY},
        {"sender_nonce": 1},
        {"valid_until": 1},
        {"valid_after": 1},
    ):
        assert _pm_hash(op, **override) != digest


def test_sponsor_user_op_signs_the_paymaster_hash() -> None:
    op = aa.sponsor_user_op(
        _op(), KEY, chain_id=31337, paymaster=PAYMASTER, sender_nonce=3, valid_until=99
    )
    assert op.paymaster_and_data[:84] == aa.paymaster_and_data(PAYMASTER, 99, 0)[:84]
    digest = _pm_hash(op, sender_nonce=3, valid_until=99)
    signature = op.paymaster_and_data[84:]
    assert Account.recover_message(encode_defunct(primitive=digest), signature=signature) == SIGNER


def test_to_rpc_dict_is_hex_json() -> None:
    rpc = aa.to_rpc_dict(_op(signature=b"\xab"))
    assert list(rpc) == [
        "sender",
        "nonce",
        "initCode",
        "callData",
        "callGasLimit",
        "verificationGasLimit",
        "preVerificationGas",
        "maxFeePerGas",
        "maxPriorityFeePerGas",
        "paymasterAndData",
        "signature",
    ]
    assert rpc["nonce"] == "0x7"
    assert rpc["paymasterAndData"] == "0x"
    assert rpc["signature"] == "0xab"
    assert rpc["initCode"].startswith("0x" + FACTORY[2:].lower())
    assert all(isinstance(v, str) and v.startswith("0x") for v in rpc.values())


def test_gas_estimate_applies_to_an_op() -> None:
    op = aa.GasEstimate(1, 2, 3).apply(_op())
    assert (op.pre_verification_gas, op.verification_gas_limit, op.call_gas_limit) == (1, 2, 3)


# --- BundlerClient on httpx.MockTransport ---------------------------------------------------


def _bundler(answer: Callable[[dict[str, Any]], dict[str, Any]]) -> BundlerClient:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body["id"], **answer(body)})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return BundlerClient("http://bundler.test/rpc", ENTRYPOINT, client=client)


async def test_send_returns_the_hash_and_passes_the_entrypoint() -> None:
    seen: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        seen.append(body)
        return {"result": "0x" + "11" * 32}

    async with _bundler(answer) as bundler:
        assert await bundler.send(_op()) == "0x" + "11" * 32
    assert seen[0]["method"] == "eth_sendUserOperation"
    assert seen[0]["params"] == [aa.to_rpc_dict(_op()), ENTRYPOINT]


async def test_aa_code_in_the_message_is_surfaced() -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        message = "UserOperation reverted during simulation with reason: AA25 invalid account nonce"
        return {"error": {"code": -32500, "message": message}}

    async with _bundler(answer) as bundler:
        with pytest.raises(UserOpError, match="AA25 invalid account nonce") as caught:
            await bundler.estimate_gas(_op())
    assert caught.value.code == "AA25"
    assert caught.value.rpc_code == -32500
    assert not caught.value.retryable


async def test_invalid_signature_code_becomes_aa24_without_a_paymaster() -> None:
    def answer(body: dict[str, Any]) -> dict[str, Any]:
        message = "Invalid UserOperation signature or paymaster signature"
        return {"error": {"code": -32507, "message": message}}

    async with _bundler(answer) as bundler:
        with pytest.raises(UserOpError, match="AA24 signature error") as caught:
            await bundler.send(_op())
        assert caught.value.code == "AA24"
        with pytest.raises(UserOpError, match="AA24 or AA34") as sponsored:
            await bundler.send(_op(paymaster_and_data=aa.paymaster_and_data(PAYMASTER, 1, 0)))
        assert sponsored.value.code is None


async def test_receipt_is_parsed_and_polled_until_it_arrives() -> None:
    calls = 0
    raw = {
        "userOpHash": "0x" + "22" * 32,
        "sender": OWNER.lower(),
        "nonce": "0x1",
        "success": True,
        "actualGasCost": "0x10",
        "actualGasUsed": "0x20",
        "reason": "",
        "receipt": {"transactionHash": "0x" + "33" * 32, "blockNumber": "0x9"},
    }

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return {"result": raw if calls >= 3 else None}

    async with _bundler(answer) as bundler:
        receipt = await bundler.wait_for_receipt("0x" + "22" * 32, poll_interval=0.001)
    assert calls == 3
    assert receipt.sender == OWNER
    assert (receipt.nonce, receipt.actual_gas_cost, receipt.actual_gas_used) == (1, 16, 32)
    assert receipt.success
    assert receipt.block_number == 9


async def test_missing_receipt_times_out_as_retryable() -> None:
    async with _bundler(lambda body: {"result": None}) as bundler:
        with pytest.raises(UserOpError, match="no receipt") as caught:
            await bundler.wait_for_receipt("0x00", wait_seconds=0.01, poll_interval=0.001)
    assert caught.value.retryable


async def test_unreachable_bundler_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with BundlerClient("http://bundler.test/rpc", client=client) as bundler:
        with pytest.raises(UserOpError, match="eth_supportedEntryPoints failed") as caught:
            await bundler.supported_entrypoints()
    assert caught.value.retryable
    await client.aclose()


def test_revert_data_is_decoded_into_its_reason() -> None:
    from eth_abi.abi import encode

    from ap_avs.chain.aa import decode_revert_data

    data = "0x08c379a0" + encode(["string"], ["TestToken: transfer amount exceeds balance"]).hex()
    assert decode_revert_data(f"reverted with reason: {data}") == (
        "reverted with reason: TestToken: transfer amount exceeds balance"
    )
    panic = "0x4e487b71" + (0x11).to_bytes(32, "big").hex()
    assert decode_revert_data(panic) == "panic code 0x11"
    assert decode_revert_data("0x08c379a0zz") == "0x08c379a0zz"
