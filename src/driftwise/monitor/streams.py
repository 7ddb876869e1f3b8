"""Sequential detectors attached to per-window Monitor metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from driftwise.config.monitor import StreamCheck
from driftwise.errors import ConfigError, InsufficientDataError, SchemaError
from driftwise.monitor.result import MetricValue
from driftwise.stream import (
    ErrorIndicator,
    ReferenceStreamDetector,
    StreamDetector,
    make_detector,
)

MIN_REFERENCE_WINDOWS = 3


class StreamChecks:
    """One detector per ``checks.stream`` entry, fed one metric value per window.

    Metrics produced: ``stream.<name>.value``, ``stream.<name>.alarm`` and, for an entry
    with ``binarize``, ``stream.<name>.error`` (the 0/1 error the detector was fed).
    """

    def __init__(self, checks: Sequence[StreamCheck]) -> None:
        self.checks = tuple(checks)
        self.detectors: dict[str, StreamDetector] = {
            c.name: make_detector(c.detector) for c in self.checks}
        self.indicators: dict[str, ErrorIndicator] = {
            c.name: indicator for c in self.checks
            if (indicator := c.error_indicator()) is not None}

    def _needs_level(self, check: StreamCheck) -> bool:
        detector = self.detectors[check.name]
        indicator = self.indicators.get(check.name)
        return (isinstance(detector, ReferenceStreamDetector)
                and getattr(detector, "mean", None) is None) or (
            indicator is not None and indicator.needs_reference)

    def needing_reference(self) -> list[StreamCheck]:
        """Checks whose detector, or whose ``binarize: {z: ...}``, must learn an in-control
        mean and sd."""
        return [c for c in self.checks if self._needs_level(c)]

    def fit_reference(self, measured: Sequence[Mapping[str, MetricValue]], context: str) -> None:
        """Learn mean and sd of each metric from the reference windows' values."""
        for check in self.needing_reference():
            values = [float(v) for m in measured
                      if (v := m.get(check.metric)) is not None]
            indicator = self.indicators.get(check.name)
            where = "binarize" if indicator is not None else "the detector"
            if len(values) < MIN_REFERENCE_WINDOWS:
                raise ConfigError(
                    f"checks.stream {check.name!r}: learning the in-control mean and sd of "
                    f"{check.metric!r} needs at least {MIN_REFERENCE_WINDOWS} reference windows "
                    f"with a value, got {len(values)} ({context}); give mean and std in "
                    f"{where}, or a larger reference")
            try:
                if indicator is not None:
                    indicator.fit(values)  # binarize feeds DDM/EDDM, which learn nothing
                else:
                    detector = self.detectors[check.name]
                    assert isinstance(detector, ReferenceStreamDetector)
                    detector.fit(values)
            except InsufficientDataError as exc:
                raise ConfigError(f"checks.stream {check.name!r}: {exc}") from None

    def update(self, metrics: dict[str, MetricValue], reasons: dict[str, str]) -> None:
        """Feed this window's values; add the ``stream.*`` metrics."""
        for check in self.checks:
            value = metrics.get(check.metric)
            base = f"stream.{check.name}"
            metrics[f"{base}.value"] = value
            indicator = self.indicators.get(check.name)
            if value is None:
                metrics[f"{base}.alarm"] = None
                if indicator is not None:
                    metrics[f"{base}.error"] = None
                reasons[base] = f"{check.metric!r} has no value in this window"
                continue
            fed = float(value)
            if indicator is not None:
                fed = indicator(fed)
                metrics[f"{base}.error"] = bool(fed)
            try:
                metrics[f"{base}.alarm"] = self.detectors[check.name].update(fed)
            except SchemaError:
                if check.detector.type not in ("ddm", "eddm"):
                    raise
                raise SchemaError(
                    f"checks.stream {check.name!r}: {check.metric} is {value!r} in this window; "
                    f"a {check.detector.type} detector counts errors, 0 or 1. Turn the value "
                    "into one with `binarize:` in the entry: {above: ...} and/or "
                    "{below: ...} (thresholds in its units), or {z: ...} (in-control sds from "
                    "its reference mean)") from None

    def state(self) -> dict[str, Any]:
        """Plain-JSON state of every detector."""
        return {name: d.to_state() for name, d in self.detectors.items()}

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state`'s output, exactly."""
        for name, detector_state in state.items():
            if name not in self.detectors:
                raise ConfigError(f"saved state has a stream detector {name!r} that this "
                                  "configuration does not define")
            restored = type(self.detectors[name]).from_state(detector_state)
            if restored.get_params() != self.detectors[name].get_params():
                raise ConfigError(
                    f"saved state of stream detector {name!r} was made with parameters "
                    f"{restored.get_params()}, the configuration now says "
                    f"{self.detectors[name].get_params()}; start it afresh instead")
            self.detectors[name] = restored
