"""The test-only fault hook: its env value is parsed strictly, it fires at exactly the chosen
occurrence of the chosen point (and kind), and firing is a real SIGKILL of the process."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from ap_avs import faults
from ap_avs.errors import ConfigError


def test_absent_means_off() -> None:
    assert faults.from_env({}) is None
    assert faults.from_env({faults.ENV_VAR: " "}) is None


@pytest.mark.parametrize(
    "value",
    ["after-send", "after-send:x", "nowhere:1", "after-send:0", "after-send:1:smtp", "a:1:b:c"],
)
def test_malformed_values_are_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=faults.ENV_VAR):
        faults.parse(value)


def test_parsed_fields() -> None:
    hook = faults.parse("after-receipt:3:userop")
    assert (hook.point, hook.occurrence, hook.kind) == ("after-receipt", 3, "userop")


SCRIPT = """
from ap_avs import faults
hook = faults.parse("after-send:2:http")
hook.reached("before-send", "http")
hook.reached("after-send", "userop")
hook.reached("after-send", "http")
print("first", flush=True)
hook.reached("after-send", "http")
print("survived", flush=True)
"""


def test_the_chosen_occurrence_kills_the_process() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["first"]
