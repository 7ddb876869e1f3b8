"""Adversarial signals: unusual confidence and per-window confidence shifts, and query
probing by client key."""

from driftwise.detect.adversarial.confidence import ConfidenceMonitor, ConfidenceShift, margins
from driftwise.detect.adversarial.probing import ProbingVerdict, QueryProbingDetector

__all__ = ["ConfidenceMonitor", "ConfidenceShift", "ProbingVerdict", "QueryProbingDetector",
           "margins"]
