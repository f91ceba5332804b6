"""One benchmark figure beside its baseline, and the results table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Result:
    """A measured figure, the baseline measured in the same run, and the target ratio."""

    figure: str
    value: float
    unit: str
    baseline: float | None = None
    target: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        assert self.baseline is not None
        return self.value / self.baseline

    def line(self) -> str:
        ratio = "" if self.ratio is None else f"  ratio {self.ratio:.2f}"
        base = "" if self.baseline is None else f"  baseline {self.baseline:,.1f}"
        return f"{self.figure}: {self.value:,.1f} {self.unit}{base}{ratio}  target {self.target}"


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def write_table(results: list[Result], path: Path) -> None:
    rows = ["| figure | value | baseline | ratio | target |", "|---|---|---|---|---|"]
    for r in results:
        base = "—" if r.baseline is None else f"{r.baseline:,.1f} {r.unit}"
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}"
        rows.append(f"| {r.figure} | {r.value:,.1f} {r.unit} | {base} | {ratio} | {r.target} |")
    path.write_text("# Benchmark results\n\n" + "\n".join(rows) + "\n")
