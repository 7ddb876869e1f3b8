"""A Monitor with a seasonal baseline on Elec2 demand: the daily and weekly cycle drifts from
the whole reference but is never anomalous; a feature zeroed for three hours is, and alerts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwise.errors import ConfigError, SchemaError
from driftwise.monitor import Monitor, parse_monitor_config
from tests.conftest import needs_shared_data, shared_data

DAY = 48
CONFIG = {
    "model": {"task": "binary", "positive_class": "UP"},
    "columns": {"probabilities": "proba", "target": "class", "timestamp": "ts",
                "features": ["nswdemand", "nswprice"]},
    "windows": {"period": "day", "min_rows": 24},
    "checks": {"bootstrap": 0, "data_quality": False,
               "seasonal": [{"column": "nswdemand", "season": ["day_of_week", "hour"]}]},
    "alerts": [{"name": "demand feed broken", "metric": "seasonal.nswdemand.anomalous",
                "condition": "== true", "severity": "critical"}],
}


@pytest.fixture(scope="module")
def elec2() -> pd.DataFrame:
    frame = pd.read_csv(shared_data("elec2/elec2_electricity_normalized.csv"),
                        usecols=["nswprice", "nswdemand", "class"])
    i = np.arange(len(frame))
    # Row i is 1996-05-07 00:00 + i * 30 min (MANIFEST.md).
    frame["ts"] = np.datetime64("1996-05-07T00:00") + (i * 30).astype("timedelta64[m]")
    # A stand-in model: UP when the price is above its running level.
    score = (frame["nswprice"] - frame["nswprice"].rolling(48, min_periods=1).mean()) * 40
    frame["proba"] = 1.0 / (1.0 + np.exp(-score))
    return frame


@pytest.fixture(scope="module")
def monitor(elec2: pd.DataFrame) -> Monitor:
    return Monitor(CONFIG).fit(elec2.iloc[:730 * DAY])


@needs_shared_data
def test_ordinary_days_drift_from_the_reference_but_are_not_anomalous(
        monitor: Monitor, elec2: pd.DataFrame) -> None:
    days = elec2.iloc[800 * DAY:828 * DAY]  # four weeks after the reference
    results = monitor.run_frame(days)
    assert len(results) == 28
    assert not any(r.get("seasonal.nswdemand.anomalous") for r in results)
    assert not any(r.alerts for r in results)
    # The whole-reference drift test flags the cycle on many of these days; the seasonal
    # verdict explains it.
    drifted = [bool(r.get("drift.columns.nswdemand.drift_detected")) for r in results]
    explained = [bool(r.get("seasonal.nswdemand.seasonal")) for r in results]
    assert sum(drifted) >= 7
    assert sum(explained) >= 7
    for r in results:
        for name in ("score", "threshold", "burst_score", "burst_threshold", "p_value"):
            assert isinstance(r.get(f"seasonal.nswdemand.{name}"), float)


@needs_shared_data
def test_a_feature_zeroed_for_three_hours_is_anomalous_and_alerts(
        monitor: Monitor, elec2: pd.DataFrame) -> None:
    day = elec2.iloc[850 * DAY:851 * DAY].copy()
    day.iloc[20:26, day.columns.get_loc("nswdemand")] = 0.0  # 10:00 to 13:00
    result = monitor.run(day, name="broken day")
    assert result.get("seasonal.nswdemand.anomalous") is True
    assert [a.name for a in result.alerts] == ["demand feed broken"]
    # Rows are compared in time order whatever order they arrive in.
    shuffled = monitor.run(day.sample(frac=1.0, random_state=0), name="shuffled")
    assert shuffled.get("seasonal.nswdemand.burst_score") == pytest.approx(
        result.get("seasonal.nswdemand.burst_score"))


@needs_shared_data
def test_missing_values_are_left_out_and_said(monitor: Monitor, elec2: pd.DataFrame) -> None:
    day = elec2.iloc[860 * DAY:861 * DAY].copy()
    day.iloc[5:8, day.columns.get_loc("nswdemand")] = np.nan
    result = monitor.run(day)
    assert result.get("seasonal.nswdemand.anomalous") is False
    assert "3 row(s)" in result.reasons["seasonal.nswdemand.dropped"]


@needs_shared_data
def test_a_weekend_absent_from_the_reference_is_insufficient_not_ordinary(
        elec2: pd.DataFrame) -> None:
    ref = elec2.iloc[:730 * DAY]
    weekdays = ref[ref["ts"].dt.day_of_week < 5]
    monitor = Monitor(CONFIG).fit(weekdays)
    saturday = elec2.iloc[851 * DAY:852 * DAY]
    assert saturday["ts"].dt.day_of_week.iloc[0] == 5  # 1998-09-05
    result = monitor.run(saturday)
    assert result.get("seasonal.nswdemand.anomalous") is None
    assert "day_of_week=Sat" in result.reasons["seasonal.nswdemand"]


def test_seasonal_config_errors_name_the_entry() -> None:
    no_ts = {**CONFIG, "columns": {"probabilities": "proba", "target": "class"},
             "windows": {"rows": 48}}
    with pytest.raises(ConfigError, match=r"checks\.seasonal needs columns\.timestamp"):
        parse_monitor_config(no_ts)
    for entry, message in (
        ({"column": "x", "season": ["fortnight"]}, r"checks.seasonal\[0\]: season"),
        ({"column": "x", "burst": 0}, r"checks.seasonal\[0\]: burst"),
        ({"column": "x", "window": 3}, r"checks.seasonal\[0\]: unknown key"),
        ({"season": ["hour"]}, r"checks.seasonal\[0\].column"),
    ):
        bad = {**CONFIG, "checks": {"seasonal": [entry]}}
        with pytest.raises(ConfigError, match=message):
            parse_monitor_config(bad)
    twice = {**CONFIG, "checks": {"seasonal": [{"column": "x"}, {"column": "x"}]}}
    with pytest.raises(ConfigError, match="one entry per column"):
        parse_monitor_config(twice)


def test_a_text_timestamp_or_column_is_a_clear_error() -> None:
    n = 24 * 60
    frame = pd.DataFrame({
        "ts": (np.datetime64("2024-01-01") + np.arange(n) * np.timedelta64(1, "h")),
        "nswdemand": np.sin(np.arange(n) / 24 * 2 * np.pi), "nswprice": np.zeros(n),
        "proba": np.full(n, 0.5), "class": np.where(np.arange(n) % 2, "UP", "DOWN"),
    })
    iso = Monitor(CONFIG).fit(frame.assign(ts=frame["ts"].astype(str)))
    typed = Monitor(CONFIG).fit(frame)
    assert iso.seasonal_.baselines["nswdemand"].means_ == pytest.approx(
        typed.seasonal_.baselines["nswdemand"].means_)
    with pytest.raises(SchemaError, match=r"column 'ts': timestamp 'yesterday' at position 0 "
                                          r"is not in a form driftwise reads; accepted: "):
        Monitor(CONFIG).fit(frame.assign(ts="yesterday"))
    with pytest.raises(SchemaError, match="'ts' holds bool; store it as a timestamp"):
        Monitor(CONFIG).fit(frame.assign(ts=np.arange(n) % 2 == 0))
    seconds = (frame["ts"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    epoch = Monitor(CONFIG).fit(frame.assign(ts=seconds))  # Unix epoch seconds
    assert epoch.seasonal_.baselines["nswdemand"].means_ == pytest.approx(
        typed.seasonal_.baselines["nswdemand"].means_)
    with pytest.raises(SchemaError, match="'nswdemand' must be numeric"):
        Monitor(CONFIG).fit(frame.assign(nswdemand="high"))


MONTHLY = {
    "model": {"task": "regression"},
    "columns": {"prediction": "forecast", "target": "temperature", "timestamp": "month",
                "features": ["dew_point"]},
    "windows": {"period": "year", "min_rows": 12},
    "checks": {"bootstrap": 0, "data_quality": False, "estimated_performance": False,
               "seasonal": [{"column": "temperature", "season": ["month"]}]},
    "alerts": [{"name": "temperature feed broken", "metric": "seasonal.temperature.anomalous",
                "condition": "== true", "severity": "critical"}],
}


@pytest.fixture(scope="module")
def nebraska_months() -> pd.DataFrame:
    """Monthly means of Nebraska weather, 1949-1982, months written as '1949-Jan' (the first
    12,418 rows are consecutive days from 1949-01-01: tests/stream/test_stream_seasonal_coarse.py),
    with last decade's climatology as a stand-in forecast."""
    frame = pd.read_csv(shared_data("weather_noaa_nebraska/weather_nebraska.csv"),
                        usecols=["temperature", "dew_point"])
    days = np.datetime64("1949-01-01") + np.arange(12_418).astype("timedelta64[D]")
    months = frame.iloc[:days.size].groupby(days.astype("datetime64[M]")).mean()
    months["month"] = pd.to_datetime(months.index).strftime("%Y-%b")
    months = months.reset_index(drop=True)
    climatology = months["temperature"].iloc[:120].groupby(np.arange(120) % 12).mean()
    months["forecast"] = climatology.to_numpy()[np.arange(len(months)) % 12]
    return months


@needs_shared_data
def test_a_monthly_series_with_text_months_gets_yearly_verdicts(
        nebraska_months: pd.DataFrame) -> None:
    monitor = Monitor(MONTHLY).fit(nebraska_months.iloc[:120])  # 1949-1958
    results = monitor.run_frame(nebraska_months.iloc[120:])
    assert [r.window for r in results][:2] == ["1959", "1960"] and len(results) == 24
    assert not any(r.alerts for r in results)
    assert all(r.get("seasonal.temperature.anomalous") is False for r in results)
    assert results[0].reasons["seasonal.temperature.pooled"].startswith(
        "spread pooled with neighbouring seasons (fewer than 12 reference values of their "
        "own): month=Jan (with month=Dec, month=Feb); ")
    celsius = nebraska_months.iloc[240:252].copy()
    celsius["temperature"] = (celsius["temperature"] - 32) * 5 / 9  # the feed changed units
    result = monitor.run(celsius, name="1969")
    assert result.get("seasonal.temperature.anomalous") is True
    assert [a.name for a in result.alerts] == ["temperature feed broken"]
    short = Monitor(MONTHLY).fit(nebraska_months.iloc[:36]).run(nebraska_months.iloc[36:48])
    assert short.get("seasonal.temperature.anomalous") is None
    assert short.reasons["seasonal.temperature"].startswith(
        "insufficient reference for season(s) month=Jan; month=Feb;")
    assert short.reasons["seasonal.temperature"].endswith(
        "(a season needs 3 reference values of its own and 12 with the 1 neighbouring "
        "season(s) each side it may pool with)")
