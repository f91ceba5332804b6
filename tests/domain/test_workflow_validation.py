"""CreateTask validation (PROTOCOL.md §2.8): upstream's literal messages, then our added rules.

Each table row changes one thing in a valid draft and names the message it must produce.
Graph and name rules are in ``test_graph_rules.py``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest

from ap_avs.domain.nodes import (
    BalanceConfig,
    BranchCondition,
    BranchConfig,
    ContractReadConfig,
    ContractWriteConfig,
    CustomCodeConfig,
    Edge,
    EthTransferConfig,
    ExecutionMode,
    FilterConfig,
    GraphQLQueryConfig,
    Lang,
    LoopConfig,
    LoopRunner,
    MethodCall,
    Node,
    NodeConfig,
    NodeKind,
    RestApiConfig,
)
from ap_avs.domain.triggers import (
    BlockTriggerConfig,
    CronTriggerConfig,
    EventCondition,
    EventQuery,
    EventTriggerConfig,
    FixedTimeTriggerConfig,
    ManualTriggerConfig,
    Trigger,
    TriggerConfig,
    TriggerKind,
)
from ap_avs.domain.validation import (
    EDGES_EMPTY,
    NODES_EMPTY,
    WorkflowLimits,
    check_expiry,
    validate_new_workflow,
    validate_settings,
)
from ap_avs.domain.workflow import TaskStatus, Workflow, WorkflowDraft
from ap_avs.errors import InvalidArgument

NOW = 1_800_000_000_123  # ms; upstream truncates to whole seconds
WF_ID = "01jabcdefghjkmnpqrstvwxyz0"
OWNER = "0xeD39dD5f43e7a0d1e6DBAd7Bfd6c6EE399Ab514A"
RUNNER = "0x71c7656ec7ab88b098defb751b7401b5f6d8976f"
RUNNER_CHECKSUM = "0x71C7656EC7ab88b098defB751B7401B5f6d8976F"
ADDR = "0x1111111111111111111111111111111111111111"
TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
ABI: tuple[Any, ...] = ({"type": "function", "name": "balanceOf"},)
HOUR = 3_600_000

TRIGGER_KIND_OF: dict[type, TriggerKind] = {
    ManualTriggerConfig: TriggerKind.MANUAL,
    FixedTimeTriggerConfig: TriggerKind.FIXED_TIME,
    CronTriggerConfig: TriggerKind.CRON,
    BlockTriggerConfig: TriggerKind.BLOCK,
    EventTriggerConfig: TriggerKind.EVENT,
}
NODE_KIND_OF: dict[type, NodeKind] = {
    EthTransferConfig: NodeKind.ETH_TRANSFER,
    ContractWriteConfig: NodeKind.CONTRACT_WRITE,
    ContractReadConfig: NodeKind.CONTRACT_READ,
    GraphQLQueryConfig: NodeKind.GRAPHQL_QUERY,
    RestApiConfig: NodeKind.REST_API,
    CustomCodeConfig: NodeKind.CUSTOM_CODE,
    BalanceConfig: NodeKind.BALANCE,
    BranchConfig: NodeKind.BRANCH,
    FilterConfig: NodeKind.FILTER,
    LoopConfig: NodeKind.LOOP,
}

REST = RestApiConfig(url="https://example.org/x", method="GET")


def trigger(config: TriggerConfig, *, name: str = "onBlock", id: str = "trg") -> Trigger:
    return Trigger(id, name, TRIGGER_KIND_OF[type(config)], config)


def node(config: NodeConfig, *, name: str = "getData", id: str = "n1") -> Node:
    return Node(id, name, NODE_KIND_OF[type(config)], config)


def draft(**changes: Any) -> WorkflowDraft:
    base = WorkflowDraft(
        trigger=trigger(BlockTriggerConfig(interval=10)),
        nodes=(node(REST),),
        edges=(Edge("e1", "trg", "n1"),),
        input_variables={"settings": {"name": "My workflow", "runner": RUNNER, "chain_id": 1}},
    )
    return dataclasses.replace(base, **changes)


def with_node(config: NodeConfig) -> WorkflowDraft:
    return draft(nodes=(node(config),))


def with_trigger(config: TriggerConfig) -> WorkflowDraft:
    return draft(trigger=trigger(config))


def validate(d: WorkflowDraft, limits: WorkflowLimits | None = None) -> Workflow:
    return validate_new_workflow(d, workflow_id=WF_ID, owner=OWNER, now_ms=NOW, limits=limits)


def rejects(d: WorkflowDraft, message: str, limits: WorkflowLimits | None = None) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate(d, limits)
    assert message in info.value.message, info.value.message


# --- the valid draft and what validation writes -------------------------------------------------


def test_valid_draft_becomes_a_workflow() -> None:
    wf = validate(draft(name="ignored", smart_wallet_address="0xignored", start_at=NOW))
    assert wf.id == WF_ID
    assert wf.owner == OWNER
    assert wf.name == "My workflow"  # settings.name, not the request's name
    assert wf.smart_wallet_address == RUNNER_CHECKSUM  # settings.runner, checksummed
    assert wf.status is TaskStatus.ENABLED
    assert (wf.execution_count, wf.last_ran_at, wf.completed_at) == (0, 0, 0)
    assert wf.max_execution == WorkflowLimits().default_max_execution
    assert wf.input_variables["settings"] == {
        "name": "My workflow",
        "runner": RUNNER,
        "chain_id": 1,
        "id": WF_ID,
        "owner": OWNER,
        "startAt": NOW,
        "expiredAt": 0,
        "maxExecution": 1000,
    }


def test_max_execution_default_cap_and_sign() -> None:
    assert validate(draft(max_execution=7)).max_execution == 7
    limits = WorkflowLimits(default_max_execution=5, max_execution_cap=10)
    assert validate(draft(max_execution=0), limits).max_execution == 5
    assert validate(draft(max_execution=10), limits).max_execution == 10
    rejects(draft(max_execution=11), "max_execution 11 exceeds the maximum of 10", limits)
    rejects(draft(max_execution=-1), "Invalid task argument: max_execution must not be negative")


# --- upstream's literal messages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expired_at", "minutes"),
    [(NOW + 30 * 60_000, "30.0"), (NOW + HOUR - 1_000, "60.0"), (NOW - 5 * 60_000, "-5.0")],
)
def test_expiry_too_close_literal(expired_at: int, minutes: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate(draft(expired_at=expired_at, edges=()))  # checked before anything else
    assert info.value.message == (
        "task expiration date is too close to current time. The task must expire at least "
        f"1 hour from now. Current remaining time: {minutes} minutes"
    )


def test_expiry_uses_whole_seconds_of_now() -> None:
    # now = ...000.123: an expiry exactly one hour after the whole second is accepted.
    check_expiry(NOW // 1000 * 1000 + HOUR, now_ms=NOW)
    assert validate(draft(expired_at=NOW // 1000 * 1000 + HOUR)).expired_at > 0


def test_empty_edges_then_nodes_literals() -> None:
    with pytest.raises(InvalidArgument) as info:
        validate(draft(edges=(), nodes=()))
    assert info.value.message == EDGES_EMPTY == "invalid: edges field cannot be an empty array"
    with pytest.raises(InvalidArgument) as info:
        validate(draft(nodes=()))
    assert info.value.message == NODES_EMPTY == "invalid: nodes field cannot be an empty array"


@pytest.mark.parametrize(
    ("variables", "problem"),
    [
        ({}, "inputVariables is required"),
        ({"other": 1}, "inputVariables.settings is required"),
        ({"settings": None}, "inputVariables.settings is required"),
        ({"settings": [1]}, "inputVariables.settings must be an object"),
        ({"settings": "x"}, "inputVariables.settings must be an object"),
        ({"settings": {"runner": RUNNER}}, "inputVariables.settings.name is required"),
        (
            {"settings": {"name": "  ", "runner": RUNNER}},
            "inputVariables.settings.name is required",
        ),
        ({"settings": {"name": 5, "runner": RUNNER}}, "inputVariables.settings.name is required"),
        ({"settings": {"name": "n"}}, "inputVariables.settings.runner is required"),
        ({"settings": {"name": "n", "runner": ""}}, "inputVariables.settings.runner is required"),
        (
            {"settings": {"name": "n", "runner": "0x123"}},
            "inputVariables.settings.runner must be a valid hex address",
        ),
    ],
)
def test_settings_literals(variables: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate(draft(input_variables=variables))
    assert info.value.message == "invalid task argument: " + problem


def test_settings_runner_without_prefix_is_accepted_as_upstream() -> None:
    settings = validate_settings({"settings": {"name": "n", "runner": RUNNER[2:].upper()}})
    assert settings.runner == RUNNER_CHECKSUM


def test_trigger_is_required() -> None:
    rejects(draft(trigger=None), "Invalid task argument: trigger is required")


# --- times and sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_at": -1}, "start_at must not be negative"),
        ({"expired_at": -1}, "expired_at must not be negative"),
        ({"start_at": NOW + 3 * HOUR, "expired_at": NOW + 2 * HOUR}, "start_at must be before"),
    ],
)
def test_times(changes: dict[str, int], message: str) -> None:
    rejects(draft(**changes), "Invalid task argument: " + message)


def test_node_count_limit() -> None:
    limits = WorkflowLimits(max_nodes=1)
    rejects(draft(nodes=(node(REST), node(REST, id="n2", name="two"))), "more than 1 nodes", limits)


# --- trigger kinds ------------------------------------------------------------------------------

GOOD_TRIGGERS: list[TriggerConfig] = [
    ManualTriggerConfig(data={"a": 1}, headers={"h": "v"}, lang=Lang.JSON),
    FixedTimeTriggerConfig(epochs=(NOW + HOUR,)),
    CronTriggerConfig(schedules=("*/5 * * * *", "0 0 29 2 *")),
    BlockTriggerConfig(interval=1),
    EventTriggerConfig(
        queries=(
            EventQuery(
                addresses=(ADDR,),
                topics=(TOPIC, "", "{{settings.runner}}"),
                contract_abi=ABI,
                conditions=(EventCondition("value", "gte", "10", "uint256"),),
                method_calls=(MethodCall(method_name="decimals"),),
                max_events_per_block=3,
            ),
            EventQuery(topics=(TOPIC,)),
        ),
        cooldown_seconds=0,
    ),
]


@pytest.mark.parametrize("config", GOOD_TRIGGERS, ids=lambda c: type(c).__name__)
def test_good_triggers(config: TriggerConfig) -> None:
    assert validate(with_trigger(config)).trigger.kind is TRIGGER_KIND_OF[type(config)]


def query(**changes: Any) -> EventTriggerConfig:
    return EventTriggerConfig(
        queries=(dataclasses.replace(EventQuery(addresses=(ADDR,)), **changes),)
    )


BAD_TRIGGERS: list[tuple[TriggerConfig, str]] = [
    (BlockTriggerConfig(interval=0), "block trigger interval must be greater than 0"),
    (BlockTriggerConfig(interval=-3), "block trigger interval must be greater than 0"),
    (CronTriggerConfig(), "cron trigger must have at least one schedule"),
    (CronTriggerConfig(schedules=("* * * *",)), "must have exactly 5 fields"),
    (CronTriggerConfig(schedules=("0 * * * * *",)), "must have exactly 5 fields"),
    (CronTriggerConfig(schedules=("@hourly",)), "must have exactly 5 fields"),
    (CronTriggerConfig(schedules=("61 * * * *",)), "is not valid"),
    (CronTriggerConfig(schedules=("H * * * *",)), "is not valid"),
    (CronTriggerConfig(schedules=("0 0 30 2 *",)), "never fires"),
    (FixedTimeTriggerConfig(), "fixed time trigger must have at least one epoch"),
    (FixedTimeTriggerConfig(epochs=(0,)), "fixed time epoch 0 must be milliseconds"),
    (EventTriggerConfig(), "event trigger must have at least one query"),
    (query(addresses=("0x12",)), "query[0].addresses[0] '0x12' is not a hex address"),
    (query(addresses=(ADDR[2:],)), "is not a hex address"),
    (query(topics=("0x12",)), "query[0].topics[0] '0x12' is not a 32-byte hex topic"),
    (query(topics=(TOPIC,) * 5), "query[0] has 5 topics; a log has at most 4"),
    (query(addresses=(), topics=("", "")), "needs an address or a topic"),
    (query(max_events_per_block=0), "max_events_per_block must be greater than 0"),
    (query(contract_abi=("x",)), "query[0].contract_abi[0] must be a JSON object"),
    (
        query(conditions=(EventCondition("v", "gt", "1", "uint256"),)),
        "has conditions but no contract_abi",
    ),
    (
        query(contract_abi=ABI, conditions=(EventCondition("v", "like", "1", "uint256"),)),
        "query[0].conditions[0].operator 'like' must be one of eq, gt, gte, lt, lte, ne",
    ),
    (
        query(contract_abi=ABI, conditions=(EventCondition("", "gt", "1", "uint256"),)),
        "query[0].conditions[0].field_name is required",
    ),
    (
        query(method_calls=(MethodCall(),)),
        "query[0].method_calls[0] needs a method_name or call_data",
    ),
    (
        query(method_calls=(MethodCall(call_data="xyz"),)),
        "method_calls[0].call_data must be 0x-prefixed hex bytes",
    ),
    (ManualTriggerConfig(headers={"": "v"}), "need non-empty names"),
    (ManualTriggerConfig(headers={"h": "{{ }}"}), "headers.h: empty template"),
]


@pytest.mark.parametrize(("config", "problem"), BAD_TRIGGERS, ids=lambda x: str(x)[:40])
def test_bad_triggers(config: TriggerConfig, problem: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate(with_trigger(config))
    assert info.value.message.startswith("Invalid task argument: trigger 'onBlock' (id 'trg'): ")
    assert problem in info.value.message
    assert info.value.error_code == 3001


def test_cron_and_block_minimums_come_from_the_limits() -> None:
    limits = WorkflowLimits(min_cron_interval_seconds=300, min_block_interval=5)
    assert validate(with_trigger(CronTriggerConfig(("*/5 * * * *",))), limits)
    rejects(
        with_trigger(CronTriggerConfig(("0,2 * * * *",))),
        "cron schedule '0,2 * * * *' fires 120 s apart; the minimum interval is 300 s",
        limits,
    )
    hourly = WorkflowLimits(min_cron_interval_seconds=3600)
    assert validate(with_trigger(CronTriggerConfig(("58 1,2 * * *",))), hourly)
    rejects(
        with_trigger(CronTriggerConfig(("58 1 * * *", "50,59 23 * * *"))),
        "cron schedule '50,59 23 * * *' fires 540 s apart",
        hourly,
    )
    rejects(
        with_trigger(CronTriggerConfig(("59 0,1 * * *",))),
        "fires 3600 s apart",
        WorkflowLimits(min_cron_interval_seconds=3601),
    )
    rejects(
        with_trigger(BlockTriggerConfig(4)),
        "block trigger interval 4 is below the minimum of 5 blocks",
        limits,
    )


def test_trigger_entry_limits() -> None:
    limits = WorkflowLimits(max_trigger_entries=2)
    rejects(with_trigger(FixedTimeTriggerConfig((1, 2, 3))), "more than 2 epochs", limits)
    rejects(with_trigger(CronTriggerConfig(("0 * * * *",) * 3)), "more than 2 schedules", limits)
    rejects(with_trigger(query(addresses=(ADDR,) * 3)), "more than 2 addresses", limits)


# --- event templates are resolved at creation (§2.8 step 3) ---------------------------------------


def test_event_templates_are_resolved_and_topics_kept_as_sent() -> None:
    config = query(
        addresses=("{{ settings.token }}",),
        topics=(TOPIC, "{{settings.runner}}", ADDR, "{{settings.topics[1]}}"),
    )
    variables = {
        "settings": {"name": "n", "runner": RUNNER, "token": ADDR, "topics": ["", TOPIC]},
    }
    wf = validate(draft(trigger=trigger(config), input_variables=variables))
    assert isinstance(wf.trigger.config, EventTriggerConfig)
    resolved = wf.trigger.config.queries[0]
    assert resolved.addresses == (ADDR,)
    assert resolved.topics == (TOPIC, RUNNER, ADDR, TOPIC)


def test_event_templates_can_read_server_written_settings() -> None:
    config = query(topics=(TOPIC, "{{settings.owner}}"))
    wf = validate(draft(trigger=trigger(config)))
    assert isinstance(wf.trigger.config, EventTriggerConfig)
    assert wf.trigger.config.queries[0].topics[1] == OWNER


@pytest.mark.parametrize(
    ("field", "template", "message"),
    [
        (
            "addresses",
            "{{settings.missing}}",
            "EventTrigger template resolution failed: query[0].addresses[0]: template did not "
            "resolve to a valid Ethereum address: undefined",
        ),
        (
            "addresses",
            "{{settings.name}}",
            "EventTrigger template resolution failed: query[0].addresses[0]: template did not "
            "resolve to a valid Ethereum address: My workflow",
        ),
        (
            "addresses",
            "{{ settings.runner.toLowerCase() }}",  # not a plain path: no JS engine yet
            "EventTrigger template resolution failed: query[0].addresses[0]: template did not "
            "resolve to a valid Ethereum address: undefined",
        ),
        (
            "topics",
            "{{settings.chain_id}}",
            "EventTrigger template resolution failed: query[0].topics[0]: template did not "
            "resolve to a valid 32-byte hex topic: 1",
        ),
    ],
)
def test_event_template_failures_literal(field: str, template: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate(with_trigger(query(**{field: (template,)})))
    assert info.value.message == message


def test_a_custom_resolver_can_be_plugged_in() -> None:
    config = query(addresses=("{{ anything at all }}",))

    def factory(variables: Any) -> Callable[[str], str]:
        assert variables["settings"]["id"] == WF_ID
        return lambda expression: ADDR

    wf = validate_new_workflow(
        draft(trigger=trigger(config)), workflow_id=WF_ID, owner=OWNER, now_ms=NOW, resolver=factory
    )
    assert isinstance(wf.trigger.config, EventTriggerConfig)
    assert wf.trigger.config.queries[0].addresses == (ADDR,)


# --- node kinds ---------------------------------------------------------------------------------

CALL = MethodCall(method_name="balanceOf", method_params=("{{settings.runner}}",))
WRITE = ContractWriteConfig(contract_address=ADDR, contract_abi=ABI, method_calls=(CALL,))
READ = ContractReadConfig(contract_address=ADDR, contract_abi=ABI, method_calls=(CALL,))
GQL = GraphQLQueryConfig(url="https://example.org/graphql", query="{ a }")
CODE = CustomCodeConfig(lang=Lang.JAVASCRIPT, source="return 1;")
BRANCH = BranchConfig(
    (
        BranchCondition("a", "if", "{{trigger.data.x}} > 1"),
        BranchCondition("b", "if", "true"),
        BranchCondition("c", "else", ""),
    )
)


def loop(runner: NodeConfig, **changes: Any) -> LoopConfig:
    base = LoopConfig(
        input_variable="{{settings.items}}",
        iter_val="item",
        iter_key="i",
        execution_mode=ExecutionMode.SEQUENTIAL,
        iteration_timeout=0,
        runner=LoopRunner(NODE_KIND_OF[type(runner)], runner),  # type: ignore[arg-type]
    )
    return dataclasses.replace(base, **changes)


GOOD_RUNNERS: list[NodeConfig] = [
    EthTransferConfig(destination="{{item.to}}", amount="1"),
    WRITE,
    READ,
    GQL,
    REST,
    CODE,
]

GOOD_NODES: list[NodeConfig] = [
    EthTransferConfig(destination=ADDR, amount="1000000000000000000"),
    EthTransferConfig(destination="{{settings.to}}", amount="MAX"),
    EthTransferConfig(destination=ADDR, amount="{{ settings.amount }}"),
    WRITE,
    ContractWriteConfig(contract_address=ADDR, call_data="0xa9059cbb"),
    ContractWriteConfig(
        contract_address="{{settings.token}}",
        method_calls=(MethodCall(call_data="0x095ea7b3"),),
        value="0",
        gas_limit="21000",
        is_simulated=True,
    ),
    READ,
    GQL,
    RestApiConfig(url="http://localhost:8080", method="post", body='{"a":{"b":1}}'),
    RestApiConfig(url="{{settings.url}}", method="", options={"summarize": True}),
    RestApiConfig(
        url="https://x.org", method="DELETE", headers={"X": "{{apContext.configVars.k}}"}
    ),
    CODE,
    CustomCodeConfig(lang=Lang.UNSPECIFIED, source="const {a: {b}} = {a: {b: 1}}; return b;"),
    BalanceConfig(address=ADDR, chain="Base-Sepolia", token_addresses=(ADDR,)),
    BalanceConfig(address="{{settings.runner}}", chain="11155111"),
    BRANCH,
    BranchConfig((BranchCondition("only", "if", "true"),)),
    FilterConfig(expression="value > 1", input_variable="{{fetch.data}}"),
    *(loop(runner) for runner in GOOD_RUNNERS),
    loop(CODE, iter_key="", execution_mode=ExecutionMode.PARALLEL, iteration_timeout=3600),
]


@pytest.mark.parametrize("config", GOOD_NODES, ids=lambda c: type(c).__name__)
def test_good_nodes(config: NodeConfig) -> None:
    assert validate(with_node(config)).nodes[0].config == config


BAD_NODES: list[tuple[NodeConfig, str]] = [
    (EthTransferConfig(amount="1"), "destination is required"),
    (EthTransferConfig(destination="0x12", amount="1"), "destination '0x12' is not a hex address"),
    (EthTransferConfig(destination=ADDR), "amount is required"),
    (EthTransferConfig(destination=ADDR, amount="1.5"), "amount '1.5' must be wei as a decimal"),
    (EthTransferConfig(destination=ADDR, amount="-1"), "must be wei"),
    (EthTransferConfig(destination=ADDR, amount="max"), "must be wei"),
    (EthTransferConfig(destination=ADDR, amount="١٢"), "must be wei"),  # non-ASCII digits
    (dataclasses.replace(WRITE, contract_address=""), "contract_address is required"),
    (dataclasses.replace(WRITE, contract_address="0xzz"), "contract_address '0xzz' is not a hex"),
    (ContractWriteConfig(contract_address=ADDR), "method_calls (or call_data) is required"),
    (dataclasses.replace(WRITE, contract_abi=()), "contract_abi is required to encode a call"),
    (dataclasses.replace(WRITE, call_data="0x1"), "call_data must be 0x-prefixed hex bytes"),
    (dataclasses.replace(WRITE, value="1e18"), "value '1e18' must be a decimal integer"),
    (dataclasses.replace(WRITE, gas_limit="lots"), "gas_limit 'lots' must be a decimal integer"),
    (
        dataclasses.replace(WRITE, method_calls=(MethodCall(),)),
        "method_calls[0] needs a method_name",
    ),
    (dataclasses.replace(WRITE, contract_abi=(1,)), "contract_abi[0] must be a JSON object"),
    (dataclasses.replace(READ, method_calls=()), "at least one method call is required"),
    (
        dataclasses.replace(READ, contract_abi=(), method_calls=(MethodCall(call_data="0x01"),)),
        "contract_abi is required to decode the results",
    ),
    (dataclasses.replace(GQL, url=""), "url is required"),
    (dataclasses.replace(GQL, url="ftp://x"), "url 'ftp://x' must start with http:// or https://"),
    (dataclasses.replace(GQL, query="  "), "query is required"),
    (RestApiConfig(method="GET"), "url is required"),
    (RestApiConfig(url="example.org"), "must start with http:// or https://"),
    (RestApiConfig(url="https://"), "must start with http:// or https://"),
    (
        RestApiConfig(url="https://x.org", method="FETCH"),
        "method 'FETCH' must be one of DELETE, GET",
    ),
    (RestApiConfig(url="https://x.org", headers={"": "v"}), "header names must not be empty"),
    (RestApiConfig(url="https://x.org", options=[1]), "options must be a JSON object"),
    (CustomCodeConfig(lang=Lang.JAVASCRIPT, source=" \n"), "source is required"),
    (CustomCodeConfig(lang=Lang.JSON, source="{}"), "lang JSON is not supported"),
    (BalanceConfig(chain="sepolia"), "address is required"),
    (BalanceConfig(address="nope", chain="sepolia"), "address 'nope' is not a hex address"),
    (BalanceConfig(address=ADDR), "chain is required"),
    (BalanceConfig(address=ADDR, chain="solana"), "chain 'solana' is not supported"),
    (BalanceConfig(address=ADDR, chain="eth", min_usd_value_cents=-1), "must not be negative"),
    (BalanceConfig(address=ADDR, chain="eth", token_addresses=("x",)), "token_addresses[0] 'x'"),
    (BranchConfig(), "at least one condition is required"),
    (BranchConfig((BranchCondition("a", "else", ""),)), "the first condition must be of type 'if'"),
    (
        BranchConfig((BranchCondition("a", "if", "x"), BranchCondition("a", "else", ""))),
        "conditions[1].id 'a' is used twice",
    ),
    (BranchConfig((BranchCondition("", "if", "x"),)), "conditions[0].id is required"),
    (
        BranchConfig(
            (
                BranchCondition("a", "if", "x"),
                BranchCondition("b", "else", ""),
                BranchCondition("c", "else", ""),
            )
        ),
        "conditions[1] is an 'else' but not the last condition",
    ),
    (
        BranchConfig((BranchCondition("a", "if", "x"), BranchCondition("b", "elif", "y"))),
        "conditions[1].type 'elif' must be 'if' or 'else'",
    ),
    (BranchConfig((BranchCondition("a", "if", ""),)), "conditions[0].expression is required"),
    (FilterConfig(input_variable="x"), "expression is required"),
    (FilterConfig(expression="true"), "input_variable is required"),
    (loop(CODE, input_variable=""), "input_variable is required"),
    (loop(CODE, iter_val=""), "iter_val is required"),
    (loop(CODE, iter_val="my-item"), "iter_val 'my-item' is not a valid JavaScript identifier"),
    (loop(CODE, iter_key="for"), "iter_key 'for' is not a valid JavaScript identifier"),
    (loop(CODE, iter_key="item"), "iter_key and iter_val must differ"),
    (loop(CODE, iteration_timeout=3601), "iteration_timeout 3601 s exceeds the maximum of 3600 s"),
    (
        loop(dataclasses.replace(REST, url="nope")),
        "loop runner (rest_api): url 'nope' must start with http:// or https://",
    ),
    (
        loop(EthTransferConfig(destination=ADDR, amount="x")),
        "loop runner (eth_transfer): amount 'x' must be wei",
    ),
    (loop(dataclasses.replace(CODE, source="")), "loop runner (custom_code): source is required"),
]


@pytest.mark.parametrize(("config", "problem"), BAD_NODES, ids=lambda x: str(x)[:50])
def test_bad_nodes(config: NodeConfig, problem: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate(with_node(config))
    assert info.value.message.startswith("Invalid task argument: node 'getData' (id 'n1'): ")
    assert problem in info.value.message
    assert info.value.error_code == 3002


def test_every_node_kind_has_good_and_bad_rows() -> None:
    assert {NODE_KIND_OF[type(c)] for c in GOOD_NODES} == set(NodeKind)
    assert {NODE_KIND_OF[type(c)] for c, _ in BAD_NODES} == set(NodeKind)
    assert {NODE_KIND_OF[type(c)] for c in GOOD_RUNNERS} == {
        NodeKind.ETH_TRANSFER,
        NodeKind.CONTRACT_WRITE,
        NodeKind.CONTRACT_READ,
        NodeKind.GRAPHQL_QUERY,
        NodeKind.REST_API,
        NodeKind.CUSTOM_CODE,
    }


# --- templates and lengths in every string field ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("https://x.org/{{settings.a", "url: unclosed template '{{' at character 14"),
        ("https://x.org/{{}}", "url: empty template at character 14"),
        ("https://x.org/{{  }}", "url: empty template"),
        ("https://x.org/{{ a {{ b }} }}", "url: nested '{{' inside the template"),
        ("https://x.org/{{" + "a" * 4097 + "}}", "longer than 4096 characters"),
        ("https://x.org/" + "{{a}}" * 101, "more than 100 templates in one value"),
    ],
)
def test_malformed_templates(text: str, problem: str) -> None:
    rejects(with_node(dataclasses.replace(REST, url=text)), problem)


def test_templates_are_checked_in_nested_fields() -> None:
    write = dataclasses.replace(WRITE, method_calls=(MethodCall("f", method_params=("{{x",)),))
    rejects(with_node(write), "method_calls[0].method_params[0]: unclosed template")
    rejects(
        with_node(loop(dataclasses.replace(REST, headers={"A": "{{}}"}))),
        "runner.config.headers.A: empty template",
    )
    rejects(with_node(dataclasses.replace(REST, body="{{x")), "body: unclosed template")
    # JSON-shaped text ending objects with "}}" is not a template problem
    assert validate(with_node(dataclasses.replace(REST, body='{"a":{"b":"{{x.y}}"}}')))


def test_text_length_limits() -> None:
    limits = WorkflowLimits(max_script_length=10, max_body_length=20, max_field_length=30)
    rejects(with_node(CustomCodeConfig(source="x" * 11)), "source is longer than 10", limits)
    rejects(with_node(dataclasses.replace(REST, body="x" * 21)), "body is longer than 20", limits)
    rejects(with_node(RestApiConfig(url="https://" + "x" * 30)), "url is longer than 30", limits)
    rejects(with_node(FilterConfig("x" * 11, "y")), "expression is longer than 10", limits)


def test_recorded_limits_have_sane_defaults() -> None:
    limits = WorkflowLimits()
    assert limits.max_loop_iterations > 0
    assert limits.default_max_execution > 0
    assert limits.default_max_execution <= limits.max_execution_cap


def test_messages_are_single_problems_not_regex_noise() -> None:
    with pytest.raises(InvalidArgument) as info:
        validate(with_node(EthTransferConfig()))
    assert re.fullmatch(
        r"Invalid task argument: node 'getData' \(id 'n1'\): [^:]+", info.value.message
    )
