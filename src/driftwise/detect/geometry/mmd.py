"""Maximum mean discrepancy (MMD) two-sample tests with a Gaussian RBF kernel.

Unbiased MMD² (Gretton et al. 2012, *A kernel two-sample test*, JMLR 13, Lemma 6):

    MMD²_u = Σ_{i≠j} k(x_i, x_j) / (n(n-1)) + Σ_{i≠j} k(y_i, y_j) / (m(m-1))
             - 2 Σ_{i,j} k(x_i, y_j) / (nm)

All permutations come from ONE joint kernel matrix K of the pooled sample: with a label
vector a (1 for rows labelled "reference"), aᵀKa and aᵀK1 give the three sums (the
diagonal of an RBF kernel is 1, so the i≠j corrections are the constants n and m). B
label vectors as the columns of an N×B matrix A need one product K·A, computed by row
blocks so that K never has to be held whole. The permutation p-value is
(1 + #{permuted ≥ observed}) / (1 + B) (Phipson & Smyth 2010), exact at any size.

For samples too large for N² work the block test (Zaremba, Gretton & Blaschko 2013, *B-test:
a non-parametric, low variance kernel two-sample test*, NeurIPS) averages unbiased MMD²
over disjoint blocks and uses the normal approximation of that mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from driftwise._lazy import LazyModule
from driftwise.detect.geometry._matrix import FloatMatrix
from driftwise.errors import ConfigError, InsufficientDataError

if TYPE_CHECKING:
    from scipy import stats
else:  # imported on first use (driftwise._lazy.preload starts it early)
    stats = LazyModule("scipy.stats")

#: Rows in the median-heuristic subsample (its pairwise distances are computed in full).
MEDIAN_SAMPLE = 1000
#: Bytes of one kernel row block (the only N-wide temporaries).
BLOCK_BYTES = 64 * 2**20
MIN_PERMUTATION_ROWS = 4
BACKENDS = ("numpy", "torch")


@dataclass(frozen=True)
class MMDResult:
    """Outcome of an MMD test.

    Attributes
    ----------
    statistic : float
        The unbiased MMD² estimate (can be slightly negative under no drift).
    p_value : float
        Permutation p-value, or the normal-approximation p-value of the block test.
    effect : float
        ``sqrt(max(MMD², 0))``: the distance between the kernel mean embeddings.
    bandwidths : tuple of float
        The RBF bandwidths used (the kernel is their mean).
    method : str
        ``"permutation"`` or ``"block"``.
    n_permutations : int
        Permutations drawn (0 for the block test).
    """

    statistic: float
    p_value: float
    effect: float
    bandwidths: tuple[float, ...]
    method: str
    n_permutations: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        out = asdict(self)
        out["bandwidths"] = list(self.bandwidths)
        return out


def median_bandwidth(z: FloatMatrix, seed: int = 0) -> float:
    """Median pairwise Euclidean distance of (a subsample of) ``z``.

    The heuristic of Gretton et al. (2012, sec. 8); computed on the pooled sample it does
    not depend on which rows are labelled reference, so permutation p-values stay exact.
    A constant sample (median 0) gets bandwidth 1.
    """
    if z.shape[0] > MEDIAN_SAMPLE:
        idx = np.random.default_rng(seed).choice(z.shape[0], MEDIAN_SAMPLE, replace=False)
        z = z[np.sort(idx)]
    z64 = z.astype(np.float64)
    sq = np.einsum("ij,ij->i", z64, z64)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (z64 @ z64.T)
    upper = d2[np.triu_indices(z64.shape[0], k=1)]
    med = float(np.median(np.maximum(upper, 0.0))) if upper.size else 0.0
    return math.sqrt(med) if med > 0 else 1.0


def resolve_bandwidths(z: FloatMatrix, bandwidth: float | Sequence[float] | None,
                       scales: Sequence[float], seed: int) -> tuple[float, ...]:
    """Bandwidths: explicit value(s), or the median heuristic times each of ``scales``."""
    if bandwidth is None:
        base = median_bandwidth(z, seed)
        values = tuple(base * float(s) for s in scales)
    elif isinstance(bandwidth, int | float):
        values = (float(bandwidth),)
    else:
        values = tuple(float(b) for b in bandwidth)
    if not values or any(not math.isfinite(b) or b <= 0 for b in values):
        raise ConfigError(f"MMD bandwidths must be positive numbers, got {values}")
    return values


def _label_matrix(n: int, m: int, n_permutations: int, seed: int,
                  dtype: Any) -> NDArray[Any]:
    """N×(B+1) 0/1 matrix: column 0 the observed labels, then B random relabellings."""
    base = np.zeros(n + m, dtype=dtype)
    base[:n] = 1
    rng = np.random.default_rng(seed)
    perms = rng.permuted(np.tile(base, (n_permutations, 1)), axis=1)
    return np.ascontiguousarray(np.vstack([base[None, :], perms]).T)


def _kernel_block(zb: FloatMatrix, z: FloatMatrix, sq_b: FloatMatrix, sq: FloatMatrix,
                  start: int, gammas: Sequence[float]) -> FloatMatrix:
    """Rows ``start:start+len(zb)`` of the mean-of-RBF kernel matrix, computed in place."""
    d2 = zb @ z.T
    d2 *= -2.0
    d2 += sq_b[:, None]
    d2 += sq[None, :]
    np.maximum(d2, 0.0, out=d2)
    if len(gammas) == 1:
        d2 *= -gammas[0]
        k = np.exp(d2, out=d2)
    else:
        k = np.zeros_like(d2)
        for g in gammas:
            k += np.exp(d2 * (-g))
        k /= len(gammas)
    rows = np.arange(zb.shape[0])
    k[rows, start + rows] = 1.0
    return k


def _quadratic_forms_numpy(z: FloatMatrix, labels: NDArray[Any], gammas: Sequence[float],
                           ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Per label column: aᵀKa and aᵀK1; and 1ᵀK1, from row blocks of K."""
    n_rows = z.shape[0]
    sq = np.einsum("ij,ij->i", z, z)
    block = max(1, min(n_rows, BLOCK_BYTES // (z.dtype.itemsize * n_rows)))
    quad = np.zeros(labels.shape[1])
    cross = np.zeros(labels.shape[1])
    total = 0.0
    for start in range(0, n_rows, block):
        stop = min(n_rows, start + block)
        k = _kernel_block(z[start:stop], z, sq[start:stop], sq, start, gammas)
        ka = k @ labels
        row_sums = k.sum(axis=1, dtype=np.float64)
        lb = labels[start:stop].astype(np.float64)
        quad += np.einsum("ij,ij->j", lb, ka.astype(np.float64))
        cross += row_sums @ lb
        total += float(row_sums.sum())
    return quad, cross, total


def _quadratic_forms_torch(z: FloatMatrix, labels: NDArray[Any], gammas: Sequence[float],
                           device: str | None) -> tuple[NDArray[np.float64],
                                                        NDArray[np.float64], float]:
    torch = import_torch()
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    zt = torch.from_numpy(z).to(dev)
    lt = torch.from_numpy(labels).to(dev)
    n_rows = z.shape[0]
    sq = (zt * zt).sum(dim=1)
    block = max(1, min(n_rows, BLOCK_BYTES // (z.dtype.itemsize * n_rows)))
    quad = torch.zeros(labels.shape[1], dtype=torch.float64, device=dev)
    cross = torch.zeros(labels.shape[1], dtype=torch.float64, device=dev)
    total = torch.zeros((), dtype=torch.float64, device=dev)
    with torch.no_grad():
        for start in range(0, n_rows, block):
            stop = min(n_rows, start + block)
            d2 = torch.clamp(sq[start:stop, None] + sq[None, :]
                             - 2.0 * (zt[start:stop] @ zt.T), min=0.0)
            k = sum(torch.exp(-g * d2) for g in gammas) / len(gammas)
            rows = torch.arange(stop - start, device=dev)
            k[rows, start + rows] = 1.0
            ka = (k @ lt).double()
            lb = lt[start:stop].double()
            row_sums = k.sum(dim=1, dtype=torch.float64)
            quad += (lb * ka).sum(dim=0)
            cross += row_sums @ lb
            total += row_sums.sum()
    return (quad.cpu().numpy(), cross.cpu().numpy(), float(total.cpu()))


def import_torch() -> Any:
    """torch, or a ConfigError that names the extra to install."""
    try:
        import torch
    except ImportError:
        raise ConfigError(
            "the torch backend needs PyTorch: pip install 'driftwise[torch]' "
            "(or use backend='numpy')"
        ) from None
    return torch


def _mmd2_from_forms(quad: NDArray[np.float64], cross: NDArray[np.float64], total: float,
                     n: int, m: int) -> NDArray[np.float64]:
    s_xx = quad - n
    s_xy = cross - quad
    s_yy = total - 2.0 * cross + quad - m
    result: NDArray[np.float64] = (s_xx / (n * (n - 1)) + s_yy / (m * (m - 1))
                                   - 2.0 * s_xy / (n * m))
    return result


def _pooled(x: FloatMatrix, y: FloatMatrix) -> FloatMatrix:
    dtype = np.float32 if x.dtype == np.float32 and y.dtype == np.float32 else np.float64
    z = np.concatenate([x, y]).astype(dtype, copy=False)
    # Centring is invariant for distances and keeps float32 Gram arithmetic accurate.
    z = z - z.mean(axis=0, dtype=np.float64).astype(dtype)
    return np.ascontiguousarray(z)


def mmd_permutation_test(
    x: FloatMatrix, y: FloatMatrix, *, bandwidth: float | Sequence[float] | None = None,
    scales: Sequence[float] = (1.0,), n_permutations: int = 100, seed: int = 0,
    backend: str = "numpy", device: str | None = None,
) -> MMDResult:
    """Permutation MMD test from one joint kernel matrix (see the module docstring).

    Parameters
    ----------
    x, y : 2-D arrays
        Reference and current samples (rows); float32 inputs are computed in float32.
    bandwidth : float, sequence of float or None
        RBF bandwidth(s) σ in ``exp(-‖a-b‖² / (2σ²))``; ``None``: the median heuristic.
    scales : sequence of float
        Multipliers of the median bandwidth (several give a mean of kernels).
    n_permutations : int
        Random relabellings; the p-value resolution is ``1 / (1 + n_permutations)``.
    seed : int
        Seed of the permutations: the same data and seed give the same p-value.
    backend : {"numpy", "torch"}
        ``"torch"`` runs the kernel and the product on a GPU when one is available.

    Returns
    -------
    MMDResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(200, 5)), rng.normal(0.5, 1, size=(200, 5))
    >>> mmd_permutation_test(x, y, n_permutations=99).p_value
    0.01
    """
    n, m = x.shape[0], y.shape[0]
    if min(n, m) < MIN_PERMUTATION_ROWS:
        raise InsufficientDataError(
            f"the MMD permutation test needs at least {MIN_PERMUTATION_ROWS} rows per sample, "
            f"got {n} and {m}"
        )
    if n_permutations < 1:
        raise ConfigError(f"n_permutations must be at least 1, got {n_permutations}")
    if backend not in BACKENDS:
        raise ConfigError(f"backend: unknown value {backend!r}; choose one of numpy, torch")
    z = _pooled(x, y)
    sigmas = resolve_bandwidths(z, bandwidth, scales, seed)
    gammas = [1.0 / (2.0 * s * s) for s in sigmas]
    labels = _label_matrix(n, m, n_permutations, seed, z.dtype)
    if backend == "torch":
        quad, cross, total = _quadratic_forms_torch(z, labels, gammas, device)
    else:
        quad, cross, total = _quadratic_forms_numpy(z, labels, gammas)
    mmd2 = _mmd2_from_forms(quad, cross, total, n, m)
    observed = float(mmd2[0])
    # Float rounding can split permutations that equal the observed labelling; count those
    # within a relative 1e-9 (float64) / 1e-5 (float32) as ties, which favours "no drift".
    tol = (1e-5 if z.dtype == np.float32 else 1e-9) * max(1.0, float(np.abs(mmd2).max()))
    exceed = int(np.count_nonzero(mmd2[1:] >= observed - tol))
    p_value = (1 + exceed) / (1 + n_permutations)
    return MMDResult(observed, p_value, math.sqrt(max(observed, 0.0)), sigmas, "permutation",
                     n_permutations)


def mmd2_unbiased(x: FloatMatrix, y: FloatMatrix, bandwidths: Sequence[float]) -> float:
    """Unbiased MMD² by its definition (O(N²) memory), the reference for the fast paths."""
    x64, y64 = x.astype(np.float64), y.astype(np.float64)

    def gram(a: FloatMatrix, b: FloatMatrix) -> FloatMatrix:
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        kernel: FloatMatrix = np.mean([np.exp(-d2 / (2 * s * s)) for s in bandwidths], axis=0)
        return kernel

    n, m = len(x64), len(y64)
    kxx, kyy, kxy = gram(x64, x64), gram(y64, y64), gram(x64, y64)
    return float((kxx.sum() - np.trace(kxx)) / (n * (n - 1))
                 + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())


def mmd_block_test(
    x: FloatMatrix, y: FloatMatrix, *, bandwidth: float | Sequence[float] | None = None,
    scales: Sequence[float] = (1.0,), block_size: int | None = None, seed: int = 0,
) -> MMDResult:
    """Block MMD test (B-test): O(N·block) time, asymptotic normal p-value.

    Both samples are shuffled (fixed seed) and cut into the same number of blocks; each
    block gives an unbiased MMD² and the one-sided p-value is that of the blocks' mean
    under a normal null with the blocks' own variance. ``block_size`` (reference rows per
    block) defaults to ``sqrt(n)``, as Zaremba et al. recommend.
    """
    n, m = x.shape[0], y.shape[0]
    bx = block_size or max(2, int(math.sqrt(n)))
    n_blocks = n // bx
    by = m // max(n_blocks, 1)
    if n_blocks < 2 or bx < 2 or by < 2:
        raise InsufficientDataError(
            f"the block MMD test needs at least two blocks of two rows per sample; got {n} and "
            f"{m} rows with blocks of {bx}: use the permutation test"
        )
    z = _pooled(x, y)
    sigmas = resolve_bandwidths(z, bandwidth, scales, seed)
    rng = np.random.default_rng(seed)
    xb = z[:n][rng.permutation(n)[: n_blocks * bx]].reshape(n_blocks, bx, -1)
    yb = z[n:][rng.permutation(m)[: n_blocks * by]].reshape(n_blocks, by, -1)
    values = np.empty(n_blocks)
    for i in range(n_blocks):
        values[i] = _block_mmd2(xb[i], yb[i], sigmas)
    mean = float(values.mean())
    sd = float(values.std(ddof=1))
    if sd == 0.0:
        p_value = 1.0 if mean <= 0 else 0.0
    else:
        p_value = float(stats.norm.sf(mean / (sd / math.sqrt(n_blocks))))
    return MMDResult(mean, p_value, math.sqrt(max(mean, 0.0)), sigmas, "block", 0)


def _block_mmd2(xb: FloatMatrix, yb: FloatMatrix, sigmas: Sequence[float]) -> float:
    zb = np.concatenate([xb, yb])
    gammas = [1.0 / (2.0 * s * s) for s in sigmas]
    sq = np.einsum("ij,ij->i", zb, zb)
    k = _kernel_block(zb, zb, sq, sq, 0, gammas).astype(np.float64)
    n, m = len(xb), len(yb)
    kxx, kyy, kxy = k[:n, :n], k[n:, n:], k[:n, n:]
    return float((kxx.sum() - n) / (n * (n - 1)) + (kyy.sum() - m) / (m * (m - 1))
                 - 2 * kxy.mean())


def mmd_test(x: FloatMatrix, y: FloatMatrix, *, method: str = "auto",
             max_permutation_rows: int = 20_000, **kwargs: Any) -> MMDResult:
    """MMD test: permutation up to ``max_permutation_rows`` pooled rows, block test above."""
    if method not in ("auto", "permutation", "block"):
        raise ConfigError(f"MMD method: unknown value {method!r}; choose auto, permutation, "
                          "block")
    if method == "auto":
        method = "permutation" if x.shape[0] + y.shape[0] <= max_permutation_rows else "block"
    if method == "block":
        kwargs.pop("n_permutations", None)
        kwargs.pop("backend", None)
        kwargs.pop("device", None)
        return mmd_block_test(x, y, **kwargs)
    kwargs.pop("block_size", None)
    return mmd_permutation_test(x, y, **kwargs)
