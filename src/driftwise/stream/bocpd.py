"""Bayesian online change-point detection (Adams & MacKay 2007, "Bayesian Online Changepoint
Detection", arXiv:0710.3742) with a Normal model of unknown mean and variance."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from driftwise.errors import ConfigError, StateError
from driftwise.stream._base import (
    ReferenceStreamDetector,
    as_finite_array,
    check_int,
    check_positive,
    not_a_number,
)

__all__ = ["BOCPD"]

#: What BOCPD does after an alarm; the names of the charts' ``after_alarm``.
AFTER_ALARM = ("relearn", "hold", "keep")
_HALF_LOG_PI = 0.5 * math.log(math.pi)
# Standardised values are clipped here, so that squares stay finite (1e150 reference sds
# from the mean is as far out as a value can meaningfully be).
_Z_LIMIT = 1e150


class BOCPD(ReferenceStreamDetector):
    """Bayesian online change-point detection: the posterior of the current run length.

    A *run* is the stretch of values since the last change point. Adams & MacKay's
    recursion (their eq. 1-3) keeps ``P(r_t | x_1..x_t)``, the posterior of the current run
    length ``r_t`` (values in the current run, ``x_t`` included): each run grows by one
    (probability ``1 - H``) or a new run starts at ``x_t`` (probability ``H``), and each
    hypothesis is weighted by how well its run predicted the value. The hazard is constant,
    ``H = 1 / expected_run_length``. A new run's first value is predicted by the prior, as
    in the generative model (the paper's Algorithm 1 predicts it by the old run, which
    makes ``P(r_t = 0)`` equal ``H`` whatever the data). The run before the first value is
    the reference: ``max_run_length`` values with its mean and sd, so a stream that is off
    the reference from its first value is a change like any other.

    **Model.** Within a run the values are ``N(mu, sigma^2)`` with a Normal-inverse-gamma
    prior in reference units ``z = (x - mean) / std``: ``mu | sigma^2 ~ N(0,
    sigma^2 / kappa0)``, ``sigma^2 ~ InvGamma(alpha0, beta0)``. The prior's location is the
    reference mean and its scale the reference sd, given or learned by :meth:`fit`; its
    shape says what a new regime may look like (defaults: a level worth one value, a
    variance of the order of the reference's, both learned from a new run's first values).
    A run with ``n`` values predicts a Student-t with ``2 alpha_n`` degrees of freedom,
    location ``m_n`` and squared scale ``beta_n (kappa_n + 1) / (alpha_n kappa_n)``,
    ``kappa_n = kappa0 + n``, ``alpha_n = alpha0 + n / 2`` (Murphy 2007, "Conjugate
    Bayesian analysis of the Gaussian distribution", sec. 6). All in log space.

    **Pruning.** After each value, run lengths whose posterior mass is below ``tolerance``
    times the most probable one's are dropped and the rest renormalised; runs that reach
    ``max_run_length`` merge into one "at least ``max_run_length``" hypothesis (masses
    added, the statistics of the more probable kept: both are long runs of one regime). So
    an update costs at most ``max_run_length`` hypotheses, vectorised with NumPy (about
    20 µs a value at the defaults).

    **The change probability** (:attr:`change_probability`) is the posterior probability
    that a change point lies within the last ``window`` values and after the last alarm:
    ``P(r_t <= min(window, s))``, ``s`` the values since the start or the alarm. It is near
    0 in a long stable run and near 1 a few values after a clear change, and it adds up the
    evidence while the posterior is unsure *where* the change began (which the probability
    of a change at ``x_t`` alone, about ``H`` times one value's likelihood ratio, cannot).
    ``window`` bounds how long after a change it still counts: 100 covers the slow ones (a
    1-sd shift is alarmed after 11 values on average, 90 % within 18; a 1.5-fold sd after
    24, docs/stream.md) and, threshold for threshold, costs about a sixth of the ARL0 of a
    window of 50.

    An alarm is raised when the change probability exceeds ``threshold``. Then, by
    ``after_alarm``:

    - ``"relearn"`` (default): the posterior goes on, and with it the run that began at the
      change, which learns the new level and spread: BOCPD re-learns by itself. Change
      points before the alarm no longer count, so a change is one alarm (one episode) and a
      later change is another; after a change, false alarms come at about the in-control
      rate.
    - ``"hold"``: the alarm holds; values are checked but ignored until :meth:`reset`.
    - ``"keep"``: the detector restarts from the reference (like the charts' ``keep``).

    Choose ``threshold`` for a target in-control average run length with
    :func:`driftwise.stream.bocpd_threshold` (simulated for the default prior, window and
    pruning).

    Parameters
    ----------
    threshold : float
        Change probability above which an alarm is raised, in (0, 1) (default 0.5: an
        in-control ARL of about 540 at ``expected_run_length=250``).
    expected_run_length : float
        ``1 / H``, the prior mean distance between change points (default 250; > 1).
    window : int
        Change points within the last ``window`` values count (default 100).
    kappa0, alpha0, beta0 : float
        The Normal-inverse-gamma prior in reference units (defaults 1, 1, 1).
    max_run_length : int
        Runs at least this long are one hypothesis, and the reference counts as that many
        values (default 500; > ``window``).
    tolerance : float
        Run lengths less probable than this times the most probable are dropped
        (default 1e-7).
    mean, std : float, optional
        The reference mean and sd (the prior's location and scale); otherwise learned by
        :meth:`fit`.
    after_alarm : {"relearn", "hold", "keep"}
        What follows an alarm (above).

    Example
    -------
    >>> det = BOCPD(mean=0.0, std=1.0)
    >>> xs = [0.3, -0.5, 0.1, 1.2, -0.8, 0.4, -0.2, 0.7, -1.1, 0.0] * 5 + [4.0] * 5
    >>> det.update_many(xs).tolist()  # the first 4-sd value: a change is likelier than not
    [50]
    >>> det.run_length, round(det.change_probability, 3)  # one episode: no second alarm
    (5, 0.002)
    """

    kind = "bocpd"
    _params = ("threshold", "expected_run_length", "window", "kappa0", "alpha0", "beta0",
               "max_run_length", "tolerance", "mean", "std", "after_alarm")
    _state = ("mu", "sd", "since", "holding", "episodes", "probability", "run_lengths",
              "log_probs", "means", "betas")

    def __init__(self, threshold: float = 0.5, expected_run_length: float = 250.0,
                 window: int = 100, kappa0: float = 1.0, alpha0: float = 1.0,
                 beta0: float = 1.0, max_run_length: int = 500, tolerance: float = 1e-7,
                 mean: float | None = None, std: float | None = None,
                 after_alarm: str = "relearn") -> None:
        super().__init__(mean, std)
        self.threshold = check_positive("threshold", threshold)
        if self.threshold >= 1.0:
            raise ConfigError(f"threshold must be a probability in (0, 1), got {threshold!r}")
        self.expected_run_length = check_positive("expected_run_length", expected_run_length)
        if self.expected_run_length <= 1.0:
            raise ConfigError("expected_run_length must be > 1 (the hazard is its inverse), "
                              f"got {expected_run_length!r}")
        self.window = check_int("window", window, 1)
        self.kappa0 = check_positive("kappa0", kappa0)
        self.alpha0 = check_positive("alpha0", alpha0)
        self.beta0 = check_positive("beta0", beta0)
        self.max_run_length = check_int("max_run_length", max_run_length, 2)
        if self.max_run_length <= self.window:
            raise ConfigError(f"max_run_length ({max_run_length}) must exceed window "
                              f"({window}): the window's run lengths are kept one by one")
        self.tolerance = check_positive("tolerance", tolerance)
        if self.tolerance >= 0.01:
            raise ConfigError(f"tolerance must be below 0.01, got {tolerance!r}")
        if after_alarm not in AFTER_ALARM:
            raise ConfigError(f"after_alarm must be one of {', '.join(AFTER_ALARM)}, got "
                              f"{after_alarm!r}")
        self.after_alarm = after_alarm
        self._build_tables()
        self.reset()

    def _build_tables(self) -> None:
        """Per run size ``n`` (0 to max_run_length): the predictive's constants."""
        n = np.arange(self.max_run_length + 1, dtype=np.float64)
        kappa = self.kappa0 + n
        alpha = self.alpha0 + 0.5 * n
        self._log_h = -math.log(self.expected_run_length)
        self._log_1mh = math.log1p(-1.0 / self.expected_run_length)
        from scipy.special import gammaln

        log_norm = gammaln(alpha + 0.5) - gammaln(alpha) - _HALF_LOG_PI
        # Growth: log(1 - H) plus the Student-t's normalising constant.
        self._grow_c = log_norm + self._log_1mh
        self._scale_f = 2.0 * (kappa + 1.0) / kappa  # nu * scale^2 = beta * F
        self._gain = 1.0 / (kappa + 1.0)  # m_{n+1} = m_n + (z - m_n) / (kappa_n + 1)
        self._power = alpha + 0.5
        self._prior_scale = self.beta0 * float(self._scale_f[0])
        self._prior_c = float(log_norm[0]) + self._log_h - 0.5 * math.log(self._prior_scale)

    # -- state ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the stream: no run, no episode, nothing held (the reference is kept)."""
        # The reference is the prior's location and scale, fixed but by fit.
        self._mu, self._sd = self._base_mu, self._base_sd
        cap = 2 * self.max_run_length
        # Runs shorter than max_run_length live in buf[lo:hi], oldest first, so the entry
        # at lo + i holds a run of hi - lo - i values; the longest run is kept apart.
        self._lp = np.full(cap, -np.inf)
        self._m = np.zeros(cap)
        self._b = np.full(cap, self.beta0)
        self._lo = self._hi = 0
        # The reference is the run before the stream: max_run_length values with its mean
        # and sd (standardised: mean 0, sum of squared deviations max_run_length).
        n = self.max_run_length
        self._long_n, self._long_lp, self._long_m = n, 0.0, 0.0
        self._long_b = self.beta0 + 0.5 * n
        self._since = 0  # values since the start or the last alarm
        self._holding = False
        self._probability = 0.0
        self._episodes = 0

    def _state_fields(self) -> dict[str, Any]:
        lp = self._lp[self._lo:self._hi][::-1]  # run lengths 1..k
        alive = np.flatnonzero(lp > -np.inf)
        lengths = (alive + 1).tolist()
        log_probs = lp[alive].tolist()
        means = self._m[self._lo:self._hi][::-1][alive].tolist()
        betas = self._b[self._lo:self._hi][::-1][alive].tolist()
        if self._long_n:
            lengths.append(self._long_n)
            log_probs.append(self._long_lp)
            means.append(self._long_m)
            betas.append(self._long_b)
        return {"mu": self._mu, "sd": self._sd, "since": self._since,
                "holding": self._holding, "episodes": self._episodes,
                "probability": self._probability, "run_lengths": lengths,
                "log_probs": log_probs, "means": means, "betas": betas}

    def _load_state(self, fields: dict[str, Any]) -> None:
        lengths, columns = fields["run_lengths"], [fields[k] for k in
                                                   ("log_probs", "means", "betas")]
        if any(len(c) != len(lengths) for c in columns):
            raise StateError("'bocpd' state: run_lengths, log_probs, means and betas must "
                             "have one entry per run length")
        if not all(isinstance(r, int) and not isinstance(r, bool) for r in lengths) or any(
                b <= a for a, b in zip([0, *lengths], lengths, strict=False)):
            raise StateError("'bocpd' state: run_lengths must be increasing positive integers")
        values = [v for c in columns for v in c]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   and math.isfinite(v) for v in values) or any(b <= 0 for b in columns[2]):
            raise StateError("'bocpd' state: log_probs, means and betas must be finite "
                             "numbers, betas positive")
        for name in ("since", "episodes"):
            if not isinstance(fields[name], int) or fields[name] < 0:
                raise StateError(f"'bocpd' state field {name!r} is out of range")
        self.reset()
        self._long_n, self._long_lp = 0, -math.inf
        self._mu, self._sd = float(fields["mu"]), float(fields["sd"])
        self._base_mu, self._base_sd = self._mu, self._sd
        self._since, self._holding = fields["since"], fields["holding"]
        self._episodes, self._probability = fields["episodes"], float(fields["probability"])
        if lengths and lengths[-1] >= self.max_run_length:
            self._long_n = lengths.pop()
            self._long_lp, self._long_m, self._long_b = (float(c.pop()) for c in columns)
        k = lengths[-1] if lengths else 0
        self._lo, self._hi = 0, k
        for r, lp, m, b in zip(lengths, *columns, strict=True):
            self._lp[k - r], self._m[k - r], self._b[k - r] = lp, m, b

    # -- what it reports -----------------------------------------------------------------
    @property
    def change_probability(self) -> float:
        """Posterior probability of a change point within the last ``window`` values (and
        after the start and the last alarm), as of the last value."""
        return self._probability

    @property
    def run_length(self) -> int:
        """The most probable current run length, in values (the reference counts as
        ``max_run_length`` values before the first)."""
        best, best_lp = self._long_n, self._long_lp
        k = self._hi - self._lo
        if k:
            i = int(np.argmax(self._lp[self._lo:self._hi]))
            if self._lp[self._lo + i] > best_lp:
                best = k - i
        return best

    @property
    def episodes(self) -> int:
        """Alarms raised since the start or :meth:`reset` (a change is one episode)."""
        return self._episodes

    def run_length_posterior(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The kept run lengths, ascending, and their posterior probabilities (the last
        length stands for that many values or more once it reaches ``max_run_length``)."""
        fields = self._state_fields()
        return (np.asarray(fields["run_lengths"], dtype=np.int64),
                np.exp(np.asarray(fields["log_probs"], dtype=np.float64)))

    # -- updating ------------------------------------------------------------------------
    def update(self, x: float) -> bool:
        try:  # free unless it raises: a string, None or a complex number is no number
            z = (x - self._mu) / self._sd
            if z - z != 0.0 and (x - x != 0.0 or math.isnan(z)):
                return self._reject(x)
            z = min(_Z_LIMIT, max(-_Z_LIMIT, z))  # a finite x can overflow z
        except TypeError:
            raise not_a_number(x) from None
        return self._alarm(z)

    def update_many(self, xs: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        """:meth:`update` on each value in turn; the 0-based positions of the alarms.

        The batch is validated first: a non-finite value raises :class:`SchemaError` and
        leaves the detector untouched.
        """
        arr = as_finite_array(xs)
        self._check_fitted()
        with np.errstate(over="ignore"):
            z = np.clip((arr - self._mu) / self._sd, -_Z_LIMIT, _Z_LIMIT)
        alarm = self._alarm
        return np.fromiter((i for i, v in enumerate(z.tolist()) if alarm(v)), dtype=np.int64)

    def _alarm(self, z: float) -> bool:
        """One standardised value: the posterior step, then the alarm rule."""
        if self._holding:
            return False
        self._since += 1
        self._probability = p = self._step(z, min(self.window, self._since))
        if p <= self.threshold:
            return False
        self._episodes += 1
        if self.after_alarm == "relearn":
            self._since = 0
        elif self.after_alarm == "hold":
            self._holding = True
        else:
            episodes = self._episodes
            self.reset()
            self._probability, self._episodes = p, episodes
        return True

    def _step(self, z: float, recent: int) -> float:
        """The run-length posterior after ``z``; returns ``P(r_t <= recent)``."""
        lo, hi = self._lo, self._hi
        k = hi - lo
        tol = self.tolerance
        # A new run starting at z, predicted by the prior.
        q0 = z * z / self._prior_scale
        g_new = self._prior_c - (self.alpha0 + 0.5) * math.log1p(q0)
        # The longest run, apart.
        g_long = -math.inf
        n_long = self._long_n
        if n_long:
            kappa = self.kappa0 + n_long
            alpha = self.alpha0 + 0.5 * n_long
            f = self._long_b * 2.0 * (kappa + 1.0) / kappa
            d_long = z - self._long_m
            q_long = d_long * d_long / f
            g_long = (self._long_lp + self._log_1mh + math.lgamma(alpha + 0.5)
                      - math.lgamma(alpha) - _HALF_LOG_PI - 0.5 * math.log(f)
                      - (alpha + 0.5) * math.log1p(q_long))
        top = max(g_new, g_long)
        if k:
            lp, m, b = self._lp[lo:hi], self._m[lo:hi], self._b[lo:hi]
            d = z - m
            bf = b * self._scale_f[k:0:-1]
            q = d * d
            q /= bf
            l1q = np.log1p(q)
            g = np.log(bf)
            g *= -0.5
            g += self._grow_c[k:0:-1]
            g -= self._power[k:0:-1] * l1q
            g += lp
            top = max(top, float(g.max()))
            e = g - top
            np.exp(e, out=e)
        # Masses relative to the most probable hypothesis (1): one below the tolerance has
        # a posterior mass below it too, and is dropped.
        e_new = math.exp(g_new - top)
        e_long = math.exp(g_long - top)
        if k:
            dead = e < tol
            e[dead] = 0.0
            kept = float(e.sum())
            recent_mass = float(e[max(0, k - recent + 1):].sum()) if recent > 1 else 0.0
        else:
            kept = recent_mass = 0.0
        if e_new < tol:
            e_new = 0.0
        if e_long < tol:
            e_long = 0.0
        kept += e_long + e_new
        log_z = top + math.log(kept)
        if k:
            np.subtract(g, log_z, out=lp)
            lp[dead] = -np.inf
            m += d * self._gain[k:0:-1]
            b *= q + 1.0
        if n_long:
            if e_long > 0.0:
                self._long_n = n_long + 1
                self._long_lp = g_long - log_z
                self._long_m = self._long_m + d_long / (self.kappa0 + n_long + 1.0)
                self._long_b = self._long_b * (1.0 + q_long)
            else:
                self._long_n, self._long_lp = 0, -math.inf
        if k == self.max_run_length - 1:  # the oldest run reaches max_run_length
            self._merge_long(lo)
            lo += 1
        while lo < hi and self._lp[lo] == -np.inf:
            lo += 1
        if hi == self._lp.size:
            self._compact(lo, hi)
            lo, hi = 0, hi - lo
        self._lp[hi] = g_new - log_z if e_new > 0.0 else -np.inf
        kappa1 = self.kappa0 + 1.0
        self._m[hi] = z / kappa1
        self._b[hi] = self.beta0 + self.kappa0 * z * z / (2.0 * kappa1)
        self._lo, self._hi = lo, hi + 1
        if recent >= 1:
            recent_mass += e_new
        return recent_mass / kept

    def _merge_long(self, i: int) -> None:
        """Move the run at buffer index ``i`` (now max_run_length long) into the longest."""
        lp = float(self._lp[i])
        if lp == -math.inf:
            return
        if not self._long_n:
            self._long_n, self._long_lp = self.max_run_length, lp
            self._long_m, self._long_b = float(self._m[i]), float(self._b[i])
            return
        if lp > self._long_lp:
            self._long_n = self.max_run_length
            self._long_m, self._long_b = float(self._m[i]), float(self._b[i])
        self._long_lp = float(np.logaddexp(self._long_lp, lp))

    def _compact(self, lo: int, hi: int) -> None:
        n = hi - lo
        for buf in (self._lp, self._m, self._b):
            buf[:n] = buf[lo:hi]
