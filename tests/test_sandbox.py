"""The JavaScript sandbox: modes, libraries, JSON rules, limits, isolation and the worker pool."""

from __future__ import annotations

import asyncio
import math
import os
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import quickjs  # type: ignore[import-untyped]

from ap_avs.errors import InvalidArgument, Unavailable
from ap_avs.sandbox import (
    CODE_LIMITS,
    Limits,
    Mode,
    Result,
    SandboxPool,
    ScriptError,
    ScriptErrorKind,
)
from ap_avs.sandbox.source import custom_code, encode_variables, prepare

JS_DIR = Path(__file__).resolve().parent.parent / "src" / "ap_avs" / "js"
UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# A liveness guard, not a speed figure (those are in benchmarks/bench_sandbox.py): an evaluation
# takes about a millisecond and a worker restart a fraction of a second; ten times the worst of
# those only catches a pool that hangs.
LIVENESS = 5.0

shared = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def pool() -> AsyncIterator[SandboxPool]:
    async with SandboxPool(size=2, limits=Limits(timeout_ms=1000), kill_grace_ms=200) as pool:
        yield pool


async def value(
    pool: SandboxPool, code: str, mode: Mode = Mode.EXPRESSION, **variables: Any
) -> Any:
    return (await pool.evaluate(code, variables, mode=mode)).value


async def failure(
    pool: SandboxPool, code: str, mode: Mode = Mode.SCRIPT, limits: Limits | None = None
) -> ScriptError:
    with pytest.raises(ScriptError) as caught:
        await pool.evaluate(code, {}, limits, mode=mode)
    return caught.value


async def still_fast(pool: SandboxPool) -> None:
    """After a limit was hit, the pool answers the next evaluation normally (no hang)."""
    result = await asyncio.wait_for(pool.evaluate("x + 1", {"x": 41}), LIVENESS)
    assert result.value == 42


async def wait_for_pids(pool: SandboxPool, ready: Callable[[tuple[int, ...]], bool]) -> None:
    """Wait (with the liveness guard) until the pool's worker pids satisfy ``ready``."""
    deadline = time.monotonic() + LIVENESS
    while not ready(pool.worker_pids):
        assert time.monotonic() < deadline, f"workers never became ready: {pool.worker_pids}"
        await asyncio.sleep(0.01)


# --- source preparation (pure) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "mode", "expected"),
    [
        ("a + 1", Mode.EXPRESSION, "(a + 1\n)"),
        ("a + 1;  \n", Mode.EXPRESSION, "(a + 1\n)"),
        ("return 1", Mode.FUNCTION_BODY, "(async function () {return 1\n})()"),
        ("1 + 2", Mode.SCRIPT, "1 + 2"),
        ("1 + 2", Mode.CUSTOM_CODE, "1 + 2"),
        ("return 3", Mode.CUSTOM_CODE, "(async function () {return 3\n})()"),
    ],
)
def test_prepare_wraps_without_moving_the_first_line(code: str, mode: Mode, expected: str) -> None:
    assert prepare(code, mode) == expected


@pytest.mark.parametrize(
    ("code", "rewritten", "mode"),
    [
        ("1 + 2", "1 + 2", Mode.SCRIPT),
        ("const x = 2; x * 3", "const x = 2; x * 3", Mode.SCRIPT),
        ("return 1", "return 1", Mode.FUNCTION_BODY),
        ("const v = await f()", "const v = await f()", Mode.FUNCTION_BODY),
        (
            "import _ from 'lodash'\n_.sum([1])",
            "const _ = require('lodash');\n_.sum([1])",
            Mode.FUNCTION_BODY,
        ),
        ('import * as d from "dayjs";', 'const d = require("dayjs");', Mode.FUNCTION_BODY),
        (
            "import { v4 as uuidv4, validate } from 'uuid'",
            "const { v4: uuidv4, validate } = require('uuid');",
            Mode.FUNCTION_BODY,
        ),
        (
            "import {\n  v4,\n  NIL\n} from 'uuid'\nreturn v4",
            "const { v4, NIL } = require('uuid');\n\n\n\nreturn v4",  # still line 5
            Mode.FUNCTION_BODY,
        ),
        (
            "import _, { sum } from 'lodash'",
            "const _ = require('lodash'); const { sum } = _;",
            Mode.FUNCTION_BODY,
        ),
        ("import 'lodash'", "require('lodash');", Mode.FUNCTION_BODY),
    ],
)
def test_custom_code_rule_rewrites_imports_and_chooses_the_mode(
    code: str, rewritten: str, mode: Mode
) -> None:
    assert custom_code(code) == (rewritten, mode)


def test_variables_follow_the_json_rules() -> None:
    text = encode_variables(
        {"big": 2**60, "neg": -(2**53), "safe": 2**53 - 1, "nan": math.nan, "inf": -math.inf,
         "t": (1, 2), "nested": {"x": [2**64]}, "f": 1.5, "b": True, "n": None}
    )  # fmt: skip
    assert text == (
        '{"big":"1152921504606846976","neg":"-9007199254740992","safe":9007199254740991,'
        '"nan":null,"inf":null,"t":[1,2],"nested":{"x":["18446744073709551616"]},"f":1.5,'
        '"b":true,"n":null}'
    )
    assert encode_variables({"a": [1, "x"]}) == '{"a":[1,"x"]}'


@pytest.mark.parametrize("name", ["undefined", "NaN", "Infinity"])
def test_read_only_global_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgument, match=name):
        encode_variables({name: 1})


def test_non_json_variables_are_a_type_error() -> None:
    with pytest.raises(TypeError):
        encode_variables({"x": object()})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        encode_variables({"x": math.nan, "y": object()})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "kwargs",
    [{"timeout_ms": 0}, {"memory_bytes": 1 << 20}, {"max_output_bytes": 0}, {"max_log_lines": -1}],
)
def test_limits_are_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        Limits(**kwargs)


def test_chacha20_matches_rfc_8439() -> None:
    """crypto.js's generator against the RFC 8439 §2.3.2 block (key 00..1f, counter 1)."""
    context = quickjs.Context()
    factory = context.eval(
        "(function (module, exports, shared) {\n" + (JS_DIR / "crypto.js").read_text() + "\n})"
    )
    context.set("factory", factory)
    block = context.eval(
        "const hex = bytes => Array.from(bytes, b => (b + 0x100).toString(16).slice(1)).join('');"
        "const shared = {seed: hex(Array.from({length: 32}, (_, i) => i)),"
        " nonce: '000000090000004a00000000', counter: 1};"
        "const module = {exports: {}}; factory(module, module.exports, shared);"
        "hex(module.exports.getRandomValues(new Uint8Array(64)))"
    )
    assert block == (
        "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
        "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"
    )


# --- language, modes, libraries --------------------------------------------------------------


@shared
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("[1, 2, 3].map(x => x * 2)", [2, 4, 6]),
        ("({a: {b: null}})?.a?.b?.c ?? 'default'", "default"),
        ("(2n ** 64n).toString()", "18446744073709551616"),
        ("(() => { class A { #x = 7; get x() { return this.#x } } return new A().x })()", 7),
        ("`t${1 + 1}`", "t2"),
        ("Object.fromEntries([['k', 1]])", {"k": 1}),
        ("'a-b'.replaceAll('-', '+')", "a+b"),
        ("(async () => 5)()", 5),
        ("Promise.resolve(3)", 3),
        ("({then(resolve) { resolve(7) }})", 7),
    ],
)
async def test_es2020_expressions(pool: SandboxPool, code: str, expected: object) -> None:
    assert await value(pool, code) == expected


@shared
async def test_modes(pool: SandboxPool) -> None:
    assert await value(pool, "return await Promise.resolve(3)", Mode.FUNCTION_BODY) == 3
    assert (
        await value(
            pool, "const r = await new Promise(r => r(4)); return r + 1", Mode.FUNCTION_BODY
        )
        == 5
    )
    assert await value(pool, "let x = 1; x += 1", Mode.SCRIPT) == 2
    assert await value(pool, "x = 1", Mode.FUNCTION_BODY) is None  # no return: undefined -> null
    assert await value(pool, "value.diff > 0", Mode.EXPRESSION, value={"diff": 2}) is True
    assert await value(pool, "const a = 2; a * 21", Mode.CUSTOM_CODE) == 42
    assert await value(pool, "const a = await Promise.resolve(2)\nreturn a", Mode.CUSTOM_CODE) == 2


@shared
async def test_libraries_as_upstream_offers_them(pool: SandboxPool) -> None:
    assert await value(pool, "_.sum([1, 2])") == 3
    assert await value(pool, "require('lodash') === _ && _.VERSION") == "4.17.21"
    assert await value(pool, "dayjs(0).toISOString()") == "1970-01-01T00:00:00.000Z"
    assert await value(pool, "require('dayjs')(86400000).format('YYYY-MM-DD')") == "1970-01-02"
    first = await value(pool, "uuid.v4()")
    second = await value(pool, "require('uuid').v4()")
    assert UUID_V4.match(str(first))
    assert UUID_V4.match(str(second))
    assert first != second
    assert await value(pool, "uuid.validate(uuid.v4()) && uuid.version(uuid.v4())") == 4
    assert await value(pool, "uuid.v5('x', uuid.v5.URL)") == str(
        uuid.uuid5(uuid.NAMESPACE_URL, "x")
    )
    assert UUID_V4.match(str(await value(pool, "crypto.randomUUID()")))
    code = "import _ from 'lodash'\nimport { v4 } from 'uuid'\nreturn [_.max([1, 9]), v4().length]"
    assert await value(pool, code, Mode.CUSTOM_CODE) == [9, 36]
    assert await value(pool, "_.template('hi <%= who %>')({who: 'ada'})") == "hi ada"
    assert await value(pool, "globalThis[String.fromCharCode(95)].max([4, 2])") == 4


@shared
async def test_console_is_captured(pool: SandboxPool) -> None:
    code = (
        "console.log('a', 1, {b: [2n]}, undefined, null); console.error(new TypeError('t'));"
        "return 5"
    )
    result = await pool.evaluate(code, {}, mode=Mode.FUNCTION_BODY)
    assert result == Result(
        value=5,
        logs=('a 1 {"b":["2"]} undefined null', "TypeError: t"),
        duration_ms=result.duration_ms,
    )
    assert result.duration_ms > 0


@shared
async def test_console_is_bounded(pool: SandboxPool) -> None:
    limits = Limits(max_log_lines=3)
    result = await pool.evaluate(
        "for (let i = 0; i < 10; i++) console.log(i)", {}, limits, mode=Mode.SCRIPT
    )
    assert result.logs == ("0", "1", "… 8 more log lines dropped")
    long = await pool.evaluate("console.log('x'.repeat(5000))", {}, mode=Mode.SCRIPT)
    assert len(long.logs[0]) == 2001
    assert long.logs[0].endswith("…")
    silent = await pool.evaluate("console.log(1)", {}, Limits(max_log_lines=0), mode=Mode.SCRIPT)
    assert silent.logs == ()


# --- errors ----------------------------------------------------------------------------------


@shared
@pytest.mark.parametrize(
    ("code", "mode", "line"),
    [
        ("\n\nlet x = ;", Mode.SCRIPT, 3),
        ("const a = 1\nreturn a +", Mode.FUNCTION_BODY, 3),
        ("1 +", Mode.EXPRESSION, 2),
        ("let = = 1", Mode.SCRIPT, 1),
    ],
)
async def test_syntax_errors_name_the_line(
    pool: SandboxPool, code: str, mode: Mode, line: int
) -> None:
    error = await failure(pool, code, mode)
    assert error.kind is ScriptErrorKind.SYNTAX
    assert error.message.startswith("SyntaxError: ")
    assert error.message.endswith(f"(line {line})")
    assert error.line == line


@shared
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("null.x", "TypeError: cannot read property 'x' of null"),
        ("missing + 1", "ReferenceError: 'missing' is not defined"),
        ("throw new RangeError('too far')", "RangeError: too far"),
        (
            "class MyError extends Error { get name() { return 'MyError' } }\n"
            "throw new MyError('m')",
            "MyError: m",
        ),
        ("throw 'boom'", "boom"),
        ("throw {code: 1}", '{"code":1}'),
        ("JSON.parse('{')", "SyntaxError: expecting property name"),
        ("eval('(')", "SyntaxError: unexpected token in expression: ''"),
        ("Promise.reject(new Error('later'))", "Error: later"),
        ("new Promise(() => {})", "the script's promise never settled"),
        (
            "const o = {}; o.o = o; o",
            "TypeError: the result cannot be converted to JSON: circular reference",
        ),
    ],
)
async def test_runtime_errors_give_the_javascript_message(
    pool: SandboxPool, code: str, message: str
) -> None:
    error = await failure(pool, code)
    assert error.kind is ScriptErrorKind.RUNTIME
    assert error.message == message
    assert "Traceback" not in str(error)
    assert error.line is None


@shared
async def test_logs_survive_an_error(pool: SandboxPool) -> None:
    error = await failure(pool, "console.log('before'); null.x")
    assert error.logs == ("before",)


@shared
async def test_script_error_is_an_invalid_argument(pool: SandboxPool) -> None:
    with pytest.raises(InvalidArgument):
        await pool.evaluate("null.x", {})


# --- JSON rules ------------------------------------------------------------------------------


@shared
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("10n ** 30n", "1" + "0" * 30),
        ("-5n", "-5"),
        ("new Date(0)", "1970-01-01T00:00:00.000Z"),
        ("new Date(NaN)", None),
        ("undefined", None),
        ("({a: undefined, b: 1})", {"b": 1}),
        ("[undefined, 1]", [None, 1]),
        ("NaN", None),
        ("[Infinity, -Infinity]", [None, None]),
        ("-0", 0),
        ("1.5", 1.5),
        ("2 ** 53", 9007199254740992),
        ("1e21", 1e21),
        ("({a: {b: {c: [1, {d: 'e'}]}}})", {"a": {"b": {"c": [1, {"d": "e"}]}}}),
        ("[1, 'two', true, null, [3]]", [1, "two", True, None, [3]]),
        ("new Map([['k', 1], [2, new Date(0)]])", [["k", 1], [2, "1970-01-01T00:00:00.000Z"]]),
        ("new Set([1, 1, 2n])", [1, "2"]),
        ("new Uint8Array([1, 255])", [1, 255]),
        ("new BigInt64Array([5n])", ["5"]),
        ("(() => 1)", None),
        ("({f() {}, s: Symbol('s'), x: 1})", {"x": 1}),
        ("({toJSON() { return 'custom' }})", "custom"),
        ("'\\ud800 ok'", "\ufffd ok"),
        ("'é😀'", "é😀"),
    ],
)
async def test_results_cross_as_json(pool: SandboxPool, code: str, expected: object) -> None:
    result = await value(pool, code)
    assert result == expected
    assert type(result) is type(expected)


@shared
async def test_variables_cross_as_json(pool: SandboxPool) -> None:
    variables = {"i": 3, "f": 2.5, "whole": 3.0, "big": 2**60, "s": "x", "n": None, "b": False,
                 "nested": {"list": [1, {"k": "v"}]}}  # fmt: skip
    checks = await value(
        pool,
        "[typeof i, i, f, whole, typeof big, big, BigInt(big) === 2n ** 60n, s, n, b,"
        " nested.list[1].k]",
        **variables,
    )
    assert checks == ["number", 3, 2.5, 3, "string", str(2**60), True, "x", None, False, "v"]
    echoed = await value(pool, "({i, f, whole, nested})", **variables)
    assert echoed == {"i": 3, "f": 2.5, "whole": 3, "nested": {"list": [1, {"k": "v"}]}}
    assert type(echoed["i"]) is int
    assert type(echoed["whole"]) is int
    assert (
        await value(pool, "apContext.configVars.key", apContext={"configVars": {"key": "s3cr3t"}})
        == "s3cr3t"
    )
    assert await value(pool, "typeof _ === 'number' && _", _=5) == 5  # a variable shadows a library


# --- no host access, no state between evaluations --------------------------------------------


@shared
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("typeof process", "undefined"),
        ("typeof globalThis.fetch", "undefined"),
        ("typeof XMLHttpRequest", "undefined"),
        ("typeof setTimeout", "undefined"),
        ("typeof std + typeof os + typeof print + typeof scriptArgs", "undefined" * 4),
        ("typeof __ap_host + typeof __date_clock", "undefined" * 2),
        ("eval('typeof process')", "undefined"),
        ("Function('return this')() === globalThis", True),
        ("Function('return typeof process')()", "undefined"),
        ("(0, eval)('this') === globalThis", True),
        (
            "Object.getPrototypeOf(async function () {}).constructor('return typeof require')()",
            "function",
        ),
        (
            "Object.getOwnPropertyNames(globalThis).filter(k => /^[a-z_]/.test(k)).sort()",
            ["_", "console", "crypto", "dayjs", "decodeURI", "decodeURIComponent",
             "encodeURI", "encodeURIComponent", "escape", "eval", "globalThis", "isFinite",
             "isNaN", "parseFloat", "parseInt", "require", "undefined", "unescape", "uuid"],
        ),
    ],
)  # fmt: skip
async def test_no_host_access(pool: SandboxPool, code: str, expected: object) -> None:
    assert await value(pool, code) == expected


@shared
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("require('fs')", "Error: Cannot find module 'fs'"),
        ("require('child_process')", "Error: Cannot find module 'child_process'"),
        ("import('fs')", "ReferenceError: could not load module 'fs'"),
        ("fetch('http://127.0.0.1/')", "ReferenceError: 'fetch' is not defined"),
        (
            "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10000)",
            "TypeError: cannot block in this thread",
        ),
    ],
)
async def test_host_access_fails(pool: SandboxPool, code: str, message: str) -> None:
    assert (await failure(pool, code)).message == message


async def test_no_state_passes_between_evaluations() -> None:
    async with SandboxPool(size=1, kill_grace_ms=200) as solo:
        await solo.evaluate(
            "globalThis.leak = 1; var leak2 = 2; Array.prototype.evil = 3;"
            "Object.prototype.polluted = 4; JSON.stringify = () => 'hijacked'; _.leaky = 5;"
            "_.uniqueId(); dayjs.locale('fr', {name: 'fr'}); Math.random = () => 0;"
            "console.log('mine')",
            {"secret": "user A"},
            mode=Mode.SCRIPT,
        )
        result = await solo.evaluate(
            "[typeof leak, typeof leak2, [].evil, ({}).polluted, typeof secret, _.leaky,"
            " _.uniqueId(), dayjs.locale(), Math.random() !== 0, JSON.stringify(1)]",
            {},
        )
        assert result.value == [
            "undefined",
            "undefined",
            None,
            None,
            "undefined",
            None,
            "1",
            "en",
            True,
            "1",
        ]
        assert result.logs == ()


# --- limits ----------------------------------------------------------------------------------


@shared
async def test_endless_loop_stops_at_the_deadline(pool: SandboxPool) -> None:
    began = time.monotonic()
    error = await asyncio.wait_for(
        failure(pool, "while (true) {}", limits=Limits(timeout_ms=300)), LIVENESS
    )
    elapsed = time.monotonic() - began
    assert error.timed_out
    assert error.kind is ScriptErrorKind.TIMEOUT
    assert error.message == "the script did not finish within 300 ms"
    assert elapsed >= 0.29  # it ran until its deadline, not less (a load can only make it later)
    await still_fast(pool)


@shared
@pytest.mark.parametrize(
    "code",
    [
        "(async () => { while (true) await null })()",
        "function f() { return Promise.resolve().then(f) }\nf()",
        "let n = 0; const step = () => { n++; return Promise.resolve().then(step) }; step()",
    ],
)
async def test_endless_promise_chains_stop(pool: SandboxPool, code: str) -> None:
    error = await failure(pool, code, limits=Limits(timeout_ms=300))
    assert error.timed_out
    await still_fast(pool)


@shared
async def test_regex_backtracking_is_killed_from_outside(pool: SandboxPool) -> None:
    """QuickJS cannot interrupt a regular expression: the parent kills the worker."""
    before = set(pool.worker_pids)
    # 2^40 steps of backtracking would run for hours: finishing at all shows the kill.
    error = await asyncio.wait_for(
        failure(pool, "/(a+)+b/.test('a'.repeat(40))", limits=Limits(timeout_ms=200)), LIVENESS
    )
    assert error.timed_out
    await still_fast(pool)
    # The replacement starts in the background.
    await wait_for_pids(pool, lambda pids: len(pids) == 2 and set(pids) != before)


@shared
@pytest.mark.parametrize(
    "code",
    [
        "let a = []; while (true) a.push(new Array(1e6).fill(1))",
        "let s = 'x'; while (true) s += s",
        "'x'.repeat(2 ** 29)",
        "new ArrayBuffer(2 ** 30)",
    ],
)
async def test_memory_limit(pool: SandboxPool, code: str) -> None:
    before = pool.worker_pids
    error = await failure(pool, code, limits=Limits(memory_bytes=16 << 20))
    assert error.memory_exceeded
    assert error.kind is ScriptErrorKind.MEMORY
    assert error.message == "the script needed more than 16 MiB of memory"
    assert pool.worker_pids == before  # handled inside the worker, which lives on
    await still_fast(pool)


@shared
async def test_deep_recursion_hits_the_stack_limit(pool: SandboxPool) -> None:
    error = await failure(pool, "function f(n) { return f(n + 1) + 1 }\nf(0)")
    assert error.kind is ScriptErrorKind.STACK_OVERFLOW
    assert (
        await value(pool, "function f(n) { return n ? f(n - 1) + 1 : 0 }\nf(1000)", Mode.SCRIPT)
        == 1000
    )
    await still_fast(pool)


@shared
async def test_huge_output_is_refused(pool: SandboxPool) -> None:
    limits = Limits(max_output_bytes=1000)
    error = await failure(pool, "console.log('kept'); 'x'.repeat(2000)", limits=limits)
    assert error.kind is ScriptErrorKind.OUTPUT_TOO_LARGE
    assert error.logs == ("kept",)
    assert error.message == "the result is larger than 1,000 bytes of JSON"
    multibyte = await failure(pool, "'é'.repeat(600)", limits=limits)  # 600 chars, 1,202 bytes
    assert multibyte.kind is ScriptErrorKind.OUTPUT_TOO_LARGE
    assert len(await value(pool, "'x'.repeat(990)")) == 990
    await still_fast(pool)


@shared
async def test_long_source_is_refused_before_running(pool: SandboxPool) -> None:
    error = await failure(pool, "1" * 101, limits=Limits(max_source_length=100))
    assert error.kind is ScriptErrorKind.SOURCE_TOO_LONG
    assert CODE_LIMITS.timeout_ms == 5000
    assert Limits().max_source_length == 100 * 1024


# --- the pool --------------------------------------------------------------------------------


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[11])  # utime


async def spinning_worker(pool: SandboxPool) -> int:
    """The worker that is burning CPU: the one whose CPU time grows by 10 ticks (0.1 s) first."""
    start = {pid: cpu_ticks(pid) for pid in pool.worker_pids}
    deadline = time.monotonic() + LIVENESS
    while True:
        grown = {pid: cpu_ticks(pid) - ticks for pid, ticks in start.items()}
        busiest = max(grown, key=lambda pid: grown[pid])
        others = [n for pid, n in grown.items() if pid != busiest]
        if grown[busiest] >= 10 and all(grown[busiest] >= 5 * max(n, 1) for n in others):
            return busiest
        assert time.monotonic() < deadline, f"no worker is spinning: {grown}"
        await asyncio.sleep(0.02)


@shared
async def test_a_crashed_worker_fails_only_its_evaluation(pool: SandboxPool) -> None:
    victim = asyncio.create_task(
        pool.evaluate("while (true) {}", {}, Limits(timeout_ms=60_000), mode=Mode.SCRIPT)
    )
    spinning = await spinning_worker(pool)
    others = asyncio.gather(*(pool.evaluate("i", {"i": i}) for i in range(20)))
    os.kill(spinning, signal.SIGSEGV)
    with pytest.raises(ScriptError) as caught:
        await victim
    assert caught.value.kind is ScriptErrorKind.CRASHED
    assert caught.value.message == "the sandbox crashed while running the script (signal SIGSEGV)"
    assert [r.value for r in await others] == list(range(20))
    await still_fast(pool)


@shared
async def test_cancelled_evaluation_replaces_its_worker(pool: SandboxPool) -> None:
    task = asyncio.create_task(pool.evaluate("while (true) {}", {}, mode=Mode.SCRIPT))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await still_fast(pool)
    await asyncio.gather(*(pool.evaluate("1", {}) for _ in range(10)))


@shared
async def test_many_concurrent_evaluations(pool: SandboxPool) -> None:
    results = await asyncio.gather(*(pool.evaluate("i * 2", {"i": i}) for i in range(200)))
    assert [r.value for r in results] == [i * 2 for i in range(200)]


async def test_callers_are_served_in_arrival_order() -> None:
    async with SandboxPool(size=1) as solo:
        finished: list[int] = []

        async def call(i: int) -> None:
            await solo.evaluate("for (let j = 0; j < 1e4; j++) {} i", {"i": i}, mode=Mode.SCRIPT)
            finished.append(i)

        await asyncio.gather(*(call(i) for i in range(8)))
        assert finished == list(range(8))


async def test_a_cancelled_caller_leaves_the_queue() -> None:
    async with SandboxPool(size=1) as solo:
        busy = asyncio.create_task(
            solo.evaluate("for (let j = 0; j < 2e6; j++) {} 1", {}, mode=Mode.SCRIPT)
        )
        queued = asyncio.create_task(solo.evaluate("2", {}))
        await asyncio.sleep(0.01)
        assert not queued.done()
        queued.cancel()
        assert (await busy).value == 1
        assert (await solo.evaluate("3", {})).value == 3
        with pytest.raises(asyncio.CancelledError):
            await queued


async def test_closing_fails_waiting_and_later_calls() -> None:
    solo = SandboxPool(size=1, kill_grace_ms=100)
    with pytest.raises(Unavailable):
        await solo.evaluate("1", {})
    await solo.start()
    running = asyncio.create_task(solo.evaluate("while (true) {}", {}, mode=Mode.SCRIPT))
    waiting = asyncio.create_task(solo.evaluate("1", {}))
    await asyncio.sleep(0.05)
    await solo.close()
    for task in (running, waiting):
        with pytest.raises(Unavailable):
            await task
    with pytest.raises(Unavailable):
        await solo.evaluate("1", {})
    assert solo.worker_pids == ()
