"""Seasonal baseline: the ordinary cycle is `seasonal` or `no_drift`; an integration error is
`anomalous`; too little reference is said so."""

from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pytest

from driftwise.errors import ConfigError, NotFittedError, SchemaError
from driftwise.stream import SeasonalBaseline
from tests.conftest import needs_shared_data, shared_data

DAY = 48  # Elec2: one row every 30 minutes


@pytest.fixture(scope="module")
def elec2_demand() -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(shared_data("elec2/elec2_electricity_normalized.csv"),
                        usecols=["nswdemand"])
    values = frame["nswdemand"].to_numpy(dtype=np.float64)
    i = np.arange(values.size)
    # Row i is 1996-05-07 00:00 + (i // 48) days + (i % 48) * 30 min (MANIFEST.md).
    ts = (np.datetime64("1996-05-07T00:00") + (i // DAY).astype("timedelta64[D]")
          + ((i % DAY) * 30).astype("timedelta64[m]"))
    return values, ts


@pytest.fixture(scope="module")
def elec2_baseline(elec2_demand: tuple[np.ndarray, np.ndarray]) -> SeasonalBaseline:
    values, ts = elec2_demand
    n_ref = 730 * DAY  # two years: every (day of week, hour) has 208 reference values
    return SeasonalBaseline(season=("day_of_week", "hour")).fit(values[:n_ref], ts[:n_ref])


def later_days(values: np.ndarray) -> range:
    return range(730, values.size // DAY)


@needs_shared_data
def test_ordinary_days_after_the_reference_are_never_anomalous(
    elec2_demand: tuple[np.ndarray, np.ndarray], elec2_baseline: SeasonalBaseline
) -> None:
    values, ts = elec2_demand
    verdicts = collections.Counter(
        elec2_baseline.compare(values[d * DAY:(d + 1) * DAY], ts[d * DAY:(d + 1) * DAY]).verdict
        for d in later_days(values)
    )
    assert sum(verdicts.values()) == 214
    assert verdicts["anomalous"] == 0
    assert verdicts["insufficient_reference"] == 0


@needs_shared_data
@pytest.mark.parametrize("day", [735, 790, 850, 930])
@pytest.mark.parametrize("error", ["zeroed", "x1000"])
def test_a_day_with_an_integration_error_is_anomalous(
    elec2_demand: tuple[np.ndarray, np.ndarray], elec2_baseline: SeasonalBaseline, day: int,
    error: str,
) -> None:
    values, ts = elec2_demand
    window = values[day * DAY:(day + 1) * DAY]
    broken = window * 0.0 if error == "zeroed" else window * 1000.0
    verdict = elec2_baseline.compare(broken, ts[day * DAY:(day + 1) * DAY])
    if error == "zeroed" and day in (790, 930):
        # Mondays: a zeroed Monday (score 3.59) strays from its season a little less than
        # New Year's Day 1997 did (3.63, demand near zero at night), the most extreme day of
        # the reference, so the honest threshold (out-of-sample residuals) lets it pass; it
        # still differs from the whole reference.
        assert verdict.verdict == "seasonal"
        assert verdict.score is not None and verdict.threshold is not None
        assert 0.97 * verdict.threshold < verdict.score < verdict.threshold
        return
    assert verdict.verdict == "anomalous"
    assert verdict.score is not None and verdict.threshold is not None
    assert verdict.score > verdict.threshold
    assert elec2_baseline.compare(window, ts[day * DAY:(day + 1) * DAY]).verdict != "anomalous"


@needs_shared_data
def test_the_evening_peak_differs_from_the_whole_reference_but_is_seasonal(
    elec2_demand: tuple[np.ndarray, np.ndarray], elec2_baseline: SeasonalBaseline
) -> None:
    values, ts = elec2_demand
    verdicts = []
    for d in later_days(values):
        s = slice(d * DAY + 34, d * DAY + 40)  # 17:00 to 20:00
        verdicts.append(elec2_baseline.compare(values[s], ts[s]))
    # Compared with the whole reference, most evening peaks are different ...
    differs = [v.overall_p_value is not None and v.overall_p_value < 0.01 for v in verdicts]
    assert np.mean(differs) > 0.6
    # ... and the season explains every one of them.
    assert {v.verdict for v in verdicts} <= {"seasonal", "no_drift"}
    assert sum(v.verdict == "seasonal" for v in verdicts) > 0.6 * len(verdicts)


def hourly(n_days: int, start: str = "2024-01-01") -> np.ndarray:
    return np.datetime64(start) + np.arange(24 * n_days) * np.timedelta64(1, "h")


def cycle(ts: np.ndarray, seed: int = 0) -> np.ndarray:
    hour = (ts - ts.astype("datetime64[D]")) // np.timedelta64(1, "h")
    noise = np.random.default_rng(seed).normal(0.0, 0.5, ts.size)
    return 10.0 + 5.0 * np.sin(hour.astype(float) / 24.0 * 2.0 * np.pi) + noise


def test_a_season_with_too_few_reference_points_gives_insufficient_reference() -> None:
    ts = hourly(7 * 40)  # 40 of each weekday
    values = cycle(ts)
    weekday = ((ts.astype("datetime64[D]").astype(np.int64) + 3) % 7) < 5
    base = SeasonalBaseline(season=("day_of_week", "hour")).fit(values[weekday], ts[weekday])
    saturday = hourly(1, "2024-11-02")  # a Saturday: absent from the reference
    verdict = base.compare(cycle(saturday), saturday)
    assert verdict.verdict == "insufficient_reference"
    assert "day_of_week=Sat, hour=00" in verdict.insufficient_seasons
    monday = hourly(1, "2024-11-04")
    assert base.compare(cycle(monday), monday).verdict in ("no_drift", "seasonal")


def test_a_window_longer_than_the_reference_gives_insufficient_reference() -> None:
    ts = hourly(60)
    base = SeasonalBaseline(season=["hour"], min_reference_points=10).fit(cycle(ts[:24 * 20]),
                                                                          ts[:24 * 20])
    assert base.compare(cycle(ts[-24 * 30:]), ts[-24 * 30:]).verdict == "insufficient_reference"


def test_timestamps_out_of_order_or_missing_are_refused() -> None:
    ts = hourly(40)
    values = cycle(ts)
    base = SeasonalBaseline(season=["hour"])
    swapped = ts.copy()
    swapped[[10, 11]] = swapped[[11, 10]]
    with pytest.raises(SchemaError, match="out of order at position 11"):
        base.fit(values, swapped)
    missing = ts.astype("datetime64[ns]").copy()
    missing[5] = np.datetime64("NaT")
    with pytest.raises(SchemaError, match="position 5 is missing"):
        base.fit(values, missing)
    with pytest.raises(SchemaError, match="timestamps for"):
        base.fit(values, ts[:-1])
    base.fit(values, ts)
    with pytest.raises(SchemaError, match="out of order"):
        base.compare(values[:24], swapped[:24][::-1])


def test_non_finite_values_and_bad_configs_are_refused() -> None:
    ts = hourly(40)
    values = cycle(ts)
    values[3] = np.nan
    with pytest.raises(SchemaError, match="position 3 is not finite"):
        SeasonalBaseline(season=["hour"]).fit(values, ts)
    with pytest.raises(ConfigError, match="season"):
        SeasonalBaseline(season=["fortnight"])
    with pytest.raises(ConfigError, match="min_reference_points"):
        SeasonalBaseline(min_reference_points=1)
    with pytest.raises(NotFittedError):
        SeasonalBaseline().compare([1.0], ts[:1])


def test_the_verdict_serialises() -> None:
    ts = hourly(60)
    base = SeasonalBaseline(season=["hour"]).fit(cycle(ts[:-24]), ts[:-24])
    out = base.compare(cycle(ts[-24:], seed=5), ts[-24:]).to_dict()
    assert out["verdict"] in ("no_drift", "seasonal")
    assert set(out) >= {"score", "threshold", "p_value", "overall_p_value", "overall_effect"}
    assert base.expected(ts[:3]) == pytest.approx(base.means_[:3])


def test_time_zone_aware_timestamps_are_seasoned_in_their_local_time() -> None:
    local = pd.date_range("2024-01-01", periods=24 * 60, freq="h")
    values = cycle(local.to_numpy())
    base = SeasonalBaseline(season=["hour"]).fit(values, local)
    naive = base.compare(values[-24:], local[-24:])
    in_sydney = local[-24:].tz_localize("Australia/Sydney")  # February: no DST change
    for given in (in_sydney, pd.Series(in_sydney)):
        assert base.compare(values[-24:], given).score == pytest.approx(naive.score)
    # The same instants in UTC are other hours of the day: far from their season.
    in_utc = base.compare(values[-24:], in_sydney.tz_convert("UTC"))
    assert in_utc.score is not None and naive.score is not None
    assert in_utc.score > 3 * naive.score


@needs_shared_data
@pytest.mark.parametrize("start", [20, 34])  # 10:00 and 17:00
def test_a_feature_zeroed_for_three_hours_is_anomalous(
    elec2_demand: tuple[np.ndarray, np.ndarray], elec2_baseline: SeasonalBaseline, start: int
) -> None:
    values, ts = elec2_demand
    caught = 0
    days = range(735, 944, 7)
    for d in days:
        window = values[d * DAY:(d + 1) * DAY].copy()
        window[start:start + 6] = 0.0
        verdict = elec2_baseline.compare(window, ts[d * DAY:(d + 1) * DAY])
        caught += verdict.verdict == "anomalous"
        # The whole-day score alone would let most of these pass: the burst score catches them.
        if verdict.verdict == "anomalous":
            assert verdict.burst_score is not None and verdict.burst_threshold is not None
    assert caught >= 0.9 * len(days)
    without = SeasonalBaseline(season=("day_of_week", "hour"), burst=None).fit(
        values[:730 * DAY], ts[:730 * DAY])
    zeroed = (np.arange(DAY) >= start) & (np.arange(DAY) < start + 6)
    missed = sum(
        without.compare(np.where(zeroed, 0.0, values[d * DAY:(d + 1) * DAY]),
                        ts[d * DAY:(d + 1) * DAY]).verdict != "anomalous"
        for d in days)
    assert missed >= 0.5 * len(days)


def test_the_burst_check_keeps_false_alarms_rare_on_an_ordinary_cycle() -> None:
    ts = hourly(7 * 60)
    values = cycle(ts, seed=3)
    n_ref = 24 * 7 * 40
    base = SeasonalBaseline(season=["hour"]).fit(values[:n_ref], ts[:n_ref])
    fresh = cycle(ts, seed=11)  # the same process, other noise
    verdicts = [base.compare(fresh[d * 24:(d + 1) * 24], ts[d * 24:(d + 1) * 24])
                for d in range(n_ref // 24, ts.size // 24)]
    assert len(verdicts) == 140
    # Thresholds are the largest of ~6,700 reference windows: a fresh ordinary day exceeds
    # one of the two with probability of the order of 2 / 6,700.
    assert sum(v.verdict == "anomalous" for v in verdicts) <= 2
    burst_p = [v.burst_p_value for v in verdicts]
    assert all(p is not None and 0.0 < p <= 1.0 for p in burst_p)


def test_burst_p_value_and_threshold_follow_the_reference_windows() -> None:
    ts = hourly(30)
    values = cycle(ts, seed=2)
    base = SeasonalBaseline(season=["hour"], min_reference_points=5).fit(values, ts)
    window = cycle(ts[-24:], seed=9)
    verdict = base.compare(window, ts[-24:])
    # Brute force over every run of 24 reference residuals.
    r = base.residuals_
    brute = []
    for i in range(r.size - 24 + 1):
        dev = r[i:i + 24] - np.median(r[i:i + 24])
        brute.append(max(np.sqrt(np.mean(dev[j:j + 2] ** 2)) for j in range(23)))
    assert verdict.burst_threshold == pytest.approx(max(brute))
    assert verdict.burst_score is not None
    at_least = sum(b >= verdict.burst_score for b in brute)
    assert verdict.burst_p_value == pytest.approx((1 + at_least) / (1 + len(brute)))


def test_the_burst_check_is_configurable_and_skipped_on_short_windows() -> None:
    ts = hourly(40)
    values = cycle(ts)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="burst"):
            SeasonalBaseline(burst=bad)  # type: ignore[arg-type]
    base = SeasonalBaseline(season=["hour"], burst=3).fit(values[:-24], ts[:-24])
    assert base.compare(values[-11:], ts[-11:]).burst_score is None  # shorter than 4 * 3
    assert base.compare(values[-12:], ts[-12:]).burst_score is not None
    off = SeasonalBaseline(season=["hour"], burst=None).fit(values[:-24], ts[:-24])
    assert off.compare(values[-24:], ts[-24:]).burst_threshold is None
