"""Turning user inputs into typed columns: reading, kinds, validation."""

from driftwise.data.columns import CategoryCounts, NumericValues, category_counts, numeric_values
from driftwise.data.io import read_path, require_rows, to_table
from driftwise.data.schema import TESTED_KINDS, ColumnKind, infer_kind, type_family

__all__ = [
    "TESTED_KINDS",
    "CategoryCounts",
    "ColumnKind",
    "NumericValues",
    "category_counts",
    "infer_kind",
    "numeric_values",
    "read_path",
    "require_rows",
    "to_table",
    "type_family",
]
