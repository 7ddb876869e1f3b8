"""Build a stream detector from a plain configuration mapping (what a Monitor config holds)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from driftwise.config._model import config_error, signature_model
from driftwise.errors import ConfigError
from driftwise.stream._base import StreamDetector
from driftwise.stream._bocpd_arl import CALIBRATED_DEFAULTS, bocpd_threshold
from driftwise.stream.adwin import ADWIN
from driftwise.stream.bocpd import BOCPD
from driftwise.stream.calibration import calibrate_cusum, calibrate_ewma, shewhart_limit
from driftwise.stream.cusum import CUSUM
from driftwise.stream.ddm import DDM
from driftwise.stream.eddm import EDDM
from driftwise.stream.ewma import EWMA
from driftwise.stream.kswin import KSWIN
from driftwise.stream.page_hinkley import PageHinkley, calibrate_page_hinkley
from driftwise.stream.shewhart import Shewhart

__all__ = ["DETECTOR_TYPES", "StreamDetectorSpec", "make_detector"]


_TYPES: dict[str, type[StreamDetector]] = {
    cls.kind: cls for cls in (ADWIN, BOCPD, CUSUM, DDM, EDDM, EWMA, KSWIN, PageHinkley,
                              Shewhart)
}
DETECTOR_TYPES = tuple(sorted(_TYPES))
#: Detectors whose threshold can be calibrated from a target in-control run length.
_CALIBRATED = ("bocpd", "cusum", "ewma", "page_hinkley", "shewhart")
_ARL = Annotated[float | None, Field(gt=1, description="Calibrate the threshold (h, L or "
                                               "threshold) for this in-control average run "
                                               "length.")]


def _spec_model(kind: str) -> Any:
    cls = _TYPES[kind]
    extra: dict[str, Any] = {"type": (Literal[kind], ...)}
    if kind in _CALIBRATED:
        extra["target_arl0"] = (_ARL, None)
    return signature_model(cls.__name__ + "Spec", cls, doc=f"A {cls.__name__} detector: "
                           f"its parameters and `type: {kind}`.", **extra)


#: ``{type: NAME, **parameters}`` of any stream detector, told apart by ``type``.
if TYPE_CHECKING:
    StreamDetectorSpec: TypeAlias = Any
else:
    StreamDetectorSpec = Annotated[Union[tuple(_spec_model(k) for k in DETECTOR_TYPES)],  # noqa: UP007
                                   Field(discriminator="type")]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(StreamDetectorSpec)


def make_detector(spec: Mapping[str, Any] | BaseModel) -> StreamDetector:
    """A detector from ``{"type": NAME, **parameters}``.

    ``type`` is one of ``DETECTOR_TYPES`` (``adwin``, ``bocpd``, ``cusum``, ``ddm``, ``eddm``,
    ``ewma``, ``kswin``, ``page_hinkley``, ``shewhart``); the other keys are the detector's
    constructor parameters. CUSUM, EWMA, Shewhart, Page-Hinkley and BOCPD also accept
    ``target_arl0`` instead of ``h`` / ``L`` / ``threshold``: the threshold is then
    calibrated for that in-control average run length (:func:`calibrate_cusum`,
    :func:`calibrate_ewma`, :func:`shewhart_limit`, :func:`calibrate_page_hinkley`: by
    simulation, on a standardised stream; :func:`bocpd_threshold`: a simulated table, for
    BOCPD's default prior, window and pruning).

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
    if isinstance(spec, BaseModel):
        parsed = spec
    else:
        try:
            parsed = _ADAPTER.validate_python(spec)
        except ValidationError as exc:
            raise config_error(exc) from None
    params = parsed.model_dump(exclude_unset=True)
    kind = params.pop("type")
    cls = _TYPES[kind]
    if params.get("target_arl0") is not None:
        target = params.pop("target_arl0")
        if kind == "shewhart":
            if "L" in params:
                raise ConfigError("shewhart: give 'L' or 'target_arl0', not both")
            params["L"] = shewhart_limit(target)
        elif kind == "cusum":
            if "h" in params:
                raise ConfigError("cusum: give 'h' or 'target_arl0', not both")
            params["h"] = calibrate_cusum(target, k=params.get("k", 0.5)).h
        elif kind == "bocpd":
            if "threshold" in params:
                raise ConfigError("bocpd: give 'threshold' or 'target_arl0', not both")
            changed = [k for k, v in CALIBRATED_DEFAULTS.items() if params.get(k, v) != v]
            if changed:
                raise ConfigError(f"bocpd: target_arl0 is calibrated for the default "
                                  f"{', '.join(changed)}; give 'threshold' instead")
            params["threshold"] = bocpd_threshold(
                target, params.get("expected_run_length", 250.0))
        elif kind == "page_hinkley":
            if "threshold" in params:
                raise ConfigError("page_hinkley: give 'threshold' or 'target_arl0', not both")
            params["threshold"] = calibrate_page_hinkley(target, **{
                k: params[k] for k in ("delta", "alpha", "min_instances", "mode")
                if k in params})
        else:
            if "L" in params:
                raise ConfigError("ewma: give 'L' or 'target_arl0', not both")
            params["L"] = calibrate_ewma(target, lam=params.get("lam", 0.2),
                                         exact_limits=params.get("exact_limits", True)).L
    params.pop("target_arl0", None)
    return cls(**params)
