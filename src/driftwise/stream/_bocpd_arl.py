"""BOCPD's threshold for a target in-control average run length, tabulated by simulation.

The table was computed once by ``benchmarks/bocpd_calibration.py`` (4,000,000 N(0, 1)
values per hazard, a default :class:`~driftwise.stream.BOCPD` with the reference mean 0 and
sd 1, ``after_alarm="relearn"``): for each ``expected_run_length`` and target ARL0, the
change-probability threshold whose mean distance between false alarms is that target. The
ARL0 is the long-run one (values per alarm on a long stream); standard errors of the
tabulated ARL0 are about ``0.95 / sqrt(4e6 / ARL0)``: 0.5 % at 100, 1.5 % at 1,000, 5 % at
10,000. Out of sample, at the ARL0-500 threshold on 2,000,000 other values: 495, 500, 489
and 495 for the four rows; between rows (interpolated), 490 for 500 at expected_run_length
175, 149 for 150 and 965 for 1,000 at 400, 301 for 300 at 700. It holds for any normal
stream whose reference mean and sd are right (BOCPD works on the standardised values), for
the defaults of the prior, ``window``, ``max_run_length`` and ``tolerance`` (for others,
simulate). With ``after_alarm="keep"`` or ``"hold"`` the run from a (re)start is within a
few per cent of it (564 at the default threshold, against 546 for ``relearn``).
"""

from __future__ import annotations

import itertools
import math

from driftwise.errors import ConfigError

__all__ = ["CALIBRATED_DEFAULTS", "bocpd_threshold"]

#: The parameters the table holds for (BOCPD's defaults).
CALIBRATED_DEFAULTS = {"window": 100, "kappa0": 1.0, "alpha0": 1.0, "beta0": 1.0,
                       "max_run_length": 500, "tolerance": 1e-7}

#: expected_run_length -> {target ARL0: threshold}.
_TABLE: dict[int, dict[int, float]] = {
    100: {100: 0.35684, 150: 0.45263, 200: 0.52272, 300: 0.61646, 500: 0.72175,
        700: 0.77987, 1000: 0.83025, 1500: 0.8776, 2000: 0.90437, 3000: 0.93034,
        5000: 0.95578, 7000: 0.96722, 10000: 0.97529},
    250: {100: 0.16811, 150: 0.22924, 200: 0.28107, 300: 0.36544, 500: 0.48175, 700: 0.5592,
        1000: 0.63883, 1500: 0.72167, 2000: 0.77127, 3000: 0.82975, 5000: 0.88494,
        7000: 0.91325, 10000: 0.93616},
    500: {100: 0.08909, 150: 0.12529, 200: 0.15769, 300: 0.21588, 500: 0.30623,
        700: 0.37772, 1000: 0.45892, 1500: 0.55501, 2000: 0.61758, 3000: 0.70473,
        5000: 0.78882, 7000: 0.83502, 10000: 0.87884},
    1000: {100: 0.04651, 150: 0.06683, 200: 0.08603, 300: 0.12113, 500: 0.18261,
        700: 0.23402, 1000: 0.29922, 1500: 0.38626, 2000: 0.45139, 3000: 0.54534,
        5000: 0.66852, 7000: 0.73532, 10000: 0.79729},
}


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _row(lam: int, target: float) -> float | None:
    """logit(threshold) for ``target`` in one row: linear in log(ARL0); None outside it."""
    points = sorted(_TABLE[lam].items())
    if not points[0][0] <= target <= points[-1][0]:
        return None
    for (a0, t0), (a1, t1) in itertools.pairwise(points):
        if target <= a1:
            f = math.log(target / a0) / math.log(a1 / a0)
            return _logit(t0) + f * (_logit(t1) - _logit(t0))
    return _logit(points[-1][1])


def bocpd_threshold(target_arl0: float, expected_run_length: float = 250.0) -> float:
    """The change-probability threshold of a default BOCPD for an in-control ARL.

    Interpolated in the simulated table (``logit(threshold)`` linear in ``log(ARL0)`` and in
    ``log(expected_run_length)`` between tabulated rows). A shorter expected run length
    (a larger hazard) makes the posterior readier to see a change, so the same ARL0 needs
    a higher threshold.

    Parameters
    ----------
    target_arl0 : float
        The mean number of in-control values between false alarms.
    expected_run_length : float
        BOCPD's ``expected_run_length`` (100 to 1,000 are tabulated).

    Raises
    ------
    ConfigError
        The hazard or the target is outside the table (the message gives its range).

    Example
    -------
    >>> round(bocpd_threshold(500), 2)
    0.48
    """
    lams = sorted(_TABLE)
    if not isinstance(expected_run_length, (int, float)) or not (
            lams[0] <= expected_run_length <= lams[-1]):
        raise ConfigError(f"bocpd_threshold: expected_run_length {expected_run_length!r} is "
                          f"outside the simulated table ({lams[0]} to {lams[-1]})")
    hi = next(lam for lam in lams if lam >= expected_run_length)
    lo = max(lam for lam in lams if lam <= expected_run_length)
    rows = [_row(lo, target_arl0), _row(hi, target_arl0)]
    if rows[0] is None or rows[1] is None:
        span = [max(min(_TABLE[lo]), min(_TABLE[hi])), min(max(_TABLE[lo]), max(_TABLE[hi]))]
        raise ConfigError(f"bocpd_threshold: target_arl0 {target_arl0!r} is outside the "
                          f"simulated table for expected_run_length {expected_run_length!r} "
                          f"({span[0]} to {span[1]})")
    f = 0.0 if hi == lo else math.log(expected_run_length / lo) / math.log(hi / lo)
    g = rows[0] + f * (rows[1] - rows[0])
    return 1.0 / (1.0 + math.exp(-g))
