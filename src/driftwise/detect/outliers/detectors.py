"""Outlier detectors whose scores are calibrated to p-values on held-out reference rows.

Every detector follows one protocol: ``fit(reference)`` encodes the reference
(:class:`~driftwise.detect.outliers.OutlierFeatures`), splits its rows at random into a
training part, which the detector learns from, and a calibration part, which it scores;
``p_values(data)`` then turns the score of each new row into the share of calibration
scores at least as extreme,

    p = (1 + #{calibration scores >= s}) / (n_cal + 1),

the split-conformal p-value (Vovk, Gammerman & Shafer 2005; Bates et al. 2023, "Testing for
outliers with conformal p-values"). For a row exchangeable with the reference, P(p <= alpha)
<= alpha whatever the detector and the data, and at least alpha - 1 / (n_cal + 1): flagging
``p <= alpha`` flags a share alpha of clean rows on average, so one alpha means the same on
every detector. (For one fixed calibration set the share varies around alpha by about
sqrt(alpha / n_cal); a larger reference narrows it.)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from driftwise.detect.outliers.features import OutlierFeatures
from driftwise.detect.outliers.isolation import FlatForest
from driftwise.detect.outliers.neighbours import KthNeighbours
from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError

__all__ = ["IsolationForestOutliers", "KNNOutliers", "MahalanobisOutliers", "OutlierDetector",
           "OutlierResult", "PyODOutliers"]

MIN_PART_ROWS = 20  # rows in each of the training and calibration parts, at least
OUTLIERS_EXTRA_HINT = "pip install 'driftwise[outliers]'"


@dataclass(frozen=True)
class OutlierResult:
    """Calibrated outlier scores of a sample.

    ``p_values[i]`` is row i's conformal p-value; ``flagged`` the rows with ``p <= alpha``;
    ``missing[i]`` how many of row i's values were missing and imputed.
    """

    detector: str
    alpha: float
    scores: NDArray[np.float64] = field(repr=False)
    p_values: NDArray[np.float64] = field(repr=False)
    missing: NDArray[np.int64] = field(repr=False)
    calibration_rows: int = 0

    @property
    def flagged(self) -> NDArray[np.int64]:
        """0-based positions of the rows with ``p <= alpha``."""
        return np.flatnonzero(self.p_values <= self.alpha)

    @property
    def share_flagged(self) -> float:
        return float(np.mean(self.p_values <= self.alpha)) if self.p_values.size else 0.0

    @property
    def min_p_value(self) -> float:
        """The smallest p-value a row can get: 1 / (n_cal + 1)."""
        return 1.0 / (self.calibration_rows + 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"detector": self.detector, "alpha": self.alpha, "rows": int(self.p_values.size),
                "calibration_rows": self.calibration_rows,
                "flagged": self.flagged.tolist(), "share_flagged": self.share_flagged,
                "scores": self.scores.tolist(), "p_values": self.p_values.tolist(),
                "missing": self.missing.tolist()}


class OutlierDetector:
    """The shared protocol: encode, split, learn, calibrate; score, p-values, detect.

    Parameters
    ----------
    calibration : float
        Share of the reference rows held out to calibrate the scores (default 0.5).
    columns : sequence of str, optional
        Columns to use (default: all of a usable kind; see :class:`OutlierFeatures`).
    max_categories : int
        Categories one-hot encoded per categorical column.
    seed : int
        Seed of the split and of the detector's own randomness.
    """

    name: ClassVar[str] = ""

    def __init__(self, *, calibration: float = 0.5, columns: list[str] | None = None,
                 max_categories: int = 20, seed: int = 0) -> None:
        self.calibration = calibration
        self.columns = columns
        self.max_categories = max_categories
        self.seed = seed

    # -- what subclasses provide ---------------------------------------------------------
    def _learn(self, x: NDArray[np.float64]) -> None:
        raise NotImplementedError

    def _score(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Raw scores of encoded rows, larger = more outlying."""
        raise NotImplementedError

    # -- the protocol --------------------------------------------------------------------
    def fit(self, reference: Any) -> OutlierDetector:
        """Encode the reference, learn from one part of its rows, score the other part.

        Raises
        ------
        InsufficientDataError
            Fewer than 20 rows for either part.
        ConfigError
            ``calibration`` outside (0, 1).
        """
        if not 0.0 < self.calibration < 1.0:
            raise ConfigError(f"calibration must be a share in (0, 1), got {self.calibration!r}")
        features = OutlierFeatures(self.columns, self.max_categories).fit(reference)
        x, _ = features.transform(reference, "reference")
        n = x.shape[0]
        n_cal = round(self.calibration * n)
        if min(n_cal, n - n_cal) < MIN_PART_ROWS:
            raise InsufficientDataError(
                f"outliers: {n} reference rows split into {n - n_cal} to learn from and "
                f"{n_cal} to calibrate on; each part needs at least {MIN_PART_ROWS}")
        order = np.random.default_rng(self.seed).permutation(n)
        self.features_ = features
        self._learn(x[np.sort(order[n_cal:])])
        self.calibration_scores_ = np.sort(self._score(x[np.sort(order[:n_cal])]))
        return self

    def _encoded(self, data: Any) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        features: OutlierFeatures | None = getattr(self, "features_", None)
        if features is None:
            raise NotFittedError(f"this {type(self).__name__} is not fitted: call fit first")
        return features.transform(data)

    def score(self, data: Any) -> NDArray[np.float64]:
        """Raw outlier scores of the rows of ``data`` (larger = more outlying)."""
        return self._score(self._encoded(data)[0])

    def p_values_of_scores(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        """Conformal p-values of raw scores against the calibration scores."""
        cal = self.calibration_scores_
        at_least = cal.size - np.searchsorted(cal, scores, side="left")
        return np.asarray((1.0 + at_least) / (cal.size + 1.0), dtype=np.float64)

    def p_values(self, data: Any) -> NDArray[np.float64]:
        """Each row's conformal p-value."""
        return self.p_values_of_scores(self.score(data))

    def detect(self, data: Any, alpha: float = 0.01) -> OutlierResult:
        """Scores, p-values and the rows flagged at ``alpha``."""
        if not 0.0 < alpha < 1.0:
            raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")
        x, missing = self._encoded(data)
        scores = self._score(x)
        return OutlierResult(self.name, alpha, scores, self.p_values_of_scores(scores),
                             missing, int(self.calibration_scores_.size))


class IsolationForestOutliers(OutlierDetector):
    """Isolation Forest (Liu, Ting & Zhou 2008): rows isolated by few random splits are
    outlying. The trees are grown by scikit-learn's ``IsolationForest``; the score is minus
    its ``score_samples`` (``2 ** (-mean path length / c(max_samples))``, larger = shorter
    paths), computed by walking the trees as flat arrays (:mod:`.isolation`, compiled where a
    C compiler was found at install): one record in microseconds, batches faster than
    scikit-learn's own walk.

    Parameters
    ----------
    n_estimators, max_samples : int
        Trees and rows per tree (defaults 100 and 256, the paper's).
    **kwargs
        As for :class:`OutlierDetector`.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> det = IsolationForestOutliers().fit(rng.normal(size=(2000, 3)))
    >>> bool(det.p_values(np.array([[0.0, 0.0, 0.0], [6.0, -6.0, 6.0]]))[1] < 0.01)
    True
    """

    name = "isolation_forest"

    def __init__(self, *, n_estimators: int = 100, max_samples: int = 256,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_estimators = n_estimators
        self.max_samples = max_samples

    def _learn(self, x: NDArray[np.float64]) -> None:
        from sklearn.ensemble import IsolationForest

        forest = IsolationForest(n_estimators=self.n_estimators,
                                 max_samples=min(self.max_samples, x.shape[0]),
                                 random_state=self.seed).fit(x)
        self.forest_ = forest
        self._flat = FlatForest(forest)

    def _score(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return self._flat.scores(x)


class MahalanobisOutliers(OutlierDetector):
    """Robust Mahalanobis distance: the squared distance of a row from the minimum covariance
    determinant estimate of location and scatter (Rousseeuw 1984; FAST-MCD, Rousseeuw & Van
    Driessen 1999, scikit-learn's ``MinCovDet``), so the outliers of the reference do not
    inflate the scatter that is to find them.

    The scatter gets a ridge of 1e-6 of its mean variance so one-hot and constant columns do
    not make it singular. :meth:`contributions` splits a row's distance over the features,
    ``d_j = (x - mu)_j (P (x - mu))_j`` (they sum to the distance; the largest name what sets
    the row apart).

    Parameters
    ----------
    support_fraction : float, optional
        Share of rows the MCD estimate rests on (default: scikit-learn's, (n + d + 1) / 2n).
    max_fit_rows : int
        Rows the MCD is fitted on at most (a random subset; default 5,000).
    """

    name = "mahalanobis"

    def __init__(self, *, support_fraction: float | None = None, max_fit_rows: int = 5_000,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.support_fraction = support_fraction
        self.max_fit_rows = max_fit_rows

    def _learn(self, x: NDArray[np.float64]) -> None:
        from sklearn.covariance import MinCovDet

        if x.shape[0] > self.max_fit_rows:
            pick = np.random.default_rng(self.seed + 1).choice(x.shape[0], self.max_fit_rows,
                                                               replace=False)
            x = x[np.sort(pick)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "not full rank": handled by the ridge below
            mcd = MinCovDet(support_fraction=self.support_fraction,
                            random_state=self.seed).fit(x)
        cov = np.asarray(mcd.covariance_, dtype=np.float64)
        ridge = 1e-6 * max(float(np.trace(cov)) / cov.shape[0], 1e-12)
        self.location_ = np.asarray(mcd.location_, dtype=np.float64)
        self.precision_ = np.linalg.inv(cov + ridge * np.eye(cov.shape[0]))
        # d = |L^T (x - mu)|^2 with L L^T = P: one matrix product per batch.
        self._whiten = np.linalg.cholesky(self.precision_)

    def _score(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        w = (x - self.location_) @ self._whiten
        return np.asarray(np.einsum("ij,ij->i", w, w), dtype=np.float64)

    def contributions(self, data: Any) -> NDArray[np.float64]:
        """Per row and feature, its share of the squared distance (columns in
        ``features_.feature_names_`` order)."""
        x = self._encoded(data)[0] - self.location_
        return x * (x @ self.precision_)


class KNNOutliers(OutlierDetector):
    """Distance to the k-th nearest neighbour among the training rows (Ramaswamy, Rastogi &
    Shim 2000): a row far from every reference row it could resemble is outlying.

    Exact up to float32 rounding (:class:`.neighbours.KthNeighbours`) against at most
    ``max_reference`` training rows (a random subset, default 2,000).

    Parameters
    ----------
    k : int
        The neighbour whose distance is the score (default 5).
    max_reference : int
        Training rows the neighbours are searched among, at most.
    """

    name = "knn"

    def __init__(self, *, k: int = 5, max_reference: int = 2000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.k = k
        self.max_reference = max_reference

    def _learn(self, x: NDArray[np.float64]) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ConfigError(f"k must be a positive integer, got {self.k!r}")
        if x.shape[0] > self.max_reference:
            pick = np.random.default_rng(self.seed + 2).choice(x.shape[0], self.max_reference,
                                                               replace=False)
            x = x[np.sort(pick)]
        if x.shape[0] <= self.k:
            raise InsufficientDataError(f"knn: k={self.k} needs more than {self.k} rows to "
                                        f"learn from, got {x.shape[0]}")
        self.neighbours_ = np.ascontiguousarray(x)
        self._neighbours = KthNeighbours(self.neighbours_)

    def _score(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return self._neighbours.distances(x, self.k)


class PyODOutliers(OutlierDetector):
    """Any PyOD detector (or any object with ``fit(X)`` and ``decision_function(X)``,
    larger = more outlying, PyOD's convention), calibrated the same way.

    Parameters
    ----------
    detector : str or object
        A PyOD model class name from ``pyod.models`` (``"IForest"``, ``"LOF"``, ``"ECOD"``...,
        needs the ``outliers`` extra: ``pip install 'driftwise[outliers]'``) or an instance.
    params : dict, optional
        Constructor parameters when ``detector`` is a name.
    """

    name = "pyod"

    def __init__(self, detector: Any, *, params: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.detector = detector
        self.params = params

    def _learn(self, x: NDArray[np.float64]) -> None:
        model = self.detector
        if isinstance(model, str):
            model = _pyod_model(model)(**(self.params or {}))
        for method in ("fit", "decision_function"):
            if not callable(getattr(model, method, None)):
                raise ConfigError(f"pyod: the detector {model!r} has no {method}() method")
        model.fit(x)
        self.model_ = model

    def _score(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        scores = np.asarray(self.model_.decision_function(x), dtype=np.float64).reshape(-1)
        if scores.size != x.shape[0] or not np.isfinite(scores).all():
            raise ConfigError(f"pyod: {type(self.model_).__name__}.decision_function returned "
                              f"{scores.size} scores for {x.shape[0]} rows, or non-finite ones")
        return scores


def _pyod_model(name: str) -> Any:
    import importlib

    try:
        importlib.import_module("pyod")
    except ImportError:
        from driftwise.detect.geometry._encoder import MissingExtraError

        raise MissingExtraError(f"PyOD detectors need the outliers extra "
                                f"({OUTLIERS_EXTRA_HINT})") from None
    module_name = "pyod.models." + _PYOD_MODULES.get(name, name.lower())
    try:
        module = importlib.import_module(module_name)
        return getattr(module, name)
    except (ImportError, AttributeError):
        raise ConfigError(f"pyod: no detector {name!r} (looked for {module_name}.{name})"
                          ) from None


_PYOD_MODULES = {"IForest": "iforest", "KNN": "knn", "LOF": "lof", "ECOD": "ecod",
                 "COPOD": "copod", "HBOS": "hbos", "OCSVM": "ocsvm", "PCA": "pca",
                 "MCD": "mcd", "CBLOF": "cblof", "LODA": "loda", "INNE": "inne"}

