"""Alert rules evaluated on successive Monitor results ("for N consecutive windows")."""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Mapping, Sequence

from driftwise.config.monitor import AlertRule
from driftwise.errors import ConfigError
from driftwise.monitor.result import FiredAlert, MetricValue

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def holds(rule: AlertRule, value: MetricValue) -> bool:
    """Whether ``value`` satisfies the rule's condition (a missing value never does)."""
    if value is None:
        return False
    return _OPS[rule.operator](float(value), float(rule.threshold))


class AlertEvaluator:
    """Keeps, per rule, how many consecutive windows its condition has held."""

    def __init__(self, rules: Sequence[AlertRule]) -> None:
        self.rules = tuple(rules)
        self.streaks = {rule.name: 0 for rule in self.rules}

    def evaluate(self, metrics: Mapping[str, MetricValue]) -> tuple[FiredAlert, ...]:
        """Update the streaks with one window's metrics; return the alerts that fire."""
        fired = []
        for rule in self.rules:
            value = metrics.get(rule.metric)
            self.streaks[rule.name] = self.streaks[rule.name] + 1 if holds(rule, value) else 0
            if self.streaks[rule.name] >= rule.for_windows:
                threshold = str(rule.threshold).lower() if isinstance(rule.threshold, bool) \
                    else f"{rule.threshold:g}"
                fired.append(FiredAlert(rule.name, rule.metric, value,
                                        f"{rule.operator} {threshold}", rule.severity,
                                        self.streaks[rule.name]))
        return tuple(fired)

    def check_names(self, metrics: Mapping[str, MetricValue]) -> None:
        """Raise naming a rule whose metric the Monitor does not produce (with suggestions)."""
        for rule in self.rules:
            if rule.metric not in metrics:
                close = difflib.get_close_matches(rule.metric, list(metrics), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise ConfigError(f"alert {rule.name!r}: no metric {rule.metric!r} is "
                                  f"produced by this monitor{hint}")
