"""Every supported input gives the same table, and unreadable inputs a clear error."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftwise.data import read_path, to_table
from driftwise.data.csv import sniff_delimiter
from driftwise.errors import InputFileError, SchemaError


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=50), "b": rng.choice(["x", "y"], 50),
                         "c": rng.integers(0, 9, 50)})


def test_pandas_polars_arrow_and_files_agree(frame: pd.DataFrame, tmp_path) -> None:
    frame.to_csv(tmp_path / "f.csv", index=False)
    frame.to_parquet(tmp_path / "f.parquet")
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:20].to_parquet(folder / "p0.parquet")
    frame.iloc[20:].to_parquet(folder / "p1.parquet")
    expected = frame.to_dict("list")
    for source in (frame, pl.from_pandas(frame), pa.Table.from_pandas(frame),
                   tmp_path / "f.csv", str(tmp_path / "f.parquet"), folder):
        table = to_table(source)
        got = table.to_pydict()
        assert list(got) == ["a", "b", "c"], source
        np.testing.assert_allclose(got["a"], expected["a"])
        assert got["b"] == expected["b"]
        assert got["c"] == expected["c"]


def test_numpy_arrays_get_positional_names() -> None:
    table = to_table(np.arange(12.0).reshape(4, 3))
    assert table.column_names == ["x0", "x1", "x2"]
    assert table.column("x2").to_pylist() == [2.0, 5.0, 8.0, 11.0]


def test_pandas_category_of_integers_stays_categorical_labels() -> None:
    df = pd.DataFrame({"grade": pd.Categorical([16, 21, 21, 3])})
    assert to_table(df).column("grade").to_pylist() == ["16", "21", "21", "3"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.txt", b"a,b\n1,2\n", "not a CSV or Parquet file"),
        ("data.csv", b"\x00\x01\x02\xff", "binary content"),
        ("data.parquet", b"PAR1 this is not parquet", "not readable as Parquet"),
        ("data.csv", b'a,b\n1,2,3,4\n"unterminated', "not readable as CSV"),
    ],
)
def test_unreadable_files_raise_input_file_error(tmp_path, name, content, message) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read_path(path)


def test_missing_path_and_empty_folder(tmp_path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        read_path(tmp_path / "nope.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="must hold Parquet files"):
        read_path(tmp_path / "empty")


def test_unsupported_object_and_duplicate_columns() -> None:
    with pytest.raises(SchemaError, match="unsupported input of type list"):
        to_table([1, 2, 3])
    dup = pa.table([pa.array([1]), pa.array([2])], names=["a", "a"])
    with pytest.raises(SchemaError, match="duplicate column names: 'a'"):
        to_table(dup)


@settings(max_examples=300, deadline=None)
@given(header=st.lists(st.text(alphabet=st.sampled_from(list("abcxyz_")), min_size=1,
                               max_size=6), min_size=2, max_size=5, unique=True),
       cells=st.lists(st.text(alphabet=st.sampled_from(list("ab1 ,;|\t\"'\n.-")), max_size=5),
                      max_size=60),
       delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_the_sniffed_delimiter_reads_back_the_written_rows(header, cells, delimiter) -> None:
    width = len(header)
    rows = [header] + [cells[i:i + width] for i in range(0, len(cells) - width + 1, width)]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    text = buf.getvalue()
    sniffed = sniff_delimiter(text, complete=True)
    back = [r for r in csv.reader(io.StringIO(text), delimiter=sniffed) if r]
    assert back == [r for r in rows if r]
