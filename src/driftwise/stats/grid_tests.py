"""Two-sample tests on grid summaries (:mod:`driftwise.stats.grid`), with their error stated.

The two empirical CDFs are known exactly at every edge, so the KS statistic seen on the
grid, ``D_grid = max_j |F(e_j) - G(e_j)|``, is an exact statistic of the data, and the true
``D`` lies in ``[D_grid, D_grid + max cell mass]``. Its null distribution is the one of the
two-sample empirical process *observed at the edges only*: asymptotically the maximum of a
Brownian bridge over a grid of times, not over the whole interval, so Smirnov's law alone
would make the test conservative. The p-value applies the continuity correction of
discretely monitored Brownian motion, which shifts the boundary by ``β √Δ`` with
``β = -ζ(1/2) / √(2π) ≈ 0.5826`` and ``Δ`` the spacing of the monitoring times (Broadie,
Glasserman & Kou, "A continuity correction for discrete barrier options", Mathematical
Finance 7(4), 1997; for the two-sided barrier each side shifts). Here ``Δ`` is the pooled
mass of a cell, averaged over the cells whose values are not all equal to their right edge
(an atom hides nothing between edges; as on the exact path, ties stay conservative).

Why not a quantile sketch with a widened critical value: at a million rows the KS critical
value is about 0.0019 and at 100 million 0.00019, far below the rank error of a sketch of
practical size (about 0.013 for KLL at its default k = 200, 0.003 at k = 1,000).
Ignoring the error fires on data that did not change; widening the critical value by it
makes the test all but blind. Exact counts on a fixed grid keep the false-alarm rate at
its level at every size (measured in docs/scale.md).

The Wasserstein effect is exact per cell from the cells' sums (integration by parts:
``∫_a^b F = b F(b) - a F(a) - S/n``) wherever ``F - G`` keeps its sign inside the cell, and
bounded where it may change sign.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from driftwise._lazy import LazyModule
from driftwise.stats._result import TwoSampleResult
from driftwise.stats.distances import count_distance_result
from driftwise.stats.grid import GridSample

if TYPE_CHECKING:
    from scipy import special
    from scipy import stats as sps
else:  # imported on first use (driftwise._lazy.preload starts it early)
    special = LazyModule("scipy.special")
    sps = LazyModule("scipy.stats")

#: -zeta(1/2) / sqrt(2 pi): Broadie, Glasserman & Kou's discrete-monitoring constant.
BGK_BETA = 0.5825971579390106
EFFECT_NAME = "wasserstein_normed"
#: A cell is an atom when its values' sum equals count x right edge to this relative error.
ATOM_RTOL = 1e-9


class GridPair:
    """A reference and a current :class:`GridSample` on the same edges.

    Parameters
    ----------
    edges : array
        The grid (validated by :func:`driftwise.stats.grid.check_edges`).
    reference, current : GridSample
        Non-empty summaries on ``edges``.
    """

    def __init__(self, edges: NDArray[np.float64], reference: GridSample,
                 current: GridSample) -> None:
        if reference.counts.size != edges.size + 1 or current.counts.size != edges.size + 1:
            raise ValueError("both summaries must be on the given edges")
        if reference.n == 0 or current.n == 0:
            raise ValueError("each summary needs at least one value")
        self.edges = edges
        self.reference = reference
        self.current = current
        self.n_reference = reference.n
        self.n_current = current.n

    # -- the empirical CDFs at the edges -------------------------------------------
    @cached_property
    def cdfs(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Both samples' ECDFs at every edge, then 1.0 past the last."""
        ref = np.cumsum(self.reference.counts) / self.n_reference
        cur = np.cumsum(self.current.counts) / self.n_current
        return ref, cur

    @cached_property
    def _atoms(self) -> NDArray[np.bool_]:
        """Cells whose pooled values all equal the cell's right edge (empty cells too)."""
        counts = self.reference.counts + self.current.counts
        sums = self.reference.sums + self.current.sums
        right = np.append(self.edges, np.inf)
        with np.errstate(invalid="ignore", over="ignore"):
            atom: NDArray[np.bool_] = np.abs(sums - counts * right) <= ATOM_RTOL * np.abs(
                counts * right)
        atom[counts == 0] = True
        atom[-1] = counts[-1] == 0
        return atom

    @cached_property
    def pooled_spread_masses(self) -> NDArray[np.float64]:
        """Pooled mass of each cell that holds values other than its right edge."""
        counts = self.reference.counts + self.current.counts
        spread_counts = np.where(self._atoms, 0, counts).astype(np.float64)
        # The first cell's values below e[0] are spread; the rest of it is the atom at e[0].
        spread_counts[0] = self.reference.below + self.current.below
        total = self.n_reference + self.n_current
        masses: NDArray[np.float64] = spread_counts[spread_counts > 0] / total
        return masses

    @cached_property
    def reference_on_edges(self) -> bool:
        """Whether every reference value is an edge (a grid of its distinct values)."""
        ref = self.reference
        with np.errstate(invalid="ignore", over="ignore"):
            on = np.abs(ref.sums[:-1] - ref.counts[:-1] * self.edges) <= ATOM_RTOL * np.abs(
                ref.counts[:-1] * self.edges)
        return bool(np.all(on | (ref.counts[:-1] == 0))) and ref.below == 0 \
            and ref.counts[-1] == 0

    def value_counts(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Aligned counts of the cells as values: below the grid, at each edge (with the
        values since the previous edge), above it; cells empty in both samples dropped."""
        def split(sample: GridSample) -> NDArray[np.int64]:
            return np.concatenate([[sample.below, sample.counts[0] - sample.below],
                                   sample.counts[1:]]).astype(np.int64)

        ref, cur = split(self.reference), split(self.current)
        keep = (ref + cur) > 0
        return ref[keep], cur[keep]

    @property
    def exact(self) -> bool:
        """Whether every pooled value is an edge (the grid then sees everything)."""
        return self.pooled_spread_masses.size == 0

    @property
    def max_cell_mass(self) -> float:
        """The largest share of either sample in one cell: ``D - D_grid`` is at most this."""
        if self.exact:
            return 0.0
        return float(max(self.reference.counts.max() / self.n_reference,
                         self.current.counts.max() / self.n_current))

    # -- KS ------------------------------------------------------------------------
    def ks(self) -> TwoSampleResult:
        """Two-sample KS on the grid; p-value corrected for observing only the edges."""
        ref, cur = self.cdfs
        d = float(min(np.max(np.abs(ref - cur)), 1.0))
        n1, n2 = float(self.n_reference), float(self.n_current)
        en = float(np.round(n1 * n2 / (n1 + n2)))
        masses = self.pooled_spread_masses
        if masses.size:
            # The root of the monitoring step, averaged with weights the time in each step
            # (where the bridge crosses is spread over time).
            root_step = float(np.sum(masses**1.5) / np.sum(masses))
            shifted = min(d + BGK_BETA * root_step / math.sqrt(en), 1.0) if d > 0 else 0.0
            method = "grid"
        else:
            shifted, method = d, "grid-exact"
        p = float(sps.kstwo.sf(shifted, en)) if shifted > 0 else 1.0
        return self._result("ks", d, p, method)

    # -- Mann–Whitney --------------------------------------------------------------
    def mannwhitney(self) -> TwoSampleResult:
        """Two-sided Mann–Whitney U on the gridded data (cells as tie groups).

        Values within one cell count as ties: this is the U test of the data coarsened to
        the grid, with the normal approximation and its tie and continuity corrections
        (the same formula as the exact path's large-sample test).
        """
        r = self.reference.counts.astype(np.float64)
        c = self.current.counts.astype(np.float64)
        n1, n2 = float(self.n_reference), float(self.n_current)
        t = r + c
        below = np.concatenate([[0.0], np.cumsum(t)[:-1]])
        midrank = below + (t + 1.0) / 2.0
        u1 = float(np.sum(r * midrank)) - n1 * (n1 + 1.0) / 2.0
        u2 = n1 * n2 - u1
        n = n1 + n2
        tie_term = float(np.sum(t**3 - t))
        var = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))
        if var <= 0.0:
            return self._result("mannwhitney", u1, 1.0, "constant")
        z = (max(u1, u2) - n1 * n2 / 2.0 - 0.5) / math.sqrt(var)
        return self._result("mannwhitney", u1, 2.0 * float(special.ndtr(-z)), "grid")

    # -- Wasserstein ---------------------------------------------------------------
    @cached_property
    def _wasserstein_bounds(self) -> tuple[float, float]:
        """Lower and upper bounds of W1 from the cells' counts and sums."""
        e = self.edges
        ref_f, cur_f = self.cdfs
        n1, n2 = self.n_reference, self.n_current
        rs, cs = self.reference.sums, self.current.sums
        with np.errstate(over="ignore", invalid="ignore"):
            # Signed integral of F - G over each finite cell (e[i-1], e[i]].
            right_f, left_f = ref_f[1:-1], ref_f[:-2]
            right_g, left_g = cur_f[1:-1], cur_f[:-2]
            width = np.diff(e)
            integral = (e[1:] * (right_f - right_g) - e[:-1] * (left_f - left_g)
                        - rs[1:-1] / n1 + cs[1:-1] / n2)
            # Below e[0] and above e[K]: exact from the tails' counts and sums, one
            # integral per sample (of F below e[0], of 1 - F above e[K]).
            low_f, low_g = ref_f[0] * e[0] - rs[0] / n1, cur_f[0] * e[0] - cs[0] / n2
            high_f = rs[-1] / n1 - (1 - ref_f[-2]) * e[-1]
            high_g = cs[-1] / n2 - (1 - cur_f[-2]) * e[-1]
            lower = float(np.sum(np.abs(integral)) + abs(low_f - low_g)
                          + abs(high_g - high_f))
            # Inside a cell F - G lies in [F(a) - G(b), F(b) - G(a)]; only where that range
            # straddles 0 can |F - G| differ from the integral's sign.
            lo, hi = left_f - right_g, right_f - left_g
            straddle = (lo < 0) & (hi > 0) & ~self._atoms[1:-1]
            slack = np.where(straddle, width * np.maximum(-lo, hi) - np.abs(integral), 0.0)
            # In a tail both samples reach, |F - G| is at most F + G.
            tails = 2.0 * (max(min(low_f, low_g), 0.0) + max(min(high_f, high_g), 0.0))
            upper = lower + float(np.sum(np.maximum(slack, 0.0))) + tails
        if not (math.isfinite(lower) and math.isfinite(upper)):
            return self._midpoint_wasserstein()
        return max(lower, 0.0), upper

    def _midpoint_wasserstein(self) -> tuple[float, float]:
        """W1 on values too large for their sums: |F - G| at edges, in units of the largest
        edge (no tails beyond the grid; both bounds are this estimate)."""
        e = self.edges
        unit = max(abs(float(e[0])), abs(float(e[-1])), 1e-300)
        ref_f, cur_f = self.cdfs
        gap = np.abs(ref_f[:-1] - cur_f[:-1])
        value = float(np.sum(0.5 * (gap[1:] + gap[:-1]) * np.diff(e / unit))) * unit
        return value, value

    @property
    def wasserstein(self) -> float:
        """The estimate of W1: the lower bound, exact where no cell hides a sign change."""
        return self._wasserstein_bounds[0]

    @property
    def wasserstein_error(self) -> float:
        """How far the true W1 may lie above :attr:`wasserstein`."""
        low, high = self._wasserstein_bounds
        return high - low

    @cached_property
    def scale(self) -> float:
        """Reference standard deviation; the pooled one if the reference is constant; 1.0."""
        if self.reference.std > 0:
            return self.reference.std
        pooled = self.reference.merge(self.current).std
        return pooled if pooled > 0 else 1.0

    @property
    def wasserstein_normed(self) -> float:
        """W1 in reference standard deviations."""
        value = self.wasserstein / self.scale
        return value if math.isfinite(value) else float("inf")

    def wasserstein_result(self) -> TwoSampleResult:
        """W1 as a distance result (effect normed), like the exact path's ``wasserstein``."""
        return TwoSampleResult("wasserstein", self.wasserstein, None, self.wasserstein_normed,
                               EFFECT_NAME, "grid")

    # -- binned distances ----------------------------------------------------------
    def coarse_counts(self, bins: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Both samples' counts in ``bins`` reference-quantile bins made of whole cells.

        Each coarse edge is the first grid edge at which the reference ECDF reaches
        ``k / bins``; the outer bins are open, as on the exact path.
        """
        ref_f, _ = self.cdfs
        targets = np.arange(1, bins) / bins
        cuts = np.unique(np.searchsorted(ref_f[:-1], targets - 1e-12, side="left"))
        cuts = cuts[cuts < self.edges.size - 1]
        bounds = np.concatenate([[0], cuts + 1, [self.edges.size + 1]])
        ref = np.add.reduceat(self.reference.counts, bounds[:-1])
        cur = np.add.reduceat(self.current.counts, bounds[:-1])
        return ref.astype(np.int64), cur.astype(np.int64)

    def distance(self, test: str, bins: int) -> TwoSampleResult:
        """A binned distance (psi, jensenshannon, kl, hellinger) on coarse bins."""
        ref, cur = self.coarse_counts(bins)
        return count_distance_result(test, ref, cur)

    def _result(self, test: str, statistic: float, p_value: float, method: str) -> (
        TwoSampleResult
    ):
        return TwoSampleResult(test=test, statistic=float(statistic),
                               p_value=float(min(max(p_value, 0.0), 1.0)),
                               effect=self.wasserstein_normed, effect_name=EFFECT_NAME,
                               method=method)
