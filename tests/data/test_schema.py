"""Column kinds are inferred by documented rules a user can predict."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from driftwise.data import ColumnKind, infer_kind


def kind(name: str, values: list | np.ndarray) -> ColumnKind:
    return infer_kind(name, pa.chunked_array([pa.array(values)]))[0]


def test_kinds_by_rule() -> None:
    rng = np.random.default_rng(0)
    n = 500
    assert kind("x", rng.normal(size=n)) == ColumnKind.NUMERIC
    assert kind("flag", rng.random(n) > 0.5) == ColumnKind.BOOLEAN
    assert kind("grade", rng.integers(0, 7, n)) == ColumnKind.CATEGORICAL
    assert kind("grade_f", rng.integers(0, 7, n).astype(float)) == ColumnKind.CATEGORICAL
    assert kind("amount", rng.integers(0, 10_000, n)) == ColumnKind.NUMERIC
    assert kind("customer_id", rng.permutation(n)) == ColumnKind.IDENTIFIER
    assert kind("userId", rng.permutation(n)) == ColumnKind.IDENTIFIER
    assert kind("row", np.arange(n)) == ColumnKind.IDENTIFIER
    assert kind("city", rng.choice(["a", "b", "c"], n).tolist()) == ColumnKind.CATEGORICAL
    assert kind("uuid", [f"k{i:06d}" for i in range(n)]) == ColumnKind.IDENTIFIER
    words = ["the", "model", "drifts", "when", "its", "inputs", "change", "fast"]
    sentences = [" ".join(rng.choice(words, 8)) + f" {i}" for i in range(n)]
    assert kind("review", sentences) == ColumnKind.TEXT
    ts = pa.array(np.arange(n).astype("datetime64[s]"))
    assert infer_kind("t", pa.chunked_array([ts]))[0] == ColumnKind.DATETIME


def test_paid_is_not_an_identifier_by_name() -> None:
    # "paid" ends in "id" but is an amount: only a separated or camel-case "id" is a key.
    rng = np.random.default_rng(1)
    assert kind("paid", rng.permutation(500) * 3 + rng.integers(0, 2, 500)) == \
        ColumnKind.NUMERIC


@pytest.mark.parametrize("n_distinct", [2, 20])
def test_integer_codes_up_to_twenty_values_are_categorical(n_distinct: int) -> None:
    values = np.arange(400) % n_distinct
    assert kind("c", values) == ColumnKind.CATEGORICAL
    assert kind("c", np.arange(400) % (n_distinct + 21)) == ColumnKind.NUMERIC


def test_dates_written_as_text_are_datetime() -> None:
    assert kind("created", ["2/24/2015 11:35", "2/17/2015 9:01"] * 30) == ColumnKind.DATETIME
    assert kind("day", ["2015-02-24", "2015-03-01"] * 30) == ColumnKind.DATETIME
    assert kind("code", ["A1", "B2"] * 30) == ColumnKind.CATEGORICAL
