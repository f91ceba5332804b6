"""scripts/test_repeat.py finds a test that fails in only some of the runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "test_repeat.py"

FLAKY = """
from pathlib import Path

COUNTER = Path(__file__).with_name("count")


def test_steady():
    assert True


def test_fails_on_the_second_run():
    runs = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
    COUNTER.write_text(str(runs))
    assert runs != 2, "second run"
"""


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("test_repeat_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(tmp_path: Path, runs: int, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    (tmp_path / "test_sample.py").write_text(FLAKY)
    options = ["-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c", "/dev/null"]
    status = load().main(["--runs", str(runs), "--", str(tmp_path / "test_sample.py"), *options])
    return status, capsys.readouterr().out


def test_a_test_failing_once_in_three_runs_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = run(tmp_path, 3, capsys)
    assert status == 1
    assert "1 tests failed at least once:" in out
    assert "1/3  test_sample::test_fails_on_the_second_run" in out
    assert "test_steady" not in out.split("failed at least once:")[1]


def test_steady_runs_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(tmp_path, 1, capsys)
    assert status == 0
    assert "every test passed in every run" in out
