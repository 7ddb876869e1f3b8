"""Average run lengths of CUSUM, EWMA and Shewhart charts, and thresholds for a target ARL0.

All run lengths assume independent normal values with the reference mean and sd (the
standardised statistic is N(shift, 1)); they count updates, the alarm included. The
in-control ARL (``shift=0``) is the mean number of updates between false alarms; the
zero-state ARL under a shift is the expected detection delay when the shift is present from
the first update after a (re)start.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from driftwise.errors import ConfigError
from driftwise.stream.ewma import limit_factors

__all__ = [
    "CusumDesign",
    "EwmaDesign",
    "calibrate_cusum",
    "calibrate_ewma",
    "cusum_arl",
    "ewma_arl",
    "shewhart_arl",
    "shewhart_limit",
]

_NODES = 64
_EWMA_NODES = 160


def _phi(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return out


def _solve(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Gaussian elimination with partial pivoting, in NumPy row operations.

    LAPACK would call multithreaded BLAS, which on a busy small machine stalls for a large
    multiple of the microseconds these systems (under 200 unknowns) take.
    """
    a = np.array(a, dtype=np.float64)
    x = np.array(b, dtype=np.float64)
    n = x.size
    for i in range(n - 1):
        p = i + int(np.argmax(np.abs(a[i:, i])))
        if p != i:
            a[[i, p]] = a[[p, i]]
            x[[i, p]] = x[[p, i]]
        factor = a[i + 1:, i] / a[i, i]
        a[i + 1:, i:] -= np.multiply.outer(factor, a[i, i:])
        x[i + 1:] -= factor * x[i]
    for i in range(n - 1, -1, -1):
        x[i] = (x[i] - (a[i, i + 1:] * x[i + 1:]).sum()) / a[i, i]
    return x


def _vecmat(v: npt.NDArray[np.float64], m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``v @ m`` without BLAS (see :func:`_solve`)."""
    out: npt.NDArray[np.float64] = (v[:, None] * m).sum(axis=0)
    return out


@lru_cache(maxsize=8)
def _legendre(n: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    x, w = np.polynomial.legendre.leggauss(n)
    return x, w


def _gauss(lo: float, hi: float, n: int) -> tuple[npt.NDArray[np.float64],
                                                   npt.NDArray[np.float64]]:
    x, w = _legendre(n)
    half = 0.5 * (hi - lo)
    return lo + half * (x + 1.0), half * w


def _one_sided_cusum_arl(h: float, drift: float) -> float:
    """ARL from 0 of ``S = max(0, S + a)``, ``a ~ N(drift, 1)``, alarm when ``S > h``.

    Nyström solution of Page's integral equation (Page 1954; Goel & Wu 1971):
    ``L(s) = 1 + Phi(-s - drift) L(0) + int_0^h L(y) phi(y - s - drift) dy``.
    """
    y, w = _gauss(0.0, h, _NODES)
    points = np.concatenate(([0.0], y))
    kernel = _phi(y[None, :] - points[:, None] - drift) * w[None, :]
    a = np.zeros((_NODES + 1, _NODES + 1))
    a[:, 0] = ndtr(-points - drift)
    a[:, 1:] = kernel
    lengths = _solve(np.eye(_NODES + 1) - a, np.ones(_NODES + 1))
    return float(lengths[0])


def cusum_arl(h: float, k: float = 0.5, shift: float = 0.0) -> float:
    """Average run length of the two-sided :class:`CUSUM` from a (re)start.

    Each side's ARL solves Page's integral equation; the two combine as
    ``1 / ARL = 1 / ARL+ + 1 / ARL-`` (Lucas & Crosier 1982, accurate for k > 0).

    Parameters
    ----------
    h, k : float
        Threshold and allowance, in reference sds.
    shift : float
        Mean shift in reference sds (0: the in-control ARL).

    Example
    -------
    >>> round(cusum_arl(5.0, 0.5))
    465
    """
    upper = _one_sided_cusum_arl(h, shift - k)
    lower = _one_sided_cusum_arl(h, -shift - k)
    return 1.0 / (1.0 / upper + 1.0 / lower)


def _ewma_kernel(u: npt.NDArray[np.float64], y: npt.NDArray[np.float64], w: npt.NDArray[np.float64],
                 lam: float, shift: float) -> npt.NDArray[np.float64]:
    """Transition density from ``z = u`` to ``z' = y``, times the quadrature weights."""
    out: npt.NDArray[np.float64] = _phi(
        (y[None, :] - (1.0 - lam) * u[:, None]) / lam - shift) / lam * w[None, :]
    return out


def ewma_arl(lam: float, L: float, shift: float = 0.0, exact_limits: bool = True) -> float:
    """Average run length of the :class:`EWMA` chart from a (re)start.

    With asymptotic limits, the Nyström solution of Crowder's (1987) integral equation.
    With exact limits, the density of the surviving ``z_t`` is carried forward through the
    time-varying limits until they equal the asymptotic ones, then the integral equation
    gives the rest.

    Example
    -------
    >>> 490 < ewma_arl(0.1, 2.814, exact_limits=False) < 510
    True
    """
    factors, steady = limit_factors(lam, exact_limits)
    c = L * steady
    y, w = _gauss(-c, c, _EWMA_NODES)
    kernel = _ewma_kernel(y, y, w, lam, shift)
    rest = _solve(np.eye(_EWMA_NODES) - kernel, np.ones(_EWMA_NODES))
    widths = [L * f for f in factors if L * (steady - f) > 1e-12 * c]
    if not widths:
        # Run length from z0 = 0: one step, then the stationary solution.
        row = _ewma_kernel(np.zeros(1), y, w, lam, shift)[0]
        return float(1.0 + (row * rest).sum())
    # g holds the surviving density times weights at the nodes of the current limits.
    nodes, weights = _gauss(-widths[0], widths[0], _EWMA_NODES)
    density = _phi(nodes / lam - shift) / lam
    total = 1.0
    for width in widths[1:]:
        total += float((density * weights).sum())
        nxt, nxt_w = _gauss(-width, width, _EWMA_NODES)
        density = _vecmat(density * weights,
                          _ewma_kernel(nodes, nxt, np.ones_like(nxt_w), lam, shift))
        nodes, weights = nxt, nxt_w
    # From the last time-varying step on, the limits are the steady ones.
    tail = 1.0 + (_ewma_kernel(nodes, y, w, lam, shift) * rest[None, :]).sum(axis=1)
    return total + float((density * weights * tail).sum())


def shewhart_arl(L: float, shift: float = 0.0) -> float:
    """ARL of the :class:`Shewhart` chart: ``1 / P(|Z + shift| > L)`` (geometric run length).

    Example
    -------
    >>> round(shewhart_arl(3.0))
    370
    """
    p = float(ndtr(-L - shift) + ndtr(-L + shift))
    return 1.0 / p


def shewhart_limit(target_arl0: float) -> float:
    """The ``L`` whose Shewhart in-control ARL is ``target_arl0``: ``Phi^-1(1 - 1 / (2 ARL0))``.

    Example
    -------
    >>> round(shewhart_limit(370.4), 3)
    3.0
    """
    target = _check_target(target_arl0)
    return float(-ndtri(0.5 / target))


@dataclass(frozen=True)
class CusumDesign:
    """A CUSUM tuned for an in-control ARL, and its detection delay for one shift."""

    h: float
    k: float
    arl0: float
    shift: float
    delay: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EwmaDesign:
    """An EWMA chart tuned for an in-control ARL, and its detection delay for one shift."""

    lam: float
    L: float
    arl0: float
    shift: float
    delay: float
    exact_limits: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_target(target_arl0: float) -> float:
    if isinstance(target_arl0, bool) or not isinstance(target_arl0, (int, float)) or not (
        math.isfinite(target_arl0) and target_arl0 > 1.0
    ):
        raise ConfigError(f"target_arl0 must be a finite number > 1, got {target_arl0!r}")
    return float(target_arl0)


def calibrate_cusum(target_arl0: float, k: float = 0.5, shift: float = 1.0) -> CusumDesign:
    """The threshold ``h`` whose in-control ARL is ``target_arl0``, and the delay at ``shift``.

    Example
    -------
    >>> d = calibrate_cusum(500, k=0.5)
    >>> round(d.h, 2), round(d.delay, 1)
    (5.07, 10.5)
    """
    target = _check_target(target_arl0)
    if not (isinstance(k, (int, float)) and math.isfinite(k) and k > 0):
        raise ConfigError(f"k must be a positive number, got {k!r}")
    log_target = math.log(target)
    hi = 1.0
    while cusum_arl(hi, k) < target:
        if hi > 50.0:
            raise ConfigError(f"target_arl0={target_arl0!r} is out of reach for k={k!r}")
        hi *= 1.5
    h = brentq(lambda v: math.log(cusum_arl(v, k)) - log_target, 1e-3, hi, xtol=1e-10)
    return CusumDesign(h=float(h), k=float(k), arl0=cusum_arl(h, k), shift=float(shift),
                       delay=cusum_arl(h, k, shift))


def calibrate_ewma(target_arl0: float, lam: float = 0.2, shift: float = 1.0,
                   exact_limits: bool = True) -> EwmaDesign:
    """The limit width ``L`` whose in-control ARL is ``target_arl0``, and the delay at ``shift``.

    Example
    -------
    >>> d = calibrate_ewma(500, lam=0.1, exact_limits=False)
    >>> round(d.L, 2)
    2.81
    """
    target = _check_target(target_arl0)
    if not (isinstance(lam, (int, float)) and 0 < lam <= 1):
        raise ConfigError(f"lam must be in (0, 1], got {lam!r}")
    log_target = math.log(target)

    def gap(v: float) -> float:
        return math.log(ewma_arl(lam, v, 0.0, exact_limits)) - log_target

    hi = 2.0
    while gap(hi) < 0:
        if hi > 7.0:
            raise ConfigError(f"target_arl0={target_arl0!r} is out of reach for lam={lam!r}")
        hi += 1.0
    L = brentq(gap, 0.1, hi, xtol=1e-8)
    return EwmaDesign(lam=float(lam), L=float(L), arl0=ewma_arl(lam, L, 0.0, exact_limits),
                      shift=float(shift), delay=ewma_arl(lam, L, shift, exact_limits),
                      exact_limits=exact_limits)
