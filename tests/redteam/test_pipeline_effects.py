"""Each pipeline bug does what its docstring says, and nothing else."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from driftwise.errors import ConfigError
from driftwise.redteam import (
    CategoryTruncation,
    DroppedFeature,
    DuplicatedRows,
    LabelsDelayed,
    LabelsMissing,
    NullStorm,
    StaleFeature,
    StuckValue,
    SwappedColumns,
    TypeChange,
    UnitChange,
)
from tests.redteam.tables import ONSET, ROWS, TARGET, direct_diff, records, synthetic_table

AFTER = ROWS - ONSET


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return synthetic_table()


def test_truncation_cuts_its_column_and_merges_categories(table: pa.Table) -> None:
    result = CategoryTruncation().apply(table, intensity=1.0, onset=ONSET, seed=1)
    assert result.params["column"] == "city" and result.params["length"] == 6
    assert direct_diff(table, result.data)[0] == ("city",)
    old, new = table.column("city").to_pylist(), result.data.column("city").to_pylist()
    assert all(n == (o[:6] if o is not None else None) for o, n in zip(old[ONSET:],
                                                                       new[ONSET:], strict=True))
    assert set(new[ONSET:]) - {None} == {"north-", "south-", "east"}
    assert len(set(old[ONSET:]) - {None}) == 5
    assert result.params["merged"] == {"north-": ["north-a", "north-b"],
                                       "south-": ["south-a", "south-b"]}


def test_truncation_with_a_given_length(table: pa.Table) -> None:
    result = CategoryTruncation("city", 2).apply(table, intensity=0.5, onset=ONSET)
    new = result.data.column("city").to_pylist()
    changed = result.changed_rows
    assert len(changed) <= round(0.5 * AFTER)
    assert {new[i] for i in changed} <= {"no", "so", "ea"}


def test_unit_change_scales_hit_rows_of_its_column_by_the_factor(table: pa.Table) -> None:
    result = UnitChange("count", factor=0.01).apply(table, intensity=0.25, onset=ONSET)
    assert direct_diff(table, result.data)[0] == ("count",)
    old = np.asarray(table.column("count").to_numpy(), dtype=float)
    new = np.asarray(result.data.column("count").to_numpy(), dtype=float)
    changed = result.changed_rows
    hit = result.params["rows_hit"]
    assert hit == round(0.25 * AFTER)
    assert hit - np.count_nonzero(old[ONSET:] == 0) <= len(changed) <= hit
    assert np.array_equal(new[changed], old[changed] * 0.01)
    rest = np.setdiff1d(np.arange(ROWS), changed)
    assert np.array_equal(new[rest], old[rest])


@pytest.mark.parametrize("factor", [1.0, 0.0, -10.0, "1000", math.inf])
def test_unit_change_factor_must_be_positive_and_not_one(factor: object) -> None:
    with pytest.raises(ConfigError, match="factor"):
        UnitChange(factor=factor).check_params()  # type: ignore[arg-type]


def test_null_storm_empties_the_same_rows_of_its_columns(table: pa.Table) -> None:
    result = NullStorm(["x", "city"]).apply(table, intensity=0.4, onset=ONSET, seed=2)
    assert direct_diff(table, result.data)[0] == ("x", "city")
    x_nulls = np.flatnonzero(np.asarray(result.data.column("x").is_null()))
    assert len(x_nulls) == round(0.4 * AFTER) and x_nulls.min() >= ONSET
    city_nulls = set(np.flatnonzero(np.asarray(result.data.column("city").is_null())))
    assert set(x_nulls) <= city_nulls
    assert result.changed_rows.tolist() == x_nulls.tolist()


def test_swapped_columns_exchange_values_in_hit_rows(table: pa.Table) -> None:
    result = SwappedColumns(["x", "count"]).apply(table, intensity=0.5, onset=ONSET)
    x_old, c_old = (np.asarray(table.column(c).to_numpy(), dtype=float) for c in ("x", "count"))
    x_new, c_new = (result.data.column(c).to_numpy() for c in ("x", "count"))
    rows = result.changed_rows
    assert len(rows) == round(0.5 * AFTER)
    assert np.array_equal(x_new[rows], c_old[rows]) and np.array_equal(c_new[rows], x_old[rows])
    rest = np.setdiff1d(np.arange(ROWS), rows)
    assert np.array_equal(x_new[rest], x_old[rest]) and np.array_equal(c_new[rest], c_old[rest])
    assert direct_diff(table, result.data)[0] == ("x", "count")


def test_swapped_columns_default_pair_differs_in_distribution(table: pa.Table) -> None:
    same = pa.table({"a": np.arange(100.0), "b": np.arange(100.0)[::-1]})
    with pytest.raises(Exception, match="distributions differ"):
        SwappedColumns().apply(same, intensity=0.5)
    for seed in range(4):
        pair = SwappedColumns().apply(table, intensity=0.5, seed=seed).params["columns"]
        assert set(pair) <= {"x", "amount", "count"} and len(set(pair)) == 2


def test_stuck_value_repeats_the_last_value_before_the_onset(table: pa.Table) -> None:
    result = StuckValue("count").apply(table, intensity=0.5, onset=ONSET)
    stuck = table.column("count")[ONSET - 1].as_py()
    new = result.data.column("count").to_pylist()
    assert result.params["value"] == stuck
    assert all(new[i] == stuck for i in result.changed_rows)
    assert sum(v == stuck for v in new[ONSET:]) >= round(0.5 * AFTER)
    assert direct_diff(table, result.data)[0] == ("count",)


def test_stuck_value_defaults_for_onset_zero_and_categories(table: pa.Table) -> None:
    at_start = StuckValue("count").apply(table, intensity=0.5, onset=0).params["value"]
    values = sorted(table.column("count").to_pylist())
    assert at_start == values[(ROWS - 1) // 2]
    mode = Counter(v for v in table.column("city").slice(0, ONSET).to_pylist()
                   if v is not None).most_common(1)[0][0]
    assert StuckValue("city").apply(table, intensity=0.5, onset=ONSET).params["value"] == mode
    given = StuckValue("grade", value=9).apply(table, intensity=1.0, onset=ONSET)
    assert set(given.data.column("grade").slice(ONSET).to_pylist()) == {9}


def test_duplicated_rows_repeat_a_few_post_onset_records(table: pa.Table) -> None:
    result = DuplicatedRows(sources=3).apply(table, intensity=0.5, onset=ONSET, target=TARGET)
    old, new = records(table), records(result.data)
    sources = result.params["source_rows"]
    assert len(sources) == 3 and min(sources) >= ONSET
    copies = {new[i] for i in result.changed_rows}
    assert copies <= {old[i] for i in sources}
    assert len(result.changed_rows) >= round(0.5 * AFTER) - 3
    assert result.labels_changed == (TARGET in result.changed_columns)


def test_type_change_writes_a_share_in_a_locale_format(table: pa.Table) -> None:
    result = TypeChange("amount").apply(table, intensity=0.5, onset=ONSET)
    texts = result.data.column("amount").to_pylist()
    clean = table.column("amount").to_pylist()
    malformed = []
    for row in range(ONSET, ROWS):
        try:
            value = float(texts[row]) if texts[row] is not None else None
        except ValueError:
            malformed.append(row)
            value = float(texts[row].replace(".", "").replace(",", "."))
        assert value == clean[row] or (value is not None and math.isnan(value)
                                       and math.isnan(clean[row]))
    finite_hit = result.params["malformed_rows"]
    assert len(malformed) == finite_hit and 0 < finite_hit <= round(0.5 * AFTER)
    assert result.changed_columns == ("amount",)
    assert result.data.column("amount").type == pa.string()


def test_dropped_feature_removes_exactly_the_given_column(table: pa.Table) -> None:
    result = DroppedFeature("grade").apply(table, intensity=0.01, onset=ONSET)
    assert set(table.column_names) - set(result.data.column_names) == {"grade"}
    assert result.changed_columns == ("grade",)
    assert result.changed_rows.tolist() == list(range(ONSET, ROWS))


def test_stale_feature_takes_the_value_of_an_earlier_row(table: pa.Table) -> None:
    result = StaleFeature("x", lag_rows=7).apply(table, intensity=0.5, onset=ONSET)
    old, new = table.column("x").to_pylist(), result.data.column("x").to_pylist()
    assert all(new[i] == old[i - 7] for i in result.changed_rows)
    assert len(result.changed_rows) == round(0.5 * AFTER)
    assert direct_diff(table, result.data)[0] == ("x",)
    default = StaleFeature("x").apply(table, intensity=1.0, onset=0)
    assert default.params["lag_rows"] == ROWS // 20
    assert default.changed_rows.min() == ROWS // 20


def test_labels_delayed_nulls_a_block_from_the_onset(table: pa.Table) -> None:
    result = LabelsDelayed().apply(table, intensity=0.3, onset=ONSET, target=TARGET)
    nulls = np.flatnonzero(np.asarray(result.data.column(TARGET).is_null()))
    assert nulls.tolist() == list(range(ONSET, ONSET + round(0.3 * AFTER)))
    assert result.changed_columns == (TARGET,) and result.labels_changed


def test_labels_missing_nulls_a_random_share(table: pa.Table) -> None:
    result = LabelsMissing().apply(table, intensity=0.3, onset=ONSET, target=TARGET, seed=4)
    nulls = np.flatnonzero(np.asarray(result.data.column(TARGET).is_null()))
    assert len(nulls) == round(0.3 * AFTER) and nulls.min() >= ONSET
    assert nulls.tolist() != list(range(ONSET, ONSET + len(nulls)))
    assert result.changed_columns == (TARGET,)
