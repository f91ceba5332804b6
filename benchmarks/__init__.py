"""Benchmarks: each module ``bench_*.py`` measures a figure beside a baseline from the same run."""
