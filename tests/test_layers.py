"""The import-rule check that ``make check`` runs (scripts/check_layers.py) passes on the tree
and fails on each kind of layer violation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "check_layers.py"


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )


def test_the_tree_keeps_the_rules() -> None:
    result = check(ROOT)
    assert result.returncode == 0, result.stdout


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"src/ap_avs/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"src/ap_avs/domain/rules.py": "from ap_avs.engine.runs import Runs\n"},
            "ap_avs.domain.rules (domain) may not import ap_avs.engine.runs.Runs (engine)",
        ),
        (
            {"src/ap_avs/chain/reads.py": "import ap_avs.runners.base\n"},
            "ap_avs.chain.reads (adapters) may not import ap_avs.runners.base (runners)",
        ),
        (
            {"src/ap_avs/operator/watch.py": "from ap_avs.aggregator import api\n"},
            "ap_avs.operator.watch (operator) may not import ap_avs.aggregator.api (edge)",
        ),
        (
            {"src/ap_avs/engine/runs.py": "from ap_avs._proto import avs_pb2\n"},
            "ap_avs.engine.runs imports the generated ap_avs._proto.avs_pb2",
        ),
        (
            {"src/ap_avs/engine/runs.py": "from ap_avs.runners._http import check_url\n"},
            "imports the private ap_avs.runners._http.check_url of ap_avs.runners",
        ),
        (
            {"tests/test_x.py": "from ap_avs.domain._limits import WorkflowLimits\n"},
            "imports the private ap_avs.domain._limits.WorkflowLimits of ap_avs.domain",
        ),
    ],
)
def test_a_violation_fails_the_check(tmp_path: Path, files: dict[str, str], message: str) -> None:
    result = check(tree(tmp_path, files))
    assert result.returncode == 1
    assert message in result.stdout


def test_allowed_imports_pass(tmp_path: Path) -> None:
    files = {
        "src/ap_avs/engine/runs.py": "from ap_avs.runners.base import Runner\n",
        "src/ap_avs/runners/rest.py": "from ap_avs.runners._http import check_url\n",
        "src/ap_avs/wire/nodes.py": "from ap_avs._proto import avs_pb2\n",
        "src/ap_avs/aggregator/app.py": "from ap_avs.operator.app import OperatorApp\n",
    }
    result = check(tree(tmp_path, files))
    assert result.returncode == 0, result.stdout
