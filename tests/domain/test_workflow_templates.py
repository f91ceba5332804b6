"""Template shape checks, the creation-time path resolver and cron spacing (private helpers)."""

from __future__ import annotations

from typing import Any

import pytest

from ap_avs.domain.cron import min_gap_seconds, schedule_problem
from ap_avs.domain.templating import (
    MISSING,
    iter_templates,
    lookup_path,
    render,
    simple_resolver,
    template_problem,
    to_text,
)

VARS: dict[str, Any] = {
    "settings": {"runner": "0xabc", "items": [{"a": 1}, {"a": 2.5}], "X-Key": "k", "n": None},
    "flag": True,
}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("plain", []),
        ("{{a}}", [(0, 5, "a")]),
        ("x {{ a.b }} y {{c}}", [(2, 11, " a.b "), (14, 19, "c")]),
        ('{"a":{"b":{{x}}}}', [(10, 15, "x")]),
        ("}} {{a}}", [(3, 8, "a")]),
        ("{{a", [(0, -1, "a")]),
    ],
)
def test_iter_templates(text: str, found: list[tuple[int, int, str]]) -> None:
    assert list(iter_templates(text)) == found


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no templates }} here", None),
        ("{{ ok }} and {{ok.too}}", None),
        ("{{ a", "unclosed template '{{' at character 0"),
        ("x{{}}", "empty template at character 1"),
        ("{{ a {{ b }}", "nested '{{' inside the template at character 0"),
        ("{{" + "a" * 11 + "}}", "template at character 0 is longer than 10 characters"),
        ("{{a}}" * 4, "more than 3 templates in one value"),
    ],
)
def test_template_problem(text: str, problem: str | None) -> None:
    assert template_problem(text, max_length=10, max_count=3) == problem


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("settings.runner", "0xabc"),
        ("settings.items[1].a", 2.5),
        ("settings.items.0.a", 1),
        ("settings.X-Key", "k"),
        ("settings.n", None),
        ("flag", True),
        ("settings", VARS["settings"]),
        ("settings.missing", MISSING),
        ("settings.items[5]", MISSING),
        ("settings.runner.length", MISSING),
        ("nope.x", MISSING),
        ("settings.runner.toLowerCase()", MISSING),
        ("a + b", MISSING),
    ],
)
def test_lookup_path(path: str, value: Any) -> None:
    assert lookup_path(path, VARS) == value


def test_render_with_the_simple_resolver() -> None:
    resolve = simple_resolver(VARS)
    assert render("to={{ settings.runner }}&f={{flag}}&x={{nope}}", resolve) == (
        "to=0xabc&f=true&x=undefined"
    )
    assert render("{{settings.items}}", resolve) == '[{"a":1},{"a":2.5}]'
    assert render("keep {{ broken", resolve) == "keep {{ broken"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("s", "s"),
        (None, "null"),
        (False, "false"),
        (3, "3"),
        (3.0, "3"),
        (0.5, "0.5"),
        ([1], "[1]"),
    ],
)
def test_to_text(value: Any, text: str) -> None:
    assert to_text(value) == text


@pytest.mark.parametrize(
    ("schedule", "gap"),
    [
        ("* * * * *", 60),
        ("*/5 * * * *", 300),
        ("0 * * * *", 3600),
        ("15,45 * * * *", 1800),
        ("0 0 * * *", 86400),
        ("59 23 * * *", 86400),
        ("50 1,2 * * *", 3600),
        ("0,10 3,4 * * *", 600),
        ("55 3,4 * * *", 3600),
        ("0,55 3,4 * * *", 300),  # 03:55 -> 04:00
        ("30 0,23 * * *", 3600),  # 23:30 -> 00:30 the next day
        ("0 9 * * 1-5", 86400),  # weekdays: a lower bound (true gap is a day or three)
    ],
)
def test_min_gap(schedule: str, gap: int) -> None:
    assert min_gap_seconds(schedule) == gap
    assert schedule_problem(schedule, now_ms=0, min_interval_seconds=gap) is None
    assert "apart" in (schedule_problem(schedule, now_ms=0, min_interval_seconds=gap + 1) or "")
