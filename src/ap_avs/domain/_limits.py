"""The quotas a new workflow is checked against (LESSONS.md 13), as one frozen value.

Re-exported by :mod:`ap_avs.domain.validation`; the aggregator config builds one from YAML and
passes it down. Nothing here raises.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkflowLimits:
    """Limits applied when a workflow is created, with the reason for each default.

    Usage::

        limits = WorkflowLimits(default_max_execution=500, min_cron_interval_seconds=300)
        workflow = validate_new_workflow(draft, ..., limits=limits)
    """

    min_cron_interval_seconds: int = 60
    """Shortest gap allowed between two fires of a cron schedule. 60 s is the finest a 5-field
    cron can express, so the default accepts every schedule upstream accepted (SDK clients use
    ``* * * * *``); the finite :attr:`default_max_execution` bounds what a leak costs. Raise it
    to throttle."""

    min_block_interval: int = 1
    """Smallest block-trigger interval. 1 (every block) is what upstream allows; see above."""

    default_max_execution: int = 1000
    """Executions granted when a request says 0 ("unlimited" upstream). Finite on purpose:
    upstream's leaked every-minute workflow ran 14,824 times in 10 days. 1000 is about 17 hours
    of an every-minute cron or 3 hours of a 12-s-block trigger, ample for tests and demos; real
    users ask for what they need."""

    max_execution_cap: int = 1_000_000
    """Largest ``max_execution`` a request may ask for: a year of every-minute runs (525,600)
    fits; anything above is a typo or a leak waiting to happen."""

    max_nodes: int = 200
    """Nodes per workflow; the largest SDK examples have about 20."""

    max_edges: int = 1000
    """Edges per workflow (five per node at the node maximum)."""

    max_trigger_entries: int = 1000
    """Epochs, cron schedules, event queries, and addresses per query, each."""

    max_name_length: int = 100
    """Characters in a node or trigger name."""

    max_template_length: int = 4096
    """Characters inside one ``{{ … }}`` expression."""

    max_templates_per_field: int = 100
    """``{{ … }}`` expressions in one string (upstream's resolver stops at 100)."""

    max_script_length: int = 100 * 1024
    """Characters of a custom-code source, a GraphQL query, a branch or filter expression
    (upstream's 100 KiB limit on source and query)."""

    max_body_length: int = 10 * 1024 * 1024
    """Characters of a REST body (upstream's 10 MiB)."""

    max_field_length: int = 64 * 1024
    """Characters of any other string in a node or trigger config (URLs, headers, params)."""

    max_loop_iteration_timeout_seconds: int = 3600
    """Largest per-iteration timeout a loop may ask for."""

    max_loop_iterations: int = 1000
    """Items a loop processes per run. Not checked at creation (the list is only known at run
    time): recorded here so the engine enforces the same configured value."""
