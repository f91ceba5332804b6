"""Validation of a trigger's config, and the creation-time resolution of event templates.

:func:`check_trigger` applies PROTOCOL.md §2.8 (interval > 0, at least one schedule, epoch or
query) plus what upstream left to run time: cron syntax and spacing, block interval minimum,
event addresses, topics, conditions and method calls. It returns the trigger ready to store:
templates in event addresses and topics resolved (§2.8 step 3), and every other topic exactly
as sent, so GetTask round-trips it. A topic may be a 32-byte hex topic or a 20-byte address;
matching normalises it (:func:`ap_avs.domain.events.normalise_topic`, LESSONS.md 5: an
unpadded address topic must still match a log).

Raises :class:`~ap_avs.errors.InvalidArgument`, naming the trigger and the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Final

from ap_avs.domain._checks import (
    INVALID_TRIGGER_CONFIG,
    check_texts,
    has_template,
    invalid,
    is_topic,
    method_call_problems,
    trigger_subject,
)
from ap_avs.domain._limits import WorkflowLimits
from ap_avs.domain.addresses import is_address
from ap_avs.domain.cron import schedule_problem
from ap_avs.domain.templating import TemplateResolver, render
from ap_avs.domain.triggers import (
    BlockTriggerConfig,
    CronTriggerConfig,
    EventQuery,
    EventTriggerConfig,
    FixedTimeTriggerConfig,
    ManualTriggerConfig,
    Trigger,
)
from ap_avs.errors import InvalidArgument

EVENT_OPERATORS: Final = frozenset({"gt", "gte", "lt", "lte", "eq", "ne"})
MAX_TOPICS: Final = 4  # an EVM log has at most four topics
TEMPLATE_FAILURE: Final = "EventTrigger template resolution failed: "
"""Prefix of upstream's literal message for an event template that resolves to garbage."""


def check_trigger(
    trigger: Trigger, *, now_ms: int, limits: WorkflowLimits, resolve: TemplateResolver
) -> Trigger:
    """Validate ``trigger`` and return it as it will be stored.

    Args:
        trigger: The trigger of a create request.
        now_ms: The current time; cron schedules must fire at least once after it.
        limits: The quotas to apply.
        resolve: Evaluates the templates of event addresses and topics.

    Raises:
        InvalidArgument: the first problem found.
    """
    subject = trigger_subject(trigger)
    check_texts(subject, trigger.config, limits, code=INVALID_TRIGGER_CONFIG)
    config = trigger.config
    if isinstance(config, EventTriggerConfig):
        config = _resolve_event(config, resolve)
        trigger = dataclasses.replace(trigger, config=config)
    problem = next(_problems(config, now_ms, limits), None)
    if problem is not None:
        raise invalid(f"{subject}: {problem}", code=INVALID_TRIGGER_CONFIG)
    return trigger


def resolve_trigger(trigger: Trigger, *, resolve: TemplateResolver) -> Trigger:
    """``trigger`` with its event templates resolved, and nothing else checked (SimulateTask).

    Raises:
        InvalidArgument: an event template that does not resolve to an address or a topic.
    """
    if not isinstance(trigger.config, EventTriggerConfig):
        return trigger
    return dataclasses.replace(trigger, config=_resolve_event(trigger.config, resolve))


def _problems(config: object, now_ms: int, limits: WorkflowLimits) -> Iterator[str]:
    entries = limits.max_trigger_entries
    if isinstance(config, BlockTriggerConfig):
        if config.interval <= 0:
            yield "block trigger interval must be greater than 0"
        if config.interval < limits.min_block_interval:
            yield (
                f"block trigger interval {config.interval} is below the minimum of "
                f"{limits.min_block_interval} blocks"
            )
    elif isinstance(config, CronTriggerConfig):
        if not config.schedules:
            yield "cron trigger must have at least one schedule"
        if len(config.schedules) > entries:
            yield f"cron trigger has more than {entries} schedules"
        for schedule in config.schedules:
            problem = schedule_problem(
                schedule, now_ms=now_ms, min_interval_seconds=limits.min_cron_interval_seconds
            )
            if problem is not None:
                yield problem
    elif isinstance(config, FixedTimeTriggerConfig):
        if not config.epochs:
            yield "fixed time trigger must have at least one epoch"
        if len(config.epochs) > entries:
            yield f"fixed time trigger has more than {entries} epochs"
        for epoch in config.epochs:
            if epoch <= 0:
                yield f"fixed time epoch {epoch} must be milliseconds after the Unix epoch"
    elif isinstance(config, EventTriggerConfig):
        if not config.queries:
            yield "event trigger must have at least one query"
        if len(config.queries) > entries:
            yield f"event trigger has more than {entries} queries"
        for index, query in enumerate(config.queries):
            yield from _query_problems(f"query[{index}]", query, limits)
    elif isinstance(config, ManualTriggerConfig):
        for name in (*config.headers, *config.path_params):
            if not name:
                yield "manual trigger headers and path params need non-empty names"


def _query_problems(where: str, query: EventQuery, limits: WorkflowLimits) -> Iterator[str]:
    if len(query.addresses) > limits.max_trigger_entries:
        yield f"{where} has more than {limits.max_trigger_entries} addresses"
    for index, address in enumerate(query.addresses):
        if not is_address(address):
            yield f"{where}.addresses[{index}] '{address}' is not a hex address"
    if len(query.topics) > MAX_TOPICS:
        yield f"{where} has {len(query.topics)} topics; a log has at most {MAX_TOPICS}"
    for index, topic in enumerate(query.topics):
        if topic and not (is_topic(topic) or is_address(topic)):
            yield (
                f"{where}.topics[{index}] '{topic}' is not a 32-byte hex topic, an address "
                "or '' (any)"
            )
    if not query.addresses and not any(query.topics):
        yield f"{where} needs an address or a topic (it would match every log of the chain)"
    if query.max_events_per_block is not None and query.max_events_per_block <= 0:
        yield f"{where}.max_events_per_block must be greater than 0 when set"
    for index, entry in enumerate(query.contract_abi):
        if not isinstance(entry, dict):
            yield f"{where}.contract_abi[{index}] must be a JSON object"
    for index, condition in enumerate(query.conditions):
        if not condition.field_name:
            yield f"{where}.conditions[{index}].field_name is required"
        if condition.operator not in EVENT_OPERATORS:
            yield (
                f"{where}.conditions[{index}].operator '{condition.operator}' must be one of "
                + ", ".join(sorted(EVENT_OPERATORS))
            )
    if query.conditions and not query.contract_abi:
        yield f"{where} has conditions but no contract_abi to decode the event fields"
    for index, call in enumerate(query.method_calls):
        yield from method_call_problems(f"{where}.method_calls[{index}]", call)


def _resolve_event(config: EventTriggerConfig, resolve: TemplateResolver) -> EventTriggerConfig:
    queries = []
    for q_index, query in enumerate(config.queries):
        addresses = []
        for index, address in enumerate(query.addresses):
            if has_template(address):
                address = render(address, resolve).strip()
                if not is_address(address):
                    raise _template_failure(
                        f"query[{q_index}].addresses[{index}]",
                        "template did not resolve to a valid Ethereum address",
                        address,
                    )
            addresses.append(address)
        topics = []
        for index, topic in enumerate(query.topics):
            if has_template(topic):
                topic = render(topic, resolve).strip()
                if not (is_topic(topic) or is_address(topic)):
                    raise _template_failure(
                        f"query[{q_index}].topics[{index}]",
                        "template did not resolve to a valid 32-byte hex topic",
                        topic,
                    )
            topics.append(topic)
        queries.append(dataclasses.replace(query, addresses=tuple(addresses), topics=tuple(topics)))
    return dataclasses.replace(config, queries=tuple(queries))


def _template_failure(where: str, problem: str, value: str) -> InvalidArgument:
    return InvalidArgument(
        f"{TEMPLATE_FAILURE}{where}: {problem}: {value}", error_code=INVALID_TRIGGER_CONFIG
    )
