"""Domain classifier: calibrated held-out p-value, power, the features that separate."""

from __future__ import annotations

import numpy as np
import pytest

from driftwise.detect.geometry.classifier import domain_classifier_test
from driftwise.errors import InsufficientDataError


def test_false_positive_rate_under_no_drift() -> None:
    """300 draws at alpha 0.05 (logistic regression keeps the test fast): 2-8 % reject."""
    rng = np.random.default_rng(20)
    p = [domain_classifier_test(rng.normal(size=(60, 3)), rng.normal(size=(70, 3)),
                                classifier="logistic", importances=0, seed=i).p_value
         for i in range(300)]
    rate = float(np.mean(np.array(p) < 0.05))
    assert 0.02 <= rate <= 0.08, rate


def test_gradient_boosting_false_positive_rate_under_no_drift() -> None:
    """The default classifier, kept small (10 iterations) so 200 draws stay fast."""
    rng = np.random.default_rng(21)
    p = [domain_classifier_test(rng.normal(size=(60, 3)), rng.normal(size=(60, 3)),
                                max_iter=10, importances=0, seed=i).p_value
         for i in range(200)]
    rate = float(np.mean(np.array(p) < 0.05))
    assert 0.02 <= rate <= 0.08, rate


def test_power_for_a_small_shift_on_384_dimensions() -> None:
    rng = np.random.default_rng(22)
    hits = []
    for i in range(5):
        x = rng.normal(size=(2000, 384)).astype(np.float32)
        y = (rng.normal(size=(2000, 384)) + 0.05).astype(np.float32)
        r = domain_classifier_test(x, y, classifier="logistic", importances=0, seed=i)
        hits.append(r.p_value < 0.05)
    assert np.mean(hits) >= 0.9


def test_gradient_boosting_finds_a_nonlinear_shift_and_names_its_feature() -> None:
    """|x1| changes scale, its mean does not: a root cause a mean test would miss."""
    rng = np.random.default_rng(23)
    x = rng.normal(size=(600, 4))
    y = rng.normal(size=(600, 4))
    y[:, 1] *= 2.0
    r = domain_classifier_test(x, y, feature_names=["a", "b", "c", "d"], max_iter=30)
    assert r.p_value < 1e-6 and r.auc > 0.6
    assert r.top_features[0].feature == "b"


def test_too_small_for_cross_validation() -> None:
    with pytest.raises(InsufficientDataError, match="5-fold cross-validation"):
        domain_classifier_test(np.zeros((6, 2)), np.zeros((20, 2)), folds=5)
