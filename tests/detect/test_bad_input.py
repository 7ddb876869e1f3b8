"""Bad input: a clear driftwise error naming the column or file, never a crash."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftwise.config import parse_config
from driftwise.detect import DriftDetector
from driftwise.errors import ConfigError, InsufficientDataError, SchemaError


@pytest.fixture
def ref() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=200), "b": rng.choice(["x", "y"], 200),
                         "c": rng.normal(size=200)})


def test_missing_and_extra_columns_are_listed(ref) -> None:
    cur = ref.drop(columns=["c"]).assign(d=1.0, e=2.0)
    with pytest.raises(SchemaError, match=r"missing from current: 'c'.*not in the reference: "
                                          r"'d', 'e'"):
        DriftDetector().fit(ref).compare(cur)


def test_type_change_between_samples_names_the_column_and_values(ref) -> None:
    cur = ref.assign(a=ref.a.astype(str).where(ref.index != 3, "n/a"))
    with pytest.raises(SchemaError, match=r"column 'a'.*number.*string.*'n/a'"):
        DriftDetector().fit(ref).compare(cur)


def test_empty_current(ref) -> None:
    with pytest.raises(InsufficientDataError, match="current sample is empty"):
        DriftDetector().fit(ref).compare(ref.iloc[:0])
    with pytest.raises(InsufficientDataError, match="reference sample is empty"):
        DriftDetector().fit(ref.iloc[:0])


@pytest.mark.parametrize("sample", ["reference", "current"])
def test_all_missing_column(ref, sample) -> None:
    bad = ref.assign(c=np.nan)
    data = (bad, ref) if sample == "reference" else (ref, bad)
    with pytest.raises(SchemaError, match=rf"column 'c' has no values in the {sample}"):
        DriftDetector().fit(data[0]).compare(data[1])


def test_all_missing_categorical_in_current(ref) -> None:
    with pytest.raises(SchemaError, match="column 'b' has no values in the current"):
        DriftDetector().fit(ref).compare(ref.assign(b=pd.Series([None] * 200, dtype=object)))


def test_infinite_values(ref) -> None:
    cur = ref.copy()
    cur.loc[5, "a"] = np.inf
    cur.loc[6, "a"] = -np.inf
    with pytest.raises(SchemaError, match="column 'a' holds 2 infinite value"):
        DriftDetector().fit(ref).compare(cur)


def test_unknown_tests_and_settings() -> None:
    with pytest.raises(ConfigError, match=r"numeric_test: expected one of .*got 'tt'"):
        DriftDetector(numeric_test="tt").fit({"a": [1.0, 2.0]})
    with pytest.raises(ConfigError, match="alpha"):
        DriftDetector(alpha=1.5).fit({"a": [1.0, 2.0]})
    with pytest.raises(ConfigError, match="not in the reference: 'zz'"):
        DriftDetector(exclude=["zz"]).fit({"a": [1.0, 2.0]})
    with pytest.raises(ConfigError, match=r"kinds.a: expected one of .*got 'blob'"):
        DriftDetector(kinds={"a": "blob"}).fit({"a": [1.0, 2.0]})


def test_a_numeric_test_on_a_categorical_column_is_refused(ref) -> None:
    with pytest.raises(SchemaError, match="column 'b' is categorical: test 'ks'"):
        DriftDetector(tests={"b": "ks"}).fit(ref).compare(ref)


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"unknown key.*colums"):
        parse_config({"colums": {}})
    with pytest.raises(ConfigError, match=r"columns.a: unknown key 'knd'"):
        parse_config({"columns": {"a": {"knd": "numeric"}}})
    with pytest.raises(ConfigError, match=r"drift: unknown key.*alhpa"):
        parse_config({"drift": {"alhpa": 0.1}})
    cfg = parse_config({"drift": {"alpha": 0.01}, "columns": {"a": {"kind": "categorical"}},
                        "exclude": ["z"], "target": "y"})
    assert cfg.settings == {"alpha": 0.01} and cfg.kinds == {"a": "categorical"}
