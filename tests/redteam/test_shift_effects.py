"""Each shift does what its docstring says, and nothing else, checked against the clean data."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from driftwise.errors import SchemaError
from driftwise.redteam import (
    ConceptFlip,
    ConceptWeaken,
    CovariateMean,
    CovariateMixture,
    CovariateScale,
    LabelShift,
    Seasonal,
    SegmentShift,
)
from tests.redteam.tables import ONSET, ROWS, TARGET, direct_diff, records, synthetic_table

AFTER = ROWS - ONSET


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return synthetic_table()


def floats(data: pa.Table, name: str) -> np.ndarray:
    return np.asarray(data.column(name).to_numpy(zero_copy_only=False), dtype=float)


def sd_before(data: pa.Table, name: str) -> float:
    values = floats(data, name)[:ONSET]
    return float(np.std(values[np.isfinite(values)], ddof=1))


def test_covariate_mean_adds_two_sd_times_intensity_to_its_column_only(table: pa.Table) -> None:
    result = CovariateMean("count").apply(table, intensity=0.4, onset=ONSET)
    assert direct_diff(table, result.data)[0] == ("count",)
    assert result.data.column("count").type == pa.float64()
    old, new = floats(table, "count"), floats(result.data, "count")
    assert np.array_equal(new[:ONSET], old[:ONSET])
    np.testing.assert_allclose(new[ONSET:] - old[ONSET:], 0.8 * sd_before(table, "count"),
                               rtol=1e-9)
    assert result.params["shifts"]["count"] == pytest.approx(0.8 * sd_before(table, "count"))


def test_covariate_mean_keeps_nulls_null_and_nan_nan(table: pa.Table) -> None:
    result = CovariateMean("amount").apply(table, intensity=1.0, onset=ONSET)
    old, new = table.column("amount"), result.data.column("amount")
    assert old.is_null().to_pylist() == new.is_null().to_pylist()
    old_nan = np.isnan(floats(table, "amount")) & ~np.asarray(old.is_null())
    new_nan = np.isnan(floats(result.data, "amount")) & ~np.asarray(new.is_null())
    assert np.array_equal(old_nan, new_nan) and old_nan.sum() == 3
    changed = result.changed_rows
    assert len(changed) == AFTER - int(np.sum(np.isnan(floats(table, "amount"))[ONSET:]))


def test_covariate_scale_spreads_around_the_median(table: pa.Table) -> None:
    result = CovariateScale("x").apply(table, intensity=0.5, onset=ONSET)
    old, new = floats(table, "x"), floats(result.data, "x")
    median = float(np.median(old[:ONSET]))
    assert result.params["medians"]["x"] == pytest.approx(median)
    np.testing.assert_allclose(new[ONSET:] - median, 2.0 * (old[ONSET:] - median), rtol=1e-9)
    assert np.array_equal(new[:ONSET], old[:ONSET])
    assert direct_diff(table, result.data)[0] == ("x",)
    assert np.std(new[ONSET:]) == pytest.approx(2.0 * np.std(old[ONSET:]))


def test_covariate_mixture_moves_a_share_of_rows_by_three_sd(table: pa.Table) -> None:
    result = CovariateMixture(["x", "count"]).apply(table, intensity=0.3, onset=ONSET, seed=2)
    assert direct_diff(table, result.data)[0] == ("x", "count")
    moved = result.changed_rows
    assert len(moved) == round(0.3 * AFTER) and moved.min() >= ONSET
    for name in ("x", "count"):
        old, new = floats(table, name), floats(result.data, name)
        np.testing.assert_allclose(new[moved] - old[moved], 3.0 * sd_before(table, name),
                                   rtol=1e-9)
        rest = np.setdiff1d(np.arange(ROWS), moved)
        assert np.array_equal(new[rest], old[rest])


def test_segment_shift_moves_one_segment_only(table: pa.Table) -> None:
    result = SegmentShift("city", "east", columns="x").apply(table, intensity=0.5,
                                                              onset=ONSET)
    city = np.array(table.column("city").to_pylist(), dtype=object)
    segment = np.flatnonzero(city == "east")
    segment = segment[segment >= ONSET]
    assert result.changed_rows.tolist() == segment.tolist()
    old, new = floats(table, "x"), floats(result.data, "x")
    np.testing.assert_allclose(new[segment] - old[segment], 1.5 * sd_before(table, "x"),
                               rtol=1e-9)
    assert direct_diff(table, result.data)[0] == ("x",)


def test_segment_shift_default_segment_is_a_common_value(table: pa.Table) -> None:
    for seed in range(6):
        result = SegmentShift().apply(table, intensity=1.0, onset=ONSET, seed=seed,
                                      target=TARGET)
        column, value = result.params["segment"], result.params["value"]
        assert column in ("city", "grade", "flag")
        labels = [str(v).lower() for v in table.column(column).slice(ONSET).to_pylist()]
        assert labels.count(value) >= 0.05 * AFTER
        assert len(result.changed_rows) <= labels.count(value)


def minority_share(data: pa.Table) -> float:
    counts = Counter(data.column(TARGET).slice(ONSET).to_pylist())
    return counts[1] / sum(counts.values())


@pytest.mark.parametrize("intensity", [0.3, 1.0])
def test_label_shift_moves_the_minority_prior_to_the_documented_share(
        intensity: float, table: pa.Table) -> None:
    p = minority_share(table)
    assert p < 0.4  # class 1 is the minority of this table
    result = LabelShift().apply(table, intensity=intensity, onset=ONSET, target=TARGET)
    assert minority_share(result.data) == pytest.approx(p + intensity * (0.5 - p),
                                                        abs=1 / AFTER)
    assert result.params["class"] == "1" and result.labels_changed
    # Every record after the onset is one of the clean records after the onset (a resample).
    originals, copies = set(records(table.slice(ONSET))), records(result.data.slice(ONSET))
    assert all(r in originals for r in copies) and result.data.num_rows == ROWS
    assert len(result.changed_rows) == round((p + intensity * (0.5 - p)) * AFTER) - \
        round(p * AFTER)


def test_label_shift_towards_a_given_prior_shrinks_the_class(table: pa.Table) -> None:
    result = LabelShift(prior=0.1).apply(table, intensity=1.0, onset=ONSET, target=TARGET)
    assert minority_share(result.data) == pytest.approx(0.1, abs=1 / AFTER)


def test_label_shift_needs_classes(table: pa.Table) -> None:
    with pytest.raises(SchemaError, match="'amount' is numeric"):
        LabelShift().apply(table.drop_columns([TARGET]), intensity=0.5, target="amount")


def segment_rows(table: pa.Table, column: str, threshold: float) -> set[int]:
    values = floats(table, column)
    return {i for i in range(ONSET, ROWS) if values[i] > threshold}


def test_concept_flip_inverts_labels_in_the_segment_only(table: pa.Table) -> None:
    result = ConceptFlip().apply(table, intensity=0.5, onset=ONSET, seed=3, target=TARGET)
    assert direct_diff(table, result.data)[0] == (TARGET,)
    column, threshold = result.params["segment"], result.params["value"]
    assert threshold == pytest.approx(np.nanmedian(floats(table, column)))
    segment = segment_rows(table, column, threshold)
    assert set(result.changed_rows.tolist()) <= segment
    assert len(result.changed_rows) == round(0.5 * len(segment))
    old, new = table.column(TARGET).to_pylist(), result.data.column(TARGET).to_pylist()
    assert all(new[i] == 1 - old[i] for i in result.changed_rows)


def test_concept_flip_in_a_category_and_for_many_classes(table: pa.Table) -> None:
    data = table.drop_columns([TARGET])
    result = ConceptFlip("city", "east").apply(data, intensity=1.0, onset=ONSET,
                                               target="grade")
    city = data.column("city").to_pylist()
    old, new = data.column("grade").to_pylist(), result.data.column("grade").to_pylist()
    east = [i for i in range(ONSET, ROWS) if city[i] == "east"]
    assert result.changed_rows.tolist() == east
    assert all(new[i] != old[i] and new[i] in {1, 2, 3, 4} for i in east)
    assert direct_diff(data, result.data)[0] == ("grade",)


def test_concept_flip_mirrors_a_numeric_target_around_its_mean(table: pa.Table) -> None:
    data = table.drop_columns([TARGET])
    result = ConceptFlip("x", 0.0).apply(data, intensity=1.0, onset=ONSET, target="count")
    old, new = floats(data, "count"), floats(result.data, "count")
    rows = sorted(segment_rows(data, "x", 0.0))
    np.testing.assert_allclose(new[rows], 2 * old.mean() - old[rows], rtol=1e-12)
    assert set(result.changed_rows.tolist()) <= set(rows)


def test_concept_weaken_redraws_labels_in_the_segment_only(table: pa.Table) -> None:
    result = ConceptWeaken().apply(table, intensity=1.0, onset=ONSET, seed=5, target=TARGET)
    assert direct_diff(table, result.data)[0] == (TARGET,)
    segment = segment_rows(table, result.params["segment"], result.params["value"])
    changed = set(result.changed_rows.tolist())
    assert changed <= segment and result.params["rows_hit"] == len(segment)
    # A draw from the marginal keeps the old label about as often as that label's share.
    p = float(np.mean(table.column(TARGET).to_pylist()))
    old = table.column(TARGET).to_pylist()
    kept = sum(1 for i in segment if i not in changed)
    expected_kept = sum(p if old[i] == 1 else 1 - p for i in segment)
    assert abs(kept - expected_kept) < 4 * math.sqrt(len(segment) * 0.25)


def test_seasonal_adds_exactly_the_sinusoid(table: pa.Table) -> None:
    result = Seasonal("x", period_rows=30).apply(table, intensity=0.5, onset=ONSET)
    old, new = floats(table, "x"), floats(result.data, "x")
    rows = np.arange(ONSET, ROWS)
    wave = 1.0 * sd_before(table, "x") * np.sin(2 * np.pi * (rows - ONSET) / 30)
    np.testing.assert_allclose(new[ONSET:] - old[ONSET:], wave, rtol=0, atol=1e-12)
    assert np.array_equal(new[:ONSET], old[:ONSET])
    assert direct_diff(table, result.data)[0] == ("x",)
    assert Seasonal("x").apply(table, intensity=0.5, onset=ONSET).params["period_rows"] == \
        max(50, AFTER // 4)
