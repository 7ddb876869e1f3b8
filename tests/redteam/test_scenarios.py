"""Every registered scenario keeps the contract the scorecard's honesty rests on.

Intensity 0 is the identity, rows before the onset are untouched, what a result says it
changed is what a direct diff finds, seeds reproduce, and bad parameters or unsuitable data
give errors that name the culprit. Each generator's own effect is checked in
``test_shift_effects.py`` and ``test_pipeline_effects.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from driftwise.errors import ConfigError, SchemaError
from driftwise.redteam import SCENARIOS, Scenario, ScenarioResult, catalogue, make_scenario
from driftwise.redteam.scenario import KINDS
from tests.conftest import needs_shared_data, shared_data
from tests.redteam.tables import ONSET, ROWS, TARGET, direct_diff, identical, same, synthetic_table

NAMES = list(SCENARIOS)
#: Whole-column changes: the column's type, or its presence, changes in every row.
WHOLE_COLUMN = {"type_change", "dropped_feature"}
#: No random choice at all: the block of missing labels starts at the onset.
DETERMINISTIC = {"labels_delayed"}


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return synthetic_table()


def run(name: str, data: pa.Table, intensity: float = 0.5, seed: int = 0,
        onset: int = ONSET, **params: Any) -> ScenarioResult:
    return make_scenario(name, **params).apply(data, intensity=intensity, onset=onset,
                                               seed=seed, target=TARGET)


def assert_reported_exactly(data: pa.Table, result: ScenarioResult) -> None:
    """The result's changed columns, rows and labels flag are those a direct diff finds."""
    columns, rows = direct_diff(data, result.data)
    assert result.data.num_rows == data.num_rows
    assert result.changed_columns == columns
    assert result.labels_changed == (TARGET in columns)
    if result.scenario in WHOLE_COLUMN:
        assert len(columns) == 1
        assert result.changed_rows.tolist() == list(range(result.onset_row, data.num_rows))
    else:
        assert result.changed_rows.tolist() == rows
        assert len(rows) > 0


@pytest.mark.parametrize("name", NAMES)
def test_intensity_zero_is_the_identity(name: str, table: pa.Table) -> None:
    result = run(name, table, intensity=0.0)
    assert identical(table, result.data)
    assert result.changed_columns == () and len(result.changed_rows) == 0
    assert not result.labels_changed


@pytest.mark.parametrize("intensity", [0.05, 0.5, 1.0])
@pytest.mark.parametrize("name", NAMES)
def test_reported_changes_are_a_direct_diff(name: str, intensity: float,
                                            table: pa.Table) -> None:
    result = run(name, table, intensity=intensity, seed=3)
    assert_reported_exactly(table, result)
    assert result.scenario == name and result.kind in KINDS
    assert result.intensity == intensity and result.onset_row == ONSET
    assert result.description and "\n" not in result.description


@pytest.mark.parametrize("name", sorted(set(NAMES) - WHOLE_COLUMN))
def test_rows_before_the_onset_are_untouched(name: str, table: pa.Table) -> None:
    result = run(name, table, intensity=1.0, seed=1)
    head_before, head_after = table.slice(0, ONSET), result.data.slice(0, ONSET)
    assert result.data.column_names == table.column_names
    for column in table.column_names:
        old, new = head_before.column(column).to_pylist(), head_after.column(column).to_pylist()
        assert all(same(a, b) for a, b in zip(old, new, strict=True)), column
    assert min(result.changed_rows) >= ONSET


COLUMN_PARAMS = [(name, param) for name in NAMES for param in ("column", "columns", "segment")
                 if param in SCENARIOS[name]().params()]


@pytest.mark.parametrize(("name", "param"), COLUMN_PARAMS)
def test_every_suitable_column_keeps_the_contract(name: str, param: str,
                                                  table: pa.Table) -> None:
    applied = 0
    for column in table.column_names:
        given: Any = [column, "x" if column != "x" else "amount"] \
            if name == "swapped_columns" else column
        try:
            result = run(name, table, intensity=0.7, seed=2, **{param: given})
        except (SchemaError, ConfigError) as error:
            assert repr(column) in str(error) or "target" in str(error), str(error)
            continue
        applied += 1
        assert_reported_exactly(table, result)
        if name not in WHOLE_COLUMN:
            assert min(result.changed_rows) >= ONSET
    assert applied >= 1


def test_type_change_rows_before_the_onset_hold_their_exact_numbers(table: pa.Table) -> None:
    result = run("type_change", table, intensity=1.0, column="amount")
    texts = result.data.column("amount").to_pylist()
    clean = table.column("amount").to_pylist()
    for text, value in zip(texts[:ONSET], clean[:ONSET], strict=True):
        assert (text is None) == (value is None)
        if value is not None:
            assert float(text) == value or (math.isnan(value) and math.isnan(float(text)))
    others = [c for c in table.column_names if c != "amount"]
    assert identical(table.select(others), result.data.select(others))


def test_dropped_feature_removes_the_column_in_every_row(table: pa.Table) -> None:
    result = run("dropped_feature", table, intensity=0.1, seed=2)
    (dropped,) = result.changed_columns
    assert result.data.column_names == [c for c in table.column_names if c != dropped]
    assert identical(table.drop_columns([dropped]), result.data)


@pytest.mark.parametrize("name", NAMES)
def test_a_seed_reproduces_its_result(name: str, table: pa.Table) -> None:
    first, second = run(name, table, seed=11), run(name, table, seed=11)
    assert identical(first.data, second.data)
    assert first.changed_rows.tolist() == second.changed_rows.tolist()
    assert first.description == second.description and first.params == second.params


@pytest.mark.parametrize("name", sorted(set(NAMES) - DETERMINISTIC))
def test_other_seeds_make_other_choices(name: str, table: pa.Table) -> None:
    results = [run(name, table, seed=seed) for seed in range(4)]
    outcomes = {(r.changed_columns, tuple(r.changed_rows.tolist())) for r in results}
    assert len(outcomes) > 1


def test_labels_delayed_is_the_same_for_every_seed(table: pa.Table) -> None:
    assert identical(run("labels_delayed", table, seed=0).data,
                     run("labels_delayed", table, seed=5).data)


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_is_documented_and_built_without_arguments(name: str) -> None:
    cls = SCENARIOS[name]
    scenario = cls()
    assert isinstance(scenario, Scenario) and cls.name == name
    assert cls.kind in KINDS and cls.max_intensity == 1.0
    assert cls.summary and cls.intensity_means and cls.__doc__
    assert "intensity" in (cls.__doc__ or "").lower()


BAD_PARAMS: dict[str, tuple[dict[str, Any], str]] = {
    "covariate_mean": ({"count": 0}, "count"),
    "covariate_scale": ({"columns": 3}, "columns"),
    "covariate_mixture": ({"count": "2"}, "count"),
    "segment_shift": ({"value": "east"}, "segment"),
    "label_shift": ({"prior": 1.5}, "prior"),
    "concept_flip": ({"segment": 5}, "segment"),
    "concept_weaken": ({"value": 1.0}, "segment"),
    "seasonal": ({"period_rows": 1}, "period_rows"),
    "category_truncation": ({"length": 0}, "length"),
    "unit_change": ({"factor": 1.0}, "factor"),
    "null_storm": ({"count": -1}, "count"),
    "swapped_columns": ({"columns": ["x"]}, "columns"),
    "duplicated_rows": ({"sources": 0}, "sources"),
    "stale_feature": ({"lag_rows": 0}, "lag_rows"),
}
#: Parameters that need the data: rejected by apply, with the parameter named.
BAD_FOR_DATA: dict[str, tuple[dict[str, Any], str]] = {
    "stuck_value": ({"column": "count", "value": "abc"}, "value"),
    "type_change": ({"column": ["x"]}, "column"),
    "dropped_feature": ({"column": TARGET}, "target"),
    "concept_flip": ({"segment": TARGET}, "target"),
    "stale_feature": ({"lag_rows": ROWS}, "lag_rows"),
}


@pytest.mark.parametrize("name", sorted(BAD_PARAMS))
def test_bad_parameters_are_named(name: str, table: pa.Table) -> None:
    params, word = BAD_PARAMS[name]
    with pytest.raises(ConfigError, match=word):
        make_scenario(name, **params)
    with pytest.raises(ConfigError, match=word):
        SCENARIOS[name](**params).apply(table, intensity=0.5, target=TARGET)


@pytest.mark.parametrize("name", sorted(BAD_FOR_DATA))
def test_parameters_wrong_for_the_data_are_named(name: str, table: pa.Table) -> None:
    params, word = BAD_FOR_DATA[name]
    with pytest.raises(ConfigError, match=word):
        run(name, table, **params)


MISSING_COLUMN = {"columns": ["nope"], "column": "nope", "segment": "nope"}


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_column_is_named(name: str, table: pa.Table) -> None:
    defaults = next(row["params"] for row in catalogue() if row["name"] == name)
    given = {k: v for k, v in MISSING_COLUMN.items() if k in defaults}
    if name == "swapped_columns":
        given = {"columns": ["x", "nope"]}
    if given:
        with pytest.raises(SchemaError, match="'nope'"):
            run(name, table, **given)
    if SCENARIOS[name].needs_target:
        with pytest.raises(ConfigError, match="target"):
            make_scenario(name).apply(table, intensity=0.5)
        with pytest.raises(SchemaError, match="'nope'"):
            make_scenario(name).apply(table, intensity=0.5, target="nope")


def test_a_column_of_the_wrong_kind_is_named(table: pa.Table) -> None:
    with pytest.raises(SchemaError, match="'city' is categorical"):
        run("covariate_mean", table, columns="city")
    with pytest.raises(SchemaError, match="'x' is numeric"):
        run("category_truncation", table, column="x")


def test_data_without_a_suitable_column_is_not_applicable() -> None:
    letters = pa.table({"code": ["a", "b", "c", "d"] * 25, TARGET: [0, 1] * 50})
    numbers = pa.table({"x": np.linspace(0.0, 1.0, 100), TARGET: np.linspace(0, 9, 100)})
    with pytest.raises(SchemaError, match="share a prefix"):
        run("category_truncation", letters, onset=50)
    with pytest.raises(SchemaError, match="numeric"):
        run("covariate_mean", letters, onset=50)
    with pytest.raises(SchemaError, match="regression"):
        run("label_shift", numbers, onset=50)
    with pytest.raises(SchemaError, match="two numeric columns"):
        run("swapped_columns", numbers, onset=50)
    with pytest.raises(SchemaError, match="categorical column"):
        run("segment_shift", numbers, onset=50)


def test_intensity_and_onset_out_of_range_are_config_errors(table: pa.Table) -> None:
    scenario = make_scenario("null_storm")
    for intensity in (-0.1, 1.01, float("nan"), "high"):
        with pytest.raises(ConfigError, match="intensity"):
            scenario.apply(table, intensity=intensity)  # type: ignore[arg-type]
    for onset in (ROWS, -1, 1.0, True):
        with pytest.raises(ConfigError, match="onset"):
            scenario.apply(table, intensity=0.5, onset=onset)
    assert scenario.apply(table, intensity=0.5, onset=0.5).onset_row == ROWS // 2


def test_parameters_are_stored_as_given_and_resolved_in_the_result(table: pa.Table) -> None:
    scenario = make_scenario("covariate_mean", columns="x")
    assert scenario.params() == {"columns": "x", "count": 1}
    assert repr(scenario) == "CovariateMean(columns='x', count=1)"
    result = scenario.apply(table, intensity=0.5, onset=ONSET)
    assert result.params["columns"] == ["x"] and result.changed_columns == ("x",)
    assert result.to_dict()["changed_rows"] == len(result.changed_rows)


def test_features_limit_the_default_choices(table: pa.Table) -> None:
    for seed in range(5):
        result = make_scenario("covariate_mean").apply(
            table, intensity=0.5, onset=ONSET, seed=seed, features=["count", "city"])
        assert result.changed_columns == ("count",)


def test_unknown_names_and_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="did you mean 'null_storm'") as error:
        make_scenario("nul_storm")
    assert "covariate_mean" in str(error.value)
    with pytest.raises(ConfigError, match=r"no parameter 'colum'.*did you mean 'column'"):
        make_scenario("unit_change", colum="x")


def test_the_catalogue_lists_every_scenario_in_order() -> None:
    rows = catalogue()
    assert [r["name"] for r in rows] == NAMES
    assert NAMES[:8] == ["covariate_mean", "covariate_scale", "covariate_mixture",
                         "segment_shift", "label_shift", "concept_flip", "concept_weaken",
                         "seasonal"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["unit_change"]["params"] == {"column": None, "factor": 1000.0}
    assert by_name["covariate_mixture"]["params"]["count"] == 2
    assert {r["name"] for r in rows if r["needs_target"]} == {
        "label_shift", "concept_flip", "concept_weaken", "labels_delayed", "labels_missing"}
    assert all(set(r) == {"name", "kind", "summary", "intensity_means", "needs_target",
                          "params"} for r in rows)


@pytest.fixture(scope="module")
def credit() -> pa.Table:
    path = shared_data("credit_default_taiwan/default_credit_card_clients.csv")
    data = pacsv.read_csv(path)
    rows = np.sort(np.random.default_rng(0).choice(data.num_rows, 3000, replace=False))
    return data.take(pa.array(rows))


@needs_shared_data
@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_on_real_credit_data(name: str, credit: pa.Table) -> None:
    scenario = make_scenario(name)
    features = [c for c in credit.column_names if c not in ("ID", "Y")]
    if name == "category_truncation":  # every column of this data set is a number
        with pytest.raises(SchemaError, match="string categorical"):
            scenario.apply(credit, intensity=0.5, onset=0.5, target="Y", features=features)
        return
    result = scenario.apply(credit, intensity=0.5, onset=0.5, seed=4, target="Y",
                            features=features)
    columns, rows = direct_diff(credit, result.data)
    assert result.changed_columns == columns
    if name not in ("label_shift", "duplicated_rows"):  # they copy whole records, IDs too
        assert "ID" not in columns
    assert result.labels_changed == ("Y" in columns)
    if name not in WHOLE_COLUMN:
        assert result.changed_rows.tolist() == rows and min(rows) >= 1500
