"""Model performance: realized metrics with delayed labels, estimation without labels."""

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
    "MULTICLASS_METRICS",
    "REGRESSION_METRICS",
    "MetricResult",
    "UndefinedMetric",
    "realized_metrics",
]
