"""Data-quality checks: missing values, types, ranges, new categories."""

from driftwise.quality.facts import ColumnQuality, categorical_quality, numeric_quality

__all__ = ["ColumnQuality", "categorical_quality", "numeric_quality"]
