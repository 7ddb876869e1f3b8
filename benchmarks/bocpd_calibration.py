"""BOCPD thresholds for a target in-control average run length, by simulation.

Run from the repository root (a few minutes per hazard on one core)::

    nice -n 10 .venv/bin/python benchmarks/bocpd_calibration.py [--values 4000000]

For each tabulated ``expected_run_length`` it feeds ``--values`` N(0, 1) values to a
default :class:`driftwise.stream.BOCPD` (reference mean 0, sd 1) and prints the table of
thresholds that ``src/driftwise/stream/_bocpd_arl.py`` stores, with the standard error of
each ARL0 (batch means over 100 blocks) and the coefficient of variation of the gaps
between alarms (what the ARL0 test's tolerance is computed from).

One pass serves every threshold: with ``after_alarm="relearn"`` an alarm does not touch
the run-length posterior, only where change points start to count (the values since the
alarm), so the alarms of each threshold in a grid are replayed from the posterior's
``P(r_t <= j)``, ``j = 1..window``, as the pass goes. The script uses the detector's private
step for that. A direct run of ``update_many`` at the tabulated thresholds checks the
replay (the replay itself gives the detector's alarms exactly) out of sample.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

from driftwise.stream.bocpd import BOCPD

HAZARDS = (100, 250, 500, 1000)
TARGETS = (100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 5000, 7000, 10000)
MIN_ALARMS = 200  # a target is tabulated only where the pass saw this many alarms
GRID = 1.0 / (1.0 + np.exp(-np.linspace(math.log(0.004 / 0.996), math.log(0.998 / 0.002), 120)))


def replayed_alarms(lam: float, n: int, seed: int) -> tuple[np.ndarray, list[list[int]]]:
    """Alarm positions of every threshold in GRID on one in-control stream."""
    det = BOCPD(expected_run_length=lam, mean=0.0, std=1.0)
    w = det.window
    z = np.random.default_rng(seed).standard_normal(n)
    last = np.full(GRID.size, -1, dtype=np.int64)  # the last alarm (-1: before the start)
    alarms: list[list[int]] = [[] for _ in GRID]
    floor = float(GRID[0])
    cdf = np.zeros(w + 1)
    step = det._step
    for t, v in enumerate(z.tolist()):
        if step(v, w) <= floor:  # P(r_t <= window) bounds every P(r_t <= j)
            continue
        lo, hi = det._lo, det._hi
        young = np.exp(det._lp[max(lo, hi - w):hi][::-1])  # run lengths 1, 2, ...
        np.cumsum(young, out=cdf[1:1 + young.size])
        cdf[1 + young.size:] = cdf[young.size]
        recent = np.minimum(w, t - last)
        hit = cdf[recent] > GRID
        if hit.any():
            last[hit] = t
            for i in np.flatnonzero(hit).tolist():
                alarms[i].append(t)
    return z, alarms


def summarise(n: int, alarms: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ARL0 per threshold, its standard error (batch means), and the gaps' CV."""
    arl = np.array([n / max(1, len(a)) for a in alarms])
    blocks = 100
    se, cv = np.full(GRID.size, np.nan), np.full(GRID.size, np.nan)
    for i, a in enumerate(alarms):
        if len(a) < 20:
            continue
        counts = np.bincount(np.asarray(a) * blocks // n, minlength=blocks)
        rate_se = counts.std(ddof=1) / math.sqrt(blocks) / (n / blocks)
        se[i] = arl[i] * rate_se / (len(a) / n)  # delta method: d(1/rate) = rate_se / rate^2
        gaps = np.diff(np.r_[-1, a])
        cv[i] = gaps.std() / gaps.mean()
    return arl, se, cv


def thresholds(arl: np.ndarray, alarms: list[list[int]]) -> dict[int, float]:
    """Threshold per target: logit(threshold) linear in log(ARL0) between grid points."""
    logit = np.log(GRID / (1.0 - GRID))
    out = {}
    for target in TARGETS:
        above = np.flatnonzero(arl >= target)
        if not above.size or above[0] == 0:
            continue
        j = int(above[0])
        if len(alarms[j]) < MIN_ALARMS:
            continue
        x0, x1 = math.log(arl[j - 1]), math.log(arl[j])
        f = (math.log(target) - x0) / (x1 - x0) if x1 > x0 else 1.0
        g = logit[j - 1] + f * (logit[j] - logit[j - 1])
        out[target] = round(1.0 / (1.0 + math.exp(-g)), 5)
    return out


def direct_arl(lam: float, threshold: float, z: np.ndarray) -> float:
    det = BOCPD(threshold=threshold, expected_run_length=lam, mean=0.0, std=1.0)
    return z.size / max(1, det.update_many(z).size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=4_000_000)
    args = parser.parse_args()
    table: dict[int, dict[int, float]] = {}
    for lam in HAZARDS:
        t0 = time.perf_counter()
        _, alarms = replayed_alarms(lam, args.values, seed=lam)
        arl, se, cv = summarise(args.values, alarms)
        table[lam] = thresholds(arl, alarms)
        print(f"# expected_run_length={lam}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for target, th in table[lam].items():
            i = int(np.argmin(np.abs(GRID - th)))
            print(f"#   ARL0 {target:>6}: threshold {th:.5f}  (grid ARL0 {arl[i]:.0f} "
                  f"+- {se[i]:.0f}, gaps' CV {cv[i]:.2f}, {len(alarms[i])} alarms)",
                  file=sys.stderr)
        # Out of sample: the detector itself at the interpolated threshold, another stream.
        fresh = np.random.default_rng(lam + 1).standard_normal(args.values // 2)
        print(f"#   direct update_many at the ARL0-500 threshold, {fresh.size} other values: "
              f"{direct_arl(lam, table[lam][500], fresh):.0f}", file=sys.stderr)
        sys.stderr.flush()
    print("_TABLE = {")
    for lam, row in table.items():
        print(f"    {lam}: {{" + ", ".join(f"{t}: {th}" for t, th in row.items()) + "},")
    print("}")


if __name__ == "__main__":
    main()
