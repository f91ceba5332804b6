"""Building blocks of workflow validation: message prefixes, error codes, value predicates.

Shared by the rule modules (``_trigger_rules``, ``_node_rules``, ``_graph_rules``) and
:mod:`ap_avs.domain.validation`. :func:`invalid` builds the one error they raise,
:class:`~ap_avs.errors.InvalidArgument`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from typing import Final

from ap_avs.domain._limits import WorkflowLimits
from ap_avs.domain.addresses import is_address
from ap_avs.domain.nodes import MethodCall, Node
from ap_avs.domain.templating import template_problem
from ap_avs.domain.triggers import Trigger
from ap_avs.errors import ErrorCode, InvalidArgument

STRUCTURE_PREFIX: Final = "Invalid task argument: "
"""Prefix of every structural problem (upstream's literal, capital I)."""
SETTINGS_PREFIX: Final = "invalid task argument: "
"""Prefix of the ``input_variables.settings`` problems (upstream's literal, lower-case i)."""

# The ErrorCode members validation errors carry, by their short names.
INVALID_REQUEST: Final = ErrorCode.INVALID_REQUEST
INVALID_TRIGGER_CONFIG: Final = ErrorCode.INVALID_TRIGGER_CONFIG
INVALID_NODE_CONFIG: Final = ErrorCode.INVALID_NODE_CONFIG
INVALID_WORKFLOW: Final = ErrorCode.INVALID_WORKFLOW
MISSING_REQUIRED_FIELD: Final = ErrorCode.MISSING_REQUIRED_FIELD

_DECIMAL: Final = re.compile(r"[0-9]+")
_HEX_DATA: Final = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_TOPIC: Final = re.compile(r"0x[0-9a-fA-F]{64}")


def invalid(problem: str, *, code: int = INVALID_REQUEST) -> InvalidArgument:
    """A structural ``InvalidArgument``: ``Invalid task argument: <problem>``."""
    return InvalidArgument(STRUCTURE_PREFIX + problem, error_code=code)


def node_subject(node: Node) -> str:
    """How messages name a node: ``node 'name' (id 'id')``."""
    return f"node '{node.name}' (id '{node.id}')"


def trigger_subject(trigger: Trigger) -> str:
    """How messages name the trigger: ``trigger 'name' (id 'id')``."""
    return f"trigger '{trigger.name}' (id '{trigger.id}')"


def has_template(text: str) -> bool:
    """Whether ``text`` holds a ``{{`` (its value is only known at run time)."""
    return "{{" in text


def is_decimal(text: str) -> bool:
    """Whether ``text`` is a non-negative integer in ASCII decimal digits."""
    return _DECIMAL.fullmatch(text) is not None


def is_hex_data(text: str) -> bool:
    """Whether ``text`` is ``0x`` followed by whole bytes of hex."""
    return _HEX_DATA.fullmatch(text) is not None


def is_topic(text: str) -> bool:
    """Whether ``text`` is a 32-byte log topic: ``0x`` and 64 hex digits."""
    return _TOPIC.fullmatch(text) is not None


def is_http_url(text: str) -> bool:
    """Whether ``text`` is an ``http://`` or ``https://`` URL with something after the scheme."""
    lowered = text.lower()
    for scheme in ("http://", "https://"):
        if lowered.startswith(scheme) and len(text) > len(scheme):
            return True
    return False


def address_or_template(text: str) -> bool:
    """An address, or a string whose value a template supplies at run time."""
    return is_address(text) or has_template(text)


JSON_FIELDS: Final = frozenset({"contract_abi", "data", "options"})
"""Config fields holding user JSON rather than text: never templated, never walked."""


def iter_strings(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    """Every text value inside a config, with its path (``method_calls[0].method_params[1]``).

    Walks dataclass fields, tuples and mapping values; skips :data:`JSON_FIELDS`.
    """
    if isinstance(value, str):
        yield path, value
    elif is_dataclass(value) and not isinstance(value, type):
        for item in fields(value):
            if item.name not in JSON_FIELDS:
                yield from iter_strings(getattr(value, item.name), _join(path, item.name))
    elif isinstance(value, tuple):
        for index, element in enumerate(value):
            yield from iter_strings(element, f"{path}[{index}]")
    elif isinstance(value, Mapping):
        for key, element in value.items():
            yield from iter_strings(element, _join(path, str(key)))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_SCRIPT_FIELDS: Final = frozenset({"source", "query", "expression"})


def check_texts(subject: str, config: object, limits: WorkflowLimits, *, code: int) -> None:
    """Check the length and the templates of every text value in ``config``.

    Raises:
        InvalidArgument: a value is too long or holds a malformed template; the message names
            ``subject`` and the field path.
    """
    for path, text in iter_strings(config):
        field = path.rsplit(".", 1)[-1].split("[", 1)[0]
        if field in _SCRIPT_FIELDS:
            limit = limits.max_script_length
        elif field == "body":
            limit = limits.max_body_length
        else:
            limit = limits.max_field_length
        if len(text) > limit:
            raise invalid(f"{subject}: {path} is longer than {limit} characters", code=code)
        problem = template_problem(
            text, max_length=limits.max_template_length, max_count=limits.max_templates_per_field
        )
        if problem is not None:
            raise invalid(f"{subject}: {path}: {problem}", code=code)


def method_call_problems(where: str, call: MethodCall) -> Iterator[str]:
    """Problems of one contract call: it needs a method name or call data, and call data is hex."""
    if not call.method_name and not call.call_data:
        yield f"{where} needs a method_name or call_data"
    if call.call_data and not (is_hex_data(call.call_data) or has_template(call.call_data)):
        yield f"{where}.call_data must be 0x-prefixed hex bytes"
