"""The sign-in message: exact text (PROTOCOL.md §3.1), parser and wallet checks (§2.1, §3.2)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ap_avs.domain.addresses import address_bytes, is_hex_address
from ap_avs.domain.signin import (
    SIGNATURE_FORMAT_VALIDITY,
    SigninMessage,
    format_signin_message,
    format_timestamp,
    parse_signin_message,
    parse_timestamp,
    validate_wallet_for_signature_format,
)
from ap_avs.errors import InvalidArgument

WALLET = "0xeD39dD5f43e7a0d1e6DBAd7Bfd6c6EE399Ab514A"
ZERO = "0x" + "0" * 40
ISSUED = datetime(2026, 6, 3, 12, 0, 5, 123456, tzinfo=UTC)
EXPIRE = ISSUED + timedelta(hours=48)
CHAIN = 11155111

GOOD_LINES = [
    "Please sign the below text for ownership verification.",
    "",
    "URI: https://app.avaprotocol.org",
    "Chain ID: 11155111",
    "Version: 2.14.3",
    "Issued At: 2026-06-03T12:00:05.123Z",
    "Expire At: 2026-06-05T12:00:05.123Z",
    f"Wallet: {WALLET}",
]
GOOD = "\n".join(GOOD_LINES)


def with_line(index: int, text: str | None) -> str:
    """GOOD with line ``index`` replaced (or blanked when ``text`` is None)."""
    lines = list(GOOD_LINES)
    lines[index] = "" if text is None else text
    return "\n".join(lines)


# --- format ----------------------------------------------------------------------------------


def test_format_is_the_exact_eight_lines() -> None:
    text = format_signin_message(
        chain_id=CHAIN, version="2.14.3", issued_at=ISSUED, expire_at=EXPIRE, wallet=WALLET
    )
    assert text == GOOD
    assert text.count("\n") == 7
    assert not text.endswith("\n")
    assert "\r" not in text


def test_format_keeps_the_wallet_as_given() -> None:
    text = format_signin_message(
        chain_id=1, version="v", issued_at=ISSUED, expire_at=EXPIRE, wallet=WALLET.lower()[2:]
    )
    assert text.endswith(f"\nWallet: {WALLET.lower()[2:]}")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC), "2026-01-02T03:04:05.999Z"),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05.000Z"),
        (
            datetime(2026, 1, 2, 1, 0, 0, 1000, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-01T23:00:00.001Z",
        ),
        (datetime(999, 1, 1, tzinfo=UTC), "0999-01-01T00:00:00.000Z"),
    ],
)
def test_timestamps_are_utc_milliseconds_truncated(moment: datetime, expected: str) -> None:
    assert format_timestamp(moment) == expected


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 1, 1))


def test_validity_is_48_hours() -> None:
    assert timedelta(hours=48) == SIGNATURE_FORMAT_VALIDITY


# --- wallet of GetSignatureFormat (§2.1 steps 1-3) --------------------------------------------


@pytest.mark.parametrize(
    "wallet",
    [WALLET, WALLET.lower(), WALLET.upper().replace("0X", "0x"), WALLET[2:], "0X" + WALLET[2:]],
)
def test_signature_format_wallet_accepted_as_given(wallet: str) -> None:
    assert validate_wallet_for_signature_format(wallet) == wallet


@pytest.mark.parametrize(
    ("wallet", "message"),
    [
        ("", "Wallet address is required"),
        (" ", "Invalid Ethereum wallet address format"),
        ("0x", "Invalid Ethereum wallet address format"),
        (WALLET[:-1], "Invalid Ethereum wallet address format"),
        (WALLET + "0", "Invalid Ethereum wallet address format"),
        (WALLET[:-1] + "g", "Invalid Ethereum wallet address format"),
        (" " + WALLET, "Invalid Ethereum wallet address format"),
        (WALLET + "\n", "Invalid Ethereum wallet address format"),
        ("0x" + "\uff11" * 40, "Invalid Ethereum wallet address format"),
        (ZERO, "Wallet address cannot be the zero address"),
        (ZERO[2:], "Wallet address cannot be the zero address"),
    ],
)
def test_signature_format_wallet_rejected(wallet: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate_wallet_for_signature_format(wallet)
    assert info.value.message == message


def test_hex_address_helpers() -> None:
    assert is_hex_address(WALLET)
    assert not is_hex_address("0x" + WALLET)
    assert address_bytes(WALLET[2:]) == bytes.fromhex(WALLET[2:])
    with pytest.raises(ValueError, match="not a hex address"):
        address_bytes("nope")


# --- parse (§3.2 steps 1-7) -------------------------------------------------------------------


def test_parse_round_trip() -> None:
    parsed = parse_signin_message(GOOD, server_chain_id=CHAIN)
    assert parsed == SigninMessage(
        chain_id=CHAIN,
        version="2.14.3",
        issued_at=ISSUED.replace(microsecond=123000),
        expire_at=EXPIRE.replace(microsecond=123000),
        wallet=WALLET,
    )
    assert parsed.issued_at.tzinfo is UTC
    assert parsed.wallet_address == bytes.fromhex(WALLET[2:])


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # step 1
        ("", "Invalid message format"),
        ("\n".join(GOOD_LINES[:7]), "Invalid message format"),
        (GOOD.replace("\n", "\r"), "Invalid message format"),
        # step 3
        (with_line(3, None), "Invalid message format: missing Chain ID"),
        (with_line(3, "Chain ID:"), "Invalid message format: missing Chain ID"),
        (with_line(3, "Chain ID:   "), "Invalid message format: missing Chain ID"),
        (with_line(3, "chain id: 5"), "Invalid message format: missing Chain ID"),
        (with_line(3, "Chain ID: abc"), "Invalid Chain ID format"),
        (with_line(3, "Chain ID: 1.0"), "Invalid Chain ID format"),
        (with_line(3, "Chain ID: 0x1"), "Invalid Chain ID format"),
        (with_line(3, "Chain ID: 1_000"), "Invalid Chain ID format"),
        (with_line(3, "Chain ID: 1 2"), "Invalid Chain ID format"),
        (with_line(3, "Chain ID: \u0661"), "Invalid Chain ID format"),
        (with_line(3, "Chain ID: 9223372036854775808"), "Invalid Chain ID format"),
        (with_line(3, "Chain ID: " + "9" * 5000), "Invalid Chain ID format"),
        # step 4
        (with_line(4, None), "Invalid message format: missing Version"),
        (with_line(4, "Version:"), "Invalid message format: missing Version"),
        # step 5
        (with_line(5, None), "Invalid message format: missing Issued At"),
        (with_line(5, "Issued At: 2026-06-03T12:00:05Z"), "Invalid Issued At format"),
        (with_line(5, "Issued At: 2026-06-03T12:00:05.12Z"), "Invalid Issued At format"),
        (with_line(5, "Issued At: 2026-06-03T12:00:05.1234Z"), "Invalid Issued At format"),
        (with_line(5, "Issued At: 2026-06-03T12:00:05.123+00:00"), "Invalid Issued At format"),
        (with_line(5, "Issued At: 2026-06-03 12:00:05.123Z"), "Invalid Issued At format"),
        (with_line(5, "Issued At: 2026-02-30T12:00:05.123Z"), "Invalid Issued At format"),
        (with_line(5, "Issued At: 2026-06-03T24:00:00.000Z"), "Invalid Issued At format"),
        (with_line(5, "Issued At: 0000-01-01T00:00:00.000Z"), "Invalid Issued At format"),
        (with_line(5, "Issued At: 2026-6-3T12:00:05.123Z"), "Invalid Issued At format"),
        # step 6
        (with_line(6, None), "Invalid message format: missing Expire At"),
        (with_line(6, "Expire At: tomorrow"), "Invalid Expire At format"),
        (with_line(6, "Expire At: 2026-06-05T12:00:60.000Z"), "Invalid Expire At format"),
        # step 7
        (with_line(7, None), "Invalid message format: missing Wallet"),
        (with_line(7, "Wallet:"), "Invalid message format: missing Wallet"),
        (with_line(7, "Wallet: 0x1234"), "Invalid wallet address format"),
        (with_line(7, "Wallet: " + WALLET + "00"), "Invalid wallet address format"),
        (with_line(7, "Wallet: " + WALLET[:-1] + "z"), "Invalid wallet address format"),
        (with_line(7, "Wallet: " + ZERO), "Wallet address cannot be the zero address"),
        (with_line(7, "Wallet: " + ZERO[2:]), "Wallet address cannot be the zero address"),
    ],
)
def test_parse_failures_have_the_literal_messages(message: str, expected: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_signin_message(message, server_chain_id=CHAIN)
    assert info.value.message == expected


def test_chain_id_mismatch_has_the_literal_message() -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_signin_message(with_line(3, "Chain ID: 5"), server_chain_id=CHAIN)
    assert info.value.message == (
        "Invalid chainId: requested chainId 5 does not match SmartWallet chainId 11155111"
    )


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("+1", 1), ("011155111", CHAIN)])
def test_chain_id_one_and_ours_are_accepted(text: str, value: int) -> None:
    parsed = parse_signin_message(with_line(3, f"Chain ID: {text}"), server_chain_id=CHAIN)
    assert parsed.chain_id == value


def test_without_a_server_chain_id_any_chain_parses() -> None:
    assert parse_signin_message(with_line(3, "Chain ID: -7")).chain_id == -7


def test_chain_id_is_checked_before_later_fields() -> None:
    lines = [*GOOD_LINES[:3], "Chain ID: 5", "", "", "", ""]
    with pytest.raises(InvalidArgument, match=r"^Invalid chainId: requested chainId 5"):
        parse_signin_message("\n".join(lines), server_chain_id=CHAIN)
    with pytest.raises(InvalidArgument, match=r"^Invalid message format: missing Version$"):
        parse_signin_message("\n".join(lines))


def test_missing_fields_are_reported_in_order() -> None:
    lines = [*GOOD_LINES[:4], "", "Issued At: bad", "", ""]
    with pytest.raises(InvalidArgument, match=r"missing Version$"):
        parse_signin_message("\n".join(lines), server_chain_id=CHAIN)


def test_the_last_matching_line_wins_and_extra_lines_are_ignored() -> None:
    message = GOOD + "\nChain ID: 1\nWallet: " + WALLET.lower() + "\nNote: hello"
    parsed = parse_signin_message(message, server_chain_id=CHAIN)
    assert parsed.chain_id == 1
    assert parsed.wallet == WALLET.lower()


def test_title_and_uri_are_not_checked() -> None:
    lines = list(GOOD_LINES)
    lines[0] = "Sign whatever"
    lines[1] = "not empty"
    lines[2] = "URI: https://evil.example"
    assert parse_signin_message("\n".join(lines), server_chain_id=CHAIN).wallet == WALLET


def test_lines_and_values_are_trimmed_like_go() -> None:
    lines = [line + "\r" for line in GOOD_LINES]
    lines[3] = "  \tChain ID: \u00a0 11155111 \u3000"
    lines[7] = f"\u2003Wallet:   {WALLET}  "
    parsed = parse_signin_message("\n".join(lines), server_chain_id=CHAIN)
    assert parsed.chain_id == CHAIN
    assert parsed.wallet == WALLET
    assert parsed.version == "2.14.3"


def test_ascii_separators_are_not_white_space_in_go() -> None:
    with pytest.raises(InvalidArgument, match=r"^Invalid Chain ID format$"):
        parse_signin_message(with_line(3, "Chain ID: 5\x1f"))


def test_wallet_without_prefix_is_accepted() -> None:
    parsed = parse_signin_message(with_line(7, "Wallet: " + WALLET[2:]))
    assert parsed.wallet == WALLET[2:]
    assert parsed.wallet_address == bytes.fromhex(WALLET[2:])


def test_parse_timestamp() -> None:
    assert parse_timestamp("2024-02-29T23:59:59.999Z") == datetime(
        2024, 2, 29, 23, 59, 59, 999000, tzinfo=UTC
    )
    assert parse_timestamp("2023-02-29T00:00:00.000Z") is None


# --- properties -------------------------------------------------------------------------------

_LABELS = ["Chain ID:", "Version:", "Issued At:", "Expire At:", "Wallet:", "URI:", ""]
_VALUES = st.one_of(
    st.text(max_size=50),
    st.integers().map(str),
    st.sampled_from(["11155111", "1", WALLET, ZERO, "2026-06-03T12:00:05.123Z", " "]),
    st.datetimes(timezones=st.just(UTC)).map(format_timestamp),
)
_LINES = st.lists(
    st.tuples(st.sampled_from(_LABELS), _VALUES).map(lambda lv: f"{lv[0]} {lv[1]}"),
    min_size=6,
    max_size=14,
)


@given(st.text())
def test_arbitrary_text_raises_only_invalid_argument(text: str) -> None:
    with contextlib.suppress(InvalidArgument):
        parse_signin_message(text, server_chain_id=CHAIN)


@given(_LINES, st.one_of(st.none(), st.integers(min_value=1, max_value=2**63 - 1)))
def test_near_miss_messages_raise_only_invalid_argument(
    lines: list[str], server_chain_id: int | None
) -> None:
    try:
        parsed = parse_signin_message("\n".join(lines), server_chain_id=server_chain_id)
    except InvalidArgument:
        return
    assert is_hex_address(parsed.wallet)
    assert parsed.issued_at.tzinfo is UTC


@given(
    chain_id=st.integers(min_value=1, max_value=2**63 - 1),
    version=st.text(
        alphabet=st.characters(blacklist_categories=["Cc", "Z"]), min_size=1, max_size=20
    ),
    issued=st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    ),
    lifetime=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=300)),
    wallet=st.binary(min_size=20, max_size=20).filter(any).map(lambda b: "0x" + b.hex()),
)
def test_format_then_parse_round_trips(
    chain_id: int, version: str, issued: datetime, lifetime: timedelta, wallet: str
) -> None:
    text = format_signin_message(
        chain_id=chain_id,
        version=version,
        issued_at=issued,
        expire_at=issued + lifetime,
        wallet=wallet,
    )
    parsed = parse_signin_message(text, server_chain_id=chain_id)
    assert parsed.chain_id == chain_id
    assert parsed.version == version
    assert parsed.issued_at == issued.replace(microsecond=issued.microsecond // 1000 * 1000)
    assert parsed.wallet == wallet
