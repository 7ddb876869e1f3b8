"""What one Monitor window produced: flat, addressable metrics and the alerts they fired."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

from driftwise._json import dumps
from driftwise.detect.results import DriftReport
from driftwise.monitor.explain import Explanation
from driftwise.monitor.segments import Slice

MetricValue = float | int | bool | None


@dataclass(frozen=True)
class FiredAlert:
    """An alert rule whose condition held for its required number of windows."""

    name: str
    metric: str
    value: MetricValue
    condition: str
    severity: str
    consecutive: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"name": self.name, "metric": self.metric, "value": self.value,
                "condition": self.condition, "severity": self.severity,
                "consecutive": self.consecutive}


@dataclass(frozen=True)
class MonitorResult:
    """One window's result. Every metric has a stable dotted name.

    Names: ``drift.dataset.drift_detected``, ``drift.columns.<col>.p_value`` (also
    ``.p_value_adjusted``, ``.effect``, ``.statistic``, ``.drift_detected``),
    ``quality.columns.<col>.missing_share``, ``prediction.psi``, ``performance.<metric>``
    (with ``.lower``/``.upper``), ``estimated.<metric>``, ``target.p_value``,
    ``concept.<feature>.change_p_value``, ``concept.performance_gap.<metric>``...
    A metric that cannot be computed on the window is present with the value ``None`` and
    its reason in :attr:`reasons`.
    """

    window: str
    rows: int
    status: str
    metrics: dict[str, MetricValue]
    alerts: tuple[FiredAlert, ...] = ()
    reasons: dict[str, str] = field(default_factory=dict)
    drift: DriftReport | None = field(default=None, repr=False, compare=False)
    worst_slices: tuple[Slice, ...] = ()
    #: The window in plain words (:mod:`driftwise.monitor.explain`).
    explanation: Explanation | None = field(default=None, compare=False)

    def get(self, name: str) -> MetricValue:
        """The value of metric ``name`` (``KeyError`` with suggestions if unknown)."""
        if name not in self.metrics:
            close = difflib.get_close_matches(name, list(self.metrics), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"no metric {name!r} in this result{hint}")
        return self.metrics[name]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (non-finite floats become ``None``)."""
        metrics = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                   for k, v in self.metrics.items()}
        out: dict[str, Any] = {
            "window": self.window, "rows": self.rows, "status": self.status,
            "metrics": metrics, "reasons": self.reasons,
            "alerts": [a.to_dict() for a in self.alerts],
            "worst_slices": [s.to_dict() for s in self.worst_slices],
        }
        if self.explanation is not None:
            out["explanation"] = self.explanation.to_dict()
        if self.drift is not None:
            out["drift"] = self.drift.to_dict(plots=False)
        return out

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return dumps(self.to_dict(), indent=None)
