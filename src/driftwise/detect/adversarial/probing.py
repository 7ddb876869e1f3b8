"""Query probing: many near-duplicate queries from one client key in a short time, walking
towards the decision boundary, the footprint of black-box attacks such as HopSkipJump (Chen,
Jordan & Wainwright 2020) or the boundary attack (Brendel, Rauber & Bethge 2018), which
query the model again and again around one point while shrinking a perturbation.

Per client key the detector keeps a sliding window (``window_s`` seconds, at most
``max_queries`` queries) of its recent queries, encoded like the outlier detectors' features.
A new query is a **near duplicate** when its distance to the nearest query of the same key's
window is below ``radius_``, the ``duplicate_quantile`` (default 0.1 %) of that distance
between *independent* ordinary queries, calibrated on the reference: groups of
``max_queries`` reference rows play the role of one key's window. Ordinary traffic from a
key thus makes a near duplicate with probability about 0.1 % per query. The **margin walk** is
Kendall's tau between the order of a key's near-duplicate queries and their margins
(one-sided, decreasing: SciPy's ``kendalltau(alternative="less")``). A key is flagged when
its window holds at least ``min_duplicates`` near duplicates and, where margins are given,
they walk towards the boundary (p below ``trend_alpha``) or sit at it (median margin below
``boundary_margin``); without margins, near duplicates alone flag it. A client that retries
one request (same input, same margin) is not flagged.

Memory is bounded: at most ``max_keys`` keys (the least recently seen is dropped first),
each with at most ``max_queries`` float32 vectors: ``max_keys * max_queries * features * 4``
bytes (10,000 keys x 32 queries x 20 features: 26 MB).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from driftwise.detect.outliers.features import OutlierFeatures
from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError, SchemaError

__all__ = ["ProbingVerdict", "QueryProbingDetector"]

_CALIBRATION_GROUPS = 400


@dataclass(frozen=True)
class ProbingVerdict:
    """What one key's window looks like after its latest query."""

    key: str
    queries: int
    near_duplicates: int
    nearest_distance: float
    margin_trend: float | None
    margin_trend_p: float | None
    median_margin: float | None
    flagged: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Query:
    t: float
    vector: NDArray[np.float32]
    margin: float
    duplicate: bool


class QueryProbingDetector:
    """Per-key sliding windows of queries; flags keys that probe the decision boundary.

    Parameters
    ----------
    window_s : float
        How far back a key's window reaches, in seconds (default 600).
    max_queries : int
        Queries kept per key (default 32).
    max_keys : int
        Keys kept at once (default 10,000; the least recently seen go first).
    duplicate_quantile : float
        The share of independent ordinary queries that count as near duplicates (0.001).
    min_duplicates : int
        Near duplicates in a window that flag a key (default 8).
    trend_alpha : float
        Level of the decreasing-margin test (default 0.01).
    boundary_margin : float
        A median margin of the near duplicates below this is "at the boundary" (0.1).
    columns, max_categories
        As for :class:`~driftwise.detect.outliers.OutlierFeatures`.
    seed : int
        Seed of the calibration groups.
    """

    def __init__(self, *, window_s: float = 600.0, max_queries: int = 32,
                 max_keys: int = 10_000, duplicate_quantile: float = 0.001,
                 min_duplicates: int = 8, trend_alpha: float = 0.01,
                 boundary_margin: float = 0.1, columns: list[str] | None = None,
                 max_categories: int = 20, seed: int = 0) -> None:
        self.window_s = window_s
        self.max_queries = max_queries
        self.max_keys = max_keys
        self.duplicate_quantile = duplicate_quantile
        self.min_duplicates = min_duplicates
        self.trend_alpha = trend_alpha
        self.boundary_margin = boundary_margin
        self.columns = columns
        self.max_categories = max_categories
        self.seed = seed

    def _check(self) -> None:
        if not (isinstance(self.window_s, (int, float)) and self.window_s > 0):
            raise ConfigError(f"window_s must be a positive number, got {self.window_s!r}")
        for name in ("max_queries", "max_keys", "min_duplicates"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ConfigError(f"{name} must be an integer >= 2, got {value!r}")
        if self.min_duplicates > self.max_queries:
            raise ConfigError(f"min_duplicates ({self.min_duplicates}) cannot exceed "
                              f"max_queries ({self.max_queries})")
        for name in ("duplicate_quantile", "trend_alpha"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ConfigError(f"{name} must be in (0, 1), got {value!r}")

    def fit(self, reference: Any) -> QueryProbingDetector:
        """Learn the encoding and the near-duplicate radius from ordinary queries."""
        self._check()
        features = OutlierFeatures(self.columns, self.max_categories).fit(reference)
        x, _ = features.transform(reference, "reference")
        group = self.max_queries
        if x.shape[0] < 2 * group:
            raise InsufficientDataError(f"probing: need at least {2 * group} reference rows "
                                        f"(two windows of max_queries), got {x.shape[0]}")
        rng = np.random.default_rng(self.seed)
        nearest = []
        for _ in range(_CALIBRATION_GROUPS):
            g = x[rng.choice(x.shape[0], group, replace=False)]
            d2 = np.sum((g[:, None, :] - g[None, :, :]) ** 2, axis=2)
            np.fill_diagonal(d2, np.inf)
            nearest.append(np.sqrt(d2.min(axis=1)))
        pooled = np.concatenate(nearest)
        # Exact repeats in the reference (retries, duplicated rows: 126 of 4,492 rows of the
        # ULB fraud data) would put the radius at 0, and nothing could be nearer than 0: the
        # radius is learnt from the distinct neighbours; a repeat is a duplicate anyway.
        distinct = pooled[pooled > 0]
        if distinct.size == 0:
            raise InsufficientDataError("probing: every reference row repeats another; the "
                                        "near-duplicate radius needs distinct queries")
        self.features_ = features
        self.radius_ = float(np.quantile(distinct, self.duplicate_quantile))
        self._keys: OrderedDict[str, deque[_Query]] = OrderedDict()
        return self

    @property
    def keys_tracked(self) -> int:
        return len(getattr(self, "_keys", ()))

    def observe(self, key: str, record: Any, margin: float | None = None,
                timestamp: float | None = None) -> ProbingVerdict:
        """One query of ``key`` (a mapping of column to value, or a feature vector)."""
        if isinstance(record, dict):
            record = {k: [v] for k, v in record.items()}
        elif isinstance(record, (list, tuple, np.ndarray)):
            record = np.asarray(record, dtype=np.float64).reshape(1, -1)
        return self.observe_many([key], record, None if margin is None else [margin],
                                 None if timestamp is None else [timestamp])[0]

    def observe_many(self, keys: list[str], records: Any, margins: Any = None,
                     timestamps: Any = None) -> list[ProbingVerdict]:
        """Queries in arrival order: ``keys[i]`` sent row i of ``records``."""
        features: OutlierFeatures | None = getattr(self, "features_", None)
        if features is None:
            raise NotFittedError("this QueryProbingDetector is not fitted: call fit first")
        x, _ = features.transform(records)
        n = x.shape[0]
        if len(keys) != n:
            raise SchemaError(f"probing: {len(keys)} keys for {n} records")
        m = (np.full(n, math.nan) if margins is None
             else np.asarray(margins, dtype=np.float64).reshape(-1))
        if m.size != n:
            raise SchemaError(f"probing: {m.size} margins for {n} records")
        if timestamps is None:
            import time

            t = np.full(n, time.time())
        else:
            t = np.asarray(timestamps, dtype=np.float64).reshape(-1)
            if t.size != n or not np.isfinite(t).all():
                raise SchemaError(f"probing: timestamps must be {n} finite numbers (seconds)")
        vectors = x.astype(np.float32)
        return [self._one(str(keys[i]), vectors[i], float(m[i]), float(t[i])) for i in range(n)]

    def _one(self, key: str, v: NDArray[np.float32], margin: float, t: float) -> ProbingVerdict:
        window = self._keys.get(key)
        if window is None:
            window = deque(maxlen=self.max_queries)
            self._keys[key] = window
            if len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
        while window and window[0].t < t - self.window_s:
            window.popleft()
        nearest = math.inf
        if window:
            past = np.stack([q.vector for q in window])
            nearest = float(np.sqrt(np.min(np.sum((past - v) ** 2, axis=1))))
        window.append(_Query(t, v, margin, nearest <= self.radius_))
        return self._verdict(key, window, nearest)

    def _verdict(self, key: str, window: deque[_Query], nearest: float) -> ProbingVerdict:
        duplicates = [q for q in window if q.duplicate]
        margins = np.array([q.margin for q in duplicates])
        has_margins = duplicates and bool(np.isfinite(margins).all())
        tau = p = median = None
        if has_margins:
            median = float(np.median(margins))
            if len(duplicates) >= 3 and np.ptp(margins) > 0:
                res = stats.kendalltau(np.arange(len(duplicates)), margins, alternative="less")
                tau, p = float(res.statistic), float(res.pvalue)
        many = len(duplicates) >= self.min_duplicates
        if not many:
            flagged, reason = False, f"{len(duplicates)} near-duplicate queries in the window"
        elif not has_margins:
            flagged, reason = True, (f"{len(duplicates)} near-duplicate queries within "
                                     f"{self.window_s:g} s (no margins given)")
        elif p is not None and p < self.trend_alpha:
            flagged, reason = True, (f"{len(duplicates)} near-duplicate queries whose margins "
                                     f"walk towards the boundary (Kendall tau {tau:.2f}, "
                                     f"p {p:.2g})")
        elif median is not None and median < self.boundary_margin:
            flagged, reason = True, (f"{len(duplicates)} near-duplicate queries at the decision "
                                     f"boundary (median margin {median:.3f})")
        else:
            flagged, reason = False, (f"{len(duplicates)} near-duplicate queries, but their "
                                      "margins neither fall nor sit at the boundary (retries?)")
        return ProbingVerdict(key, len(window), len(duplicates), nearest, tau, p, median,
                              flagged, reason)
