"""Run the test suite (or a chosen part) several times and report every test that failed at least
once: a way to find a flaky test before CI does.

    python scripts/test_repeat.py --runs 5                       # the whole suite, five times
    python scripts/test_repeat.py --runs 10 tests/test_sandbox.py -k deadline
    make test-repeat N=5 TESTS="tests/engine tests/runners"

Each run writes a JUnit XML report into a temporary folder; the reports are read afterwards, so
a run that crashes part-way still counts what it finished. The exit status is 0 when every test
passed in every run, 1 otherwise (2 for a usage error).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Tally:
    runs: int = 0
    tests: set[str] = field(default_factory=set)
    failures: Counter[str] = field(default_factory=Counter)
    first_message: dict[str, str] = field(default_factory=dict)

    def add_report(self, path: Path) -> None:
        for case in ET.parse(path).getroot().iter("testcase"):
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            self.tests.add(name)
            for tag in ("failure", "error"):
                problem = case.find(tag)
                if problem is not None:
                    self.failures[name] += 1
                    first_line = (problem.get("message") or problem.text or "").strip()
                    self.first_message.setdefault(name, first_line.splitlines()[0][:200])
                    break


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="how many times (default 5)")
    parser.add_argument("pytest_args", nargs="*", help="paths and options passed to pytest")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="test-repeat-") as tmp:
        for run in range(1, args.runs + 1):
            report = Path(tmp) / f"run{run}.xml"
            began = time.monotonic()
            command = [sys.executable, "-m", "pytest", "-q", f"--junitxml={report}"]
            status = subprocess.run([*command, *args.pytest_args], check=False).returncode
            took = time.monotonic() - began
            tally.runs += 1
            before = sum(tally.failures.values())
            if report.exists():
                tally.add_report(report)
            if status != 0 and sum(tally.failures.values()) == before:
                name = f"<the run itself: pytest exit status {status}>"
                tally.failures[name] += 1
                tally.first_message.setdefault(name, "no test failed; see the run's output")
            print(f"== run {run}/{args.runs}: exit {status} in {took:.0f} s", flush=True)
    print(f"\n{len(tally.tests)} tests, {tally.runs} runs")
    if not tally.failures:
        print("every test passed in every run")
        return 0
    print(f"{len(tally.failures)} tests failed at least once:")
    for name, count in tally.failures.most_common():
        print(f"  {count}/{tally.runs}  {name}\n         {tally.first_message.get(name, '')}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
