"""Timestamps in the forms data exports write are read as the same instants; anything else is
refused with its column, value and position, and the forms that are accepted."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from driftwise.errors import SchemaError
from driftwise.stream import SeasonalBaseline
from driftwise.stream.timestamps import ACCEPTED_FORMS, parse_timestamps

JAN_1977 = np.datetime64("1977-01-01T00:00", "ns")


@pytest.mark.parametrize("text", [
    "1977-Jan", "1977-January", "1977-JAN", "1977Jan", "1977 jan", "1977/Jan", "Jan 1977",
    "January 1977", "Jan-1977", "Jan. 1977", "January, 1977", "1977-01", "1977-1", "1977/01",
    "1977M01", "1977m1", "1977-01-01", "1977/01/01", "01-Jan-1977", "1 January 1977",
    "January 1, 1977", "1977", " 1977-01 ", "1977-01-01T00:00:00", "1977-01-01 00:00",
    "1977-01-01T00:00:00Z", "1977-01-01T00:00:00+02:00", "1977-01-01T00:00-0500",
])
def test_every_accepted_text_form_of_january_1977_reads_as_its_first_instant(text: str) -> None:
    assert parse_timestamps([text], "column 'month'")[0] == JAN_1977


def test_times_of_day_offsets_and_fractions_keep_the_local_clock() -> None:
    got = parse_timestamps(["2015-02-01T10:30:15.25+02:00", "2015-02-01 23:59:59Z",
                            "2015-02-01T10", "Sept 2015"], "x")
    assert got.tolist() == np.array(["2015-02-01T10:30:15.25", "2015-02-01T23:59:59",
                                     "2015-02-01T10:00", "2015-09-01"],
                                    dtype="datetime64[ns]").tolist()


def test_a_large_iso_column_with_offsets_is_read_in_bulk() -> None:
    ts = np.datetime64("2024-01-01") + np.arange(200_000) * np.timedelta64(1, "m")
    text = np.char.add(ts.astype(str), "+01:00")
    assert (parse_timestamps(text, "x") == ts.astype("datetime64[ns]")).all()


@pytest.mark.parametrize(("values", "expected"), [
    ([1_700_000_000], "2023-11-14T22:13:20"),             # seconds
    ([1_700_000_000.5], "2023-11-14T22:13:20.5"),
    ([1_700_000_000_000], "2023-11-14T22:13:20"),         # milliseconds
    ([1_700_000_000_000_000], "2023-11-14T22:13:20"),     # microseconds
    ([1_700_000_000_000_000_123], "2023-11-14T22:13:20.000000123"),  # nanoseconds, exact
    ([-662_688_000], "1949-01-01T00:00"),                 # before 1970: negative seconds
])
def test_epoch_numbers_take_their_unit_from_their_size(values: list[float], expected: str) -> None:
    assert parse_timestamps(values, "x")[0] == np.datetime64(expected, "ns")


def test_datetimes_of_every_kind_are_taken_in_their_wall_time() -> None:
    aware = dt.datetime(2020, 1, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    got = parse_timestamps([aware, pd.Timestamp("2020-01-01 01:00:00.000000001"),
                            dt.date(2020, 1, 2), np.datetime64("2020-01-03"), "2020-03",
                            1_700_000_000], "x")
    assert got.tolist() == np.array(
        ["2020-01-01T05:00", "2020-01-01T01:00:00.000000001", "2020-01-02", "2020-01-03",
         "2020-03-01", "2023-11-14T22:13:20"], dtype="datetime64[ns]").tolist()
    paris = pd.date_range("2020-07-01", periods=2, freq="h", tz="Europe/Paris")
    assert parse_timestamps(paris, "x")[1] == np.datetime64("2020-07-01T01:00", "ns")


def test_missing_timestamps_become_nat() -> None:
    got = parse_timestamps(["2015-02", "", "NaN", "NA", "null", None], "x")
    assert np.isnat(got[1:]).all() and not np.isnat(got[0])
    assert np.isnat(parse_timestamps([1.7e9, np.nan], "x")[1])
    assert np.isnat(parse_timestamps(np.array([None, pd.NaT, np.datetime64("NaT"), np.nan,
                                               "2015-01"], dtype=object), "x")[:4]).all()


@pytest.mark.parametrize(("value", "problem"), [
    ("today", "is not in a form driftwise reads"),          # NumPy would read it as today
    ("now", "is not in a form driftwise reads"),
    ("01/02/2015", "is not in a form driftwise reads"),     # day or month first: ambiguous
    ("Jan-77", "is not in a form driftwise reads"),         # which century?
    ("1977.01", "is not in a form driftwise reads"),        # a decimal year?
    ("１９７７-01", "is not in a form driftwise reads"),      # full-width digits
    ("2015-02-01T10:00.123Z", "is not in a form driftwise reads"),
    ("x" * 500, "is not in a form driftwise reads"),
    ("2015-13", "is not a valid date (month must be in 1..12)"),
    ("2015-02-30", "is not a valid date"),
    ("2015-02-01T25:00", "is not a valid time of day"),
    ("Janvier 1977", "names no month ('Janvier'"),
    ("9999-12-31", "is outside the years 1678-2261"),
    (1e300, "as a Unix epoch time is outside the years 1678-2261"),
    (float("inf"), "is not finite"),
    ({"year": 1977}, "is a dict, not a time"),
])
def test_a_hostile_timestamp_is_refused_naming_column_value_position_and_forms(
        value: object, problem: str) -> None:
    values = np.empty(3, dtype=object)
    values[:] = ["1977-Jan", "1977-Feb", value] if isinstance(value, str) else [
        1.0e9, 1.1e9, value]
    with pytest.raises(SchemaError) as caught:
        parse_timestamps(values, "column 'month'")
    message = str(caught.value)
    assert message.startswith("column 'month': timestamp ")
    assert f"at position 2 {problem}" in message
    assert message.endswith("accepted: " + ACCEPTED_FORMS)
    if isinstance(value, str) and len(value) > 60:
        assert "..." in message and len(message) < 900  # a long value is shortened


def test_kinds_that_are_not_times_are_refused() -> None:
    for values, kind in (([True, False], "booleans"), (np.array([1, 2], "timedelta64[h]"),
                                                       "durations"),
                         (np.array(["3000-01-01"], "datetime64[D]"), "outside the years")):
        with pytest.raises(SchemaError, match=kind):
            parse_timestamps(values, "x")
    with pytest.raises(SchemaError, match="one-dimensional"):
        parse_timestamps([[1, 2], [3, 4]], "x")
    with pytest.raises(SchemaError, match="is a boolean"):
        parse_timestamps(np.array(["2015-01", True], dtype=object), "x")


def test_the_seasonal_baseline_reads_text_months_and_names_a_bad_one() -> None:
    months = np.arange("2000-01", "2010-01", dtype="datetime64[M]")
    values = np.sin(np.arange(months.size) / 12 * 2 * np.pi) + np.arange(months.size) % 5 / 10
    typed = SeasonalBaseline(season=["month"]).fit(values, months)
    text = pd.to_datetime(months).strftime("%Y-%b").to_numpy()
    assert SeasonalBaseline(season=["month"]).fit(values, text).means_ == pytest.approx(
        typed.means_)
    text[7] = "2000-Agu"
    with pytest.raises(SchemaError, match=r"fit: timestamp '2000-Agu' at position 7 names no "
                                          r"month"):
        SeasonalBaseline(season=["month"]).fit(values, text)
    with pytest.raises(SchemaError, match="position 3 is missing"):
        SeasonalBaseline(season=["month"]).fit(values[:5], ["2000-01", "2000-02", "2000-03",
                                                            "", "2000-05"])
