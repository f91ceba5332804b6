"""``python -m benchmarks``: run every ``bench_*`` module and write ``benchmarks/results.md``.

Each module exposes ``async def run(quick: bool) -> list[Result]``; ``--quick`` uses tiny sizes
(the smoke run that ``make test`` performs).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import pkgutil
import sys
from pathlib import Path

from benchmarks.report import Result, write_table

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(
        f"benchmarks.{m.name}"
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )


async def main(quick: bool, only: str | None) -> list[Result]:
    results: list[Result] = []
    for name in discover():
        if only and only not in name:
            continue
        module = importlib.import_module(name)
        print(f"== {name}", flush=True)
        for result in await module.run(quick):
            print(f"   {result.line()}", flush=True)
            results.append(result)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--only", help="run modules whose name contains this text")
    args = parser.parse_args()
    found = asyncio.run(main(args.quick, args.only))
    if not args.quick and not args.only:
        write_table(found, HERE / "results.md")
    if not found:
        print("no benchmarks found", file=sys.stderr)
