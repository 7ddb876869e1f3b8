"""Sequential detectors attached to per-window Monitor metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from driftwise.config.monitor import StreamCheck
from driftwise.errors import ConfigError, InsufficientDataError
from driftwise.monitor.result import MetricValue
from driftwise.stream import ReferenceStreamDetector, StreamDetector, make_detector

MIN_REFERENCE_WINDOWS = 3


class StreamChecks:
    """One detector per ``checks.stream`` entry, fed one metric value per window.

    Metrics produced: ``stream.<name>.value`` and ``stream.<name>.alarm``.
    """

    def __init__(self, checks: Sequence[StreamCheck]) -> None:
        self.checks = tuple(checks)
        self.detectors: dict[str, StreamDetector] = {
            c.name: make_detector(c.detector) for c in self.checks}

    def needing_reference(self) -> list[StreamCheck]:
        """Checks whose detector must learn an in-control mean and sd."""
        return [c for c in self.checks
                if isinstance(self.detectors[c.name], ReferenceStreamDetector)
                and getattr(self.detectors[c.name], "mean", None) is None]

    def fit_reference(self, measured: Sequence[Mapping[str, MetricValue]], context: str) -> None:
        """Learn mean and sd of each metric from the reference windows' values."""
        for check in self.needing_reference():
            values = [float(v) for m in measured
                      if (v := m.get(check.metric)) is not None]
            if len(values) < MIN_REFERENCE_WINDOWS:
                raise ConfigError(
                    f"checks.stream {check.name!r}: learning the in-control mean and sd of "
                    f"{check.metric!r} needs at least {MIN_REFERENCE_WINDOWS} reference windows "
                    f"with a value, got {len(values)} ({context}); give mean and std in the "
                    "detector, or a larger reference")
            detector = self.detectors[check.name]
            assert isinstance(detector, ReferenceStreamDetector)
            try:
                detector.fit(values)
            except InsufficientDataError as exc:
                raise ConfigError(f"checks.stream {check.name!r}: {exc}") from None

    def update(self, metrics: dict[str, MetricValue], reasons: dict[str, str]) -> None:
        """Feed this window's values; add the ``stream.*`` metrics."""
        for check in self.checks:
            value = metrics.get(check.metric)
            base = f"stream.{check.name}"
            metrics[f"{base}.value"] = value
            if value is None:
                metrics[f"{base}.alarm"] = None
                reasons[base] = f"{check.metric!r} has no value in this window"
                continue
            metrics[f"{base}.alarm"] = self.detectors[check.name].update(float(value))

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
