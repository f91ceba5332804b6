"""How RunNodeWithInputs shows a step, where it differs from the stored step (pure).

A REST API step stores ``{status, statusText, url, headers, data}`` as its output. Run alone
(RunNodeWithInputs), the node answers as upstream does: the output is only the response body
(``data``), and ``metadata`` is ``{status, statusText, url, headers, data, success, error?,
errorCode?, executionContext?}``, set on success and on an HTTP error status alike (then
``success`` is false and the body is still in both places). A step with no HTTP answer (bad
config, network error) is left as it is. Every other kind is shown as stored.

Raises:
    nothing.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from ap_avs.domain.execution import Step
from ap_avs.domain.values import JsonValue

REST_API: Final = "NODE_TYPE_REST_API"
_ANSWER_KEYS: Final = ("status", "statusText", "url", "headers", "data")


def single_node_view(step: Step) -> Step:
    """``step`` as RunNodeWithInputs answers it (see the module docstring)."""
    output = step.output
    if step.kind != REST_API or not isinstance(output, dict) or "status" not in output:
        return step
    metadata: dict[str, JsonValue] = {key: output.get(key) for key in _ANSWER_KEYS}
    metadata["success"] = step.success
    if not step.success:
        metadata["error"] = step.error
        metadata["errorCode"] = step.error_code
    if step.execution_context is not None:
        metadata["executionContext"] = step.execution_context
    return dataclasses.replace(step, output=output.get("data"), metadata=metadata)
