"""Monitor configuration: a bad key is named, with the path to it."""

from __future__ import annotations

import pytest

from driftwise.errors import ConfigError
from driftwise.monitor import load_monitor_config, parse_monitor_config

BASE = {"model": {"task": "binary"}, "columns": {"probabilities": "p", "target": "y"}}


def with_(**parts):
    cfg = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    cfg.update(parts)
    return cfg


@pytest.mark.parametrize(("config", "message"), [
    ({"model": {"task": "binary"}, "colums": {}}, "top level: unknown key 'colums'"),
    ({"model": {"task": "ranking"}},
     "model.task: expected one of 'binary', 'multiclass' or 'regression', got 'ranking'"),
    (with_(columns={"probabilities": "p", "targt": "y"}), "columns: unknown key 'targt'"),
    (with_(columns={"target": "y"}), "a classifier needs `prediction` or `probabilities`"),
    (with_(columns={"probabilities": ["a", "b"]}), "a binary model has one probability column"),
    (with_(windows={"rows": 0}), "windows.rows: expected an integer >= 1, got 0"),
    (with_(windows={"rows": 10, "period": "day"}), "either `rows` or `period`"),
    (with_(windows={"period": "day"}), "windows.period needs columns.timestamp"),
    (with_(checks={"performance": {"metrics": ["auc"]}}),
     "checks.performance.metrics: unknown metric(s) auc"),
    (with_(checks={"feature_drift": {"alhpa": 0.1}}), "checks.feature_drift: unknown key"),
    (with_(alerts=[{"metric": "performance.roc_auc", "condition": "about 0.7"}]),
     "alerts[0].condition: cannot read condition"),
    (with_(alerts=[{"metric": "x", "condition": "< 1", "severity": "page"}]),
     "alerts[0].severity: expected one of 'warning' or 'critical', got 'page'"),
    (with_(alerts=[{"metric": "x", "condition": "< 1", "for": -2}]),
     "alerts[0].for: expected an integer >= 1, got -2"),
    ({"model": {"task": "multiclass"}, "columns": {"probabilities": ["a", "b"]}},
     "maps each class to its probability column"),
])
def test_errors_name_the_key(config, message) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        parse_monitor_config(config, "m.yaml")
    assert message in str(info.value) and str(info.value).startswith("m.yaml: ")


def test_valid_config_and_defaults(tmp_path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "model: {name: churn, task: multiclass}\n"
        "columns:\n  probabilities: {a: p_a, b: p_b, c: p_c}\n  target: y\n"
        "  segments: region\n"
        "windows: {rows: 500}\n"
        "alerts:\n  - {metric: estimated.accuracy, condition: '< 0.8', for: 3,"
        " severity: critical}\n"
    )
    cfg = load_monitor_config(path)
    assert cfg.name == "churn" and cfg.window_rows == 500 and cfg.min_rows == 100
    assert cfg.columns.probability_classes == ("a", "b", "c")
    assert cfg.columns.segments == ["region"]
    assert cfg.estimated_metrics == ("roc_auc", "accuracy", "precision", "recall",
                                                "f1")
    rule = cfg.alerts[0]
    assert (rule.operator, rule.threshold, rule.for_windows) == ("<", 0.8, 3)
    with pytest.raises(ConfigError, match="not valid YAML"):
        path.write_text("model: [unclosed")
        load_monitor_config(path)
