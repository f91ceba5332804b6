"""CreateTask validation (PROTOCOL.md §2.8), plus every check upstream left to run time.

:func:`validate_new_workflow` turns a :class:`~ap_avs.domain.workflow.WorkflowDraft` into the
:class:`~ap_avs.domain.workflow.Workflow` to store, or raises
:class:`~ap_avs.errors.InvalidArgument` with the first problem. Messages a client can observe
keep upstream's literal text: the expiry rule, ``invalid: edges|nodes field cannot be an empty
array``, the ``invalid task argument: inputVariables…`` settings messages, and the
``Invalid task argument: `` prefix of every structural problem (upstream's two spellings of the
prefix are kept). Our additional checks name the node (``node 'name' (id 'id')``), the trigger,
the edge or the field. The rules live in the private ``_*_rules`` modules; their docstrings list
them.

Steps in order: expiry at least one hour ahead (upstream's first check); edges, then nodes
non-empty; ``settings`` (name, runner); trigger present; times; ``max_execution``; sizes; names;
trigger config (resolving event templates); node configs; the graph.

What is *not* done here because it needs I/O: runner ownership (§2.8 step 4). The use case
checks :attr:`Workflow.smart_wallet_address <ap_avs.domain.workflow.Workflow>` against the
caller's wallets and raises ``invalid smart account address``.

Event templates (§2.8 step 3) are resolved through a resolver built from the final input
variables (``settings`` already holds the server-written keys). The default,
:func:`~ap_avs.domain.templating.simple_resolver`, evaluates dotted paths only; pass the
JavaScript template engine's resolver factory once it exists.

Usage::

    workflow = validate_new_workflow(
        draft, workflow_id=new_id(now_ms=now_ms), owner=principal.address, now_ms=now_ms,
        limits=config.workflow_limits,
    )
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Final

from eth_utils.address import to_checksum_address

from ap_avs.domain._checks import (
    INVALID_REQUEST,
    MISSING_REQUIRED_FIELD,
    SETTINGS_PREFIX,
    STRUCTURE_PREFIX,
    invalid,
)
from ap_avs.domain._graph_rules import check_graph, check_names
from ap_avs.domain._limits import WorkflowLimits
from ap_avs.domain._trigger_rules import check_trigger, resolve_trigger
from ap_avs.domain.addresses import is_hex_address
from ap_avs.domain.node_kinds import BUILTIN_NODE_KINDS, NodeKinds
from ap_avs.domain.templating import TemplateResolver, simple_resolver
from ap_avs.domain.values import JsonValue
from ap_avs.domain.workflow import TaskStatus, Workflow, WorkflowDraft
from ap_avs.errors import InvalidArgument

__all__ = [
    "EDGES_EMPTY",
    "MIN_LIFETIME_MS",
    "NODES_EMPTY",
    "SETTINGS_PREFIX",
    "STRUCTURE_PREFIX",
    "Settings",
    "WorkflowLimits",
    "check_expiry",
    "validate_new_workflow",
    "validate_settings",
    "validate_simulation",
]

MIN_LIFETIME_MS: Final = 3_600_000
"""A workflow that expires must do so at least one hour after creation."""
EDGES_EMPTY: Final = "invalid: edges field cannot be an empty array"
NODES_EMPTY: Final = "invalid: nodes field cannot be an empty array"
_EXPIRY_TOO_CLOSE: Final = (
    "task expiration date is too close to current time. The task must expire at least 1 hour "
    "from now. Current remaining time: {minutes:.1f} minutes"
)

ResolverFactory = Callable[[Mapping[str, JsonValue]], TemplateResolver]


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """What CreateTask reads from ``input_variables.settings``."""

    name: str
    """The workflow name, as given."""
    runner: str
    """The runner smart wallet, checksummed."""


def check_expiry(expired_at: int, *, now_ms: int) -> None:
    """Upstream's first CreateTask check: an expiry, if set, lies at least an hour ahead.

    ``now_ms`` is truncated to whole seconds first, as upstream does.

    Raises:
        InvalidArgument: ``task expiration date is too close to current time. …``.
    """
    now = now_ms // 1000 * 1000
    if expired_at > 0 and expired_at - now < MIN_LIFETIME_MS:
        minutes = (expired_at - now) / 60_000
        raise InvalidArgument(_EXPIRY_TOO_CLOSE.format(minutes=minutes), error_code=INVALID_REQUEST)


def validate_settings(input_variables: Mapping[str, JsonValue]) -> Settings:
    """Read ``settings.name`` and ``settings.runner`` (CreateTask and SimulateTask).

    Raises:
        InvalidArgument: ``invalid task argument: inputVariables…`` (upstream's literals).
    """

    def fail(problem: str) -> InvalidArgument:
        return InvalidArgument(SETTINGS_PREFIX + problem, error_code=MISSING_REQUIRED_FIELD)

    if not input_variables:
        raise fail("inputVariables is required")
    if "settings" not in input_variables or input_variables["settings"] is None:
        raise fail("inputVariables.settings is required")
    settings = input_variables["settings"]
    if not isinstance(settings, dict):
        raise fail("inputVariables.settings must be an object")
    name = settings.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("inputVariables.settings.name is required")
    runner = settings.get("runner")
    if not isinstance(runner, str) or not runner.strip():
        raise fail("inputVariables.settings.runner is required")
    if not is_hex_address(runner):
        raise fail("inputVariables.settings.runner must be a valid hex address")
    return Settings(name=name, runner=to_checksum_address("0x" + runner[-40:]))


def validate_new_workflow(
    draft: WorkflowDraft,
    *,
    workflow_id: str,
    owner: str,
    now_ms: int,
    limits: WorkflowLimits | None = None,
    resolver: ResolverFactory = simple_resolver,
    kinds: NodeKinds = BUILTIN_NODE_KINDS,
) -> Workflow:
    """Validate a create request and build the workflow to store (status Enabled, no runs).

    Args:
        draft: The request, converted but unchecked.
        workflow_id: The new id (a lower-case ULID from :func:`ap_avs.domain.ids.new_id`).
        owner: The caller's EOA, checksummed.
        now_ms: The current time in milliseconds.
        limits: Quotas; the defaults of :class:`WorkflowLimits` when ``None``.
        resolver: Builds the resolver of event-trigger templates from the input variables.
        kinds: The node kinds; each node's config is checked by its kind's registration.

    Returns:
        The workflow: name and runner from ``settings``, ``max_execution`` defaulted,
        ``settings`` completed with ``id``, ``owner``, ``startAt``, ``expiredAt`` and
        ``maxExecution``, event templates resolved (other topics kept as sent).

    Raises:
        InvalidArgument: the first problem found (see the module docstring for the order).
    """
    limits = limits or WorkflowLimits()
    check_expiry(draft.expired_at, now_ms=now_ms)
    if not draft.edges:
        raise InvalidArgument(EDGES_EMPTY, error_code=INVALID_REQUEST)
    if not draft.nodes:
        raise InvalidArgument(NODES_EMPTY, error_code=INVALID_REQUEST)
    settings = validate_settings(draft.input_variables)
    if draft.trigger is None:
        raise invalid("trigger is required", code=MISSING_REQUIRED_FIELD)
    _check_times(draft)
    max_execution = _max_execution(draft.max_execution, limits)
    if len(draft.nodes) > limits.max_nodes:
        raise invalid(f"more than {limits.max_nodes} nodes")
    input_variables = _with_server_settings(
        draft.input_variables,
        workflow_id=workflow_id,
        owner=owner,
        start_at=draft.start_at,
        expired_at=draft.expired_at,
        max_execution=max_execution,
    )
    check_names(draft.trigger, draft.nodes, input_variables, limits)
    trigger = check_trigger(
        draft.trigger, now_ms=now_ms, limits=limits, resolve=resolver(input_variables)
    )
    for node in draft.nodes:
        kinds.check(node, limits)
    check_graph(trigger, draft.nodes, draft.edges, limits)
    return Workflow(
        id=workflow_id,
        owner=owner,
        smart_wallet_address=settings.runner,
        start_at=draft.start_at,
        expired_at=draft.expired_at,
        name=settings.name,
        completed_at=0,
        max_execution=max_execution,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=trigger,
        nodes=draft.nodes,
        edges=draft.edges,
        input_variables=input_variables,
    )


def validate_simulation(
    draft: WorkflowDraft,
    *,
    workflow_id: str,
    owner: str,
    limits: WorkflowLimits | None = None,
    resolver: ResolverFactory = simple_resolver,
) -> Workflow:
    """SimulateTask's checks: only what a run needs, so a draft can be tried while unfinished.

    Checked: ``settings`` (name, runner), the trigger's presence, names, event templates and
    the graph's shape (a run follows it). Not checked, unlike CreateTask: expiry and times,
    ``max_execution``, sizes, the trigger's config (a fixed-time trigger with no epochs still
    simulates) and node configs (an incomplete node becomes a failed step at run time, with
    its error code). The trigger type against its config is checked by the converter, manual
    data by the trigger run.

    Raises:
        InvalidArgument: the first problem found.
    """
    limits = limits or WorkflowLimits()
    if not draft.nodes:
        raise InvalidArgument(NODES_EMPTY, error_code=INVALID_REQUEST)
    settings = validate_settings(draft.input_variables)
    if draft.trigger is None:
        raise invalid("trigger is required", code=MISSING_REQUIRED_FIELD)
    input_variables = _with_server_settings(
        draft.input_variables,
        workflow_id=workflow_id,
        owner=owner,
        start_at=draft.start_at,
        expired_at=draft.expired_at,
        max_execution=draft.max_execution,
    )
    check_names(draft.trigger, draft.nodes, input_variables, limits)
    trigger = resolve_trigger(draft.trigger, resolve=resolver(input_variables))
    check_graph(trigger, draft.nodes, draft.edges, limits)
    return Workflow(
        id=workflow_id,
        owner=owner,
        smart_wallet_address=settings.runner,
        start_at=draft.start_at,
        expired_at=draft.expired_at,
        name=settings.name,
        completed_at=0,
        max_execution=draft.max_execution,
        execution_count=0,
        last_ran_at=0,
        status=TaskStatus.ENABLED,
        trigger=trigger,
        nodes=draft.nodes,
        edges=draft.edges,
        input_variables=input_variables,
    )


def _check_times(draft: WorkflowDraft) -> None:
    if draft.start_at < 0:
        raise invalid("start_at must not be negative")
    if draft.expired_at < 0:
        raise invalid("expired_at must not be negative")
    if draft.start_at > 0 and draft.expired_at > 0 and draft.start_at >= draft.expired_at:
        raise invalid("start_at must be before expired_at")


def _max_execution(requested: int, limits: WorkflowLimits) -> int:
    if requested < 0:
        raise invalid("max_execution must not be negative (0 means the default)")
    if requested > limits.max_execution_cap:
        raise invalid(
            f"max_execution {requested} exceeds the maximum of {limits.max_execution_cap}"
        )
    return requested or limits.default_max_execution


def _with_server_settings(
    input_variables: Mapping[str, JsonValue],
    *,
    workflow_id: str,
    owner: str,
    start_at: int,
    expired_at: int,
    max_execution: int,
) -> dict[str, JsonValue]:
    settings = input_variables["settings"]
    assert isinstance(settings, dict)  # checked by validate_settings
    written: dict[str, JsonValue] = {
        **settings,
        "id": workflow_id,
        "owner": owner,
        "startAt": start_at,
        "expiredAt": expired_at,
        "maxExecution": max_execution,
    }
    return {**input_variables, "settings": written}
