"""Arrow to NumPy and back without pyarrow's pandas bridge.

pyarrow's ``to_numpy`` and ``pa.array`` go through its pandas converter, which imports
pandas (about half a second) the first time either is called, even for a float column
that NumPy can simply view. A drift report never needs pandas, so the common cases are
done here directly: null-free integers and floats are viewed, index arrays are wrapped.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def numpy_values(array: pa.Array) -> np.ndarray:
    """The values of ``array`` as NumPy (read-only when viewed): a view of the data buffer
    for null-free integers and floats, else pyarrow's own conversion."""
    t = array.type
    if array.null_count == 0 and (pa.types.is_integer(t) or pa.types.is_floating(t)):
        code = "f" if pa.types.is_floating(t) else \
            "i" if pa.types.is_signed_integer(t) else "u"
        dtype = np.dtype(f"<{code}{t.bit_width // 8}")
        if len(array) == 0:
            return np.empty(0, dtype=dtype)
        data = array.buffers()[1]
        return np.frombuffer(data, dtype=dtype, count=len(array),
                             offset=array.offset * dtype.itemsize)
    converted: np.ndarray = array.to_numpy(zero_copy_only=False)
    return converted


def int64_array(values: np.ndarray) -> pa.Array:
    """A null-free Arrow int64 array over ``values`` (converted to int64 if need be)."""
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def empty_table(schema: pa.Schema) -> pa.Table:
    """A table of no rows with ``schema`` (``Schema.empty_table`` goes through ``pa.array``)."""
    return pa.Table.from_arrays([pa.nulls(0, f.type) for f in schema], schema=schema)
