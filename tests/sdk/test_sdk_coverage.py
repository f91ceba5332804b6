"""Every SDK method that sends an RPC is called by at least one SDK test file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from .test_sdk import HERE, ROOT, node_or_fail


def test_every_sdk_rpc_method_is_exercised() -> None:
    node = node_or_fail()
    listed = subprocess.run(
        [node, str(HERE / "list_rpc_methods.mjs")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert len(listed) >= 27, listed  # the SDK's client sends 27 RPCs (all but GetNonce)
    sources = "\n".join(p.read_text() for p in Path(HERE).glob("*.test.mjs"))
    missing = [m for m in listed if not re.search(rf"\bclient\.{m}\(", sources)]
    assert not missing, f"SDK methods no SDK test calls: {missing}"
