"""EigenLayer pieces that need no chain: what an operator still has to do, revert and event
decoding from the package ABIs, token amounts, keys, and the config section."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak

from ap_avs.config import AggregatorConfig, OperatorConfig, load_settings
from ap_avs.eigenlayer import (
    WAD,
    OperatorStanding,
    RevertDecoder,
    StrategyStanding,
    core_abi,
    missing_steps,
    target_of,
)
from ap_avs.eigenlayer.keys import create_keystore, load_operator_key
from ap_avs.eigenlayer.operator_flow import token_amount
from ap_avs.errors import ConfigError, InvalidArgument
from ap_avs.testing import aggregator_config

STRATEGY = "0x" + "57" * 20
OPERATOR = "0x" + "0a" * 20


def strategy(**changes: int) -> StrategyStanding:
    values = {
        "deposited": 0,
        "delegated": 0,
        "allocated_magnitude": 0,
        "pending_diff": 0,
        "effect_block": 0,
        "max_magnitude": WAD,
        "slashable": 0,
        "minimum": 100,
    }
    values.update(changes)
    return StrategyStanding(strategy=STRATEGY, **values)


def standing(*, registered: bool = False, member: bool = False, **changes: int) -> OperatorStanding:
    return OperatorStanding(
        operator=OPERATOR,
        block=50,
        registered=registered,
        allocation_delay_set=registered,
        allocation_delay=0,
        set_exists=True,
        member=member,
        strategies=(strategy(**changes),),
    )


def test_a_new_operator_is_told_every_step_in_order_with_its_command() -> None:
    steps = missing_steps(standing(), config_hint="-c op.yaml")
    assert [s.what.split(" ")[0] for s in steps] == ["register", "deposit", "allocate", "register"]
    assert steps[0].command == "ap-avs register -c op.yaml"
    assert "--deposit" in steps[1].command
    assert "at least 100 more" in steps[1].what
    assert steps[2].command == "ap-avs register -c op.yaml --allocate 100"
    assert "operator set" in steps[3].what


def test_steps_left_once_registered_and_staked() -> None:
    assert (
        missing_steps(
            standing(
                registered=True, member=True, delegated=150, allocated_magnitude=WAD, slashable=150
            )
        )
        == []
    )
    pending = missing_steps(
        standing(registered=True, member=True, delegated=150, pending_diff=WAD, effect_block=60)
    )
    assert [s.what for s in pending] == [
        f"wait for block 60: the allocation to strategy {STRATEGY} takes effect then"
    ]
    low = missing_steps(
        standing(
            registered=True, member=True, delegated=150, allocated_magnitude=WAD // 10, slashable=15
        )
    )
    assert len(low) == 1
    assert "raise the allocation" in low[0].what
    not_member = missing_steps(
        standing(registered=True, delegated=150, allocated_magnitude=WAD, slashable=150)
    )
    assert [s.what for s in not_member] == ["register for the AVS's operator set"]


def test_a_missing_operator_set_is_the_only_thing_said() -> None:
    gone = OperatorStanding(OPERATOR, 1, False, False, 0, False, False, (strategy(),))
    steps = missing_steps(gone)
    assert len(steps) == 1
    assert "does not exist" in steps[0].what


def test_reverts_are_named_from_the_package_abis() -> None:
    decoder = RevertDecoder([core_abi("AllocationManager"), core_abi("DelegationManager")])
    selector = keccak(text="NotMemberOfSet()")[:4]
    assert decoder.describe(selector) == "AllocationManager: NotMemberOfSet()"
    assert decoder.name(selector) == "NotMemberOfSet"
    too_long = keccak(text="StringTooLong(string)")[:4] + encode(["string"], ["x" * 40])
    assert decoder.describe(too_long) == "AllocationManager: StringTooLong(" + "x" * 40 + ")"
    message = keccak(text="Error(string)")[:4] + encode(["string"], ["no"])
    assert decoder.describe(message) == "reverted: no"
    panic = keccak(text="Panic(uint256)")[:4] + encode(["uint256"], [0x11])
    assert decoder.describe(panic) == "panicked (code 0x11)"
    assert decoder.describe(b"") == "reverted without a reason"
    assert decoder.describe(b"\x01\x02\x03\x04") == "reverted with unknown error 0x01020304"


def test_events_decode_with_tuples_and_indexed_addresses() -> None:
    am = core_abi("AllocationManager")
    topic = keccak(text="AllocationUpdated(address,(address,uint32),address,uint64,uint32)")
    data = encode(
        ["address", "(address,uint32)", "address", "uint64", "uint32"],
        [OPERATOR, ("0x" + "a5" * 20, 3), STRATEGY, WAD, 77],
    )
    log = am.decode_log([topic], data)
    assert log is not None
    assert log.event == "AllocationUpdated"
    assert log.args["operator"] == OPERATOR
    assert log.args["operatorSet"] == ("0x" + "a5" * 20, 3)
    assert log.args["effectBlock"] == 77
    removed = keccak(text="OperatorRemovedFromOperatorSet(address,(address,uint32))")
    padded = bytes(12) + bytes.fromhex(OPERATOR[2:])
    log = am.decode_log([removed, padded], encode(["(address,uint32)"], [("0x" + "a5" * 20, 3)]))
    assert log is not None
    assert log.args["operator"] == OPERATOR
    assert am.decode_log([keccak(text="Nope()")], b"") is None
    assert am.decode_log([topic], b"\x00") is None


def test_the_package_is_read_as_data_and_its_modules_are_not_imported() -> None:
    for name in (
        "DelegationManager",
        "StrategyManager",
        "AllocationManager",
        "AVSDirectory",
        "PermissionController",
    ):
        abi = core_abi(name)
        assert len(abi.bytecode) > 1000, name
    loaded = [m for m in sys.modules if m.startswith("eigensdk.")]
    assert not [m for m in loaded if not m.startswith("eigensdk.contracts")], loaded
    assert "eigensdk.contracts.ABIs" not in sys.modules


def test_token_amounts_are_exact() -> None:
    assert token_amount("1000", 18) == 1000 * 10**18
    assert token_amount("1.5", 6) == 1_500_000
    for bad in ("0", "-1", "abc", "0.0000001"):
        with pytest.raises(InvalidArgument):
            token_amount(bad, 6)


def test_the_commands_and_the_daemon_read_one_password_variable() -> None:
    from ap_avs.eigenlayer.keys import PASSWORD_ENV
    from ap_avs.operator.app import KEY_PASSWORD_ENV

    assert PASSWORD_ENV == KEY_PASSWORD_ENV


def test_keys_come_from_a_keystore_with_its_password_or_raw_in_development(
    tmp_path: Path,
) -> None:
    path = tmp_path / "op.ecdsa.key.json"
    key = "0x" + "42" * 32
    address = create_keystore(path, "pw", key, iterations=2)
    assert address == Account.from_key(key).address
    assert oct(path.stat().st_mode)[-3:] == "600"
    env = {"AP_AVS_ECDSA_KEY_PASSWORD": "pw"}
    loaded = load_operator_key(keystore=path, raw_key=None, environment="production", env=env)
    assert loaded == key
    with pytest.raises(ConfigError, match="exists already"):
        create_keystore(path, "pw", iterations=2)
    with pytest.raises(ConfigError, match="AP_AVS_ECDSA_KEY_PASSWORD"):
        load_operator_key(keystore=path, raw_key=None, environment="production", env={})
    with pytest.raises(ConfigError, match="cannot decrypt"):
        load_operator_key(
            keystore=path,
            raw_key=None,
            environment="production",
            env={"AP_AVS_ECDSA_KEY_PASSWORD": "wrong"},
        )
    (tmp_path / "bad.json").write_text(json.dumps({"version": 3}))
    with pytest.raises(ConfigError, match="cannot decrypt"):
        load_operator_key(
            keystore=tmp_path / "bad.json", raw_key=None, environment="production", env=env
        )
    assert load_operator_key(keystore=None, raw_key="42" * 32, environment="development") == key
    with pytest.raises(ConfigError, match="development only"):
        load_operator_key(keystore=None, raw_key=key, environment="production")
    with pytest.raises(ConfigError, match="no operator key"):
        load_operator_key(keystore=None, raw_key=None, environment="development")


SECTION = {
    "delegation_manager": "0x" + "d1" * 20,
    "strategy_manager": "0x" + "51" * 20,
    "allocation_manager": "0x" + "a1" * 20,
    "avs": "0x" + "a5" * 20,
    "operator_set_id": 2,
    "strategies": [{"address": STRATEGY, "minimum_stake": "1000000000000000000000"}],
}


def test_the_config_section_names_the_operator_set_and_minimums(tmp_path: Path) -> None:
    cfg = aggregator_config(tmp_path, eigenlayer=SECTION)
    assert cfg.eigenlayer is not None
    target = target_of(cfg.eigenlayer)
    assert target.operator_set.id == 2
    assert target.minimum(STRATEGY.upper().replace("0X", "0x")) == 10**21
    assert aggregator_config(tmp_path).eigenlayer is None
    with pytest.raises(ConfigError, match=r"eigenlayer\.strategies"):
        aggregator_config(tmp_path, eigenlayer={**SECTION, "strategies": []})
    with pytest.raises(ConfigError, match=r"eigenlayer\.avs"):
        aggregator_config(tmp_path, eigenlayer={**SECTION, "avs": "0x12"})
    with pytest.raises(ConfigError, match=r"eigenlayer\.metadata_uri': unknown key"):
        load_settings(
            AggregatorConfig,
            {"jwt_secret": "x" * 32, "eigenlayer": {**SECTION, "metadata_uri": "u"}},
            "t",
        )
    op = load_settings(OperatorConfig, {"eigenlayer": {**SECTION, "allocation_delay": 5}}, "t")
    assert op.eigenlayer is not None
    assert op.eigenlayer.allocation_delay == 5
