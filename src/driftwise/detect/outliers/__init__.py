"""Outlier detection with calibrated p-values: Isolation Forest, robust Mahalanobis (MCD),
k-nearest-neighbour distance and any PyOD detector, on features or embeddings."""

from driftwise.detect.outliers import isolation
from driftwise.detect.outliers.detectors import (
    IsolationForestOutliers,
    KNNOutliers,
    MahalanobisOutliers,
    OutlierDetector,
    OutlierResult,
    PyODOutliers,
)
from driftwise.detect.outliers.features import OutlierFeatures

__all__ = [
    "IsolationForestOutliers",
    "KNNOutliers",
    "MahalanobisOutliers",
    "OutlierDetector",
    "OutlierFeatures",
    "OutlierResult",
    "PyODOutliers",
    "isolation",
]
