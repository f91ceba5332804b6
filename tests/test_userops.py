"""UserOpSender with a fake chain and bundler: one lane per wallet, AA25 rebuilds that re-sponsor
and re-sign (LESSONS 15), unconfirmed operations; RunnerWallets; the short AA messages; the pure
rules of token metadata and withdrawals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_account.messages import encode_defunct

from ap_avs.chain import aa
from ap_avs.chain.aa import GasEstimate, UserOperation, UserOpError, UserOpReceipt
from ap_avs.chain.tokens import DEFAULT_TOKEN_DIR, load_token_list, token_address
from ap_avs.chain.userops import RunnerWallets, SmartWallet, UserOpSender
from ap_avs.domain.wallets import Wallet
from ap_avs.engine.withdrawals import check_request
from ap_avs.errors import ConfigError, InvalidArgument, NotFound

CONTROLLER = Account.from_key("0x" + "42" * 32)
PAYMASTER = "0x" + "99" * 20
FACTORY = "0x" + "fa" * 20
OWNER = "0x" + "0a" * 20
WALLET_A = SmartWallet("0x" + "a1" * 20, OWNER, 0, FACTORY)
WALLET_B = SmartWallet("0x" + "b2" * 20, OWNER, 1, FACTORY)


class FakeChain:
    def __init__(self) -> None:
        self.nonces: dict[str, int] = {}
        self.sponsored: dict[str, int] = {}
        self.code: set[str] = set()

    async def get_code(self, address: str) -> bytes:
        return b"\x01" if address.lower() in self.code else b""

    async def entrypoint_nonce(self, entrypoint: str, sender: str) -> int:
        return self.nonces.get(sender.lower(), 0)

    async def request(self, method: str, params: list[Any]) -> Any:
        if method == "eth_getBlockByNumber":
            return {"baseFeePerGas": hex(10**9)}
        if method == "eth_maxPriorityFeePerGas":
            return hex(2 * 10**8)
        raise AssertionError(method)

    async def eth_call(self, to: str, data: bytes) -> bytes:
        assert to.lower() == PAYMASTER
        sender = "0x" + data[-20:].hex()
        return encode(["uint256"], [self.sponsored.get(sender, 0)])


class FakeBundler:
    def __init__(self, chain: FakeChain) -> None:
        self.chain = chain
        self.events: list[tuple[str, str]] = []
        self.sent: list[UserOperation] = []
        self.refusals: list[UserOpError] = []
        self.estimate_refusals: list[UserOpError] = []
        self.confirm = True

    async def estimate_gas(self, op: UserOperation) -> GasEstimate:
        self.events.append(("estimate", op.sender))
        if self.estimate_refusals:
            raise self.estimate_refusals.pop(0)
        assert op.signature == aa.DUMMY_SIGNATURE
        return GasEstimate(50_000, 100_000 if not op.init_code else 400_000, 80_000)

    async def send(self, op: UserOperation) -> str:
        self.events.append(("send", op.sender))
        if self.refusals:
            raise self.refusals.pop(0)
        self.sent.append(op)
        return "0x" + aa.user_op_hash(op, aa.ENTRYPOINT_V06, 31337).hex()

    async def wait_for_receipt(
        self, op_hash: str, *, wait_seconds: float, poll_interval: float
    ) -> UserOpReceipt:
        await asyncio.sleep(0.02)
        if not self.confirm:
            raise UserOpError(f"no receipt for user operation {op_hash}", retryable=True)
        op = next(o for o in self.sent if self._hash(o) == op_hash)
        sender = op.sender.lower()
        self.chain.nonces[sender] = self.chain.nonces.get(sender, 0) + 1
        if op.paymaster_and_data:
            self.chain.sponsored[sender] = self.chain.sponsored.get(sender, 0) + 1
        self.chain.code.add(sender)
        self.events.append(("receipt", op.sender))
        return UserOpReceipt(op_hash, op.sender, op.nonce, True, 10, 5, "0xtx", 1, "")

    @staticmethod
    def _hash(op: UserOperation) -> str:
        return "0x" + aa.user_op_hash(op, aa.ENTRYPOINT_V06, 31337).hex()

    async def aclose(self) -> None:
        pass


def make_sender(paymaster: str | None = PAYMASTER) -> tuple[UserOpSender, FakeChain, FakeBundler]:
    chain = FakeChain()
    bundler = FakeBundler(chain)
    sender = UserOpSender(
        chain,  # type: ignore[arg-type]
        "http://bundler.invalid",
        entrypoint=aa.ENTRYPOINT_V06,
        factory=FACTORY,
        controller_key=CONTROLLER.key.hex(),
        chain_id=31337,
        paymaster=paymaster,
        bundler=bundler,  # type: ignore[arg-type]
    )
    return sender, chain, bundler


def recover(digest: bytes, signature: bytes) -> str:
    return str(Account.recover_message(encode_defunct(primitive=digest), signature=signature))


async def test_first_op_deploys_and_is_sponsored_and_signed_by_the_controller() -> None:
    sender, chain, _ = make_sender()
    sent = await sender.send(WALLET_A, b"\x12\x34")

    op = sent.op
    assert sent.receipt is not None
    assert sent.attempts == 1
    assert op.init_code == aa.init_code(FACTORY, OWNER, 0)
    assert op.nonce == 0
    assert (op.max_fee_per_gas, op.max_priority_fee_per_gas) == (22 * 10**8, 2 * 10**8)
    assert (op.verification_gas_limit, op.call_gas_limit) == (400_000, 80_000)
    assert op.paymaster_and_data[:20].hex() == PAYMASTER[2:]
    pm_hash = aa.verifying_paymaster_hash(
        op,
        chain_id=31337,
        paymaster=PAYMASTER,
        sender_nonce=0,
        valid_until=int.from_bytes(op.paymaster_and_data[20:52], "big"),
    )
    assert recover(pm_hash, op.paymaster_and_data[-65:]) == CONTROLLER.address
    assert recover(aa.user_op_hash(op, aa.ENTRYPOINT_V06, 31337), op.signature) == (
        CONTROLLER.address
    )
    assert sent.user_op_hash == sender.user_op_hash(op)

    second = await sender.send(WALLET_A, b"\x56", call_gas_limit=200_000)
    assert (second.op.init_code, second.op.nonce, second.op.call_gas_limit) == (b"", 1, 200_000)
    assert chain.sponsored[WALLET_A.address] == 2


async def test_a_nonce_refusal_rebuilds_and_re_signs_everything() -> None:
    sender, chain, bundler = make_sender()
    chain.code.add(WALLET_A.address)

    async def refuse_once_then_advance() -> None:
        # Someone else's op (e.g. before a restart) took nonce 0 and a paymaster nonce.
        chain.nonces[WALLET_A.address] = 1
        chain.sponsored[WALLET_A.address] = 1

    bundler.refusals.append(
        UserOpError("bundler refused: AA25 invalid account nonce", code="AA25", rpc_code=-32500)
    )
    original_send = bundler.send

    async def send(op: UserOperation) -> str:
        if bundler.refusals:
            await refuse_once_then_advance()
        return await original_send(op)

    bundler.send = send  # type: ignore[method-assign]

    sent = await sender.send(WALLET_A, b"\x01")

    assert sent.attempts == 2
    assert sent.op.nonce == 1
    pm_hash = aa.verifying_paymaster_hash(
        sent.op,
        chain_id=31337,
        paymaster=PAYMASTER,
        sender_nonce=1,
        valid_until=int.from_bytes(sent.op.paymaster_and_data[20:52], "big"),
    )
    assert recover(pm_hash, sent.op.paymaster_and_data[-65:]) == CONTROLLER.address
    assert recover(aa.user_op_hash(sent.op, aa.ENTRYPOINT_V06, 31337), sent.op.signature) == (
        CONTROLLER.address
    )


async def test_a_nonce_refusal_during_estimation_is_retried_too() -> None:
    sender, _, bundler = make_sender()
    bundler.estimate_refusals.append(
        UserOpError(
            "bundler refused eth_estimateUserOperationGas: UserOperation reverted during "
            "simulation with reason: AA25 invalid account nonce",
            code="AA25",
        )
    )
    sent = await sender.send(WALLET_A, b"\x01")
    assert sent.attempts == 2
    assert [e for e, _ in bundler.events] == ["estimate", "estimate", "send", "receipt"]


async def test_other_refusals_are_not_retried() -> None:
    sender, _, bundler = make_sender(paymaster=None)
    bundler.refusals.append(UserOpError("AA21 didn't pay prefund", code="AA21"))
    with pytest.raises(UserOpError) as refused:
        await sender.send(WALLET_A, b"\x01")
    assert aa.user_message(refused.value) == "Insufficient ETH balance for gas fees"
    assert [e for e, _ in bundler.events].count("send") == 1


async def test_one_lane_per_wallet() -> None:
    sender, _, bundler = make_sender()
    await asyncio.gather(
        sender.send(WALLET_A, b"\x01"),
        sender.send(WALLET_A, b"\x02"),
        sender.send(WALLET_B, b"\x03"),
    )
    a_events = [e for e, who in bundler.events if who.lower() == WALLET_A.address]
    # Wallet A: the second operation is built only after the first one's receipt.
    assert a_events == ["estimate", "send", "receipt", "estimate", "send", "receipt"]
    # Wallet B did not wait for wallet A.
    order = [(event, who.lower()) for event, who in bundler.events]
    first_b = next(i for i, (_, who) in enumerate(order) if who == WALLET_B.address)
    first_a_receipt = order.index(("receipt", WALLET_A.address))
    assert first_b < first_a_receipt
    assert sender._lanes == {}  # lanes are dropped when idle


async def test_an_unconfirmed_operation_gives_no_receipt_and_frees_the_lane() -> None:
    sender, _, bundler = make_sender()
    bundler.confirm = False
    sent = await sender.send(WALLET_A, b"\x01", wait_seconds=0.01)
    assert sent.receipt is None
    assert sent.user_op_hash.startswith("0x")
    assert sender._lanes == {}


# --------------------------------------------------------------------------- RunnerWallets


async def test_runner_wallets_stored_or_derived_with_salts_0_to_4() -> None:
    derived = {salt: "0x" + f"{salt + 1:02x}" * 20 for salt in range(10)}
    calls: list[int] = []

    async def lookup(owner: str, address: str) -> Wallet | None:
        if address == "0x" + "77" * 20:
            return Wallet(owner, address, FACTORY, 1234)
        return None

    async def derive(owner: str, factory: str, salt: int) -> str:
        calls.append(salt)
        return derived[salt]

    wallets = RunnerWallets(lookup, derive, default_factory=FACTORY)
    stored = await wallets.resolve(OWNER, "0x" + "77" * 20)
    assert (stored.salt, stored.owner) == (1234, OWNER)
    salt4 = await wallets.resolve(OWNER, derived[4].upper().replace("0X", "0x"))
    assert salt4.salt == 4
    with pytest.raises(NotFound) as missing:
        await wallets.resolve(OWNER, derived[5])
    assert missing.value.message == (
        f"runner {derived[5]} does not match any derived address (salt:0 through salt:4) "
        f"for owner {OWNER}"
    )
    assert missing.value.error_code == 8001
    assert calls == [0, 1, 2, 3, 4]  # derivations are remembered


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            UserOpError("x AA21 didn't pay prefund", code="AA21"),
            "Insufficient ETH balance for gas fees",
        ),
        (UserOpError("AA20 account not deployed", code="AA20"), "Smart wallet not deployed"),
        (
            UserOpError("bundler eth_sendUserOperation failed: ConnectError()", retryable=True),
            "Bundler service unavailable",
        ),
        (
            UserOpError(
                "bundler refused: reverted during execution (boom: reason)", rpc_code=-32521
            ),
            "Transaction reverted: reverted during execution (boom: reason)",
        ),
        (UserOpError("first line\nsecond " + "x" * 300), "first line"),
        (UserOpError("y" * 300), "y" * 200),
    ],
)
def test_user_messages(error: UserOpError, message: str) -> None:
    assert aa.user_message(error) == message


def test_nonce_errors() -> None:
    assert aa.is_nonce_error(UserOpError("AA25 invalid account nonce", code="AA25"))
    assert aa.is_nonce_error(UserOpError("UserOperation nonce is already used"))
    assert not aa.is_nonce_error(UserOpError("AA21 didn't pay prefund", code="AA21"))


# --------------------------------------------------------------------------- tokens


def test_token_address_rules() -> None:
    for form in ("0xAbC", "0XABC", "AbC", "abc"):
        assert token_address(form + "0" * 37) == "0xabc" + "0" * 37
    with pytest.raises(InvalidArgument, match=r"^token address is required$"):
        token_address("  ")
    near_misses = [f"{p}0x{'a' * 40}{s}" for p, s in ((" ", ""), ("", " "), ("", "\n"))]
    for bad in ("0x123", "abc", "0x" + "g" * 40, "0x" + "1" * 41, "0x0X" + "1" * 40, *near_misses):
        with pytest.raises(InvalidArgument, match=r"^invalid token address format$"):
            token_address(bad)


def test_shipped_token_lists_load() -> None:
    files = sorted(DEFAULT_TOKEN_DIR.glob("*.json"))
    assert {f.stem for f in files} >= {"31337", "11155111"}
    for path in files:
        tokens = load_token_list(path)
        assert tokens
        assert all(t.source == "whitelist" and t.address == t.address.lower() for t in tokens)
    sepolia = {t.symbol for t in load_token_list(DEFAULT_TOKEN_DIR / "11155111.json")}
    assert sepolia == {"USDC", "LINK", "WETH"}


def test_a_broken_token_list_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "1.json"
    path.write_text('[{"id": "0x12", "name": "x", "symbol": "x", "decimals": 1}]')
    with pytest.raises(ConfigError, match="malformed"):
        load_token_list(path)


# --------------------------------------------------------------------------- withdrawals


def test_withdraw_request_parsing() -> None:
    good, wallet = "0x" + "ab" * 20, "0x" + "cd" * 20
    checked = check_request(good, " Max ", "USDC", wallet)
    assert checked.amount is None
    assert checked.recipient == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert check_request(good, "42", "ETH", wallet).amount == 42
    with pytest.raises(InvalidArgument, match=r"^amount is required$"):
        check_request(good, " ", "ETH", wallet)
