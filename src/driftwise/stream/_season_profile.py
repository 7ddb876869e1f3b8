"""Seasons: the calendar code of each timestamp, and what a reference says about each season
(its mean, its spread pooled with neighbours where it is thin, and the reference's own
residuals taken out of sample: what a seasonal threshold is calibrated on)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Calendar components a season can combine, with their number of values.
SEASON_COMPONENTS = {"month": 12, "day_of_week": 7, "weekend": 2, "hour": 24, "half_hour": 48}


def season_codes(ts: npt.NDArray[np.datetime64], names: Sequence[str]) -> npt.NDArray[np.int64]:
    """Mixed-radix season code of every timestamp."""
    days = ts.astype("datetime64[D]")
    minutes = (ts - days) // np.timedelta64(1, "m")
    code = np.zeros(ts.size, dtype=np.int64)
    for name in names:
        if name == "month":
            part = ts.astype("datetime64[M]").astype(np.int64) % 12
        elif name in ("day_of_week", "weekend"):
            dow = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
            part = dow if name == "day_of_week" else (dow >= 5).astype(np.int64)
        elif name == "hour":
            part = minutes // 60
        else:
            part = minutes // 30
        code = code * SEASON_COMPONENTS[name] + part.astype(np.int64)
    return code


def season_label(code: int, names: Sequence[str]) -> str:
    """`"day_of_week=Mon, hour=09"`: the season a code stands for."""
    parts = []
    for name in reversed(names):
        code, value = divmod(code, SEASON_COMPONENTS[name])
        if name == "month":
            text = _MONTHS[value]
        elif name == "day_of_week":
            text = _DAYS[value]
        elif name == "weekend":
            text = "yes" if value else "no"
        elif name == "hour":
            text = f"{value:02d}"
        else:
            text = f"{value // 2:02d}:{30 * (value % 2):02d}"
        parts.append(f"{name}={text}")
    return ", ".join(reversed(parts))


@dataclass(frozen=True)
class SeasonProfile:
    """What a reference says about each season (arrays indexed by season code).

    ``usable`` seasons have ``min_own`` values of their own and ``min_points`` behind their
    sd; ``reach`` is how many neighbours each side a season borrowed its spread from (0: its
    own); ``residuals`` are the reference values' out-of-sample residuals, NaN where their
    season cannot give one.
    """

    counts: npt.NDArray[np.int64]
    means: npt.NDArray[np.float64]
    sds: npt.NDArray[np.float64]
    df: npt.NDArray[np.int64]
    reach: npt.NDArray[np.int64]
    usable: npt.NDArray[np.bool_]
    residuals: npt.NDArray[np.float64]


def neighbour_offsets(radix: int, distance: int) -> list[int]:
    """Offsets, along a cycle of ``radix`` values, first reached at ``distance`` (not 0)."""
    seen = {o % radix for o in range(-(distance - 1), distance)}
    return sorted({o % radix for o in (-distance, distance)} - seen)


def season_profile(x: npt.NDArray[np.float64], codes: npt.NDArray[np.int64], size: int,
                   radix: int, *, min_own: int, min_points: int, pool: int,
                   floor: float) -> SeasonProfile:
    """Means, pooled sds and out-of-sample residuals of ``x`` by season ``codes``.

    A season with fewer than ``min_points`` values pools its sum of squares about its own
    mean with those of its neighbours along the least significant digit of the code (of
    ``radix`` values: the last season component), one distance at a time up to ``pool``,
    until the pool holds ``min_points`` values. ``floor`` bounds every sd from below.
    """
    counts = np.bincount(codes, minlength=size)
    sums = np.bincount(codes, weights=x, minlength=size)
    means = np.divide(sums, counts, out=np.zeros(size), where=counts > 0)
    dev = x - means[codes]
    own_ss = np.asarray(np.bincount(codes, weights=dev * dev, minlength=size), np.float64)
    own_df = np.maximum(counts - 1, 0)
    total, df = counts.copy(), own_df.copy()
    ss = own_ss.copy()
    reach = np.zeros(size, dtype=np.int64)
    digit = np.arange(size) % radix
    for distance in range(1, pool + 1):
        short = (counts >= min_own) & (total < min_points)
        if not short.any():
            break
        for offset in neighbour_offsets(radix, distance):
            other = np.arange(size) - digit + (digit + offset) % radix
            total = np.where(short, total + counts[other], total)
            ss = np.where(short, ss + own_ss[other], ss)
            df = np.where(short, df + own_df[other], df)
        reach[short] = distance
    usable = (counts >= min_own) & (total >= min_points)
    sds = np.maximum(np.sqrt(np.divide(ss, df, out=np.zeros(size), where=df > 0)), floor)
    residuals = _out_of_sample(dev, counts[codes], ss[codes], df[codes], floor)
    return SeasonProfile(counts, means, sds, df, reach, usable, residuals)


def _out_of_sample(dev: npt.NDArray[np.float64], n: npt.NDArray[np.int64],
                   ss: npt.NDArray[np.float64], df: npt.NDArray[np.int64],
                   floor: float) -> npt.NDArray[np.float64]:
    """Each value's residual from its season without it, on a new value's scale.

    Left out, a value ``d`` from its season's mean is ``d n / (n - 1)`` from the others',
    whose pooled sd has ``df - 1`` degrees of freedom: under normality that residual is
    ``sqrt(n / (n - 1)) t(df - 1)``. A new value's residual from all ``n`` is
    ``sqrt((n + 1) / n) t(df)``; the residual is mapped from the one law to the other by
    their quantiles, so the reference's windows score as a new window of the same process
    would. NaN where a season has fewer than 2 values or 2 degrees of freedom.
    """
    out = np.full(dev.size, np.nan)
    ok = (n >= 2) & (df >= 2)
    n_ok, d_ok = n[ok].astype(np.float64), dev[ok]
    left_ss = np.maximum(ss[ok] - d_ok * d_ok * n_ok / (n_ok - 1), 0.0)
    left_sd = np.maximum(np.sqrt(left_ss / (df[ok] - 1)), floor)
    u = np.abs(d_ok) * np.sqrt(n_ok / (n_ok - 1)) / left_sd
    tail = stats.t.sf(u, df[ok] - 1)
    mapped = np.where(tail > 0, stats.t.isf(np.where(tail > 0, tail, 0.5), df[ok]), u)
    out[ok] = np.sign(d_ok) * np.sqrt((n_ok + 1) / n_ok) * mapped
    return out
