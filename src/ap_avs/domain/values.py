"""Plain JSON values: the one untyped shape the core allows, for user payloads."""

from __future__ import annotations

from typing import TypeAlias

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
"""A JSON document as Python values (user payloads, trigger data, node outputs)."""
