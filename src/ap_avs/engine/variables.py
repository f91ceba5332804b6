"""The variables a run sees (pure): one namespace shared by templates, scripts and loops.

==================  ==========================================================================
name                value
==================  ==========================================================================
input variables     each key of the workflow's ``input_variables`` (``settings`` …), then the
                    run's ``trigger_input`` on top (same names override)
``apContext``       ``{configVars: {<secret name>: <value>}}``: config macros, then the owner's
                    user secrets, then this workflow's secrets for names not yet taken
``context``         ``{status, executionCount, lastRanAt, completedAt, workflowId, runner}``
``<trigger name>``  ``{data, input}`` (manual triggers also ``headers`` and ``pathParams``)
``triggerConfig``   ``{id, name, type, data: <trigger config>}``
``<node name>``     ``{input, data}`` once the node has run (added by the executor)
==================  ==========================================================================

Trigger data is exactly what the trigger produced, whether the run was queued or not
(LESSONS 14): block number, event fields, the manual payload …
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ap_avs.domain.step_config import trigger_display_config
from ap_avs.domain.triggers import ManualTriggerConfig
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import Workflow

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def variable_name(name: str) -> str:
    """A trigger or node name as a variable name (upstream's sanitising rule)."""
    cleaned = _UNSAFE.sub("_", name).strip("_")
    if not cleaned:
        return "unnamed_trigger"
    return f"trigger_{cleaned}" if cleaned[0].isdigit() else cleaned


def trigger_config_json(wf: Workflow) -> JsonValue:
    """The trigger's config in the display format steps show (``lang`` as ``LANG_JSON`` …)."""
    return trigger_display_config(wf.trigger)


def run_variables(
    wf: Workflow,
    trigger_data: JsonValue,
    *,
    trigger_input: Mapping[str, JsonValue],
    secrets: Mapping[str, str],
) -> dict[str, JsonValue]:
    """The namespace at the start of a run (the executor adds node outputs)."""
    variables: dict[str, JsonValue] = dict(wf.input_variables)
    variables.update(trigger_input)
    variables["apContext"] = {"configVars": dict(secrets)}
    variables["context"] = {
        "workflowId": wf.id,
        "status": wf.status.wire_name,
        "executionCount": wf.execution_count,
        "lastRanAt": wf.last_ran_at,
        "completedAt": wf.completed_at,
        "runner": wf.smart_wallet_address,
    }
    config = trigger_config_json(wf)
    trigger_var: dict[str, JsonValue] = {"data": trigger_data, "input": config}
    if isinstance(wf.trigger.config, ManualTriggerConfig):
        trigger_var["headers"] = dict(wf.trigger.config.headers)
        trigger_var["pathParams"] = dict(wf.trigger.config.path_params)
    variables[variable_name(wf.trigger.name)] = trigger_var
    variables["triggerConfig"] = {
        "id": wf.trigger.id,
        "name": wf.trigger.name,
        "type": wf.trigger.kind.wire_name,
        "data": config,
    }
    return variables
