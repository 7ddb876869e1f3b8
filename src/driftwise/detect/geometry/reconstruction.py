"""PCA reconstruction-error drift: does the current data still lie on the reference's subspace?

PCA is fitted on one random half of the (standardised) reference, keeping the smallest
number of components that explains ``variance`` of it (at most d - 1, so that a residual
remains); every row's error is the squared
distance to its reconstruction. The other half of the reference gives the error level of
unseen no-drift data, and its chunks (at least ten, of up to the current sample's size)
give the chunk-to-chunk variability, scaled to the current's size; the standard error of
the reference level is added. The current mean error drifts when it leaves the level ± ``k``
of these standard deviations (a three-sigma band by default, as in NannyML's data
reconstruction drift).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftwise.detect.geometry._matrix import FloatMatrix
from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError

MIN_REFERENCE_ROWS = 20
MIN_CHUNKS = 10


@dataclass(frozen=True)
class ReconstructionResult:
    """Mean reconstruction error of the current rows against the reference band."""

    n_components: int
    variance_kept: float
    reference_error: float
    current_error: float
    lower: float
    upper: float
    drift_detected: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


class ReconstructionDrift:
    """Fit PCA on the reference; compare the current reconstruction error with its band.

    Parameters
    ----------
    variance : float
        Share of the reference variance the kept components explain (0 < variance ≤ 1).
    k : float
        Width of the band in chunk standard deviations.
    seed : int
        Seed of the reference split.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> latent = rng.normal(size=(2000, 2))
    >>> ref = latent @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(2000, 6))
    >>> cur = ref[:500].copy(); cur[:, 0] = rng.normal(size=500)
    >>> ReconstructionDrift().fit(ref).compare(cur).drift_detected
    True
    """

    def __init__(self, *, variance: float = 0.9, k: float = 3.0, seed: int = 0) -> None:
        self.variance = variance
        self.k = k
        self.seed = seed

    def fit(self, reference: FloatMatrix) -> ReconstructionDrift:
        """Learn the scaling, the components and the held-out errors of the reference."""
        if not 0.0 < self.variance <= 1.0:
            raise ConfigError(f"variance must lie in (0, 1], got {self.variance}")
        n = reference.shape[0]
        if n < MIN_REFERENCE_ROWS:
            raise InsufficientDataError(
                f"PCA reconstruction drift needs at least {MIN_REFERENCE_ROWS} reference rows, "
                f"got {n}"
            )
        x = reference.astype(np.float64)
        self.mean_ = x.mean(axis=0)
        sd = x.std(axis=0)
        self.scale_ = np.where(sd > 0, sd, 1.0)
        order = np.random.default_rng(self.seed).permutation(n)
        fit_rows, held_rows = order[: n // 2], order[n // 2:]
        xs = (x - self.mean_) / self.scale_
        centre = xs[fit_rows].mean(axis=0)
        _, s, vt = np.linalg.svd(xs[fit_rows] - centre, full_matrices=False)
        explained = np.cumsum(s**2) / max(float((s**2).sum()), 1e-300)
        n_comp = int(np.searchsorted(explained, self.variance - 1e-12) + 1)
        # Keeping every direction would leave no residual to watch: keep at most d - 1.
        n_comp = max(1, min(n_comp, vt.shape[0], x.shape[1] - 1))
        self.centre_ = centre
        self.components_ = vt[:n_comp]
        self.variance_kept_ = float(explained[n_comp - 1])
        self.reference_errors_ = self._errors(xs[held_rows])
        return self

    def _errors(self, xs: NDArray[np.float64]) -> NDArray[np.float64]:
        c = xs - self.centre_
        recon = (c @ self.components_.T) @ self.components_
        errors: NDArray[np.float64] = ((c - recon) ** 2).sum(axis=1)
        return errors

    def compare(self, current: FloatMatrix) -> ReconstructionResult:
        """The current mean error and whether it leaves the reference band."""
        if not hasattr(self, "components_"):
            raise NotFittedError("this ReconstructionDrift is not fitted: call fit first")
        xs = (current.astype(np.float64) - self.mean_) / self.scale_
        errors = self._errors(xs)
        ref = self.reference_errors_
        n_cur = current.shape[0]
        chunk = max(1, min(n_cur, ref.size // MIN_CHUNKS))
        n_chunks = ref.size // chunk
        if n_chunks >= MIN_CHUNKS and chunk > 1:
            chunk_means = ref[: n_chunks * chunk].reshape(n_chunks, chunk).mean(axis=1)
            # Chunks hold `chunk` rows; their variance is scaled to the current's size.
            var_current = float(chunk_means.var(ddof=1)) * chunk / n_cur
        else:
            var_current = float(ref.var(ddof=1)) / n_cur
        # The reference level is itself an estimate: its own variance widens the band.
        sd = math.sqrt(var_current + float(ref.var(ddof=1)) / ref.size)
        centre = float(ref.mean())
        lower, upper = centre - self.k * sd, centre + self.k * sd
        value = float(errors.mean())
        # Rounding-level differences are not drift (a constant or fully explained residual).
        outside = (value < lower or value > upper) and abs(value - centre) > 1e-9 * max(
            1.0, abs(centre))
        return ReconstructionResult(
            int(self.components_.shape[0]), self.variance_kept_, centre, value, lower, upper,
            bool(outside),
        )
