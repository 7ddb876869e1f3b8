"""The response section of a Monitor configuration: actions, their binding to alert rules,
the policy; every refusal names the key."""

from __future__ import annotations

from typing import Any

import pytest

from driftwise.config.monitor import parse_monitor_config
from driftwise.errors import ConfigError

BASE: dict[str, Any] = {"model": {"name": "m", "task": "binary"},
                        "columns": {"probabilities": "p", "target": "y"}}
RULE = {"metric": "drift.dataset.share", "condition": ">= 0.3"}


def _parse(**extra: Any) -> Any:
    return parse_monitor_config({**BASE, **extra}, "monitor.yaml")


def test_actions_bind_to_rules_and_the_policy() -> None:
    cfg = _parse(actions=[{"name": "rb", "kind": "webhook", "url": "https://x/rb",
                           "headers": {"authorization": "t"}},
                          {"name": "retrain", "kind": "command", "argv": ["true"]},
                          {"name": "ring", "kind": "block_segment", "segment": {"c": "v"}}],
                 alerts=[{**RULE, "actions": ["rb", "ring"], "policy": True}],
                 policy={"metric": "roc_auc", "retrain": ["retrain"]})
    assert cfg.alerts[0].actions == ["rb", "ring"] and cfg.policy.metric == "roc_auc"
    assert cfg.action("rb").described()["headers"] == ["authorization"]
    assert cfg.action("ring").is_block and cfg.action("rb").spec().url == "https://x/rb"
    with pytest.raises(KeyError):
        cfg.action("nope")


@pytest.mark.parametrize(("extra", "message"), [
    ({"alerts": [{**RULE, "actions": ["ghost"]}]}, "alerts[0].actions: no action named"),
    ({"actions": [{"name": "a", "kind": "command", "argv": ["x"]}] * 2},
     "actions: name 'a' is used twice"),
    ({"actions": [{"name": "a", "kind": "webhook"}]}, "needs url"),
    ({"actions": [{"name": "a", "kind": "webhook", "url": "file:///etc/passwd"}]},
     "url must be http(s)"),
    ({"actions": [{"name": "a", "kind": "block_segment"}]}, "needs segment"),
    ({"actions": [{"name": "a", "kind": "webhook", "url": "http://x", "segment": {"c": 1}}]},
     "segment is for block_segment"),
    ({"actions": [{"name": "a b", "kind": "command", "argv": ["x"]}]}, "actions[0].name"),
    ({"actions": [{"name": "a", "kind": "command", "argv": ["x"], "timeout_s": 0}]},
     "timeout_s"),
    ({"alerts": [{**RULE, "policy": True}]}, "needs a policy section"),
    ({"slos": [{"name": "auc", "metric": "estimated.roc_auc", "objective": ">= 0.8",
                "actions": ["ghost"]}]}, "slos[0].actions: no action named 'ghost'"),
    ({"slos": [{"name": "auc", "metric": "estimated.roc_auc", "objective": ">= 0.8",
                "policy": True}]}, "slos[0].policy: true needs a policy section"),
    ({"policy": {"metric": "rmse"}}, "policy.metric: 'rmse' is not a metric"),
    ({"policy": {"recalibrate_loss": 0.2, "retrain_loss": 0.1}},
     "recalibrate_loss must be below retrain_loss"),
    ({"policy": {"retrain": ["ghost"]}}, "policy.retrain: no action named 'ghost'"),
])
def test_refusals_name_the_key(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(**extra)
    assert message in str(caught.value)


def test_an_slo_s_breach_runs_its_actions() -> None:
    from driftwise.app.response import respond_for
    from driftwise.store.alerts import AlertChange

    cfg = _parse(actions=[{"name": "rb", "kind": "webhook", "url": "http://x/rb"}],
                 slos=[{"name": "auc", "metric": "estimated.roc_auc", "objective": ">= 0.8",
                        "actions": ["rb"]}])
    respond = respond_for(cfg)
    assert respond is not None
    change = AlertChange(1, "slo:auc", "critical", True, 0.0, {}, {"kind": "opened"})
    assert [name for name, _, _ in respond(change)] == ["rb"]
    assert respond(AlertChange(2, "other", "warning", True, 0.0, {}, {})) == []
    assert respond_for(_parse()) is None
