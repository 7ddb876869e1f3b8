"""SLO status: each SLO's compliance over its period, error budget and burn rate.

An SLO (``slos`` in the Monitor configuration) counts windows: a window whose metric meets
the objective is good. Over the compliance period (the newest ``period_windows`` windows
that have the metric; a window without it, e.g. a realized metric before its labels came,
is not counted) the budget is the ``1 - target`` share of windows allowed to miss it, and
:func:`driftwise.act.lifecycle.error_budget` says how much of it is spent. The burn rate
over the newest ``burn_windows`` windows shows a budget being spent fast (Google SRE
Workbook, ch. 5, "Alerting on SLOs"). The breach alert itself is an ordinary lifecycle rule
(``slo:<name>``), evaluated with the window.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from driftwise.act.lifecycle import error_budget
from driftwise.config.monitor import SLO, parse_monitor_config
from driftwise.errors import ConfigError
from driftwise.store import alerts as alert_store
from driftwise.store import evaluation as ev
from driftwise.store import registry

__all__ = ["SLOStatus", "fleet_slos", "model_slos"]


@dataclass(frozen=True)
class SLOStatus:
    """One SLO as it stands: the objective, the period's counts and the budget."""

    name: str
    metric: str
    objective: str
    target: float
    severity: str
    period_windows: int
    burn_windows: int
    windows: int  # windows of the period with a value
    good: int
    latest_window: int | None
    latest_value: float | None
    latest_met: bool | None
    compliance: float | None  # good / windows
    budget_consumed: float | None  # share of the error budget the period used
    budget_remaining: float | None  # 1 - consumed (negative once overspent)
    burn_rate: float | None  # over the newest burn_windows windows
    alert_id: int | None  # the open breach alert, if any

    def to_dict(self) -> dict[str, Any]:
        """The status as JSON-ready values."""
        return dict(self.__dict__)


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    number = float(value)
    return number if math.isfinite(number) else None


def _status(engine: Engine, model_id: int, slo: SLO, open_alert: int | None) -> SLOStatus:
    points = [(w, v) for w, v in ev.newest_values(engine, model_id, slo.metric,
                                                  slo.period_windows)
              if _finite(v) is not None]
    met = [slo.met(float(v)) for _w, v in points]
    period = error_budget(slo.target, sum(met), len(met))
    recent = met[-slo.burn_windows:]
    burn = error_budget(slo.target, sum(recent), len(recent))
    last_window, last_value = points[-1] if points else (None, None)
    return SLOStatus(
        slo.name, slo.metric, slo.objective, slo.target, slo.severity, slo.period_windows,
        slo.burn_windows, len(met), sum(met), last_window, _finite(last_value),
        met[-1] if met else None,
        None if not met else sum(met) / len(met), _number(period["consumed"]),
        _number(period["remaining"]), _number(burn["burn_rate"]), open_alert)


def _number(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def model_slos(engine: Engine, model: registry.ModelRow) -> list[SLOStatus]:
    """The status of each SLO of ``model``'s current configuration."""
    try:
        cfg = parse_monitor_config(model.config, f"model {model.name!r}")
    except ConfigError:
        return []  # a stored config is validated at registration; an old one may not parse
    if not cfg.slos:
        return []
    open_by_rule = {a.rule: a.alert_id for a in alert_store.list_alerts(
        engine, model_id=model.id, state="open", limit=10_000)}
    return [_status(engine, model.id, slo, open_by_rule.get(slo.rule_name))
            for slo in cfg.slos]


def fleet_slos(engine: Engine, only: Collection[str] | None = None) -> (
        dict[str, list[SLOStatus]]):
    """Every model's SLO status, by model name (``only``: of these models)."""
    return {m.name: found for m in registry.list_models(engine)
            if (only is None or m.name in only) and (found := model_slos(engine, m))}
