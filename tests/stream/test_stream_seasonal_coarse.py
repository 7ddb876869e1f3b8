"""Seasonal baselines on coarse data: a monthly series with a few years of reference gets
verdicts (months pool their spread with their neighbours, and say so), false alarms stay at
the level the threshold promises, and anomalies are still found, on simulated series and on
50 years of Nebraska weather aggregated to months."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from driftwise.errors import ConfigError
from driftwise.stream import SeasonalBaseline
from driftwise.stream._season_profile import season_codes
from driftwise.stream.seasonal import default_min_reference_points
from tests.conftest import needs_shared_data, shared_data


def monthly(years: int, rng: np.random.Generator, start: int = 1990) -> tuple[
        np.ndarray, np.ndarray]:
    """A monthly cycle (amplitude 5) plus unit noise, from January of ``start``."""
    months = np.arange(f"{start}-01", f"{start + years}-01", dtype="datetime64[M]")
    cycle = 10 + 5 * np.sin(np.arange(months.size) / 12 * 2 * np.pi)
    return cycle + rng.normal(size=months.size), months.astype("datetime64[ns]")


def test_month_seasons_need_12_reference_values_and_pool_a_month_each_side() -> None:
    assert default_min_reference_points(["month"]) == 12
    assert default_min_reference_points(["day_of_week", "hour"]) == 30
    x, ts = monthly(6, np.random.default_rng(0))
    base = SeasonalBaseline(season=["month"]).fit(x[:48], ts[:48])  # 4 Januaries, ...
    verdict = base.compare(x[48:], ts[48:])
    assert verdict.verdict != "insufficient_reference"
    assert verdict.pooled_seasons[0] == "month=Jan (with month=Dec, month=Feb)"
    assert len(verdict.pooled_seasons) == 12
    assert (base.df_ == 3 * 3).all()  # three months of four values, each about its own mean
    three_years = SeasonalBaseline(season=["month"]).fit(x[:36], ts[:36])
    short = three_years.compare(x[36:48], ts[36:48])
    assert short.verdict == "insufficient_reference" and "month=Jan" in short.insufficient_seasons
    wider = SeasonalBaseline(season=["month"], pool=2).fit(x[:36], ts[:36])
    assert wider.compare(x[36:48], ts[36:48]).pooled_seasons[0] == (
        "month=Jan (with month=Nov, month=Dec, month=Feb, month=Mar)")
    alone = SeasonalBaseline(season=["month"], pool=0).fit(x[:48], ts[:48])
    assert alone.compare(x[48:60], ts[48:60]).verdict == "insufficient_reference"
    enough = SeasonalBaseline(season=["month"], min_reference_points=4).fit(x[:48], ts[:48])
    assert enough.compare(x[48:60], ts[48:60]).pooled_seasons == []


def test_pooled_spread_is_within_seasons_so_the_cycle_does_not_inflate_it() -> None:
    x, ts = monthly(5, np.random.default_rng(1))
    base = SeasonalBaseline(season=["month"]).fit(x, ts)
    month = season_codes(ts, ["month"])
    ss = [((x[month == m] - x[month == m].mean()) ** 2).sum() for m in range(12)]
    for m in range(12):
        pooled = sum(ss[(m + d) % 12] for d in (-1, 0, 1)) / (3 * 4)
        assert base.sds_[m] == pytest.approx(np.sqrt(pooled))
    assert np.median(base.sds_) < 1.5  # the noise's sd is 1; the cycle's is 3.5


def test_reference_residuals_are_left_out_and_mapped_to_a_new_values_law() -> None:
    x, ts = monthly(5, np.random.default_rng(2))
    base = SeasonalBaseline(season=["month"], pool=0, min_reference_points=5).fit(x, ts)
    month = season_codes(ts, ["month"])
    for i in (0, 7, 30, 59):
        others = x[(month == month[i]) & (np.arange(x.size) != i)]  # 4 values
        u = (x[i] - others.mean()) / others.std(ddof=1) / np.sqrt(5 / 4)  # t with 3 df
        expected = np.sqrt(6 / 5) * stats.t.ppf(stats.t.cdf(u, 3), 4)  # sqrt(1 + 1/5) t(4)
        assert base.residuals_[i] == pytest.approx(expected)


def test_false_alarms_on_coarse_data_stay_at_the_nominal_level() -> None:
    """Single months judged against five years of monthly reference (five values a month,
    pooled to fifteen): the share called anomalous is the threshold's 1 / (60 + 1), and
    p-values are uniform. Residuals taken in sample fire 19 % of the time here."""
    rng = np.random.default_rng(3)
    anomalous = low_p = judged = 0
    for _ in range(50):
        x, ts = monthly(15, rng)
        base = SeasonalBaseline(season=["month"], burst=None).fit(x[:60], ts[:60])
        for i in range(60, x.size):
            verdict = base.compare(x[i:i + 1], ts[i:i + 1])
            judged += 1
            anomalous += verdict.verdict == "anomalous"
            low_p += verdict.p_value is not None and verdict.p_value <= 0.05
    assert judged == 50 * 120
    nominal = 1 / 61
    assert 0.6 * nominal < anomalous / judged < 1.4 * nominal
    assert 0.035 < low_p / judged < 0.065


def test_an_anomalous_month_is_still_found_on_coarse_data() -> None:
    rng = np.random.default_rng(4)
    found = 0
    for _ in range(40):
        x, ts = monthly(6, rng)
        base = SeasonalBaseline(season=["month"]).fit(x[:60], ts[:60])
        broken = x[60:].copy()
        broken[5] += 6.0  # June six noise sds too high: within the yearly cycle's range
        found += base.compare(broken, ts[60:]).verdict == "anomalous"
        found += base.compare(broken[5:6], ts[65:66]).verdict == "anomalous"
    assert found >= 0.85 * 80  # 73 of 80


def test_pool_and_minimum_are_validated() -> None:
    for bad in (-1, 1.5, True, "1"):
        with pytest.raises(ConfigError, match="pool must be an integer >= 0"):
            SeasonalBaseline(pool=bad)  # type: ignore[arg-type]
    for bad in (2, 0, 3.0, True):
        with pytest.raises(ConfigError, match="min_reference_points must be an integer >= 3"):
            SeasonalBaseline(min_reference_points=bad)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def nebraska_months() -> tuple[np.ndarray, np.ndarray]:
    """Monthly mean temperature at Offutt AFB, 1949-1982, with '1949-Jan' text timestamps.

    The first 12,418 rows are taken as consecutive days from 1949-01-01: the annual cycle's
    phase is steady over them (peak in mid-July) and jumps after, where the record has gaps.
    """
    frame = pd.read_csv(shared_data("weather_noaa_nebraska/weather_nebraska.csv"),
                        usecols=["temperature"])
    days = np.datetime64("1949-01-01") + np.arange(12_418).astype("timedelta64[D]")
    by_month = frame["temperature"].iloc[:days.size].groupby(
        days.astype("datetime64[M]")).mean()
    labels = pd.to_datetime(by_month.index).strftime("%Y-%b").to_numpy()
    return by_month.to_numpy(), labels


@needs_shared_data
def test_nebraska_months_against_ten_years_ordinary_years_pass_broken_ones_are_anomalous(
        nebraska_months: tuple[np.ndarray, np.ndarray]) -> None:
    x, labels = nebraska_months
    assert x.size == 34 * 12 and labels[0] == "1949-Jan"
    base = SeasonalBaseline(season=["month"]).fit(x[:120], labels[:120])  # 1949-1958
    years = range(120, x.size, 12)
    verdicts = [base.compare(x[s:s + 12], labels[s:s + 12]) for s in years]
    assert all(v.pooled_seasons for v in verdicts)
    assert sum(v.verdict == "anomalous" for v in verdicts) <= 1  # of 24 ordinary years
    months = [base.compare(x[i:i + 1], labels[i:i + 1]) for i in range(120, x.size)]
    assert sum(v.verdict == "anomalous" for v in months) <= 4  # of 288 (nominal 1 in 121)
    for s in years:
        year = x[s:s + 12]
        celsius = (year - 32) * 5 / 9  # a feed switched to Celsius
        assert base.compare(celsius, labels[s:s + 12]).verdict == "anomalous"
        july_zero = year.copy()
        july_zero[6] = 0.0  # a sensor reading zero for one month
        assert base.compare(july_zero, labels[s:s + 12]).verdict == "anomalous"
