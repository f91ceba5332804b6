"""JavaScript sandbox throughput: our pool's ``evaluate`` against QuickJS called in-process.

The baseline is the raw engine with the same isolation (a fresh ``quickjs.Context`` per
evaluation) in this process, one thread; the figure goes through ``SandboxPool.evaluate`` with
the default 2 workers, IPC, JSON conversion and limits included. Two more pairs show what
isolation costs (fresh context vs one reused context) and what a library costs, and, when
mini-racer is installed, how V8 compares (``docs/decisions/20261128-js-sandbox.md``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import quickjs  # type: ignore[import-untyped]

from ap_avs.sandbox import Limits, Mode, SandboxPool
from benchmarks.report import Result

JS_DIR = Path(__file__).resolve().parent.parent / "src" / "ap_avs" / "js"

SNIPPET = "1 + 2"
TEMPLATE = '"Hello " + user.name + ", you hold " + (balance / 10 ** decimals).toFixed(2)'
VARIABLES: dict[str, Any] = {
    "user": {"name": "Ada", "id": "01J8Z"},
    "balance": 123456789,
    "decimals": 6,
}
LODASH_CODE = "return _.sum(_.map(xs, x => x * 2))"
LODASH_VARIABLES: dict[str, Any] = {"xs": [1, 2, 3, 4]}


def _rate(count: int, call: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        call()
    return count / (time.perf_counter() - start)


def _raw_fresh(code: str, variables: dict[str, Any]) -> Callable[[], object]:
    """One fresh QuickJS context per evaluation, variables set as globals via JSON."""
    text = json.dumps(variables)

    def call() -> object:
        context = quickjs.Context()
        context.set_memory_limit(64 << 20)
        context.set_time_limit(1)
        context.set("__vars", text)
        context.eval("for (const [k, v] of Object.entries(JSON.parse(__vars))) globalThis[k] = v")
        return context.eval(f"JSON.stringify({code})")

    return call


def _raw_reused(code: str) -> Callable[[], object]:
    context = quickjs.Context()
    return lambda: context.eval(f"JSON.stringify({code})")


def _raw_lodash() -> Callable[[], object]:
    lodash = (JS_DIR / "lodash.min.js").read_text()

    def call() -> object:
        context = quickjs.Context()
        context.eval(lodash)
        context.set("__vars", json.dumps(LODASH_VARIABLES))
        return context.eval(
            "const xs = JSON.parse(__vars).xs; JSON.stringify(_.sum(_.map(xs, x => x * 2)))"
        )

    return call


async def _pool_rate(
    pool: SandboxPool, count: int, in_flight: int, code: str, variables: dict[str, Any], mode: Mode
) -> float:
    queue = iter(range(count))

    async def client() -> None:
        for _ in queue:
            await pool.evaluate(code, variables, mode=mode)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(in_flight)))
    return count / (time.perf_counter() - start)


async def run(quick: bool) -> list[Result]:
    n = 100 if quick else 5000
    results: list[Result] = []
    raw_snippet = _rate(n, _raw_fresh(SNIPPET, {}))
    raw_template = _rate(n, _raw_fresh(TEMPLATE, VARIABLES))
    raw_lodash = _rate(max(n // 20, 10), _raw_lodash())

    start = time.perf_counter()
    async with SandboxPool(size=2, limits=Limits()) as pool:
        started_ms = (time.perf_counter() - start) * 1000
        expression = Mode.EXPRESSION
        await _pool_rate(pool, 50, 4, SNIPPET, {}, expression)  # warm up
        snippet = await _pool_rate(pool, n, 16, SNIPPET, {}, expression)
        template = await _pool_rate(pool, n, 16, TEMPLATE, VARIABLES, expression)
        sequential = await _pool_rate(pool, n // 2, 1, TEMPLATE, VARIABLES, expression)
        lodash = await _pool_rate(
            pool, max(n // 10, 20), 16, LODASH_CODE, LODASH_VARIABLES, Mode.FUNCTION_BODY
        )
        spare_ms = []
        for _ in range(5 if quick else 20):
            await asyncio.sleep(0.05)  # idle: the workers build their spare contexts
            began = time.perf_counter()
            await pool.evaluate(LODASH_CODE, LODASH_VARIABLES, mode=Mode.FUNCTION_BODY)
            spare_ms.append((time.perf_counter() - began) * 1000)
    results += [
        Result(
            "sandbox: snippet, pool of 2, 16 in flight", snippet, "eval/s", raw_snippet, "≥ 0.3"
        ),
        Result(
            "sandbox: template with 3 variables, pool of 2",
            template,
            "eval/s",
            raw_template,
            "≥ 0.3",
        ),
        Result(
            "sandbox: template, one caller at a time", sequential, "eval/s", raw_template, "≥ 0.15"
        ),
        Result("sandbox: lodash custom code, pool of 2", lodash, "eval/s", raw_lodash, "≥ 1"),
        Result(
            "sandbox: lodash code after idle (spare context)",
            sorted(spare_ms)[len(spare_ms) // 2],
            "ms",
            None,
            "≤ 2",
        ),
        Result("sandbox: pool start (2 workers)", started_ms, "ms", None, "≤ 500"),
        Result(
            "quickjs raw: fresh context per eval (isolation) vs reused",
            raw_snippet,
            "eval/s",
            _rate(n * 4, _raw_reused(SNIPPET)),
            "information",
        ),
    ]
    if importlib.util.find_spec("py_mini_racer") is not None:
        results.append(await asyncio.to_thread(_mini_racer, max(n // 20, 10), raw_snippet))
    return results


def _mini_racer(count: int, quickjs_fresh: float) -> Result:
    """V8 through mini-racer with the same isolation (a fresh MiniRacer per evaluation).

    Run in a thread: mini-racer refuses ``timeout_sec`` inside a running event loop.
    """
    from py_mini_racer import MiniRacer

    def call() -> object:
        racer = MiniRacer()
        try:
            return racer.eval(f"JSON.stringify({SNIPPET})", timeout_sec=1)
        finally:
            racer.close()

    return Result(
        "mini-racer (V8): fresh context per eval vs quickjs",
        _rate(count, call),
        "eval/s",
        quickjs_fresh,
        "information",
    )
