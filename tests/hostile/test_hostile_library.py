"""The library under bad input: every problem a DriftwiseError subclass with the message the
CLI prints, and the public API importable from ``driftwise``."""

from __future__ import annotations

import decimal
import importlib
import inspect

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import driftwise
from driftwise import (
    ConfigError,
    DriftDetector,
    DriftSettings,
    DriftwiseError,
    Monitor,
    NotFittedError,
    SchemaError,
    make_detector,
)
from driftwise.data import category_counts, category_label, labels
from tests.hostile.helpers import cli

rng = np.random.default_rng(21)
REF = {"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)}


@pytest.mark.parametrize(("data", "error", "message"), [
    (pd.Series([1.0, 2.0]), SchemaError, "a pandas Series is one column"),
    (pl.Series("a", [1.0, 2.0]), SchemaError, "a polars Series is one column"),
    (pl.DataFrame({"a": [1.0]}).lazy(), SchemaError, "LazyFrame is a query"),
    (pa.array([1.0, 2.0]), SchemaError, "a single Arrow array"),
    ({"a": [1, 2, 3], "b": [1, 2]}, SchemaError, "'b' has 2 values, 'a' has 3"),
    (pd.DataFrame({"m": pd.Series([1, "x", 2.5] * 20, dtype=object)}), SchemaError,
     "column 'm' mixes value types (int, str, float)"),
    ({"m": [1, "x", None, 2.5]}, SchemaError, "column 'm' mixes value types"),
    (pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]), SchemaError,
     "duplicate column names: 'a'"),
    ({1: [1.0, 2.0], "1": [3.0, 4.0]}, SchemaError, "column names 1 and '1' both become '1'"),
    ({"a": 5}, SchemaError, "column 'a': expected a sequence of values"),
    ({"a": "text"}, SchemaError, "column 'a': expected a sequence of values"),
    (np.zeros((2, 2, 2)), SchemaError, "1-D or 2-D"),
    (5, SchemaError, "unsupported input of type int"),
    (None, SchemaError, "unsupported input of type NoneType"),
    ([1, 2, 3], SchemaError, "unsupported input of type list"),
])
def test_bad_inputs_raise_a_named_driftwise_error(data, error, message) -> None:
    with pytest.raises(error) as info:
        DriftDetector().fit(data)
    assert message in str(info.value)
    assert isinstance(info.value, DriftwiseError)


@pytest.mark.parametrize(("params", "message"), [
    ({"alpha": "0.05"}, "alpha: expected a number, got '0.05'"),
    ({"alpha": 0.0}, "alpha: expected a number > 0"),
    ({"bins": 2.5}, "bins: expected an integer, got 2.5"),
    ({"bins": True}, "bins: expected an integer, got True"),
    ({"correction": "holm"}, "correction: expected one of"),
    ({"exclude": "x"}, "exclude: expected a list of column names, got the single string"),
    ({"kinds": ["x"]}, "kinds: expected a mapping"),
    ({"kinds": {"x": "blob"}}, "kinds.x: expected one of"),
    ({"tests": {"x": 5}}, "tests.x: expected one of"),
    ({"min_effect": {"numeric": -1}}, "min_effect.numeric: expected a number >= 0"),
    ({"multivariate": {"alpha": "x"}}, "multivariate.alpha: expected a number"),
    ({"text": {"top_terms": "ten"}}, "text.top_terms: expected an integer"),
])
def test_wrong_parameter_types_name_the_parameter(params, message) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        DriftDetector(**params).fit(REF)
    assert message in str(info.value)


def test_settings_built_directly_raise_config_errors() -> None:
    with pytest.raises(ConfigError, match="alpha: expected a number < 1"):
        DriftSettings(alpha=2.0)
    with pytest.raises(ConfigError, match="unknown key 'foo'"):
        DriftSettings(foo=1)  # type: ignore[call-arg]


def test_unfitted_objects_say_so() -> None:
    with pytest.raises(NotFittedError, match="call fit"):
        DriftDetector().compare(REF)
    with pytest.raises(NotFittedError, match="call fit"):
        Monitor({"model": {"task": "binary"}, "columns": {"prediction": "c"}}).run(REF)


def test_monitor_config_problems_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="top level: expected a mapping, got int"):
        Monitor(5).fit(REF)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"model\.task: required"):
        Monitor({"model": {}}).fit(REF)


@pytest.mark.parametrize("value", ["1.0", None, [1.0], complex(1, 1)])
@pytest.mark.parametrize("kind", ["adwin", "bocpd", "cusum", "ewma", "kswin", "page_hinkley",
                                  "shewhart"])
def test_stream_detectors_refuse_what_is_not_a_number(kind, value) -> None:
    spec = {"type": kind}
    if kind in ("bocpd", "cusum", "ewma", "shewhart"):
        spec.update(mean=0.0, std=1.0)
    detector = make_detector(spec)
    detector.update(0.5)
    before = detector.to_state()
    with pytest.raises(SchemaError, match="update: expected a number"):
        detector.update(value)  # type: ignore[arg-type]
    assert detector.to_state() == before


def test_the_library_and_the_cli_print_the_same_message(tmp_path) -> None:
    bad = pd.DataFrame({"x": rng.normal(size=100), "c": [None] * 100})
    good = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(["a", "b"], 100)})
    good.to_csv(tmp_path / "ref.csv", index=False)
    bad.to_csv(tmp_path / "cur.csv", index=False)
    with pytest.raises(SchemaError) as info:
        DriftDetector().fit(tmp_path / "ref.csv").compare(tmp_path / "cur.csv")
    outcome = cli("check", tmp_path / "ref.csv", tmp_path / "cur.csv")
    assert outcome.message == f"driftwise: error: {info.value}"


# -- one label rule -----------------------------------------------------------------------
@pytest.mark.parametrize("values", [
    [1.0, 2.5, 3.0, None, float("nan"), 2.5, -0.0],
    [1, 2, 3, None, 2],
    [True, False, None, True],
    ["a", "b", None, "2.5"],
    [decimal.Decimal("1.50"), decimal.Decimal("2"), decimal.Decimal("1.5"), None],
    [1e300, 1e-300, 123456789.0, 0.1],
])
def test_counts_and_row_labels_share_one_rule(values) -> None:
    array = pa.array(values)
    half = len(values) // 2
    column = pa.chunked_array([array.slice(0, half), array.slice(half)])
    counted = category_counts(column)
    rows = labels(column)
    assert rows == [category_label(v) for v in column.to_pylist()]
    assert set(counted.labels) == {r for r in rows if r is not None}
    for label, count in zip(counted.labels, counted.counts.tolist(), strict=True):
        assert rows.count(label) == count


def test_concept_drift_bins_floats_like_2_5_with_the_rule_it_looks_them_up_with() -> None:
    from driftwise.monitor.concept import ConceptReference

    n = 600
    level = rng.choice([1.0, 2.5, 4.0], n)
    target = (rng.random(n) < np.where(level == 2.5, 0.7, 0.2)).astype(np.int64)
    table = pa.table({"level": level})
    detector = DriftDetector(kinds={"level": "categorical"}).fit(table)
    concept = ConceptReference(detector, table, ["level"], target, 2)
    binner = concept.binners[0]
    bins = binner.bins(table.column("level"))
    unseen = binner.n_bins - 2
    assert not (bins == unseen).any()  # every reference value is a known category
    # The same relation in a new window: no change.
    same = concept.compare(table, target)
    assert same["concept.level.change_p_value"] > 0.5


# -- the public API ------------------------------------------------------------------------
def test_import_driftwise_gives_the_main_objects() -> None:
    for name in ("DriftDetector", "Monitor", "make_detector", "CBPE", "DLE", "render_html",
                 "render_monitor_html", "print_summary", "ReferenceProfile", "DriftReport",
                 "MonitorResult", "MonitorConfig", "DriftwiseError", "ReadOptions"):
        assert name in driftwise.__all__ and getattr(driftwise, name) is not None
    with pytest.raises(AttributeError):
        driftwise.not_a_thing  # noqa: B018


PACKAGES = ["driftwise", "driftwise.app", "driftwise.config", "driftwise.data",
            "driftwise.detect", "driftwise.detect.geometry", "driftwise.monitor",
            "driftwise.performance", "driftwise.quality", "driftwise.report",
            "driftwise.stats", "driftwise.stream"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_lists_public_names_that_exist(package) -> None:
    module = importlib.import_module(package)
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        assert not name.startswith("_") or name == "__version__", (package, name)
        assert getattr(module, name) is not None, (package, name)
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, f"{package}.{name} has no docstring"
