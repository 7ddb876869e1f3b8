"""Rows of a table (or a matrix of features or embeddings) as the numeric matrix that outlier
detectors score, learned from the reference.

- **Numeric and boolean columns** are centred on the reference median and divided by a
  robust scale (the interquartile range / 1.349, the sd of a normal; the sd where the IQR is
  0; 1 for a constant column). A missing value is imputed with the median (a 0 after
  centring) and counted per row (``missing``), so a row with holes is scored on what it has.
- **Categorical columns** (strings, and integers with few distinct values, as
  :func:`driftwise.data.infer_kind` tells) are one-hot encoded over the reference's most
  frequent ``max_categories`` values; the rest, values never seen in the reference and
  missing values each have a column of their own ("other", "missing"), so an unseen
  category moves the row instead of crashing the detector.
- **Embedding columns** (lists of numbers) are expanded into their components, scaled as a
  whole (by the root mean square of the reference's centred components), so their
  geometry is kept; a missing vector is the reference mean.
- Identifiers, datetimes, free text and nested values are left out and listed in
  ``skipped_`` with the reason.

A 2-D NumPy array is taken as numeric columns ``x0, x1, ...`` without the table round trip
(the fast path for a model server's feature vectors and for embeddings).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from driftwise.data import (
    ColumnKind,
    category_label,
    infer_kind,
    labels,
    numeric_values,
    to_table,
)
from driftwise.detect.geometry._matrix import vectors_from_arrow
from driftwise.errors import InsufficientDataError, NotFittedError, SchemaError

__all__ = ["OutlierFeatures"]

_IQR_TO_SD = 1.349  # the interquartile range of N(0, 1)
_OTHER, _MISSING = "(other)", "(missing)"


@dataclass(frozen=True)
class _Numeric:
    name: str
    center: float
    scale: float


@dataclass(frozen=True)
class _Categorical:
    name: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class _Embedding:
    name: str
    mean: NDArray[np.float64]
    scale: float


def _robust_scale(values: NDArray[np.float64]) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    q1, median, q3 = np.percentile(finite, [25.0, 50.0, 75.0])
    scale = (q3 - q1) / _IQR_TO_SD
    if not scale > 0:
        scale = float(np.std(finite))
    return float(median), float(scale) if scale > 0 else 1.0


class OutlierFeatures:
    """Learn the encoding of a reference; turn any later sample into its matrix.

    Parameters
    ----------
    columns : sequence of str, optional
        The columns to use (default: every column of a usable kind).
    max_categories : int
        Categories one-hot encoded per categorical column (default 20), the rest "other".

    Attributes (after :meth:`fit`)
    ------------------------------
    feature_names_ : tuple of str
        One name per matrix column (``income``, ``city=Paris``, ``emb[3]``...).
    skipped_ : dict
        Columns left out, with the reason.
    """

    def __init__(self, columns: list[str] | tuple[str, ...] | None = None,
                 max_categories: int = 20) -> None:
        self.columns = columns
        self.max_categories = max_categories

    # -- fit ---------------------------------------------------------------------------
    def fit(self, reference: Any) -> OutlierFeatures:
        """Learn centres, scales, categories and embedding widths from ``reference``."""
        if isinstance(reference, np.ndarray) and reference.dtype != object and reference.ndim == 2:
            self._fit_matrix(np.asarray(reference, dtype=np.float64))
            return self
        table = to_table(reference)
        if table.num_rows == 0:
            raise InsufficientDataError("outliers: the reference has no rows")
        names = list(self.columns) if self.columns is not None else table.column_names
        parts: list[_Numeric | _Categorical | _Embedding] = []
        skipped: dict[str, str] = {}
        for name in names:
            if name not in table.column_names:
                raise SchemaError(f"outliers: column {name!r} is not in the reference "
                                  f"(it has {', '.join(table.column_names)})")
            column = table.column(name)
            kind, why = infer_kind(name, column)
            if kind in (ColumnKind.NUMERIC, ColumnKind.BOOLEAN):
                center, scale = _robust_scale(_numbers(name, column, "reference"))
                parts.append(_Numeric(name, center, scale))
            elif kind == ColumnKind.CATEGORICAL:
                counts = Counter(v for v in labels(column) if v is not None)
                top = tuple(sorted(c for c, _ in counts.most_common(self.max_categories)))
                parts.append(_Categorical(name, top))
            elif kind == ColumnKind.EMBEDDING:
                vectors = vectors_from_arrow(column, name, "reference")
                mean = vectors.mean(axis=0).astype(np.float64)
                rms = float(np.sqrt(np.mean((vectors - mean) ** 2))) if vectors.size else 0.0
                parts.append(_Embedding(name, mean, rms if rms > 0 else 1.0))
            else:
                skipped[name] = f"{kind.value}: {why}"
        if not parts:
            raise SchemaError("outliers: no numeric, boolean, categorical or embedding column "
                              f"to score (left out: {skipped})")
        self._parts = tuple(parts)
        self._matrix_width = None
        self.skipped_ = skipped
        self.feature_names_ = tuple(_names(parts))
        return self

    def _fit_matrix(self, x: NDArray[np.float64]) -> None:
        if x.shape[0] == 0:
            raise InsufficientDataError("outliers: the reference has no rows")
        if np.isinf(x).any():
            raise SchemaError("outliers: the reference matrix holds infinite values (first "
                              f"at row {int(np.flatnonzero(np.isinf(x).any(axis=1))[0])})")
        stats = [_robust_scale(x[:, j]) for j in range(x.shape[1])]
        self._center = np.array([c for c, _ in stats])
        self._scale = np.array([s for _, s in stats])
        self._matrix_width = x.shape[1]
        self._parts = ()
        self.skipped_ = {}
        self.feature_names_ = tuple(f"x{j}" for j in range(x.shape[1]))

    # -- transform ---------------------------------------------------------------------
    def transform(self, data: Any, sample: str = "current") -> tuple[NDArray[np.float64],
                                                                    NDArray[np.int64]]:
        """The encoded matrix of ``data`` and the count of missing (imputed) values per row.

        Raises
        ------
        SchemaError
            A column the reference had is missing, a numeric column holds text or an
            infinite value, a matrix has another width than the reference's.
        """
        if not hasattr(self, "_parts"):
            raise NotFittedError("this OutlierFeatures is not fitted: call fit first")
        if self._matrix_width is not None:
            return self._transform_matrix(data, sample)
        if isinstance(data, Mapping) and all(isinstance(v, list) for v in data.values()):
            return self._transform_lists(data, sample)
        table = to_table(data)
        for part in self._parts:
            if part.name not in table.column_names:
                raise SchemaError(f"outliers: column {part.name!r} is missing from the "
                                  f"{sample} sample")
        return self._encode(
            table.num_rows, lambda p: _numbers(p.name, table.column(p.name), sample),
            lambda p: labels(table.column(p.name)), lambda p: table.column(p.name), sample)

    def _encode(self, n: int, numbers: Callable[[_Numeric], NDArray[np.float64]],
                categories: Callable[[_Categorical], list[str | None]],
                vectors: Callable[[_Embedding], pa.ChunkedArray], sample: str
                ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """The matrix from each part's values (whatever they were read from)."""
        blocks: list[NDArray[np.float64]] = []
        missing = np.zeros(n, dtype=np.int64)
        for part in self._parts:
            if isinstance(part, _Numeric):
                values = numbers(part)
                holes = np.isnan(values)
                missing += holes
                blocks.append(np.where(holes, 0.0, (values - part.center) / part.scale)[:, None])
            elif isinstance(part, _Categorical):
                blocks.append(_one_hot(part, categories(part), missing))
            else:
                blocks.append(_embedding(part, vectors(part), sample, missing))
        return np.hstack(blocks), missing

    def _transform_lists(self, data: Mapping[str, list[Any]], sample: str
                         ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Columns as lists of plain values (a request's records): the same encoding as
        through a table, without building one (a record in microseconds, not a
        millisecond)."""
        sizes = {len(v) for v in data.values()}
        if len(sizes) > 1:
            raise SchemaError(f"outliers: the {sample} columns have different lengths "
                              f"({sorted(sizes)})")
        n = sizes.pop() if sizes else 0
        for part in self._parts:
            if part.name not in data:
                raise SchemaError(f"outliers: column {part.name!r} is missing from the "
                                  f"{sample} sample")
        return self._encode(
            n, lambda p: _list_numbers(p.name, data[p.name], sample),
            lambda p: [category_label(v) for v in data[p.name]],
            lambda p: pa.chunked_array([pa.array(data[p.name])]), sample)

    def _transform_matrix(self, data: Any, sample: str) -> tuple[NDArray[np.float64],
                                                                NDArray[np.int64]]:
        try:
            x = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SchemaError(f"outliers: the {sample} rows must be numbers ({exc})") from None
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self._matrix_width:
            raise SchemaError(f"outliers: the {sample} rows have shape {x.shape}; the "
                              f"reference had {self._matrix_width} features per row")
        if np.isinf(x).any():
            row = int(np.flatnonzero(np.isinf(x).any(axis=1))[0])
            feature = self.feature_names_[int(np.flatnonzero(np.isinf(x[row]))[0])]
            raise SchemaError(f"outliers: the {sample} rows hold an infinite value (row {row},"
                              f" feature {feature})")
        z = (x - self._center) / self._scale
        holes = np.isnan(z)
        if holes.any():
            z[holes] = 0.0
        return z, holes.sum(axis=1).astype(np.int64)


def _names(parts: tuple[_Numeric | _Categorical | _Embedding, ...]
           | list[_Numeric | _Categorical | _Embedding]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if isinstance(part, _Numeric):
            out.append(part.name)
        elif isinstance(part, _Categorical):
            out += [f"{part.name}={c}" for c in (*part.categories, _OTHER, _MISSING)]
        else:
            out += [f"{part.name}[{i}]" for i in range(part.mean.size)]
    return out


def _list_numbers(name: str, values: list[Any], sample: str) -> NDArray[np.float64]:
    """A numeric column from plain values (None: missing); text or infinity is refused."""
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if v is None:
            out[i] = np.nan
        elif isinstance(v, (bool, int, float)) and not isinstance(v, complex):
            out[i] = float(v)
        else:
            raise SchemaError(f"outliers: column {name!r} of the {sample} sample holds "
                              f"{v!r} at row {i}; expected a number or null")
    if np.isinf(out).any():
        row = int(np.flatnonzero(np.isinf(out))[0])
        raise SchemaError(f"outliers: column {name!r} of the {sample} sample holds an "
                          f"infinite value at row {row}")
    return out


def _numbers(name: str, column: pa.ChunkedArray, sample: str) -> NDArray[np.float64]:
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_boolean(arr.type):
        arr = arr.cast(pa.int8())
    if pa.types.is_null(arr.type):
        return np.full(len(arr), np.nan)
    numeric_values(name, column, sample)  # type and infinity checks, with their messages
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.float64)


def _one_hot(part: _Categorical, values: list[str | None],
             missing: NDArray[np.int64]) -> NDArray[np.float64]:
    index = {c: i for i, c in enumerate(part.categories)}
    other, absent = len(part.categories), len(part.categories) + 1
    codes = np.fromiter((absent if v is None else index.get(v, other) for v in values),
                        dtype=np.int64, count=len(values))
    missing += codes == absent
    out = np.zeros((len(values), absent + 1))
    out[np.arange(len(values)), codes] = 1.0
    return out


def _embedding(part: _Embedding, column: pa.ChunkedArray, sample: str,
               missing: NDArray[np.int64]) -> NDArray[np.float64]:
    arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    present = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    out = np.zeros((len(arr), part.mean.size))
    if present.any():
        vectors = vectors_from_arrow(arr, part.name, sample)
        if vectors.shape[1] != part.mean.size:
            raise SchemaError(f"outliers: {part.name!r} vectors have {vectors.shape[1]} "
                              f"values in the {sample} sample, {part.mean.size} in the "
                              "reference")
        out[present] = (vectors - part.mean) / part.scale
    holes = np.isnan(out)  # a null component inside a vector: imputed like a missing value
    if holes.any():
        out[holes] = 0.0
        missing += holes.any(axis=1)
    missing += ~present
    return out
