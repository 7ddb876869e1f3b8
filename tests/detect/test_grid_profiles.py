"""Gridded and merged profiles: same verdicts as the exact path, within the stated bounds."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftwise.detect import DriftDetector, InMemoryEngine, ReferenceProfile, merge_profiles
from driftwise.errors import InputFileError, SchemaError
from tests.conftest import needs_shared_data, shared_data


def _table(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i in range(15):
        base = rng.lognormal(size=n) if i % 3 == 0 else rng.normal(size=n)
        columns[f"x{i}"] = base + (shift if i < 3 else 0.0)
    for i, k in enumerate((3, 5, 10, 20, 50)):
        p = 1.0 / np.arange(1, k + 1)
        columns[f"c{i}"] = rng.choice([f"v{j}" for j in range(k)], size=n, p=p / p.sum())
    columns["small_int"] = rng.poisson(3, size=n)
    return pa.table(columns)


def _by_name(report: object) -> dict[str, object]:
    return {c.name: c for c in report.columns}  # type: ignore[attr-defined]


def test_a_gridded_reference_gives_the_exact_verdicts_within_the_bound() -> None:
    reference, current = _table(60_000, 1), _table(50_000, 2, shift=0.08)
    exact = DriftDetector().fit(reference)
    gridded = DriftDetector().fit(exact.profile_.gridded())
    a, b = exact.compare(current), gridded.compare(current)
    ea, eb = _by_name(a), _by_name(b)
    for name, col in ea.items():
        grid_col = eb[name]
        assert grid_col.drift_detected == col.drift_detected, name
        if col.kind == "numeric" and col.test == "ks":
            assert grid_col.statistic <= col.statistic + 1e-12
            assert col.statistic - grid_col.statistic <= 1.0 / 2048 * 1.2
            assert grid_col.method == "grid"
            assert grid_col.effect == pytest.approx(col.effect, rel=0.05, abs=1e-3)
        if col.kind == "categorical":
            assert grid_col.p_value == col.p_value
    # The discrete column is tested on its values, exactly, on both paths.
    assert eb["small_int"].p_value == pytest.approx(ea["small_int"].p_value, rel=1e-9)
    assert eb["x0"].quality.out_of_range_share == pytest.approx(
        ea["x0"].quality.out_of_range_share, abs=1e-12)


def test_tests_that_need_every_value_are_refused_on_a_grid() -> None:
    reference = _table(5_000, 1)
    detector = DriftDetector(numeric_test="anderson").fit(
        DriftDetector().fit(reference).profile_.gridded())
    with pytest.raises(SchemaError, match=r"'x0' is summarised on a grid.*anderson"):
        detector.compare(_table(5_000, 2))


def test_a_20_column_gridded_profile_is_under_a_megabyte_and_round_trips(
        tmp_path: Path) -> None:
    reference = _table(200_000, 3).drop_columns(["small_int"])
    detector = DriftDetector().fit(reference)
    path = tmp_path / "ref.profile"
    profile = detector.profile_.gridded()
    profile.save(path, settings=detector.settings().to_dict(), rows=False)
    assert path.stat().st_size <= 1_000_000
    with zipfile.ZipFile(path) as zf:
        assert json.loads(zf.read("profile.json"))["version"] == 2
    loaded, _ = ReferenceProfile.load(path)
    current = _table(30_000, 4, shift=0.05).drop_columns(["small_int"])
    before = DriftDetector().fit(profile).compare(current).to_dict()
    after = DriftDetector().fit(loaded).compare(current).to_dict()
    assert before["columns"] == after["columns"]


def _rewrite(path: Path, out: Path, name: str, array: np.ndarray) -> None:
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == name:

                buf = io.BytesIO()
                np.save(buf, array)
                data = buf.getvalue()
            dst.writestr(item, data)


@pytest.mark.parametrize("part, damage", [
    ("edges", lambda a: a[::-1].copy()),
    ("edges", lambda a: np.where(np.arange(a.size) == 3, np.nan, a)),
    ("counts", lambda a: a + 1),
    ("counts", lambda a: a.astype(np.float64)),
    ("sums", lambda a: a[:-1].copy()),
])
def test_a_damaged_grid_is_refused_with_a_clear_error(tmp_path: Path, part: str,
                                                      damage: object) -> None:
    path = tmp_path / "ref.profile"
    DriftDetector().fit(_table(3_000, 5)).profile_.gridded(64).save(path, rows=False)
    with zipfile.ZipFile(path) as zf:

        array = np.load(io.BytesIO(zf.read(f"grid/0/{part}.npy")))
    bad = tmp_path / "bad.profile"
    _rewrite(path, bad, f"grid/0/{part}.npy", damage(array))  # type: ignore[operator]
    with pytest.raises(InputFileError, match="damaged profile: column 'x0'"):
        ReferenceProfile.load(bad)


def test_merging_exact_profiles_equals_profiling_the_union() -> None:
    whole = _table(9_000, 6)
    parts = [whole.slice(0, 2_000), whole.slice(2_000, 1), whole.slice(2_001)]
    profiles = [DriftDetector().fit(p).profile_ for p in parts]
    merged = merge_profiles(profiles)
    direct = DriftDetector().fit(whole).profile_
    assert merged.n_rows == direct.n_rows
    for name, col in direct.columns.items():
        got = merged.columns[name]
        assert got.n_missing == col.n_missing and got.n_rows == col.n_rows
        if col.sorted_values is not None:
            assert np.array_equal(got.sorted_values, col.sorted_values)
        else:
            assert dict(zip(got.labels, got.counts.tolist(), strict=True)) == dict(
                zip(col.labels, col.counts.tolist(), strict=True))
    assert merged.rows is not None and merged.rows.num_rows == 9_000


def test_windows_on_the_reference_grid_merge_into_the_week() -> None:
    detector = DriftDetector().fit(_table(40_000, 7))
    reference = detector.profile_
    days = [_table(5_000, 10 + d, shift=0.03 * d) for d in range(7)]
    windows = [DriftDetector().fit(day).profile_.on_grids_of(reference) for day in days]
    week = merge_profiles(windows)
    assert week.n_rows == 35_000
    direct = DriftDetector().fit(pa.concat_tables(days)).profile_.on_grids_of(reference)
    for name, col in direct.columns.items():
        got = week.columns[name]
        if col.grid is not None:
            assert np.array_equal(got.grid.sample.counts, col.grid.sample.counts)
            np.testing.assert_allclose(got.grid.sample.sums, col.grid.sample.sums,
                                       rtol=1e-9, atol=1e-9)
    from_profile = detector.compare(week)
    from_rows = detector.compare(direct)
    for a, b in zip(from_profile.columns, from_rows.columns, strict=True):
        assert a.statistic == pytest.approx(b.statistic, rel=1e-9, abs=1e-12)
        assert a.drift_detected == b.drift_detected
    other_grid = DriftDetector().fit(_table(40_000, 8)).profile_
    with pytest.raises(Exception, match="different grid"):
        merge_profiles([windows[0], DriftDetector().fit(days[0]).profile_.on_grids_of(
            other_grid)])


def test_threads_do_not_change_the_report() -> None:
    reference, current = _table(20_000, 1), _table(20_000, 2, shift=0.05)
    one = DriftDetector(engine=InMemoryEngine(threads=1)).fit(reference).compare(current)
    two = DriftDetector(engine=InMemoryEngine(threads=2)).fit(reference).compare(current)
    assert one.to_dict() == two.to_dict()


@needs_shared_data
def test_real_flights_grid_and_exact_paths_agree(tmp_path: Path) -> None:
    flights = pq.read_table(shared_data("flights_us_2001_vega/flights-3m.parquet"),
                            columns=["delay", "distance", "origin"])
    months = pq.read_table(shared_data("flights_us_2001_vega/flights-3m.parquet"),
                           columns=["date"]).column(0).to_numpy().astype("datetime64[M]")
    jan, feb = flights.filter(pa.array(months == months.min())), flights.filter(
        pa.array(months == months.min() + 1))
    rng = np.random.default_rng(0)
    shuffled = jan.take(pa.array(rng.permutation(jan.num_rows)))
    half = jan.num_rows // 2
    same_a, same_b = shuffled.slice(0, half), shuffled.slice(half)
    exact = DriftDetector().fit(same_a)
    gridded = DriftDetector().fit(exact.profile_.gridded())
    for current in (same_b, feb):
        a, b = _by_name(exact.compare(current)), _by_name(gridded.compare(current))
        for name in ("delay", "distance", "origin"):
            assert a[name].drift_detected == b[name].drift_detected, name
            if a[name].test == "ks":
                assert abs(a[name].statistic - b[name].statistic) <= 1.2 / 2048


def test_window_profiles_store_compactly_and_merge_after_a_round_trip() -> None:
    from driftwise.detect.engine import window_profile

    detector = DriftDetector().fit(_table(50_000, 11))
    reference = detector.profile_
    days = [_table(2_000, 20 + d) for d in range(5)]
    blobs = [window_profile(reference, day, f"day {d}").to_bytes(reference)
             for d, day in enumerate(days)]
    assert max(map(len, blobs)) < 300_000
    loaded = [ReferenceProfile.from_bytes(b, reference) for b in blobs]
    merged = merge_profiles(loaded)
    direct = window_profile(reference, pa.concat_tables(days))
    for name, col in direct.columns.items():
        got = merged.columns[name]
        if col.grid is not None:
            assert np.array_equal(got.grid.sample.counts, col.grid.sample.counts)
    report = detector.compare(merged)
    assert report.current_rows == 10_000
    with pytest.raises(InputFileError, match="reference's grid, and no reference"):
        ReferenceProfile.from_bytes(blobs[0])
    holes = days[0].set_column(0, "x0", pa.array([None] * 2_000, pa.float64()))
    empty = window_profile(reference, holes)
    assert empty.columns["x0"].n_values == 0
    assert merge_profiles([empty, loaded[1]]).columns["x0"].n_values == 2_000


def test_out_of_range_is_counted_only_on_the_references_own_grid() -> None:
    from driftwise.detect.engine import window_profile

    detector = DriftDetector().fit(_table(20_000, 12))
    other = DriftDetector().fit(_table(20_000, 13)).profile_
    day = _table(3_000, 14, shift=5.0)
    own = _by_name(detector.compare(window_profile(detector.profile_, day)))
    foreign = _by_name(detector.compare(window_profile(other, day)))
    assert own["x1"].quality.out_of_range_share > 0.1
    assert foreign["x1"].quality.out_of_range_share is None
    assert foreign["x1"].drift_detected and own["x1"].drift_detected
