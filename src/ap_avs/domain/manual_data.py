"""The check a manual trigger's own data gets before it is run (RunTrigger, SimulateTask).

Pure. With ``lang`` JSON, data given as a string must parse as JSON; the string is then kept
as it is (not replaced by the parsed value). Other languages and non-string data pass.

Raises:
    nothing: :func:`manual_data_problem` returns the problem as text.
"""

from __future__ import annotations

import json
from typing import Final

from ap_avs.domain.nodes import Lang
from ap_avs.domain.triggers import ManualTriggerConfig

INVALID_JSON_PREFIX: Final = "Data must be valid JSON: "
"""Upstream's literal prefix, followed by the parser's message."""


def manual_data_problem(config: ManualTriggerConfig) -> str | None:
    """Why the manual trigger's data cannot run, or None."""
    if config.lang is not Lang.JSON or not isinstance(config.data, str):
        return None
    try:
        json.loads(config.data)
    except ValueError as error:
        return f"{INVALID_JSON_PREFIX}{error}"
    return None
