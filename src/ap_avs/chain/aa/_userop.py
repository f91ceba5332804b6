"""ERC-4337 v0.6 UserOperations as values (pure): build, hash, sign, sponsor.

The v0.6 ``UserOperation``, the EntryPoint's userOpHash, the account signature (EIP-191 over
that hash, as the smart account checks it), ``initCode`` and call data for our smart-account
factory and account, CREATE2 address arithmetic, and ``paymasterAndData`` for the v0.6
``VerifyingPaymaster``. No I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

ENTRYPOINT_V06: Final = "0x5FF137D4b0FDCD49DcA30c7CF57E578a026d2789"

#: A well-formed 65-byte signature (s in the lower half, v = 28) that signs nothing: bundlers
#: need one of this shape to estimate gas before the real signature exists.
DUMMY_SIGNATURE: Final = (
    bytes.fromhex("ff" * 15 + "f0" + "00" * 16)  # r
    + bytes.fromhex("7a" + "aa" * 31)  # s
    + bytes([28])  # v
)

#: Creation code of OpenZeppelin 4.9.6's ERC1967Proxy as our factory embeds it (solc 0.8.23,
#: settings in scripts/compile_contracts.mjs; tests check it against contracts/artifacts).
ERC1967_PROXY_CREATION_CODE: Final = bytes.fromhex(
    "60806040526040516104b83803806104b8833981016040819052610022916102de565b61002e828260006100"
    "35565b50506103fb565b61003e83610061565b60008251118061004b5750805b1561005c5761005a83836100"
    "a1565b505b505050565b61006a816100cd565b6040516001600160a01b038216907fbc7cd75a20ee27fd9ade"
    "bab32041f755214dbc6bffa90cc0225b39da2e5c2d3b90600090a250565b60606100c6838360405180606001"
    "604052806027815260200161049160279139610180565b9392505050565b6001600160a01b0381163b61013f"
    "5760405162461bcd60e51b815260206004820152602d60248201527f455243313936373a206e657720696d70"
    "6c656d656e746174696f6e206973206e60448201526c1bdd08184818dbdb9d1c9858dd609a1b606482015260"
    "84015b60405180910390fd5b7f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382b"
    "bc80546001600160a01b0319166001600160a01b0392909216919091179055565b6060600080856001600160"
    "a01b03168560405161019d91906103ac565b600060405180830381855af49150503d80600081146101d85760"
    "40519150601f19603f3d011682016040523d82523d6000602084013e6101dd565b606091505b509092509050"
    "6101ef868383876101f9565b9695505050505050565b60608315610268578251600003610261576001600160"
    "a01b0385163b6102615760405162461bcd60e51b815260206004820152601d60248201527f41646472657373"
    "3a2063616c6c20746f206e6f6e2d636f6e74726163740000006044820152606401610136565b508161027256"
    "5b610272838361027a565b949350505050565b81511561028a5781518083602001fd5b8060405162461bcd60"
    "e51b815260040161013691906103c8565b634e487b7160e01b600052604160045260246000fd5b60005b8381"
    "10156102d55781810151838201526020016102bd565b50506000910152565b600080604083850312156102f1"
    "57600080fd5b82516001600160a01b038116811461030857600080fd5b60208401519092506001600160401b"
    "038082111561032557600080fd5b818501915085601f83011261033957600080fd5b81518181111561034b57"
    "61034b6102a4565b604051601f8201601f19908116603f011681019083821181831017156103735761037361"
    "02a4565b8160405282815288602084870101111561038c57600080fd5b61039d8360208301602088016102ba"
    "565b80955050505050509250929050565b600082516103be8184602087016102ba565b919091019291505056"
    "5b60208152600082518060208401526103e78160408501602087016102ba565b601f01601f19169190910160"
    "400192915050565b6088806104096000396000f3fe608060405236601057600e6013565b005b600e5b601f60"
    "1b6021565b6058565b565b600060537f360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca50"
    "5d382bbc546001600160a01b031690565b905090565b3660008037600080366000845af43d6000803e808015"
    "6076573d6000f35b3d6000fdfea164736f6c6343000817000a416464726573733a206c6f772d6c6576656c20"
    "64656c65676174652063616c6c206661696c6564"
)

#: The v0.6 UserOperation struct, field by field, as ABI types.
_USER_OP_TYPES: Final = ("address", "uint256", "bytes", "bytes", *["uint256"] * 5, "bytes", "bytes")


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


SELECTOR_CREATE_ACCOUNT: Final = _selector("createAccount(address,uint256)")
SELECTOR_EXECUTE: Final = _selector("execute(address,uint256,bytes)")
SELECTOR_EXECUTE_BATCH: Final = _selector("executeBatch(address[],bytes[])")
SELECTOR_EXECUTE_BATCH_WITH_VALUES: Final = _selector(
    "executeBatchWithValues(address[],uint256[],bytes[])"
)


@dataclass(frozen=True, slots=True)
class UserOperation:
    """An ERC-4337 v0.6 user operation; byte fields are raw bytes, addresses 0x-hex."""

    sender: str
    nonce: int
    init_code: bytes = b""
    call_data: bytes = b""
    call_gas_limit: int = 0
    verification_gas_limit: int = 0
    pre_verification_gas: int = 0
    max_fee_per_gas: int = 0
    max_priority_fee_per_gas: int = 0
    paymaster_and_data: bytes = b""
    signature: bytes = b""

    def replace(self, **changes: Any) -> UserOperation:
        """Return a copy with ``changes`` applied (field names as above)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class GasEstimate:
    """Gas limits a bundler proposes for a user operation."""

    pre_verification_gas: int
    verification_gas_limit: int
    call_gas_limit: int

    def apply(self, op: UserOperation) -> UserOperation:
        """Return ``op`` with these three gas limits."""
        return op.replace(
            pre_verification_gas=self.pre_verification_gas,
            verification_gas_limit=self.verification_gas_limit,
            call_gas_limit=self.call_gas_limit,
        )


def _address_bytes(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"not an address: {address!r}")
    return raw


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def user_op_values(op: UserOperation) -> tuple[object, ...]:
    """The operation's fields in the EntryPoint v0.6 tuple order, ready for ABI encoding."""
    return (
        to_checksum_address(op.sender),
        op.nonce,
        op.init_code,
        op.call_data,
        op.call_gas_limit,
        op.verification_gas_limit,
        op.pre_verification_gas,
        op.max_fee_per_gas,
        op.max_priority_fee_per_gas,
        op.paymaster_and_data,
        op.signature,
    )


def user_op_hash(op: UserOperation, entrypoint: str, chain_id: int) -> bytes:
    """The v0.6 ``EntryPoint.getUserOpHash(op)``: what the account's signer signs."""
    packed = encode(
        ["address", "uint256", *["bytes32"] * 2, *["uint256"] * 5, "bytes32"],
        [
            op.sender,
            op.nonce,
            keccak(op.init_code),
            keccak(op.call_data),
            op.call_gas_limit,
            op.verification_gas_limit,
            op.pre_verification_gas,
            op.max_fee_per_gas,
            op.max_priority_fee_per_gas,
            keccak(op.paymaster_and_data),
        ],
    )
    return keccak(encode(["bytes32", "address", "uint256"], [keccak(packed), entrypoint, chain_id]))


NONCE_KEY_BITS: Final = 192
"""Width of the key half of a v0.6 EntryPoint nonce (``nonce = key << 64 | sequence``)."""


def step_nonce_key(step: str) -> int:
    """The EntryPoint nonce key of a workflow step, from its ``<execution>:<node>[:<iter>]``
    name: 192 bits of keccak, never 0 (key 0 is the wallet's ordinary sequence).

    Each step's UserOp uses sequence 0 of its own key, so the EntryPoint accepts it at most
    once, whatever the engine does.
    """
    digest = keccak(text=f"ap-avs step nonce\n{step}")
    return int.from_bytes(digest[: NONCE_KEY_BITS // 8], "big") or 1


def keyed_nonce(key: int, sequence: int = 0) -> int:
    """The full 256-bit nonce of sequence ``sequence`` under ``key``."""
    if not 0 <= key < 1 << NONCE_KEY_BITS or not 0 <= sequence < 1 << 64:
        raise ValueError("nonce key must fit 192 bits and the sequence 64 bits")
    return key << 64 | sequence


def _eip191_sign(digest: bytes, private_key: str | bytes) -> bytes:
    signed = Account.sign_message(encode_defunct(primitive=digest), private_key)
    return bytes(signed.signature)


def sign_user_op(
    op: UserOperation, private_key: str | bytes, entrypoint: str, chain_id: int
) -> UserOperation:
    """Return ``op`` signed: EIP-191 over its userOpHash, by the owner or the controller."""
    return op.replace(signature=_eip191_sign(user_op_hash(op, entrypoint, chain_id), private_key))


def init_code(factory: str, owner: str, salt: int) -> bytes:
    """``initCode`` deploying ``owner``'s wallet: factory ‖ ``createAccount(owner, salt)``."""
    call = SELECTOR_CREATE_ACCOUNT + encode(["address", "uint256"], [owner, salt])
    return _address_bytes(factory) + call


def execute_calldata(target: str, value: int, data: bytes) -> bytes:
    """Account call data for one call: ``execute(target, value, data)``."""
    return SELECTOR_EXECUTE + encode(["address", "uint256", "bytes"], [target, value, data])


def execute_batch_calldata(targets: Sequence[str], datas: Sequence[bytes]) -> bytes:
    """Account call data for several calls without value: ``executeBatch(targets, datas)``."""
    if len(targets) != len(datas):
        raise ValueError("targets and datas differ in length")
    return SELECTOR_EXECUTE_BATCH + encode(["address[]", "bytes[]"], [list(targets), list(datas)])


def execute_batch_with_values_calldata(
    targets: Sequence[str], values: Sequence[int], datas: Sequence[bytes]
) -> bytes:
    """Account call data for several calls with value: ``executeBatchWithValues(...)``."""
    if not len(targets) == len(values) == len(datas):
        raise ValueError("targets, values and datas differ in length")
    return SELECTOR_EXECUTE_BATCH_WITH_VALUES + encode(
        ["address[]", "uint256[]", "bytes[]"], [list(targets), list(values), list(datas)]
    )


def create2_address(deployer: str, salt: int | bytes, init_code_hash: bytes) -> str:
    """The CREATE2 address: keccak(0xff ‖ deployer ‖ salt ‖ keccak(init code))[12:]."""
    salt_bytes = salt if isinstance(salt, bytes) else salt.to_bytes(32, "big")
    if len(salt_bytes) != 32 or len(init_code_hash) != 32:
        raise ValueError("salt and init code hash must be 32 bytes")
    digest = keccak(b"\xff" + _address_bytes(deployer) + salt_bytes + init_code_hash)
    return to_checksum_address(digest[12:])


def account_address(
    factory: str,
    implementation: str,
    owner: str,
    salt: int,
    proxy_creation_code: bytes = ERC1967_PROXY_CREATION_CODE,
) -> str:
    """The wallet address ``factory.getAddress(owner, salt)`` returns, computed locally.

    ``proxy_creation_code`` is the ERC1967Proxy creation code the factory was built with; the
    default is our factory's.
    """
    initialize = _selector("initialize(address)") + encode(["address"], [owner])
    proxy_init = proxy_creation_code + encode(["address", "bytes"], [implementation, initialize])
    return create2_address(factory, salt, keccak(proxy_init))


def _paymaster_times(valid_until: int, valid_after: int) -> bytes:
    return encode(["uint48", "uint48"], [valid_until, valid_after])


def paymaster_and_data(
    paymaster: str, valid_until: int, valid_after: int, signature: bytes = DUMMY_SIGNATURE
) -> bytes:
    """VerifyingPaymaster ``paymasterAndData``: paymaster ‖ abi.encode(until, after) ‖ sig.

    With the default dummy signature it has its final length, as gas estimation needs.
    """
    return _address_bytes(paymaster) + _paymaster_times(valid_until, valid_after) + signature


def verifying_paymaster_hash(
    op: UserOperation,
    *,
    chain_id: int,
    paymaster: str,
    sender_nonce: int,
    valid_until: int,
    valid_after: int = 0,
    signature_length: int = 65,
) -> bytes:
    """The v0.6 ``VerifyingPaymaster.getHash(op, validUntil, validAfter)``, computed locally.

    The contract hashes the ABI encoding of ``op`` as it sits in calldata, cut just before
    ``paymasterAndData``. That encoding holds the offset of ``signature``, which moves with
    the length of ``paymasterAndData``; so the hash is taken with a placeholder of the final
    length (a ``signature_length``-byte paymaster signature). ``sender_nonce`` is the
    paymaster's ``senderNonce(op.sender)``, read from the chain.
    """
    placeholder = paymaster_and_data(
        paymaster, valid_until, valid_after, b"\x00" * signature_length
    )
    encoded = encode(
        list(_USER_OP_TYPES), user_op_values(op.replace(paymaster_and_data=placeholder))
    )

    def tail(data: bytes) -> int:
        return 32 + -(-len(data) // 32) * 32

    packed = encoded[: 11 * 32 + tail(op.init_code) + tail(op.call_data)]
    return keccak(
        encode(
            ["bytes", "uint256", "address", "uint256", "uint48", "uint48"],
            [packed, chain_id, paymaster, sender_nonce, valid_until, valid_after],
        )
    )


def sponsor_user_op(
    op: UserOperation,
    private_key: str | bytes,
    *,
    chain_id: int,
    paymaster: str,
    sender_nonce: int,
    valid_until: int,
    valid_after: int = 0,
) -> UserOperation:
    """Return ``op`` with signed ``paymasterAndData`` from the paymaster's verifying signer.

    Sponsor after the gas and fee fields are final and before ``sign_user_op``: the account
    signature covers ``paymasterAndData``, and the paymaster's covers everything else.
    """
    digest = verifying_paymaster_hash(
        op,
        chain_id=chain_id,
        paymaster=paymaster,
        sender_nonce=sender_nonce,
        valid_until=valid_until,
        valid_after=valid_after,
    )
    signature = _eip191_sign(digest, private_key)
    return op.replace(
        paymaster_and_data=paymaster_and_data(paymaster, valid_until, valid_after, signature)
    )


def to_rpc_dict(op: UserOperation) -> dict[str, str]:
    """The JSON form of ``op`` for ``eth_sendUserOperation`` (v0.6 field names, hex values)."""
    return {
        "sender": to_checksum_address(op.sender),
        "nonce": hex(op.nonce),
        "initCode": _hex(op.init_code),
        "callData": _hex(op.call_data),
        "callGasLimit": hex(op.call_gas_limit),
        "verificationGasLimit": hex(op.verification_gas_limit),
        "preVerificationGas": hex(op.pre_verification_gas),
        "maxFeePerGas": hex(op.max_fee_per_gas),
        "maxPriorityFeePerGas": hex(op.max_priority_fee_per_gas),
        "paymasterAndData": _hex(op.paymaster_and_data),
        "signature": _hex(op.signature),
    }
