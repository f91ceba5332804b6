"""Typed reading of stored JSON objects, for the stored-form decoders (``workflow_codec``).

Every mismatch (a missing key without a default, a wrong type, an unknown enum name) raises
:class:`~ap_avs.errors.CorruptDataError` with the path of the offending value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import TypeVar

from ap_avs.domain.values import JsonValue
from ap_avs.errors import CorruptDataError

E = TypeVar("E", bound=IntEnum)
T = TypeVar("T")


@contextmanager
def decoding() -> Iterator[None]:
    """Turn the errors of a malformed record (a loop runner of a non-runner kind: TypeError)
    into ``CorruptDataError``."""
    try:
        yield
    except CorruptDataError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise CorruptDataError(f"stored workflow does not decode: {exc}") from exc


class Reader:
    """Typed access to one JSON object; every mismatch raises ``CorruptDataError``."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: JsonValue, path: str) -> None:
        if not isinstance(data, dict):
            raise CorruptDataError(f"stored workflow: {path} is not an object")
        self._data = data
        self._path = path

    def corrupt(self, key: str, problem: str) -> CorruptDataError:
        return CorruptDataError(f"stored workflow: {self._path}.{key}: {problem}")

    def raw(self, key: str) -> JsonValue:
        if key not in self._data:
            raise self.corrupt(key, "missing")
        return self._data[key]

    def _typed(self, key: str, kind: type[T], default: T | None) -> T:
        if key not in self._data and default is not None:
            return default
        value = self.raw(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.corrupt(key, f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        return self._typed(key, str, default)

    def integer(self, key: str, default: int | None = None) -> int:
        return self._typed(key, int, default)

    def flag(self, key: str, default: bool | None = None) -> bool:
        return self._typed(key, bool, default)

    def json(self, key: str) -> JsonValue:
        return self._data.get(key)

    def optional(self, key: str, read: Callable[[str], T]) -> T | None:
        return read(key) if self._data.get(key) is not None else None

    def array(self, key: str) -> list[JsonValue]:
        return self._typed(key, list, [])

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.array(key)
        if not all(isinstance(value, str) for value in values):
            raise self.corrupt(key, "expected a list of strings")
        return tuple(str(value) for value in values)

    def mapping(self, key: str) -> dict[str, JsonValue]:
        return self._typed(key, dict, {})

    def text_map(self, key: str) -> dict[str, str]:
        values = self.mapping(key)
        if not all(isinstance(value, str) for value in values.values()):
            raise self.corrupt(key, "expected an object of strings")
        return {name: str(value) for name, value in values.items()}

    def reader(self, key: str) -> Reader:
        return Reader(self.raw(key), f"{self._path}.{key}")

    def readers(self, key: str) -> list[Reader]:
        return [Reader(item, f"{self._path}.{key}[{i}]") for i, item in enumerate(self.array(key))]

    def enum(self, key: str, kind: type[E]) -> E:
        name = self.text(key)
        try:
            return kind[name]
        except KeyError:
            raise self.corrupt(key, f"unknown {kind.__name__} {name!r}") from None
