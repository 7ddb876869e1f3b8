"""The purple-team scorecard: per scenario and intensity, caught or not, how fast, at what
harm; the gaps (harmful and missed) first; the false alarms of the clean replays.

Built by :class:`driftwise.redteam.PurpleTeam`; everything here is a measurement of
replays, nothing is assumed: a scenario is *detected* in a replay when one of the Monitor's
signals fires at a window at or after the onset where the paired clean replay (the same
rows, unchanged) did not fire it; its *delay* is the number of windows from the onset
window to that one; its *harm* is the relative loss of the model's metric on the changed
rows against the same rows unchanged.
"""

from __future__ import annotations

import math
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from driftwise._json import dumps
from driftwise._version import __version__


@dataclass(frozen=True)
class Replay:
    """One scenario at one intensity on one repeat's rows."""

    repeat: int
    detected: bool
    delay: int | None
    first: tuple[str, ...]
    harm: float | None
    windows_run: int
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"repeat": self.repeat, "detected": self.detected, "delay": self.delay,
                "first": list(self.first), "harm": _finite(self.harm),
                "windows_run": self.windows_run, "error": self.error}


@dataclass(frozen=True)
class Catch:
    """The all-checks Monitor on a gap's replays: the check that would have caught it."""

    check: str
    section: str
    rule: dict[str, Any]
    detection_rate: float
    median_delay: float | None
    clean_fire_rate: float = 0.0  # share of the all-checks Monitor's clean windows it fired

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"check": self.check, "section": self.section, "rule": self.rule,
                "detection_rate": self.detection_rate, "median_delay": self.median_delay,
                "clean_fire_rate": self.clean_fire_rate}


@dataclass(frozen=True)
class ScenarioScore:
    """A scenario at one intensity over the repeats."""

    scenario: str
    kind: str
    intensity: float
    description: str
    changed_columns: tuple[str, ...]
    replays: tuple[Replay, ...]
    harm_threshold: float
    would_catch: Catch | None = None

    @property
    def detection_rate(self) -> float:
        """Share of the repeats in which the scenario was detected."""
        return sum(r.detected for r in self.replays) / len(self.replays)

    @property
    def detected(self) -> bool:
        """Detected in at least half of the repeats."""
        return self.detection_rate >= 0.5

    @property
    def median_delay(self) -> float | None:
        """Median delay in windows over the repeats that detected it."""
        delays = [r.delay for r in self.replays if r.delay is not None]
        return float(statistics.median(delays)) if delays else None

    @property
    def first_check(self) -> str | None:
        """The signal that fired first most often (ties: the first seen)."""
        counts = Counter(s for r in self.replays for s in r.first[:1])
        return counts.most_common(1)[0][0] if counts else None

    @property
    def harm(self) -> float | None:
        """Mean relative loss of the model's metric (positive: worse) over the repeats."""
        values = [r.harm for r in self.replays if r.harm is not None]
        return float(statistics.fmean(values)) if values else None

    @property
    def harmful(self) -> bool:
        """Harm above the threshold."""
        return self.harm is not None and self.harm > self.harm_threshold

    @property
    def gap(self) -> bool:
        """Harmful and not detected."""
        return self.harmful and not self.detected

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"scenario": self.scenario, "kind": self.kind, "intensity": self.intensity,
                "description": self.description,
                "changed_columns": list(self.changed_columns),
                "detected": self.detected, "detection_rate": self.detection_rate,
                "median_delay": self.median_delay, "first_check": self.first_check,
                "harm": _finite(self.harm), "harmful": self.harmful, "gap": self.gap,
                "would_catch": None if self.would_catch is None else
                self.would_catch.to_dict(),
                "replays": [r.to_dict() for r in self.replays]}


@dataclass(frozen=True)
class CleanReplays:
    """The clean replays: how often the Monitor fires with nothing changed."""

    windows: int
    alarmed_windows: int
    by_signal: dict[str, int]

    @property
    def per_1000(self) -> float:
        """Alarmed clean windows per 1,000."""
        return 1000.0 * self.alarmed_windows / self.windows if self.windows else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"windows": self.windows, "alarmed_windows": self.alarmed_windows,
                "false_alarms_per_1000": self.per_1000, "by_signal": self.by_signal}


@dataclass(frozen=True)
class Scorecard:
    """The whole scorecard; :meth:`to_dict` is the JSON the HTML page renders."""

    model: str
    metric: str
    reference_metric: float | None
    window_rows: int
    windows: int
    onset_window: int
    repeats: int
    harm_threshold: float
    signals_from: str
    clean: CleanReplays
    scores: tuple[ScenarioScore, ...]
    not_applicable: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def gaps(self) -> list[ScenarioScore]:
        """Harmful scenarios the Monitor missed, worst harm first."""
        return sorted((s for s in self.scores if s.gap), key=lambda s: -(s.harm or 0.0))

    def summary(self) -> dict[str, Any]:
        """Coverage of the harmful scenarios, median delay, false alarms per 1,000."""
        harmful = [s for s in self.scores if s.harmful]
        caught = [s for s in harmful if s.detected]
        delays = [s.median_delay for s in self.scores
                  if s.detected and s.median_delay is not None]
        return {"scenarios": len(self.scores), "harmful": len(harmful),
                "harmful_detected": len(caught),
                "coverage": len(caught) / len(harmful) if harmful else None,
                "detected": sum(s.detected for s in self.scores),
                "median_delay": float(statistics.median(delays)) if delays else None,
                "false_alarms_per_1000": self.clean.per_1000, "gaps": len(self.gaps)}

    def failed(self, above: float) -> list[ScenarioScore]:
        """The gaps at an intensity strictly above ``above`` (the CI gate's failures)."""
        return [s for s in self.gaps if s.intensity > above]

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form: summary, gaps (first), every score, the clean replays."""
        ordered = sorted(self.scores, key=lambda s: (not s.gap, not s.harmful, s.detected,
                                                     s.scenario, s.intensity))
        return {"driftwise_version": __version__, "kind": "purple_team_scorecard",
                "model": self.model, "metric": self.metric,
                "reference_metric": _finite(self.reference_metric),
                "window_rows": self.window_rows, "windows": self.windows,
                "onset_window": self.onset_window, "repeats": self.repeats,
                "harm_threshold": self.harm_threshold, "signals_from": self.signals_from,
                "summary": self.summary(), "clean": self.clean.to_dict(),
                "gaps": [s.to_dict() for s in self.gaps],
                "scores": [s.to_dict() for s in ordered],
                "not_applicable": self.not_applicable, "settings": self.settings}

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """JSON text of :meth:`to_dict`, written to ``path`` when given."""
        text = dumps(self.to_dict(), indent=2)
        if path is not None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        return text


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
