"""The committed generated code in ``src/ap_avs/_proto/`` matches ``proto/*.proto``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "gen_proto.py"
COMMITTED = REPO_ROOT / "src" / "ap_avs" / "_proto"
GENERATED_GLOBS = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py")

HINT = "generated code is stale: run make proto"


def _generated_names(directory: Path) -> set[str]:
    return {path.name for pattern in GENERATED_GLOBS for path in directory.glob(pattern)}


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"gen_proto.py failed:\n{result.stderr}"

    fresh = _generated_names(tmp_path)
    assert fresh, "gen_proto.py produced no files"
    assert _generated_names(COMMITTED) == fresh, HINT
    stale = sorted(
        name for name in fresh if (tmp_path / name).read_bytes() != (COMMITTED / name).read_bytes()
    )
    assert not stale, f"{HINT} (differs: {', '.join(stale)})"
