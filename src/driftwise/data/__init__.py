"""Turning user inputs into typed columns: reading, kinds, validation."""

from driftwise.data.columns import (
    CategoryCounts,
    NumericValues,
    category_counts,
    category_label,
    labels,
    numeric_values,
)
from driftwise.data.csv import DEFAULT_NA_VALUES, ReadOptions, markers_of
from driftwise.data.io import read_path, require_rows, to_table
from driftwise.data.schema import TESTED_KINDS, ColumnKind, infer_kind, type_family

__all__ = [
    "DEFAULT_NA_VALUES",
    "TESTED_KINDS",
    "CategoryCounts",
    "ColumnKind",
    "NumericValues",
    "ReadOptions",
    "category_counts",
    "category_label",
    "infer_kind",
    "labels",
    "markers_of",
    "numeric_values",
    "read_path",
    "require_rows",
    "to_table",
    "type_family",
]
