"""Detectors that see the geometry: MMD, domain classifier, PCA error, embeddings, text."""

from driftwise.detect.geometry.classifier import DomainClassifierResult, domain_classifier_test
from driftwise.detect.geometry.embeddings import EmbeddingDrift, EmbeddingDriftDetector
from driftwise.detect.geometry.mmd import (
    MMDResult,
    mmd_block_test,
    mmd_permutation_test,
    mmd_test,
)
from driftwise.detect.geometry.multivariate import MultivariateDrift, MultivariateDriftDetector
from driftwise.detect.geometry.reconstruction import ReconstructionDrift, ReconstructionResult
from driftwise.detect.geometry.text import TextDrift, TextDriftDetector, vocabulary_drift

__all__ = [
    "DomainClassifierResult",
    "EmbeddingDrift",
    "EmbeddingDriftDetector",
    "MMDResult",
    "MultivariateDrift",
    "MultivariateDriftDetector",
    "ReconstructionDrift",
    "ReconstructionResult",
    "TextDrift",
    "TextDriftDetector",
    "domain_classifier_test",
    "mmd_block_test",
    "mmd_permutation_test",
    "mmd_test",
    "vocabulary_drift",
]
