"""Detectors with an estimator-like API: configure, ``fit(reference)``, ``compare(current)``."""

from driftwise.detect.engine import Engine, InMemoryEngine
from driftwise.detect.merge import merge_profiles
from driftwise.detect.profile import ColumnProfile, NumericGrid, ReferenceProfile
from driftwise.detect.results import ColumnDrift, DatasetDrift, DriftReport
from driftwise.detect.settings import DriftSettings
from driftwise.detect.tabular import DriftDetector
from driftwise.detect.tests import CATEGORICAL_TESTS, NUMERIC_TESTS

__all__ = [
    "CATEGORICAL_TESTS",
    "NUMERIC_TESTS",
    "ColumnDrift",
    "ColumnProfile",
    "DatasetDrift",
    "DriftDetector",
    "DriftReport",
    "DriftSettings",
    "Engine",
    "InMemoryEngine",
    "NumericGrid",
    "ReferenceProfile",
    "merge_profiles",
]
