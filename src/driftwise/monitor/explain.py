"""A window in plain words: what changed, whether it hurts, where, and what to do.

No language model: each sentence is a template filled from facts the window computed
(drift effects in the data's units, failed expectations, estimated and realized
performance against the reference with their bands, business value, the worst segments,
the retraining policy's decision). A sentence appears only when its facts exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from driftwise.monitor.segments import Slice

#: Drifted features named in the explanation, largest effect first.
TOP_FEATURES = 3
NAMES = {"roc_auc": "ROC AUC", "accuracy": "accuracy", "precision": "precision",
         "recall": "recall", "f1": "F1", "mae": "MAE", "rmse": "RMSE", "pr_auc": "PR AUC",
         "log_loss": "log loss", "brier": "Brier score", "ece": "calibration error",
         "mape": "MAPE", "r2": "R²"}


@dataclass(frozen=True)
class Explanation:
    """The window's story: one ``summary`` line and the sentences behind it."""

    summary: str
    changed: tuple[str, ...] = ()
    impact: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    recommendation: str = ""
    action: str = "none"
    facts: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        """Every sentence, one per line, in the order summary, changed, impact, where,
        recommendation."""
        lines = [self.summary, *self.changed, *self.impact, *self.where]
        if self.recommendation:
            lines.append(self.recommendation)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "changed": list(self.changed),
                "impact": list(self.impact), "where": list(self.where),
                "recommendation": self.recommendation, "action": self.action,
                "text": self.text}


def readable(x: float) -> str:
    """A number as a person reads it: 3 significant digits, thousands separated."""
    if x != x:
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _money(x: float, unit: str) -> str:
    text = f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.3g}"
    return f"{text} {unit}".rstrip()


@dataclass(frozen=True)
class FeatureShift:
    """How one drifted column moved, in its own units."""

    name: str
    kind: str
    effect: float | None
    effect_name: str | None
    reference: str  # e.g. "median 41.0" or "'a' 12%"
    current: str

    def sentence(self) -> str:
        size = "" if self.effect is None else \
            f" ({self.effect_name or 'effect'} {readable(self.effect)})"
        return f"{self.name} moved: {self.reference} on the reference, {self.current} now{size}."


def explain(metrics: Mapping[str, Any], *, shifts: Sequence[FeatureShift] = (),
            failed_expectations: Sequence[str] = (), slices: Sequence[Slice] = (),
            reference_performance: Mapping[str, float] | None = None,
            value_per: int = 1, value_unit: str = "", decision: Any = None,
            alerts: Sequence[str] = ()) -> Explanation:
    """Assemble a window's explanation from its computed facts (see the module notes)."""
    reference_performance = dict(reference_performance or {})
    changed: list[str] = []
    drifted = metrics.get("drift.dataset.drifted_columns")
    if shifts:
        total = f" of {drifted}" if isinstance(drifted, int) and drifted > len(shifts) else ""
        changed.append(f"{len(shifts)}{total} drifted feature(s), largest first:")
        changed.extend(s.sentence() for s in shifts)
    if failed_expectations:
        changed.append(f"{len(failed_expectations)} data expectation(s) fail: "
                       + "; ".join(failed_expectations[:3])
                       + (" ..." if len(failed_expectations) > 3 else ""))
    if metrics.get("concept.relation_changed") is True:
        features = metrics.get("concept.features_changed")
        changed.append("The relation between the features and the target changed"
                       + (f" ({features} feature(s))" if isinstance(features, int) else "")
                       + ": label-free estimates cannot be trusted for this window.")
    impact = _impact(metrics, reference_performance, value_per, value_unit)
    where = [f"Worst segment {s.name}: {s.source} accuracy {s.accuracy:.3f} against "
             f"{s.reference_accuracy:.3f} on the reference ({s.rows:,} rows)."
             for s in list(slices)[:2] if s.drop > 0]
    action = "none"
    recommendation = ""
    if decision is not None:
        action = decision.action
        verb = {"none": "No action needed", "recalibrate": "Recalibrate the model",
                "retrain": "Retrain the model"}[action]
        recommendation = f"Recommendation: {verb}: {'; '.join(decision.reasons)}."
    if failed_expectations:
        recommendation = (recommendation + " " if recommendation else "Recommendation: ") + \
            "fix the upstream data first: rules that held on the reference now fail."
    summary = _summary(metrics, shifts, failed_expectations, impact, alerts)
    return Explanation(summary, tuple(changed), tuple(impact), tuple(where),
                       recommendation.strip(), action)


def _impact(metrics: Mapping[str, Any], reference: Mapping[str, float], per: int,
            unit: str) -> list[str]:
    out = []
    for key in sorted(k for k in metrics if k.startswith("estimated.") and k.count(".") == 1):
        name = key.split(".", 1)[1]
        est = metrics.get(key)
        if not isinstance(est, int | float) or isinstance(est, bool):
            continue
        text = f"Estimated {NAMES.get(name, name)} {readable(est)}"
        low, high = metrics.get(f"{key}.lower"), metrics.get(f"{key}.upper")
        if isinstance(low, int | float) and isinstance(high, int | float):
            text += f" (band {readable(low)} to {readable(high)})"
        if name in reference:
            text += f", against {readable(reference[name])} on the reference"
        real = metrics.get(f"performance.{name}")
        if isinstance(real, int | float) and not isinstance(real, bool):
            text += f"; realized {readable(real)} on the labelled rows"
        out.append(text + ".")
    change = metrics.get("business.estimated_change")
    if isinstance(change, int | float):
        text = (f"Estimated value against the reference: {_money(change, unit)} per "
                f"{per:,} predictions")
        low = metrics.get("business.estimated_change.lower")
        high = metrics.get("business.estimated_change.upper")
        if isinstance(low, int | float) and isinstance(high, int | float):
            text += f" (band {_money(low, unit)} to {_money(high, unit)})"
        out.append(text + ".")
    real_change = metrics.get("business.change")
    if isinstance(real_change, int | float):
        out.append(f"Realized value against the reference: {_money(real_change, unit)} per "
                   f"{per:,} predictions.")
    return out


def _summary(metrics: Mapping[str, Any], shifts: Sequence[FeatureShift],
             failed: Sequence[str], impact: Sequence[str], alerts: Sequence[str]) -> str:
    parts = []
    if failed:
        parts.append(f"{len(failed)} data rule(s) broken")
    if shifts:
        parts.append("inputs drifted (" + ", ".join(s.name for s in shifts) + ")")
    if metrics.get("concept.relation_changed") is True:
        parts.append("the relation between the features and the target changed")
    # Value is named only when its band excludes no change: a dip inside the band is noise.
    upper = metrics.get("business.estimated_change.upper")
    if isinstance(upper, int | float) and upper < 0:
        parts.append("costing value against the reference")
    if not parts:
        parts.append("nothing changed that the checks can see")
    head = "; ".join(parts)
    if alerts:
        head += f". Alerts: {', '.join(alerts)}"
    return head[0].upper() + head[1:] + "."
