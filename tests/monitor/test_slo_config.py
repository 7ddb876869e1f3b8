"""SLOs in the Monitor configuration: validated, named, and turned into breach rules that
the Monitor checks with every window."""

from __future__ import annotations

import operator
import re

import pytest

from driftwise.config.monitor import parse_condition, parse_monitor_config
from driftwise.errors import ConfigError
from driftwise.monitor import Monitor
from tests.monitor.test_monitor_run import CONFIG, binary_frame

BASE = {"model": {"task": "binary"}, "columns": {"probabilities": "p", "target": "y"}}


def _slos(*slos: dict, alerts: list | None = None):
    return parse_monitor_config({**BASE, "slos": list(slos), "alerts": alerts or []})


@pytest.mark.parametrize(("objective", "condition", "clear"), [
    ("<= 100", "> 100.0", "<= 100"), ("< 0.25", ">= 0.25", "< 0.25"),
    (">= 0.85", "< 0.85", ">= 0.85"), ("> 0.8123456789", "<= 0.8123456789", "> 0.8123456789"),
    ("== 1", "!= 1.0", "== 1"), ("!= 0", "== 0.0", "!= 0")])
def test_a_breach_rule_fires_exactly_when_the_objective_is_missed(
        objective: str, condition: str, clear: str) -> None:
    cfg = _slos({"name": "s", "metric": "m.x", "objective": objective})
    (rule,) = cfg.alert_rules
    assert (rule.name, rule.condition, rule.clear, rule.severity) == (
        "slo:s", condition, clear, "critical")
    slo = cfg.slos[0]
    for value in (-1.0, 0.0, 0.25, 0.8123456789, 0.85, 1.0, 99.999, 100.0, 100.001):
        fires = _holds(rule.condition, value)
        assert fires is not slo.met(value), (objective, value)


def _holds(condition: str, value: float) -> bool:
    op, threshold = parse_condition(condition)
    return {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}[op](value, threshold)


def test_defaults_and_naming() -> None:
    cfg = _slos({"metric": "ops.latency_ms.p99", "objective": "<= 100"})
    slo = cfg.slos[0]
    assert (slo.name, slo.target, slo.period_windows, slo.burn_windows) == (
        "ops.latency_ms.p99", 0.95, 28, 4)
    assert cfg.alerts == [] and [r.name for r in cfg.alert_rules] == ["slo:ops.latency_ms.p99"]


@pytest.mark.parametrize(("slo", "message"), [
    ({"metric": "x", "objective": "== true"}, "compares a number, not true/false"),
    ({"metric": "x", "objective": "about 3"}, "slos[0].objective: cannot read condition"),
    ({"metric": "x", "objective": "< 1", "target": 1.0}, "slos[0].target"),
    ({"metric": "x", "objective": "< 1", "target": 0}, "slos[0].target"),
    ({"metric": "x", "objective": "< 1", "period_windows": 1}, "slos[0].period_windows"),
    ({"metric": "x", "objective": "< 1", "period_windows": 4, "burn_windows": 5},
     "burn_windows (5) cannot exceed period_windows (4)"),
    ({"metric": "x", "objective": "< 1", "severity": "page"}, "slos[0].severity"),
    ({"metric": "x", "objective": "< 1", "objetive": "< 2"}, "slos[0]: unknown key"),
])
def test_bad_slos_are_named(slo: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        _slos(slo)


def test_an_slo_and_an_alert_cannot_share_a_rule_name() -> None:
    with pytest.raises(ConfigError, match="rule name 'slo:lat' is used twice"):
        _slos({"name": "lat", "metric": "x", "objective": "< 1"},
              alerts=[{"name": "slo:lat", "metric": "y", "condition": "> 2"}])
    with pytest.raises(ConfigError, match="rule name 'slo:a' is used twice"):
        _slos({"name": "a", "metric": "x", "objective": "< 1"},
              {"name": "a", "metric": "y", "objective": "< 2"})


def test_the_monitor_raises_the_breach_alert_of_an_slo() -> None:
    cfg = dict(CONFIG, slos=[{"name": "x stable", "metric": "drift.columns.x.p_value",
                              "objective": ">= 0.001", "severity": "warning"}])
    monitor = Monitor(cfg).fit(binary_frame(4000, 0))
    results = monitor.run_batches([binary_frame(1000, 9), binary_frame(1000, 10, shift=1.0)])
    assert [[a.name for a in r.alerts] for r in results] == [[], ["slo:x stable"]]
    assert results[1].alerts[0].severity == "warning"


def test_monitor_extra_metrics_are_seen_by_the_rules() -> None:
    cfg = dict(CONFIG, slos=[{"name": "latency", "metric": "ops.latency_ms.p99",
                              "objective": "<= 100"}])
    monitor = Monitor(cfg).fit(binary_frame(4000, 0))
    fast = monitor.run(binary_frame(1000, 9), extra={"ops.latency_ms.p99": 20.0})
    slow = monitor.run(binary_frame(1000, 9), extra={"ops.latency_ms.p99": 180.0})
    assert fast.alerts == () and [a.name for a in slow.alerts] == ["slo:latency"]
    assert slow.metrics["ops.latency_ms.p99"] == 180.0
    with pytest.raises(ConfigError, match=re.escape("no metric 'ops.latency_ms.p99'")):
        Monitor(cfg).fit(binary_frame(4000, 0)).run(binary_frame(1000, 9))
