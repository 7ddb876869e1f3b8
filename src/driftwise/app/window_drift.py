"""Comparing a run of windows as one sample: a week or a month of a model's traffic.

Each evaluated window's profile is stored on the reference's grids
(:func:`driftwise.detect.engine.window_profile`). Merging them gives exactly the profile of
all their records together (counts add; see :mod:`driftwise.detect.merge`), which the
model's feature-drift detector compares with the reference like any current sample: a
slow drift too small to show in one hour's window shows in the week's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from driftwise.app.models import fitted_monitor
from driftwise.detect import DriftReport, ReferenceProfile, merge_profiles
from driftwise.errors import NotFoundError, StateError
from driftwise.store import evaluation as ev
from driftwise.store import registry


@dataclass(frozen=True)
class MergedDrift:
    """The windows that were merged and the drift report of their merged profile."""

    windows: list[int]
    report: DriftReport

    def to_dict(self) -> dict[str, Any]:
        return {"windows": self.windows, "report": self.report.to_dict()}


def drift_over(engine: Engine, name: str, *, first: int | None = None,
               last: int | None = None, since: float | None = None,
               until: float | None = None) -> MergedDrift:
    """Feature drift of windows ``first``..``last`` whose records start in
    ``[since, until)``, merged, against the model's current reference.

    Raises
    ------
    NotFoundError
        No such model, or no stored window profile in that range against the current
        reference (windows of an earlier reference are not comparable with it).
    StateError
        The model's configuration compares no features.
    """
    model = registry.get_model(engine, name)
    config_version, reference_version, _ = registry.versions(engine, model.id)
    if not reference_version:
        raise StateError(f"model {name!r} has no reference yet: upload one first")
    monitor = fitted_monitor(engine, model.id, config_version, reference_version)
    detector = monitor.drift_
    if detector is None:
        raise StateError(f"model {name!r} compares no features (checks.feature_drift is "
                         "off in its configuration)")
    stored = ev.window_profiles(engine, model.id, reference_version, first=first,
                                last=last, since=since, until=until)
    if not stored:
        raise NotFoundError(f"model {name!r} has no window profile against its current "
                            f"reference (version {reference_version}) in that range")
    reference = detector.profile_
    profiles = [ReferenceProfile.from_bytes(blob, reference, where=f"window {window}")
                for window, blob in stored]
    label = f"windows {stored[0][0]}-{stored[-1][0]}"
    merged = merge_profiles(profiles, name=label)
    return MergedDrift([w for w, _ in stored], detector.compare(merged, name=label))
