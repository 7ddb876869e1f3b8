"""Seasonal baseline: is a window's difference explained by the season, or anomalous?

A window (say one day of a feature) is compared twice:

1. with the **whole reference** (two-sample KS test plus the normed Wasserstein effect, as
   the batch engine does): does it differ from "the past" at all?
2. with its **seasonal expectation**: each value is standardised by the mean and sd of the
   reference values of its own season (hour of day, day of week, month, ... configurable),
   and the window's score is the root mean square of these residuals. The score is
   calibrated on the reference itself: every run of as many consecutive reference values is
   scored the same way, and the window is *anomalous* when its score exceeds
   ``margin`` times the ``threshold_quantile`` quantile of those reference scores (by default
   the largest: the window deviates from its season more than the reference ever did).
3. with its **own level**: a short error (a feature zeroed for two hours of a day) hardly
   moves a whole-window score, because most of a season's spread in the reference is slow
   level variation (a cold month, a warm one). The residuals minus their window median (the
   window's level) are scanned for the run of ``burst`` consecutive values with the largest
   root mean square; this *burst score* is calibrated on every reference window the same way,
   and a window whose burst score exceeds ``margin`` times the ``threshold_quantile`` quantile
   of the reference's is anomalous too (scored on at most ``MAX_BURST_WINDOWS`` reference
   windows, evenly spaced, since each needs its own median).

Verdicts: ``anomalous`` (2 or 3 fires), ``seasonal`` (1 fires, 2 and 3 do not: the difference is the
ordinary cycle), ``no_drift`` (neither), ``insufficient_reference`` (a season of the window
has fewer than ``min_reference_points`` reference values, or the reference is shorter than
the window: no verdict can be given, which is not the same as no drift).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError, SchemaError
from driftwise.stats import ks_2samp
from driftwise.stream._base import as_finite_array

__all__ = ["SEASON_COMPONENTS", "SeasonalBaseline", "SeasonalVerdict"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Calendar components a season can combine, with their number of values.
SEASON_COMPONENTS = {"month": 12, "day_of_week": 7, "weekend": 2, "hour": 24, "half_hour": 48}
VERDICTS = ("no_drift", "seasonal", "anomalous", "insufficient_reference")
#: Reference windows scored for the burst threshold, at most (evenly spaced starts).
MAX_BURST_WINDOWS = 50_000


def _components(ts: npt.NDArray[np.datetime64], names: Sequence[str]) -> npt.NDArray[np.int64]:
    """Mixed-radix season code of every timestamp."""
    days = ts.astype("datetime64[D]")
    minutes = (ts - days) // np.timedelta64(1, "m")
    code = np.zeros(ts.size, dtype=np.int64)
    for name in names:
        if name == "month":
            part = ts.astype("datetime64[M]").astype(np.int64) % 12
        elif name in ("day_of_week", "weekend"):
            dow = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
            part = dow if name == "day_of_week" else (dow >= 5).astype(np.int64)
        elif name == "hour":
            part = minutes // 60
        else:
            part = minutes // 30
        code = code * SEASON_COMPONENTS[name] + part.astype(np.int64)
    return code


def _label(code: int, names: Sequence[str]) -> str:
    parts = []
    for name in reversed(names):
        code, value = divmod(code, SEASON_COMPONENTS[name])
        if name == "month":
            text = _MONTHS[value]
        elif name == "day_of_week":
            text = _DAYS[value]
        elif name == "weekend":
            text = "yes" if value else "no"
        elif name == "hour":
            text = f"{value:02d}"
        else:
            text = f"{value // 2:02d}:{30 * (value % 2):02d}"
        parts.append(f"{name}={text}")
    return ", ".join(reversed(parts))


def _local_wall_time(ts: Any) -> Any:
    """Time-zone-aware pandas timestamps -> their local wall time (seasons are local)."""
    if getattr(ts, "tz", None) is not None and hasattr(ts, "tz_localize"):
        return ts.tz_localize(None)
    accessor = getattr(ts, "dt", None)
    if accessor is not None and getattr(accessor, "tz", None) is not None:
        return accessor.tz_localize(None)
    return ts


def _timestamps(ts: Any, n: int, what: str) -> npt.NDArray[np.datetime64]:
    ts = _local_wall_time(ts)
    try:
        arr = np.asarray(ts, dtype="datetime64[ns]")
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"{what}: timestamps must be datetimes (datetime64, or pandas timestamps; "
            f"time-zone-aware ones are taken in their local time): {exc}"
        ) from None
    if arr.ndim != 1 or arr.size != n:
        raise SchemaError(f"{what}: {arr.size} timestamps for {n} values")
    missing = np.isnat(arr)
    if missing.any():
        raise SchemaError(
            f"{what}: timestamp at position {int(np.argmax(missing))} is missing (NaT); every "
            "value needs its time to be compared with its season"
        )
    back = np.flatnonzero(arr[1:] < arr[:-1])
    if back.size:
        i = int(back[0]) + 1
        raise SchemaError(
            f"{what}: timestamps out of order at position {i} ({arr[i]} after {arr[i - 1]}); "
            "sort the values by time first"
        )
    return arr


def _values(values: Any, what: str) -> npt.NDArray[np.float64]:
    return as_finite_array(values, what, "a data-quality check should report them")


@dataclass(frozen=True)
class SeasonalVerdict:
    """The verdict on one window, with the numbers behind it.

    Attributes
    ----------
    verdict : str
        ``no_drift``, ``seasonal``, ``anomalous`` or ``insufficient_reference``.
    score : float or None
        Root mean square of the window's seasonal residuals (in season sds).
    threshold : float or None
        The score above which a window is anomalous (from the reference's own windows).
    p_value : float or None
        Share of reference windows (plus one) scoring at least ``score``.
    overall_p_value, overall_effect : float or None
        KS p-value and normed Wasserstein distance of the window against the whole reference.
    n : int
        Window size.
    insufficient_seasons : list of str
        Seasons of the window with fewer than ``min_reference_points`` reference values.
    burst_score, burst_threshold, burst_p_value : float or None
        The largest root mean square of ``burst`` consecutive residuals around the window's
        median residual, the score above which that is anomalous, and the share of reference
        windows (plus one) scoring at least as high. None when the burst check is off or the
        window is shorter than ``4 * burst``.
    """

    verdict: str
    score: float | None
    threshold: float | None
    p_value: float | None
    overall_p_value: float | None
    overall_effect: float | None
    n: int
    insufficient_seasons: list[str] = field(default_factory=list)
    burst_score: float | None = None
    burst_threshold: float | None = None
    burst_p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SeasonalBaseline:
    """Per-season profile of a reference stream, and verdicts on windows against it.

    Parameters
    ----------
    season : sequence of str
        Calendar components that define a season, from ``SEASON_COMPONENTS``
        (default ``("day_of_week", "hour")``: 168 seasons of a week).
    min_reference_points : int
        Reference values a season needs for a verdict (default 30).
    alpha, min_effect : float
        Whole-reference comparison: different when the KS p-value is below ``alpha`` and the
        normed Wasserstein distance at least ``min_effect`` (defaults 0.01 and 0.1).
    threshold_quantile, margin : float
        Anomalous when the seasonal score (or the burst score) exceeds ``margin`` times this
        quantile of the reference windows' scores (defaults 1.0, the largest, and 1.0).
    burst : int or None
        Length, in values, of the short errors the burst check looks for (default 2); None
        turns it off. Windows shorter than ``4 * burst`` skip it.

    Example
    -------
    >>> import numpy as np
    >>> ts = np.datetime64("2024-01-01") + np.arange(24 * 7 * 40) * np.timedelta64(1, "h")
    >>> hour = (np.arange(ts.size) % 24).astype(float)
    >>> noise = np.random.default_rng(0).normal(0, 0.5, ts.size)
    >>> values = 10 + 5 * np.sin(hour / 24 * 2 * np.pi) + noise
    >>> base = SeasonalBaseline(season=["hour"]).fit(values[:-48], ts[:-48])
    >>> base.compare(values[-48:-36], ts[-48:-36]).verdict    # half a day: the daily cycle
    'seasonal'
    >>> base.compare(values[-24:] * 0, ts[-24:]).verdict      # a zeroed feature
    'anomalous'
    >>> day = values[-24:].copy()
    >>> day[6:9] = 0.0                                          # zeroed for three hours
    >>> base.compare(day, ts[-24:]).verdict
    'anomalous'
    """

    def __init__(self, season: Sequence[str] = ("day_of_week", "hour"),
                 min_reference_points: int = 30, alpha: float = 0.01, min_effect: float = 0.1,
                 threshold_quantile: float = 1.0, margin: float = 1.0,
                 burst: int | None = 2) -> None:
        if isinstance(season, str):
            season = [season]
        unknown = [s for s in season if s not in SEASON_COMPONENTS]
        if not season or unknown:
            raise ConfigError(
                f"season: unknown component(s) {unknown or season!r}; choose from "
                f"{sorted(SEASON_COMPONENTS)}"
            )
        if isinstance(min_reference_points, bool) or not isinstance(min_reference_points, int) \
                or min_reference_points < 2:
            raise ConfigError(
                f"min_reference_points must be an integer >= 2, got {min_reference_points!r}"
            )
        for name, value, lo, hi in (("alpha", alpha, 0.0, 1.0), ("min_effect", min_effect, 0.0,
                                    math.inf), ("threshold_quantile", threshold_quantile, 0.0,
                                    1.0), ("margin", margin, 0.0, math.inf)):
            if not isinstance(value, (int, float)) or not lo <= value <= hi:
                raise ConfigError(f"{name} must be in [{lo}, {hi}], got {value!r}")
        if burst is not None and (isinstance(burst, bool) or not isinstance(burst, int)
                                  or burst < 1):
            raise ConfigError(f"burst must be a positive integer or None, got {burst!r}")
        self.season = tuple(season)
        self.min_reference_points = min_reference_points
        self.alpha = alpha
        self.min_effect = min_effect
        self.threshold_quantile = threshold_quantile
        self.margin = margin
        self.burst = burst

    def fit(self, values: Any, timestamps: Any) -> SeasonalBaseline:
        """Learn each season's mean and sd from a reference stream sorted by time.

        Raises
        ------
        SchemaError
            Non-finite values, missing or unsorted timestamps, mismatched lengths.
        InsufficientDataError
            Fewer than two values, or a constant reference.
        """
        x = _values(values, "fit")
        ts = _timestamps(timestamps, x.size, "fit")
        if x.size < 2:
            raise InsufficientDataError(f"fit: need at least 2 reference values, got {x.size}")
        overall_sd = float(np.std(x, ddof=1))
        if not overall_sd > 0:
            raise InsufficientDataError("fit: the reference is constant; nothing to compare with")
        codes = _components(ts, self.season)
        size = math.prod(SEASON_COMPONENTS[s] for s in self.season)
        counts = np.bincount(codes, minlength=size)
        sums = np.bincount(codes, weights=x, minlength=size)
        means = np.divide(sums, counts, out=np.zeros(size), where=counts > 0)
        dev = x - means[codes]
        ss = np.bincount(codes, weights=dev * dev, minlength=size)
        sds = np.sqrt(np.divide(ss, counts - 1, out=np.zeros(size), where=counts > 1))
        # A season constant in the reference would make any change infinitely anomalous.
        sds = np.maximum(sds, 1e-3 * overall_sd)
        self.counts_ = counts
        self.means_ = means
        self.sds_ = sds
        self.reference_ = np.sort(x)
        residual = (x - means[codes]) / sds[codes]
        self._residual = residual
        self._squares = np.concatenate(([0.0], np.cumsum(residual * residual)))
        self._calibrated: dict[int, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
        return self

    def expected(self, timestamps: Any) -> npt.NDArray[np.float64]:
        """The seasonal expectation (per-season reference mean) at each timestamp."""
        self._check_fitted()
        ts = np.asarray(_local_wall_time(timestamps), dtype="datetime64[ns]")
        out: npt.NDArray[np.float64] = self.means_[_components(ts, self.season)]
        return out

    def compare(self, values: Any, timestamps: Any) -> SeasonalVerdict:
        """The verdict on one window of values with their timestamps (sorted by time)."""
        self._check_fitted()
        x = _values(values, "compare")
        ts = _timestamps(timestamps, x.size, "compare")
        n = x.size
        if n == 0:
            raise InsufficientDataError("compare: the window is empty")
        codes = _components(ts, self.season)
        thin = np.unique(codes[self.counts_[codes] < self.min_reference_points])
        n_windows = self._squares.size - n
        if thin.size or n_windows < 1:
            return SeasonalVerdict("insufficient_reference", None, None, None, None, None, n,
                                   [_label(int(c), self.season) for c in thin])
        residual = (x - self.means_[codes]) / self.sds_[codes]
        score = math.sqrt(float(np.mean(residual * residual)))
        ref_scores, ref_bursts = self._reference_scores(n)
        threshold, p_value = self._against(ref_scores, score)
        burst = burst_threshold = burst_p = None
        if ref_bursts.size:
            burst = float(_burst_scores(residual[None, :], self._burst_length(n))[0])
            burst_threshold, burst_p = self._against(ref_bursts, burst)
        overall = ks_2samp(self.reference_, x)
        overall_p = overall.p_value if overall.p_value is not None else 1.0
        burst_hit = burst is not None and burst_threshold is not None and burst > burst_threshold
        if score > threshold or burst_hit:
            verdict = "anomalous"
        elif overall_p < self.alpha and overall.effect >= self.min_effect:
            verdict = "seasonal"
        else:
            verdict = "no_drift"
        return SeasonalVerdict(verdict, score, threshold, p_value, overall_p, overall.effect, n,
                               burst_score=burst, burst_threshold=burst_threshold,
                               burst_p_value=burst_p)

    def _burst_length(self, n: int) -> int | None:
        """The burst length used for windows of ``n`` values (None: the check is off)."""
        return self.burst if self.burst is not None and n >= 4 * self.burst else None

    def _against(self, ref: npt.NDArray[np.float64], score: float) -> tuple[float, float]:
        """Threshold from sorted reference scores, and the share (plus one) at least ``score``."""
        threshold = self.margin * float(np.quantile(ref, self.threshold_quantile))
        at_least = ref.size - int(np.searchsorted(ref, score, side="left"))
        return threshold, (1.0 + at_least) / (1.0 + ref.size)

    def _reference_scores(self, n: int) -> tuple[npt.NDArray[np.float64],
                                                  npt.NDArray[np.float64]]:
        """Whole-window and burst scores of every run of ``n`` reference values, sorted.

        Cached per window length: a monitor compares many windows of one length.
        """
        cached = self._calibrated.get(n)
        if cached is None:
            scores = np.sort(np.sqrt(np.maximum(self._squares[n:] - self._squares[:-n], 0.0)
                                     / n))
            length = self._burst_length(n)
            bursts = np.empty(0)
            if length is not None:
                windows = sliding_window_view(self._residual, n)
                # Each window needs its median: past MAX_BURST_WINDOWS windows, every k-th
                # start is used (a year of minute data, daily windows: 1 in 10).
                windows = windows[::max(1, -(-windows.shape[0] // MAX_BURST_WINDOWS))]
                step = max(1, 2_000_000 // n)  # bounded memory for long windows
                bursts = np.sort(np.concatenate([
                    _burst_scores(windows[i:i + step], length)
                    for i in range(0, windows.shape[0], step)
                ]))
            cached = self._calibrated[n] = (scores, bursts)
        return cached

    def _check_fitted(self) -> None:
        if not hasattr(self, "means_"):
            raise NotFittedError("SeasonalBaseline: call fit(values, timestamps) first")


def _burst_scores(windows: npt.NDArray[np.float64], length: int | None) -> (
    npt.NDArray[np.float64]
):
    """Per window (row): the largest RMS of ``length`` consecutive residuals about the median.

    Removing the window's median residual removes its level, which a whole-window score
    already judges; what is left is how far a short stretch departs from the rest of its
    window.
    """
    assert length is not None
    dev = windows - np.median(windows, axis=1, keepdims=True)
    sq = np.cumsum(dev * dev, axis=1)
    sq = np.concatenate([np.zeros((sq.shape[0], 1)), sq], axis=1)
    runs = (sq[:, length:] - sq[:, :-length]) / length
    out: npt.NDArray[np.float64] = np.sqrt(np.maximum(runs.max(axis=1), 0.0))
    return out
