"""Model performance: realized metrics with delayed labels, estimation without labels."""

from driftwise.performance.dle import DLE, DLE_METRICS
from driftwise.performance.estimation import CBPE, CBPE_METRICS
from driftwise.performance.metrics import UndefinedMetric
from driftwise.performance.realized import (
    BINARY_METRICS,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    MetricResult,
    realized_metrics,
)

__all__ = [
    "BINARY_METRICS",
    "CBPE",
    "CBPE_METRICS",
    "DLE",
    "DLE_METRICS",
    "MULTICLASS_METRICS",
    "REGRESSION_METRICS",
    "MetricResult",
    "UndefinedMetric",
    "realized_metrics",
]
