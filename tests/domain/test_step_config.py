"""The display format of a step's config (pure)."""

from __future__ import annotations

from ap_avs.domain.nodes import (
    BalanceConfig,
    CustomCodeConfig,
    ExecutionMode,
    Lang,
    LoopConfig,
    LoopRunner,
    Node,
    NodeKind,
    RestApiConfig,
)
from ap_avs.domain.step_config import node_display_config, trigger_display_config
from ap_avs.domain.triggers import ManualTriggerConfig, Trigger, TriggerKind


def test_lang_is_the_enum_name_and_left_out_when_unspecified() -> None:
    js = Node("n", "calc", NodeKind.CUSTOM_CODE, CustomCodeConfig(Lang.JAVASCRIPT, "return 1"))
    assert node_display_config(js) == {"lang": "LANG_JAVASCRIPT", "source": "return 1"}
    manual = Trigger("t", "go", TriggerKind.MANUAL, ManualTriggerConfig(data={"a": 1}))
    assert "lang" not in trigger_display_config(manual)  # type: ignore[operator]
    json_manual = Trigger(
        "t", "go", TriggerKind.MANUAL, ManualTriggerConfig(data=1, lang=Lang.JSON)
    )
    assert trigger_display_config(json_manual)["lang"] == "LANG_JSON"  # type: ignore[index,call-overload]


def test_loop_mode_runner_and_balance_dollars() -> None:
    loop = Node(
        "l",
        "each",
        NodeKind.LOOP,
        LoopConfig(
            "{{x.data}}",
            "value",
            "",
            ExecutionMode.SEQUENTIAL,
            0,
            LoopRunner(NodeKind.REST_API, RestApiConfig(url="https://a.example/{{value}}")),
        ),
    )
    shown = node_display_config(loop)
    assert isinstance(shown, dict)
    assert shown["executionMode"] == "sequential"
    assert shown["runner"] == {
        "type": "restApi",
        "config": {"url": "https://a.example/{{value}}", "headers": {}, "body": "", "method": ""},
    }
    balance = Node("b", "held", NodeKind.BALANCE, BalanceConfig(min_usd_value_cents=1234))
    shown = node_display_config(balance)
    assert isinstance(shown, dict)
    assert shown["minUsdValue"] == 12.34
    assert "minUsdValueCents" not in shown
