"""A new cluster: current rows that form a dense group where the reference has little mass
(the "cluster of new accounts with crafted profiles"), with its members and the features
that set it apart.

Each current row gets a density-ratio score from k-nearest-neighbour radii (the kNN density
estimate, Loftsgaarden & Quesenberry 1965): ``log(r_ref / r_cur)``, with ``r_cur`` its
distance to its k-th nearest *other* current row and ``r_ref`` to its k-th nearest row of a
reference sample of the same size, so the two radii are comparable and the score is about
0 where current and reference have the same density. The threshold is the ``1 - alpha``
quantile of the same score computed between two disjoint halves of the reference (a null
of "no new mass" with the reference's own geometry). Rows above it are grouped (DBSCAN,
Ester et al. 1996, with the median radius of the flagged rows as its reach and ``k`` as its
core size); a group of at least ``min_size`` rows is a new cluster. Scattered false
positives at rate alpha rarely make ``min_size`` mutual neighbours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.detect.outliers.features import OutlierFeatures
from driftwise.detect.outliers.neighbours import KthNeighbours
from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError

__all__ = ["ClusterFinding", "NewCluster", "NewClusterDetector"]


@dataclass(frozen=True)
class NewCluster:
    """One dense group of current rows in a region the reference hardly covers."""

    size: int
    members: list[int]
    reference_share_nearby: float
    current_share_nearby: float
    #: (feature, cluster mean minus reference median in robust sds), largest first.
    distinguishing_features: list[tuple[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ClusterFinding:
    rows: int
    threshold: float
    flagged_rows: int
    clusters: list[NewCluster]

    @property
    def detected(self) -> bool:
        return bool(self.clusters)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "threshold": self.threshold,
                "flagged_rows": self.flagged_rows, "detected": self.detected,
                "clusters": [c.to_dict() for c in self.clusters]}


class NewClusterDetector:
    """Find dense groups of current rows where the reference has little mass.

    Parameters
    ----------
    k : int
        Neighbours of the density radii and the core size of the grouping (default 10).
    alpha : float
        Share of rows above the threshold under no new mass (default 0.01).
    min_size : int
        Rows a group needs to be reported (default 20).
    max_rows : int
        Current rows (and reference rows per half) used at most, a random subset (5,000).
    columns, max_categories, seed
        As for the outlier detectors.
    """

    def __init__(self, *, k: int = 10, alpha: float = 0.01, min_size: int = 20,
                 max_rows: int = 5000, columns: list[str] | None = None,
                 max_categories: int = 20, seed: int = 0) -> None:
        self.k = k
        self.alpha = alpha
        self.min_size = min_size
        self.max_rows = max_rows
        self.columns = columns
        self.max_categories = max_categories
        self.seed = seed

    def fit(self, reference: Any) -> NewClusterDetector:
        """Encode the reference and keep two disjoint halves of it."""
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 2:
            raise ConfigError(f"k must be an integer >= 2, got {self.k!r}")
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha must be in (0, 1), got {self.alpha!r}")
        features = OutlierFeatures(self.columns, self.max_categories).fit(reference)
        x, _ = features.transform(reference, "reference")
        if x.shape[0] < 4 * (self.k + 1):
            raise InsufficientDataError(f"new clusters: need at least {4 * (self.k + 1)} "
                                        f"reference rows for k={self.k}, got {x.shape[0]}")
        order = np.random.default_rng(self.seed).permutation(x.shape[0])
        half = min(x.shape[0] // 2, self.max_rows)
        self.features_ = features
        self._a, self._b = x[order[:half]], x[order[half:2 * half]]
        self.reference_median_ = np.median(x, axis=0)
        return self

    def _scores(self, current: NDArray[np.float64], reference: NDArray[np.float64]
                ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        n, m = current.shape[0], reference.shape[0]
        # k-th neighbour among m reference rows matches the k-th among n current rows when
        # the reference's k is scaled by m / n (same expected mass in the ball).
        k_ref = max(1, min(m, round(self.k * m / n)))
        r_cur = KthNeighbours(current).distances(current, self.k, skip_self=True)
        r_ref = KthNeighbours(reference).distances(current, k_ref)
        tiny = 1e-12
        return np.log((r_ref + tiny) / (r_cur + tiny)), r_cur

    def find(self, current: Any) -> ClusterFinding:
        """The new clusters of ``current`` (row positions are into ``current``)."""
        features: OutlierFeatures | None = getattr(self, "features_", None)
        if features is None:
            raise NotFittedError("this NewClusterDetector is not fitted: call fit first")
        y, _ = features.transform(current)
        index = np.arange(y.shape[0])
        if y.shape[0] > self.max_rows:
            index = np.sort(np.random.default_rng(self.seed + 1).choice(
                y.shape[0], self.max_rows, replace=False))
            y = y[index]
        if y.shape[0] <= self.k + 1:
            return ClusterFinding(int(y.shape[0]), float("inf"), 0, [])
        n = y.shape[0]
        null_cur = self._a[:n] if n <= self._a.shape[0] else self._a
        null, _ = self._scores(null_cur, self._b)
        threshold = float(np.quantile(null, 1.0 - self.alpha))
        scores, radius = self._scores(y, self._b)
        flagged = np.flatnonzero(scores > threshold)
        clusters = self._group(y, index, flagged, radius, features.feature_names_)
        return ClusterFinding(int(n), threshold, int(flagged.size), clusters)

    def _group(self, y: NDArray[np.float64], index: NDArray[np.int64],
               flagged: NDArray[np.int64], radius: NDArray[np.float64],
               names: tuple[str, ...]) -> list[NewCluster]:
        if flagged.size < self.min_size:
            return []
        from sklearn.cluster import DBSCAN

        reach = float(np.median(radius[flagged]))
        labels = DBSCAN(eps=reach, min_samples=self.k).fit_predict(y[flagged])
        out = []
        for label in sorted(set(labels.tolist()) - {-1}):
            rows = flagged[labels == label]
            if rows.size < self.min_size:
                continue
            center = y[rows].mean(axis=0)
            ball = float(np.max(np.linalg.norm(y[rows] - center, axis=1)))
            near_ref = float(np.mean(np.linalg.norm(self._b - center, axis=1) <= ball))
            near_cur = float(np.mean(np.linalg.norm(y - center, axis=1) <= ball))
            diff = center - self.reference_median_  # the features are in robust sds already
            top = np.argsort(-np.abs(diff))[:5]
            out.append(NewCluster(int(rows.size), index[rows].tolist(), near_ref, near_cur,
                                  [(names[j], float(diff[j])) for j in top]))
        return sorted(out, key=lambda c: -c.size)
