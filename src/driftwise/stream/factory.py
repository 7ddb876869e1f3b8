"""Build a stream detector from a plain configuration mapping (what a Monitor config holds)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from driftwise.errors import ConfigError
from driftwise.stream._base import StreamDetector
from driftwise.stream.adwin import ADWIN
from driftwise.stream.calibration import calibrate_cusum, calibrate_ewma, shewhart_limit
from driftwise.stream.cusum import CUSUM
from driftwise.stream.ddm import DDM
from driftwise.stream.eddm import EDDM
from driftwise.stream.ewma import EWMA
from driftwise.stream.kswin import KSWIN
from driftwise.stream.page_hinkley import PageHinkley
from driftwise.stream.shewhart import Shewhart

__all__ = ["DETECTOR_TYPES", "make_detector"]


_TYPES: dict[str, type[StreamDetector]] = {
    cls.kind: cls for cls in (ADWIN, CUSUM, DDM, EDDM, EWMA, KSWIN, PageHinkley, Shewhart)
}
DETECTOR_TYPES = tuple(sorted(_TYPES))


def make_detector(spec: Mapping[str, Any]) -> StreamDetector:
    """A detector from ``{"type": NAME, **parameters}``.

    ``type`` is one of ``DETECTOR_TYPES`` (``adwin``, ``cusum``, ``ddm``, ``eddm``, ``ewma``,
    ``kswin``, ``page_hinkley``, ``shewhart``); the other keys are the detector's constructor
    parameters. CUSUM, EWMA and Shewhart also accept ``target_arl0`` instead of ``h`` /
    ``L``: the threshold is then calibrated for that in-control average run length
    (:func:`calibrate_cusum`, :func:`calibrate_ewma`, :func:`shewhart_limit`).

    Raises
    ------
    ConfigError
        No or unknown ``type``, an unknown key, an invalid value, or both ``target_arl0`` and
        the threshold it would set; the message names the key.

    Example
    -------
    >>> det = make_detector({"type": "cusum", "k": 0.5, "target_arl0": 500})
    >>> round(det.h, 3)
    5.071
    """
    if not isinstance(spec, Mapping):
        raise ConfigError(f"a stream detector config must be a mapping, got {type(spec).__name__}")
    params = dict(spec)
    kind = params.pop("type", None)
    types = _TYPES
    if kind not in types:
        raise ConfigError(
            f"stream detector 'type' must be one of {sorted(types)}, got {kind!r}"
        )
    cls = types[kind]
    allowed = set(inspect.signature(cls.__init__).parameters) - {"self"}
    if kind in ("cusum", "ewma", "shewhart"):
        allowed.add("target_arl0")
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {unknown} for a {kind!r} detector; allowed: {sorted(allowed)}"
        )
    if "target_arl0" in params:
        target = params.pop("target_arl0")
        if kind == "shewhart":
            if "L" in params:
                raise ConfigError("shewhart: give 'L' or 'target_arl0', not both")
            params["L"] = shewhart_limit(target)
        elif kind == "cusum":
            if "h" in params:
                raise ConfigError("cusum: give 'h' or 'target_arl0', not both")
            params["h"] = calibrate_cusum(target, k=params.get("k", 0.5)).h
        else:
            if "L" in params:
                raise ConfigError("ewma: give 'L' or 'target_arl0', not both")
            params["L"] = calibrate_ewma(target, lam=params.get("lam", 0.2),
                                         exact_limits=params.get("exact_limits", True)).L
    try:
        return cls(**params)
    except TypeError as exc:  # pragma: no cover - keys are checked above
        raise ConfigError(f"{kind}: {exc}") from None
