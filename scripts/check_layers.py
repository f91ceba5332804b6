"""The import rules of the layered architecture (docs/architecture.md), checked on the source.

Run by ``make check``. It reads every module of ``src/ap_avs`` (and the tests, for the private
rule) with ``ast`` and fails, listing each offending import, when:

* a module imports from a layer it may not use (:data:`MAY_IMPORT`): the domain stays pure,
  adapters never reach up into runners or the engine, the operator daemon never imports the
  aggregator, and so on;
* a module outside ``wire``, the aggregator's servicers and ``operator/client.py`` imports the
  generated protobuf code (``ap_avs._proto``);
* a module (in ``src`` or ``tests``) imports a private ``_name`` module or package of another
  package: private means private (use the package's public names).

Usage: ``python scripts/check_layers.py [ROOT]`` (exit status 1 on a violation).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

LAYERS: dict[str, tuple[str, ...]] = {
    "base": (
        "ap_avs.errors",
        "ap_avs.clock",
        "ap_avs.version",
        "ap_avs.log",
        "ap_avs.faults",
        "ap_avs.cli_exit",
    ),
    "domain": ("ap_avs.domain",),
    "adapters": (
        "ap_avs.store",
        "ap_avs.chain",
        "ap_avs.sandbox",
        "ap_avs.cipher",
        "ap_avs.auth",
        "ap_avs.config",
        "ap_avs.config_safety",
        "ap_avs.tls",
        "ap_avs.eigenlayer",
    ),
    "runners": ("ap_avs.runners",),
    "engine": ("ap_avs.engine",),
    "wire": ("ap_avs.wire",),
    "edge": ("ap_avs.aggregator",),
    "operator": ("ap_avs.operator",),
    "ops": ("ap_avs.ops",),
    "composition": (
        "ap_avs.aggregator.app",
        "ap_avs.aggregator.compose",
        "ap_avs.operator.app",
        "ap_avs.devstack",
        "ap_avs.devnet",
        "ap_avs.eigenlayer.cli",
        "ap_avs.cli",
        "ap_avs.testing",
        "ap_avs.client",
        "ap_avs.daemon",
        "ap_avs.__main__",
        "ap_avs",
    ),
}
"""Each layer's modules, by dotted prefix (the longest matching prefix decides)."""

_BELOW_RUNNERS = {"base", "domain", "adapters"}
MAY_IMPORT: dict[str, set[str]] = {
    "base": {"base"},
    "domain": {"base", "domain"},
    "adapters": _BELOW_RUNNERS,
    "runners": _BELOW_RUNNERS | {"runners"},
    "engine": _BELOW_RUNNERS | {"runners", "engine"},
    "wire": {"base", "domain", "wire"},
    "edge": _BELOW_RUNNERS | {"runners", "engine", "wire", "edge"},
    "operator": _BELOW_RUNNERS | {"wire", "operator"},
    "ops": _BELOW_RUNNERS | {"runners", "engine", "ops"},
    "composition": set(LAYERS),
}
"""Which layers each layer may import (its own included)."""

PROTO = "ap_avs._proto"
MAY_IMPORT_PROTO = ("ap_avs.wire", "ap_avs.aggregator", "ap_avs.operator.client", "ap_avs.client")
"""Modules that may import the generated code: ``wire``, the servicers, the operator's gRPC
client and the Python client."""


def layer_of(module: str) -> str | None:
    best: tuple[int, str] | None = None
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), layer)
    return best[1] if best else None


def module_of(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` of every ``ap_avs`` import (``from m import n`` gives ``m.n``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _private_owner(name: str) -> str | None:
    """The package that owns the first private part of ``name`` (None when all are public)."""
    parts = name.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__") and index > 0:
            return ".".join(parts[:index])
    return None


def violations(root: Path) -> list[str]:
    """Every broken rule under ``root`` (a checkout: ``src/ap_avs`` and ``tests``)."""
    src = root / "src"
    found: list[str] = []
    files = [p for p in sorted((src / "ap_avs").rglob("*.py")) if "_proto" not in p.parts]
    tests = sorted((root / "tests").rglob("*.py")) if (root / "tests").exists() else []
    for path in [*files, *tests]:
        in_src = src in path.parents
        module = module_of(path, src) if in_src else "tests"
        tree = ast.parse(path.read_text(), str(path))
        where = path.relative_to(root)
        layer = layer_of(module) if in_src else None
        for line, name in imports(tree, module, path.name == "__init__.py"):
            if not name.startswith("ap_avs"):
                continue
            owner = _private_owner(name)
            if owner is not None and name.startswith(PROTO):
                if in_src and not module.startswith(MAY_IMPORT_PROTO):
                    found.append(f"{where}:{line}: {module} imports the generated {name}")
                continue
            if owner is not None and not (module == owner or module.startswith(owner + ".")):
                found.append(f"{where}:{line}: imports the private {name} of {owner}")
            target = layer_of(name)
            if layer is None or target is None or target in MAY_IMPORT[layer]:
                continue
            if path.name == "__init__.py" and name.startswith(module + "."):
                continue  # a package may re-export its own modules
            found.append(f"{where}:{line}: {module} ({layer}) may not import {name} ({target})")
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    found = violations(root)
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} import rule violation(s); see docs/architecture.md")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
