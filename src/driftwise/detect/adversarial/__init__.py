"""Adversarial signals: unusual confidence and per-window confidence shifts, query probing
by client key, new dense clusters where the reference has little mass, and (optional,
costing model calls) prediction instability under small perturbations."""

from driftwise.detect.adversarial.clusters import ClusterFinding, NewCluster, NewClusterDetector
from driftwise.detect.adversarial.confidence import ConfidenceMonitor, ConfidenceShift, margins
from driftwise.detect.adversarial.instability import InstabilityResult, PredictionInstability
from driftwise.detect.adversarial.probing import ProbingVerdict, QueryProbingDetector

__all__ = ["ClusterFinding", "ConfidenceMonitor", "ConfidenceShift", "InstabilityResult",
           "NewCluster", "NewClusterDetector", "PredictionInstability", "ProbingVerdict",
           "QueryProbingDetector", "margins"]
