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
   A reference value's residual is taken out of sample, as a new value's is: from its
   season's mean and sd without it (leave one out), mapped to the law a new value's
   residual follows (under normality ``sqrt(1 + 1/n) t``, with the spread's degrees of
   freedom). In sample, residuals are too small where a season has few values, and a new
   window would look anomalous far more often than the threshold promises.
3. with its **own level**: a short error (a feature zeroed for two hours of a day) hardly
   moves a whole-window score, because most of a season's spread in the reference is slow
   level variation (a cold month, a warm one). The residuals minus their window median (the
   window's level) are scanned for the run of ``burst`` consecutive values with the largest
   root mean square; this *burst score* is calibrated on every reference window the same way,
   and a window whose burst score exceeds ``margin`` times the ``threshold_quantile`` quantile
   of the reference's is anomalous too (scored on at most ``MAX_BURST_WINDOWS`` reference
   windows, evenly spaced, since each needs its own median).

Coarse seasons: a month of a monthly series has one value a year. A season's mean comes
from its own values (at least ``MIN_SEASON_POINTS``), its sd from at least
``min_reference_points`` values (by default 30, or 12 for seasons of the year: see
:func:`default_min_reference_points`). A season with fewer borrows the spread of its
neighbours along the last component of ``season``, ``pool`` of them each side, circularly
(December and February for January), pooled within seasons (each value about its own
season's mean, as in a one-way analysis of variance) so that the cycle does not inflate it.
The verdict lists the seasons that borrowed (``pooled_seasons``).

Verdicts: ``anomalous`` (2 or 3 fires), ``seasonal`` (1 fires, 2 and 3 do not: the difference is the
ordinary cycle), ``no_drift`` (neither), ``insufficient_reference`` (a season of the window
has fewer than ``MIN_SEASON_POINTS`` reference values, or fewer than ``min_reference_points``
with its pooled neighbours, or the reference is shorter than the window: no verdict can be
given, which is not the same as no drift).
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
from driftwise.stream._season_profile import (
    SEASON_COMPONENTS,
    neighbour_offsets,
    season_codes,
    season_label,
    season_profile,
)
from driftwise.stream.timestamps import parse_timestamps

__all__ = ["SEASON_COMPONENTS", "SeasonalBaseline", "SeasonalVerdict",
           "default_min_reference_points"]

VERDICTS = ("no_drift", "seasonal", "anomalous", "insufficient_reference")
#: Reference windows scored for the burst threshold, at most (evenly spaced starts).
MAX_BURST_WINDOWS = 50_000
#: Reference values a season needs of its own: its mean, and two left when one is left out.
MIN_SEASON_POINTS = 3


def default_min_reference_points(season: Sequence[str]) -> int:
    """Reference values behind a season's sd when ``min_reference_points`` is not given.

    30 for seasons within the week (hour, half hour, day of week, weekend): an sd from 30
    values is within about 13 % of the truth (one standard error, ``1 / sqrt(2 (n - 1))``).
    12 for seasons of the year (``month`` in ``season``): a monthly series has one value per
    season a year, so 30 would take 30 years of reference (10 with ``pool=1``); 12 values,
    four years pooled over three neighbouring months, give an sd within about 24 %. The
    anomaly threshold is calibrated for that uncertainty either way (out-of-sample
    residuals), so a smaller minimum costs sensitivity, not false alarms.
    """
    return 12 if "month" in season else 30


def _timestamps(ts: Any, n: int, what: str) -> npt.NDArray[np.datetime64]:
    arr = parse_timestamps(ts, what)
    if arr.size != n:
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
        Seasons of the window with too few reference values (fewer than
        ``MIN_SEASON_POINTS`` of their own, or than ``min_reference_points`` with the
        neighbours they may pool with).
    burst_score, burst_threshold, burst_p_value : float or None
        The largest root mean square of ``burst`` consecutive residuals around the window's
        median residual, the score above which that is anomalous, and the share of reference
        windows (plus one) scoring at least as high. None when the burst check is off or the
        window is shorter than ``4 * burst``.
    pooled_seasons : list of str
        Seasons of the window whose sd was pooled with neighbouring seasons, each with them:
        ``"month=Jan (with month=Dec, month=Feb)"``.
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
    pooled_seasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SeasonalBaseline:
    """Per-season profile of a reference stream, and verdicts on windows against it.

    Parameters
    ----------
    season : sequence of str
        Calendar components that define a season, from ``SEASON_COMPONENTS``
        (default ``("day_of_week", "hour")``: 168 seasons of a week).
    min_reference_points : int or None
        Reference values behind a season's sd, its own plus those of the neighbours it pools
        with (at least 3; default :func:`default_min_reference_points`: 30, or 12 when
        ``season`` has a ``month``). A season also needs ``MIN_SEASON_POINTS`` (3) values
        of its own, for its mean.
    pool : int
        Neighbouring seasons each side, along the last component of ``season`` and
        circularly, whose values a season with fewer than ``min_reference_points`` may pool
        for its sd (default 1; 0: never). Listed in the verdict's ``pooled_seasons``.
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
                 min_reference_points: int | None = None, pool: int = 1, alpha: float = 0.01,
                 min_effect: float = 0.1, threshold_quantile: float = 1.0, margin: float = 1.0,
                 burst: int | None = 2) -> None:
        if isinstance(season, str):
            season = [season]
        unknown = [s for s in season if s not in SEASON_COMPONENTS]
        if not season or unknown:
            raise ConfigError(
                f"season: unknown component(s) {unknown or season!r}; choose from "
                f"{sorted(SEASON_COMPONENTS)}"
            )
        if min_reference_points is not None and (
                isinstance(min_reference_points, bool) or not isinstance(min_reference_points, int)
                or min_reference_points < MIN_SEASON_POINTS):
            raise ConfigError(
                f"min_reference_points must be an integer >= {MIN_SEASON_POINTS} (or None: "
                f"{default_min_reference_points(['hour'])}, or "
                f"{default_min_reference_points(['month'])} for seasons of the year), got "
                f"{min_reference_points!r}"
            )
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 0:
            raise ConfigError(f"pool must be an integer >= 0 (neighbouring seasons each side), "
                              f"got {pool!r}")
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
        self.pool = pool
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
        codes = season_codes(ts, self.season)
        profile = season_profile(
            x, codes, math.prod(SEASON_COMPONENTS[s] for s in self.season),
            SEASON_COMPONENTS[self.season[-1]], min_own=MIN_SEASON_POINTS,
            min_points=self.min_reference_points_, pool=self.pool,
            # A season constant in the reference would make any change infinitely anomalous.
            floor=1e-3 * overall_sd)
        self.counts_ = profile.counts
        self.means_ = profile.means
        self.sds_ = profile.sds
        self.df_ = profile.df
        self.pooled_ = profile.reach
        self.usable_ = profile.usable
        self.reference_ = np.sort(x)
        self.residuals_ = profile.residuals
        # Reference windows touching a value without a residual (a season with under three
        # values) are left out of the calibration: they are counted here.
        missing = np.isnan(profile.residuals)
        self._residual = np.where(missing, 0.0, profile.residuals)
        self._squares = np.concatenate(([0.0], np.cumsum(self._residual ** 2)))
        self._gaps = np.concatenate(([0], np.cumsum(missing)))
        self._calibrated: dict[int, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]] = {}
        return self

    @property
    def min_reference_points_(self) -> int:
        """The minimum in force: as given, or :func:`default_min_reference_points`."""
        if self.min_reference_points is not None:
            return self.min_reference_points
        return default_min_reference_points(self.season)

    def expected(self, timestamps: Any) -> npt.NDArray[np.float64]:
        """The seasonal expectation (per-season reference mean) at each timestamp."""
        self._check_fitted()
        ts = parse_timestamps(timestamps, "expected")
        out: npt.NDArray[np.float64] = self.means_[season_codes(ts, self.season)]
        return out

    def compare(self, values: Any, timestamps: Any) -> SeasonalVerdict:
        """The verdict on one window of values with their timestamps (sorted by time)."""
        self._check_fitted()
        x = _values(values, "compare")
        ts = _timestamps(timestamps, x.size, "compare")
        n = x.size
        if n == 0:
            raise InsufficientDataError("compare: the window is empty")
        codes = season_codes(ts, self.season)
        thin = np.unique(codes[~self.usable_[codes]])
        ref_scores, ref_bursts = self._reference_scores(n) if n < self._squares.size else (
            np.empty(0), np.empty(0))
        if thin.size or ref_scores.size < 1:
            return SeasonalVerdict("insufficient_reference", None, None, None, None, None, n,
                                   [season_label(int(c), self.season) for c in thin])
        residual = (x - self.means_[codes]) / self.sds_[codes]
        score = math.sqrt(float(np.mean(residual * residual)))
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
                               burst_p_value=burst_p, pooled_seasons=self._pooled(codes))

    def _pooled(self, codes: npt.NDArray[np.int64]) -> list[str]:
        """``"month=Jan (with month=Dec, month=Feb)"`` for each pooled season of a window."""
        radix = SEASON_COMPONENTS[self.season[-1]]
        out = []
        for code in np.unique(codes[self.pooled_[codes] > 0]).tolist():
            digit = code % radix
            offsets = [o for d in range(1, int(self.pooled_[code]) + 1)
                       for o in neighbour_offsets(radix, d)]
            others = [season_label(code - digit + (digit + o) % radix, self.season)
                      for o in sorted(offsets, key=lambda o: (o + radix // 2) % radix)]
            out.append(f"{season_label(code, self.season)} (with {', '.join(others)})")
        return out

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
            whole = self._gaps[n:] == self._gaps[:-n]  # no value without a residual
            scores = np.sort(np.sqrt(np.maximum(self._squares[n:] - self._squares[:-n], 0.0)
                                     / n)[whole])
            length = self._burst_length(n)
            bursts = np.empty(0)
            if length is not None:
                windows = sliding_window_view(self._residual, n)
                # Each window needs its median: past MAX_BURST_WINDOWS windows, every k-th
                # start is used (a year of minute data, daily windows: 1 in 10).
                starts = np.flatnonzero(whole)
                starts = starts[::max(1, -(-starts.size // MAX_BURST_WINDOWS))]
                step = max(1, 2_000_000 // n)  # bounded memory for long windows
                bursts = np.sort(np.concatenate([
                    _burst_scores(windows[starts[i:i + step]], length)
                    for i in range(0, starts.size, step)
                ] or [np.empty(0)]))
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
