"""Generate the Python gRPC code for ``proto/*.proto`` into ``src/ap_avs/_proto/``.

Runs ``grpc_tools.protoc`` (the version pinned in the dev extra) and writes ``<name>_pb2.py``,
``<name>_pb2.pyi`` and ``<name>_pb2_grpc.py`` for every proto file. protoc emits flat imports
between our own modules (``import avs_pb2 as avs__pb2``); they are rewritten into package
imports (``from ap_avs._proto import avs_pb2 as avs__pb2``) so the code works inside the package.

Usage::

    .venv/bin/python scripts/gen_proto.py              # regenerate src/ap_avs/_proto/
    .venv/bin/python scripts/gen_proto.py --out DIR    # write somewhere else (used by the tests)

The output is deterministic, so ``tests/proto/test_generated_fresh.py`` can check that the
committed files match the ``.proto`` sources.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib.resources import as_file, files
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = REPO_ROOT / "proto"
DEFAULT_OUT = REPO_ROOT / "src" / "ap_avs" / "_proto"
DEFAULT_PACKAGE = "ap_avs._proto"

# Suffixes of the files protoc writes for each ``<name>.proto``.
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


class GenerationError(RuntimeError):
    """protoc failed or produced something unexpected."""


def proto_files(proto_dir: Path) -> list[Path]:
    """Return the ``.proto`` files to compile, sorted by name.

    Raises:
        GenerationError: if the directory holds no ``.proto`` file.
    """
    found = sorted(proto_dir.glob("*.proto"))
    if not found:
        raise GenerationError(f"no .proto files in {proto_dir}")
    return found


def rewrite_imports(source: str, modules: Sequence[str], package: str) -> str:
    """Turn flat imports of our generated modules into imports from ``package``.

    Only lines of the form ``import <module> as <alias>`` naming one of ``modules`` are touched;
    imports of ``google.protobuf`` modules are already package imports.
    """
    names = "|".join(re.escape(m) for m in sorted(modules))
    pattern = re.compile(rf"^import ({names}) as (\w+)$", re.MULTILINE)
    return pattern.sub(rf"from {package} import \1 as \2", source)


def run_protoc(sources: Sequence[Path], proto_dir: Path, out_dir: Path) -> None:
    """Compile ``sources`` with grpc_tools' protoc into ``out_dir``.

    Raises:
        GenerationError: if protoc exits with a non-zero status.
    """
    with as_file(files("grpc_tools") / "_proto") as well_known:
        cmd = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"--proto_path={proto_dir}",
            f"--proto_path={well_known}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            # Relative names keep the descriptor file names "avs.proto" and "node.proto".
            *(src.name for src in sources),
        ]
        result = subprocess.run(cmd, cwd=proto_dir, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GenerationError(
            f"protoc failed (exit {result.returncode}):\n{result.stderr or result.stdout}"
        )
    if result.stderr.strip():  # warnings, e.g. an unused import
        print(result.stderr.rstrip(), file=sys.stderr)


def generate(
    out_dir: Path = DEFAULT_OUT,
    proto_dir: Path = PROTO_DIR,
    package: str = DEFAULT_PACKAGE,
) -> list[Path]:
    """Generate the code for every proto in ``proto_dir`` into ``out_dir``.

    Existing generated files are overwritten; other files (``__init__.py``) are left alone.

    Returns:
        The paths written, sorted.

    Raises:
        GenerationError: if protoc fails or does not produce the expected files.
    """
    sources = proto_files(proto_dir)
    modules = [f"{src.stem}_pb2" for src in sources]
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="gen_proto_") as tmp:
        tmp_dir = Path(tmp)
        run_protoc(sources, proto_dir, tmp_dir)
        for src in sources:
            for suffix in GENERATED_SUFFIXES:
                name = f"{src.stem}{suffix}"
                produced = tmp_dir / name
                if not produced.is_file():
                    raise GenerationError(f"protoc did not produce {name}")
                text = rewrite_imports(produced.read_text(encoding="utf-8"), modules, package)
                target = out_dir / name
                target.write_text(text, encoding="utf-8", newline="\n")
                written.append(target)
    return sorted(written)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="directory for the generated modules (default: %(default)s)",
    )
    parser.add_argument(
        "--proto-dir",
        type=Path,
        default=PROTO_DIR,
        help="directory holding the .proto files (default: %(default)s)",
    )
    parser.add_argument(
        "--package",
        default=DEFAULT_PACKAGE,
        help="package the generated modules import each other from (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        written = generate(out_dir=args.out, proto_dir=args.proto_dir, package=args.package)
    except GenerationError as exc:
        print(f"gen_proto: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
