"""Every benchmark runs at tiny sizes (a smoke run; figures are not asserted)."""

from __future__ import annotations

import importlib

import pytest

from benchmarks.__main__ import discover


@pytest.mark.timeout(240)
@pytest.mark.parametrize("name", discover())
async def test_benchmark_smoke_run(name: str) -> None:
    module = importlib.import_module(name)
    results = await module.run(True)
    assert results
    assert all(r.value > 0 for r in results)
