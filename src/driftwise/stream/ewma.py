"""EWMA control chart with exact time-varying limits (Roberts 1959; Lucas & Saccucci 1990)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from driftwise.errors import ConfigError
from driftwise.stream._base import (
    EPISODE_STATE,
    ReferenceStreamDetector,
    check_positive,
    not_a_number,
)

__all__ = ["EWMA"]

_EPS = float(np.finfo(np.float64).eps)
_MAX_TABLE = 1 << 18
_SHORT_RUN = 96  # mean run length below which update_many loops instead
_SCALAR_BLOCK = 4096


def limit_factors(lam: float, exact: bool) -> tuple[list[float], float]:
    """``sqrt(lam / (2 - lam) * (1 - (1 - lam)^(2t)))`` for t = 1, 2, ... until it is constant.

    Returns the time-varying factors (empty when ``exact`` is false) and the asymptotic one.
    """
    steady = math.sqrt(lam / (2.0 - lam))
    if not exact or lam >= 1.0:
        return [], steady
    ratio = (1.0 - lam) ** 2
    n = min(_MAX_TABLE, math.ceil(math.log(1e-17) / math.log(ratio)) + 1)
    t = np.arange(1, n + 1, dtype=np.float64)
    table = np.sqrt(lam / (2.0 - lam) * (1.0 - ratio ** t))
    return table.tolist(), steady


class EWMA(ReferenceStreamDetector):
    """EWMA chart: ``z_t = lam * x_t + (1 - lam) * z_{t-1}``, ``z_0 = mean``.

    An alarm is raised when
    ``|z_t - mean| > L * std * sqrt(lam / (2 - lam) * (1 - (1 - lam)^(2t)))``
    (the exact variance of ``z_t`` under control; with ``exact_limits=False`` the asymptotic
    limit ``L * std * sqrt(lam / (2 - lam))``). After an alarm ``z`` restarts at ``mean``
    and ``t`` at 0, and the chart does what ``after_alarm`` says (re-learn the level by
    default; see :class:`~driftwise.stream.ReferenceStreamDetector`). Choose ``L`` for a
    target in-control average run length with :func:`driftwise.stream.calibrate_ewma`.

    Parameters
    ----------
    lam : float
        Smoothing weight in (0, 1] (default 0.2; small values catch small shifts).
    L : float
        Width of the limits in sds of ``z`` (default 3).
    mean, std : float, optional
        The in-control mean and sd of ``x``; otherwise learned by :meth:`fit`.
    exact_limits : bool
        Time-varying limits (default) or the asymptotic ones.
    after_alarm, relearn_n, self_starting, autocorrelation
        As for :class:`~driftwise.stream.CUSUM`.

    Example
    -------
    >>> det = EWMA(lam=0.2, L=3.0, mean=0.0, std=1.0)
    >>> det.update_many([0.0] * 5 + [2.0] * 5).tolist()
    [8]
    """

    kind = "ewma"
    state_version = 3
    _params = ("lam", "L", "mean", "std", "exact_limits", "after_alarm", "relearn_n",
               "self_starting", "autocorrelation", "arm_after")
    _accumulates = True
    _state = ("mu", "sd", "z", "t", *EPISODE_STATE)

    def __init__(self, lam: float = 0.2, L: float = 3.0, mean: float | None = None,
                 std: float | None = None, exact_limits: bool = True,
                 after_alarm: str = "relearn", relearn_n: int = 500,
                 self_starting: bool = False, autocorrelation: str = "auto",
                 arm_after: int = 30) -> None:
        super().__init__(mean, std, after_alarm, relearn_n, self_starting, autocorrelation,
                         arm_after)
        self.lam = check_positive("lam", lam)
        if self.lam > 1.0:
            raise ConfigError(f"lam must be in (0, 1], got {lam!r}")
        self.L = check_positive("L", L)
        if not isinstance(exact_limits, bool):
            raise ConfigError(f"exact_limits must be true or false, got {exact_limits!r}")
        self.exact_limits = exact_limits
        self._oml = 1.0 - self.lam
        self._factors, self._steady = limit_factors(self.lam, exact_limits)
        # In standardised units, for the learning phase.
        self._unit_widths = [self.L * f for f in self._factors]
        self._unit_steady = self.L * self._steady
        self._restored()
        self._z = 0.0 if self.self_starting else self._mu
        self._t = 0

    def _restored(self) -> None:
        super()._restored()
        self._widths = [self.L * self._sd * f for f in self._factors]
        self._n_widths = len(self._widths)
        self._steady_width = self.L * self._sd * self._steady

    def _chart_reset(self) -> None:
        # While learning the statistic is in standardised units (its start is 0).
        self._z = self._mu if self._phase == "watch" else 0.0
        self._t = 0

    def _chart_rescaled(self) -> None:
        self._z = self._mu + self._sd * self._z

    def _chart_step(self, y: float) -> bool:
        z = self.lam * y + self._oml * self._z
        t = self._t + 1
        width = self._unit_widths[t - 1] if t <= self._n_widths else self._unit_steady
        if z > width or -z > width:
            self._z, self._t = 0.0, 0
            return True
        self._z, self._t = z, t
        return False

    @property
    def statistic(self) -> float:
        """The current EWMA ``z_t``."""
        return float(self._z)

    def _watch(self, x: float) -> bool:
        try:  # free unless it raises: a string, None or a complex number is no number
            z = self.lam * x + self._oml * self._z
            if z - z != 0.0:
                return self._reject(x)
            t = self._t + 1
            width = self._widths[t - 1] if t <= self._n_widths else self._steady_width
            gap = z - self._mu
            out = gap > width or -gap > width
        except TypeError:
            raise not_a_number(x) from None
        if out:
            self._z = self._mu
            self._t = 0
            return True
        self._z = z
        self._t = t
        return False

    def _watch_many(self, arr: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Vectorised :meth:`_watch` (the recursion is a linear filter): the same alarms."""
        n = arr.size
        if n == 0:
            return np.empty(0, dtype=np.int64)
        mu = self._mu
        table = np.asarray(self._widths, dtype=np.float64)
        scale = max(abs(float(arr.max())), abs(float(arr.min()))) + abs(self._z) + abs(mu)
        tol = 1e-9 * self._steady_width + 64.0 * _EPS * scale
        b = np.array([self.lam])
        a = np.array([1.0, -self._oml])
        alarms: list[int] = []
        z0, t0, pos, chunk = self._z, self._t, 0, 1024
        mean_run = 1024.0
        while pos < n:
            if mean_run < _SHORT_RUN:
                # Alarms every few values: one filter call per run costs more than the loop.
                end = min(n, pos + _SCALAR_BLOCK)
                found, z0, t0 = self._scalar_block(arr[pos:end], pos, z0, t0)
                alarms.extend(found)
                mean_run = (end - pos) / len(found) if found else float(_SCALAR_BLOCK)
                pos = end
                chunk = max(128, int(mean_run))
                continue
            end = min(n, pos + chunk)
            z, _ = lfilter(b, a, arr[pos:end], zi=np.array([self._oml * z0]))
            width = np.full(end - pos, self._steady_width)
            if t0 < self._n_widths:
                m = min(end - pos, self._n_widths - t0)
                width[:m] = table[t0:t0 + m]
            dev = np.abs(z - mu)
            hit = np.flatnonzero(dev > width - tol)
            if hit.size == 0:
                z0, t0 = float(z[-1]), t0 + (end - pos)
                pos = end
                chunk = min(chunk * 2, 1 << 16)
                continue
            i = int(hit[0])
            if dev[i] > width[i] + tol:
                alarm = True
            else:  # too close to call: the scalar recursion over this stretch decides
                alarm, zi = self._scalar(arr[pos:pos + i + 1], z0, t0)
            if alarm:
                alarms.append(pos + i)
                mean_run += 0.25 * (t0 + i + 1 - mean_run)
                z0, t0 = mu, 0
            else:
                z0, t0 = zi, t0 + i + 1
            chunk = max(256, 2 * (i + 1))
            pos = pos + i + 1
        self._z, self._t = z0, t0
        return np.asarray(alarms, dtype=np.int64)

    def _scalar_block(self, xs: npt.NDArray[np.float64], offset: int, z: float,
                      t: int) -> tuple[list[int], float, int]:
        """The exact recursion with alarms over ``xs`` (positions counted from ``offset``)."""
        lam, oml, mu = self.lam, self._oml, self._mu
        widths, n_widths, steady = self._widths, self._n_widths, self._steady_width
        found = []
        for i, x in enumerate(xs.tolist(), offset):
            z = lam * x + oml * z
            t += 1
            if abs(z - mu) > (widths[t - 1] if t <= n_widths else steady):
                found.append(i)
                z, t = mu, 0
        return found, z, t

    def _scalar(self, xs: npt.NDArray[np.float64], z: float, t: int) -> tuple[bool, float]:
        """Exact recursion over ``xs`` from (z, t); only the last value can alarm."""
        lam, oml = self.lam, self._oml
        for x in xs.tolist():
            z = lam * x + oml * z
        t += xs.size
        width = self._widths[t - 1] if t <= self._n_widths else self._steady_width
        return abs(z - self._mu) > width, z
