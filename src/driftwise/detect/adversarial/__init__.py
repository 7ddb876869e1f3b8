"""Adversarial signals: unusual confidence and per-window confidence shifts, query probing
by client key, and new dense clusters where the reference has little mass."""

from driftwise.detect.adversarial.clusters import ClusterFinding, NewCluster, NewClusterDetector
from driftwise.detect.adversarial.confidence import ConfidenceMonitor, ConfidenceShift, margins
from driftwise.detect.adversarial.probing import ProbingVerdict, QueryProbingDetector

__all__ = ["ClusterFinding", "ConfidenceMonitor", "ConfidenceShift", "NewCluster",
           "NewClusterDetector", "ProbingVerdict", "QueryProbingDetector", "margins"]
