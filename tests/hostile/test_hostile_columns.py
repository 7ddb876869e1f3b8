"""Hostile columns: nested types, numbers with missing-value markers, unique numbers, null
markers, extreme magnitudes, non-finite statistics, and comparisons that test nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from driftwise import DriftDetector
from driftwise.data import read_path
from tests.hostile.helpers import assert_bad_input, assert_verdict, cli

RNG_SEED = 11


def _report(tmp_path: Path, ref: pd.DataFrame, cur: pd.DataFrame, *flags: str,
            drift: bool | None = None) -> dict[str, dict]:
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    out = tmp_path / "r.json"
    outcome = cli("check", tmp_path / "ref.csv", tmp_path / "cur.csv", "--json", out, *flags)
    if drift is not None:
        assert_verdict(outcome, drift)
    assert outcome.code in (0, 1), outcome
    return {c["name"]: c for c in json.loads(out.read_text())["columns"]}


# -- numbers with markers of missing values ------------------------------------------
def _with_markers(values: np.ndarray, markers: dict[int, str]) -> list[str]:
    out = [repr(float(v)) for v in values]
    for i, marker in markers.items():
        out[i] = marker
    return out


@pytest.mark.parametrize("marker", ["?", "-", "--", "*", "n/a", "missing", "#VALUE!"])
def test_a_numeric_column_with_markers_stays_numeric(tmp_path, marker) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref_x, cur_x = rng.normal(size=500), rng.normal(0.4, 1.0, 500)
    spots = {i: marker for i in range(0, 500, 37)}
    cur = pd.DataFrame({"x": _with_markers(cur_x, spots)})
    cols = _report(tmp_path, pd.DataFrame({"x": ref_x}), cur, drift=True)
    x = cols["x"]
    assert x["kind"] == "numeric" and x["test"] == "ks"
    kept = np.delete(cur_x, list(spots))
    assert x["p_value"] == pytest.approx(stats.ks_2samp(ref_x, kept).pvalue, rel=1e-9)
    assert x["quality"]["missing_share_current"] == pytest.approx(len(spots) / 500)
    if marker.lower() not in ("n/a",):  # Arrow's null list reads "n/a" as missing already
        assert x["quality"]["missing_markers_current"] == {marker: len(spots)}


def test_markers_in_the_reference_are_counted_there(tmp_path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref = pd.DataFrame({"x": _with_markers(rng.normal(size=400), {3: "?", 9: "?"})})
    cur = pd.DataFrame({"x": rng.normal(size=400)})
    x = _report(tmp_path, ref, cur, drift=False)["x"]
    assert x["kind"] == "numeric"
    assert x["quality"]["missing_markers_reference"] == {"?": 2}


def test_an_integer_coded_column_with_a_marker_stays_categorical(tmp_path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    grades = rng.integers(0, 4, 400)
    cur = pd.DataFrame({"grade": [str(g) if i % 50 else "?" for i, g in enumerate(grades)]})
    grade = _report(tmp_path, pd.DataFrame({"grade": rng.integers(0, 4, 400)}), cur,
                    drift=False)["grade"]
    assert grade["kind"] == "categorical" and grade["quality"]["new_categories"] == []


def test_words_are_not_markers(tmp_path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    cur = pd.DataFrame({"x": _with_markers(rng.normal(size=300), {5: "abc"})})
    ref = pd.DataFrame({"x": rng.normal(size=300)})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    assert_bad_input(cli("check", tmp_path / "ref.csv", tmp_path / "cur.csv"), "'x'",
                     "'abc'")


def test_a_mostly_text_column_with_one_number_stays_text(tmp_path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref = pd.DataFrame({"city": rng.choice(["north", "south"], 300)})
    cur = ref.copy()
    cur.loc[0, "city"] = "12"
    city = _report(tmp_path, ref, cur, drift=False)["city"]
    assert city["kind"] == "categorical" and city["quality"]["new_categories"] == ["12"]


def test_markers_are_counted_by_the_reader(tmp_path) -> None:
    (tmp_path / "m.csv").write_text("x,y\n1.5,a\n?,b\n2.5,c\n-,d\n")
    table = read_path(tmp_path / "m.csv")
    assert table.column("x").to_pylist() == [1.5, None, 2.5, None]
    assert json.loads(table.schema.field("x").metadata[b"driftwise.missing_markers"]) == {
        "?": 1, "-": 1}
    assert table.column("y").type == pa.string()


# -- null markers --------------------------------------------------------------------
def _regions(tmp_path: Path, *flags: str) -> dict:
    rng = np.random.default_rng(RNG_SEED)
    ref = pd.DataFrame({"region": rng.choice(["NA", "EU", "AS"], 600)})
    cur = pd.DataFrame({"region": rng.choice(["NA", "EU", "AS"], 600)})
    return _report(tmp_path, ref, cur, *flags, drift=False)["region"]


def test_na_is_missing_by_default_as_documented(tmp_path) -> None:
    region = _regions(tmp_path)
    assert 0.25 < region["quality"]["missing_share_current"] < 0.42


def test_na_values_empty_keeps_na_as_a_category(tmp_path) -> None:
    region = _regions(tmp_path, "--na-values", "")
    assert region["quality"]["missing_share_current"] == 0.0


def test_na_values_replaces_the_list(tmp_path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref = pd.DataFrame({"x": rng.normal(size=300)})
    cur = pd.DataFrame({"x": np.where(rng.random(300) < 0.1, -999.0, rng.normal(size=300))})
    as_value = _report(tmp_path, ref, cur)["x"]["quality"]
    assert as_value["missing_share_current"] == 0.0 and as_value["out_of_range_share"] > 0.05
    as_missing = _report(tmp_path, ref, cur, "--na-values", "-999.0", "--na-values", "")
    assert as_missing["x"]["quality"]["missing_share_current"] > 0.05


# -- unique numbers and keys -------------------------------------------------------------
def test_a_unique_integer_measurement_is_tested(tmp_path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref = pd.DataFrame({"duration_ms": rng.permutation(100_000)[:800]})
    cur = pd.DataFrame({"duration_ms": rng.permutation(100_000)[:800] + 30_000})
    col = _report(tmp_path, ref, cur, drift=True)["duration_ms"]
    assert col["kind"] == "numeric" and "distinct; tested" in col["kind_reason"]


@pytest.mark.parametrize("name", ["user_id", "id", "uuid", "orderId", "Unnamed: 0", "index",
                                  "row_number"])
def test_a_unique_integer_named_as_a_key_is_skipped_with_the_reason(tmp_path, name) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref = pd.DataFrame({name: np.arange(500), "x": rng.normal(size=500)})
    cur = pd.DataFrame({name: np.arange(500, 1000), "x": rng.normal(size=500)})
    col = _report(tmp_path, ref, cur, drift=False)[name]
    assert col["kind"] == "identifier" and "unique" in col["skipped"]


def test_a_declared_identifier_is_skipped(tmp_path) -> None:
    (tmp_path / "c.yaml").write_text("columns: {duration_ms: {kind: identifier}}\n")
    rng = np.random.default_rng(RNG_SEED)
    ref = pd.DataFrame({"duration_ms": rng.permutation(9999)[:300], "x": rng.normal(size=300)})
    cur = pd.DataFrame({"duration_ms": rng.permutation(9999)[:300] + 5000,
                        "x": rng.normal(size=300)})
    col = _report(tmp_path, ref, cur, "--config", str(tmp_path / "c.yaml"),
                  drift=False)["duration_ms"]
    assert col["kind"] == "identifier" and col["kind_reason"] == "set in configuration"


# -- nothing tested --------------------------------------------------------------------
def test_only_keys_and_dates_tests_nothing(tmp_path) -> None:
    frame = pd.DataFrame({"user_id": np.arange(300),
                          "day": pd.date_range("2024-01-01", periods=300).astype(str)})
    frame.to_csv(tmp_path / "a.csv", index=False)
    outcome = cli("check", tmp_path / "a.csv", tmp_path / "a.csv")
    assert_bad_input(outcome, "nothing was tested", "'user_id'", "'day'")


def test_excluding_every_column_tests_nothing(tmp_path) -> None:
    pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}).to_csv(tmp_path / "a.csv", index=False)
    outcome = cli("check", tmp_path / "a.csv", tmp_path / "a.csv", "--exclude", "a",
                  "--exclude", "b")
    assert_bad_input(outcome, "nothing was tested", "excluded")


# -- magnitudes and non-finite statistics -----------------------------------------------------
@pytest.mark.parametrize("unit", [1e-300, 1e300])
def test_extreme_magnitudes_give_the_unit_effect(tmp_path, unit) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref, cur = rng.normal(size=500), rng.normal(0.3, 1.4, 500)
    base = DriftDetector().fit({"x": ref}).compare({"x": cur}).column("x")
    col = _report(tmp_path, pd.DataFrame({"x": ref * unit}), pd.DataFrame({"x": cur * unit}),
                  drift=base.drift_detected)["x"]
    assert np.isfinite(col["effect"])
    assert col["effect"] == pytest.approx(base.effect, rel=1e-6)
    assert col["p_value"] == pytest.approx(base.p_value, rel=1e-9)


def test_an_overflowing_statistic_is_null_in_json_with_a_finite_effect(tmp_path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref = -1.7e308 * (1.0 - 1e-3 * rng.random(300))
    cur = 1.7e308 * (1.0 - 1e-3 * rng.random(300))
    col = _report(tmp_path, pd.DataFrame({"x": ref}), pd.DataFrame({"x": cur}),
                  "--numeric-test", "wasserstein", drift=True)["x"]
    # The distance itself exceeds the largest double: JSON has no Infinity, so null.
    assert col["statistic"] is None
    assert np.isfinite(col["effect"]) and col["effect"] > 0


# -- types between samples -----------------------------------------------------------
def test_integers_in_one_file_and_floats_in_the_other_are_compatible(tmp_path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref = pd.DataFrame({"n": rng.integers(0, 1000, 400)})
    cur = pd.DataFrame({"n": rng.integers(0, 1000, 400) + 0.5})
    col = _report(tmp_path, ref, cur)["n"]
    assert col["quality"]["type_mismatch"] == "reference int64, current double"


def test_booleans_from_csv_are_tested(tmp_path) -> None:
    ref = pd.DataFrame({"flag": [True, False] * 200})
    cur = pd.DataFrame({"flag": [True] * 320 + [False] * 80})
    col = _report(tmp_path, ref, cur, drift=True)["flag"]
    assert col["kind"] == "boolean"


def test_a_column_that_becomes_text(tmp_path) -> None:
    ref = pd.DataFrame({"n": np.arange(300.0) / 7})
    cur = pd.DataFrame({"n": [f"v{i}" for i in range(300)]})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    assert_bad_input(cli("check", tmp_path / "ref.csv", tmp_path / "cur.csv"), "'n'",
                     "number values in the reference but string")


def test_nested_columns_through_the_library_are_skipped_with_a_reason() -> None:
    rng = np.random.default_rng(RNG_SEED)
    ref = pa.table({"x": rng.normal(size=300), "tags": [["a"]] * 300,
                    "meta": [{"k": 1}] * 300})
    cur = pa.table({"x": rng.normal(1.0, 1.0, 300), "tags": [["b", "c"]] * 300,
                    "meta": [{"k": 2}] * 300})
    report = DriftDetector().fit(ref).compare(cur)
    assert report.drifted_columns == ["x"]
    assert report.column("tags").kind == "nested" and report.column("meta").skipped


def test_a_binary_parquet_column_is_reported_unsupported(tmp_path) -> None:
    rng = np.random.default_rng(RNG_SEED)
    table = pa.table({"x": rng.normal(size=200), "blob": [b"\x00\x01"] * 200})
    pq.write_table(table, tmp_path / "b.parquet")
    out = tmp_path / "r.json"
    assert_verdict(cli("check", tmp_path / "b.parquet", tmp_path / "b.parquet", "--json", out),
                   drift=False)
    blob = next(c for c in json.loads(out.read_text())["columns"] if c["name"] == "blob")
    assert blob["kind"] == "unsupported" and blob["skipped"]
