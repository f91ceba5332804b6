"""ERC-4337 v0.6 UserOperations: build, hash, sign, sponsor, and send them through a bundler.

This module owns the v0.6 ``UserOperation`` value and the pure functions around it: the
EntryPoint's userOpHash, the account signature (EIP-191 over that hash, as the smart account
checks it), ``initCode`` and call data for our smart-account factory and account, CREATE2
address arithmetic, and ``paymasterAndData`` for the v0.6 ``VerifyingPaymaster``. The only I/O
is ``BundlerClient``, an async JSON-RPC client (httpx) for a bundler such as alto.

Raises:
    UserOpError: from ``BundlerClient`` when the bundler refuses an operation, cannot be
        reached, or no receipt arrives before the deadline. ``code`` holds the EntryPoint's
        ``AAxx`` code when the bundler reported one (``"AA24"`` for a bad signature).

Usage::

    op = UserOperation(sender=wallet, nonce=0, init_code=init_code(factory, owner, 0), ...)
    op = sign_user_op(op, controller_key, entrypoint, chain_id)
    async with BundlerClient(bundler_url, entrypoint) as bundler:
        receipt = await bundler.wait_for_receipt(await bundler.send(op))
"""

from __future__ import annotations

from ap_avs.chain.aa._bundler import (
    AA_MESSAGES,
    BundlerClient,
    UserOpError,
    UserOpReceipt,
    decode_revert_data,
    is_nonce_error,
    user_message,
)
from ap_avs.chain.aa._direct import DirectSubmitter, UserOpSubmitter, receipt_from_transaction
from ap_avs.chain.aa._lookup import USER_OPERATION_EVENT, find_included, next_sequence
from ap_avs.chain.aa._userop import (
    DUMMY_SIGNATURE,
    ENTRYPOINT_V06,
    ERC1967_PROXY_CREATION_CODE,
    SELECTOR_CREATE_ACCOUNT,
    SELECTOR_EXECUTE,
    SELECTOR_EXECUTE_BATCH,
    SELECTOR_EXECUTE_BATCH_WITH_VALUES,
    GasEstimate,
    UserOperation,
    account_address,
    create2_address,
    execute_batch_calldata,
    execute_batch_with_values_calldata,
    execute_calldata,
    init_code,
    keyed_nonce,
    paymaster_and_data,
    sign_user_op,
    sponsor_user_op,
    step_nonce_key,
    to_rpc_dict,
    user_op_hash,
    verifying_paymaster_hash,
)

__all__ = [
    "AA_MESSAGES",
    "DUMMY_SIGNATURE",
    "ENTRYPOINT_V06",
    "ERC1967_PROXY_CREATION_CODE",
    "SELECTOR_CREATE_ACCOUNT",
    "SELECTOR_EXECUTE",
    "SELECTOR_EXECUTE_BATCH",
    "SELECTOR_EXECUTE_BATCH_WITH_VALUES",
    "USER_OPERATION_EVENT",
    "BundlerClient",
    "DirectSubmitter",
    "GasEstimate",
    "UserOpError",
    "UserOpReceipt",
    "UserOpSubmitter",
    "UserOperation",
    "account_address",
    "create2_address",
    "decode_revert_data",
    "execute_batch_calldata",
    "execute_batch_with_values_calldata",
    "execute_calldata",
    "find_included",
    "init_code",
    "is_nonce_error",
    "keyed_nonce",
    "next_sequence",
    "paymaster_and_data",
    "receipt_from_transaction",
    "sign_user_op",
    "sponsor_user_op",
    "step_nonce_key",
    "to_rpc_dict",
    "user_message",
    "user_op_hash",
    "verifying_paymaster_hash",
]
