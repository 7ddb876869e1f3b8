"""Arrow to NumPy without pyarrow's pandas bridge: the same values as ``to_numpy``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftwise.data._arrow import empty_table, int64_array, numpy_values

TYPES = [pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(),
         pa.uint32(), pa.uint64(), pa.float16(), pa.float32(), pa.float64()]


@pytest.mark.parametrize("arrow_type", TYPES, ids=str)
@pytest.mark.parametrize("start,stop", [(0, 50), (7, 50), (13, 13), (0, 0), (49, 50)])
def test_numpy_values_equal_to_numpy_on_slices(arrow_type: pa.DataType, start: int,
                                               stop: int) -> None:
    raw = np.arange(50) % 17
    base = pa.array(raw.astype(arrow_type.to_pandas_dtype()), type=arrow_type)
    array = base.slice(start, stop - start)  # a non-zero offset into the data buffer
    got = numpy_values(array)
    want = array.to_numpy(zero_copy_only=False)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("array", [
    pa.array([1.0, None, 3.0]),
    pa.array([1, None, 3], type=pa.int32()),
    pa.array([True, False, True]),
    pa.array(["a", "b"]),
    pa.array([1, 2], type=pa.int64()).dictionary_encode(),
], ids=["float-nulls", "int-nulls", "bool", "string", "dictionary"])
def test_numpy_values_falls_back_where_a_view_is_not_the_values(array: pa.Array) -> None:
    got = numpy_values(array)
    want = array.to_numpy(zero_copy_only=False)
    np.testing.assert_array_equal(got, want)


def test_int64_array_and_empty_table() -> None:
    idx = int64_array(np.array([3, 1, 2], dtype=np.int32))
    assert idx.type == pa.int64() and idx.to_pylist() == [3, 1, 2]
    schema = pa.schema([("x", pa.float64()), ("s", pa.dictionary(pa.int32(), pa.string()))])
    empty = empty_table(schema)
    assert empty.num_rows == 0 and empty.schema == schema


def test_a_parquet_report_does_not_import_pandas(tmp_path) -> None:
    # pyarrow imports pandas (half a second) at its first to_numpy or pa.array; a report
    # on null-free numbers and strings needs neither.
    rng = np.random.default_rng(0)
    for name in ("ref", "cur"):
        pq.write_table(pa.table({"x": rng.normal(size=5000), "n": rng.integers(0, 9, 5000),
                                 "c": rng.choice(["a", "b", "c"], 5000)}),
                       tmp_path / f"{name}.parquet")
    code = (
        "import sys\n"
        "from driftwise.cli import main\n"
        f"sys.argv = ['driftwise', 'report', {str(tmp_path / 'ref.parquet')!r}, "
        f"{str(tmp_path / 'cur.parquet')!r}, '--json', {str(tmp_path / 'out.json')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert (tmp_path / "out.json").exists()
    assert out.stdout.strip().splitlines()[-1] == "False"
