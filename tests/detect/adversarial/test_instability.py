"""Prediction instability: calibrated on clean inputs (the share flagged at alpha is alpha
over many draws), and it finds inputs an evasion attack left just past the boundary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from driftwise.detect.adversarial import PredictionInstability
from driftwise.errors import ConfigError, NotFittedError, SchemaError

WEIGHTS = np.array([1.5, -1.0, 0.5, 0.0, 0.0])


def _data(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    return x, (x @ WEIGHTS + 0.3 * rng.logistic(size=n) > 0).astype(int)


def _walk_to_boundary(model: Any, rows: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Each row moved by bisection towards a point of the other class until the decision
    just flips: where a black-box evasion (the boundary attack, HopSkipJump) stops."""
    labels = model.predict(rows)
    pool_labels = model.predict(pool)
    out = []
    for row, label in zip(rows, labels, strict=True):
        target = pool[pool_labels != label][0]
        lo, hi = 0.0, 1.0
        for _ in range(30):
            mid = (lo + hi) / 2
            if model.predict((row + (target - row) * mid)[None])[0] == label:
                lo = mid
            else:
                hi = mid
        out.append(row + (target - row) * hi)
    return np.array(out)


def test_the_share_flagged_on_clean_inputs_is_alpha() -> None:
    x, y = _data(0)
    model = LogisticRegression().fit(x, y)
    rng = np.random.default_rng(1)
    alpha, shares = 0.05, []
    for draw in range(60):  # a fresh reference and calibration each draw
        reference = rng.normal(size=(600, 5))
        detector = PredictionInstability(model.predict_proba, n_perturbations=8,
                                         seed=draw).fit(reference)
        shares.append(detector.detect(rng.normal(size=(300, 5)), alpha).share)
    assert 0.8 * alpha <= float(np.mean(shares)) <= 1.2 * alpha


@pytest.mark.parametrize(("model", "least"), [
    (LogisticRegression(C=100.0), 0.9), (HistGradientBoostingClassifier(random_state=0), 0.6)])
def test_inputs_walked_to_the_boundary_are_flagged(model: Any, least: float) -> None:
    x, y = _data(0)
    model.fit(x[:2000], y[:2000])
    detector = PredictionInstability(model.predict_proba).fit(x[:2000])
    rows = x[2000:2150]
    found = detector.detect(_walk_to_boundary(model, rows, x[:2000]), 0.05)
    assert found.share >= least
    assert found.model_rows == 150 * (detector.n_perturbations + 1)
    assert detector.detect(rows, 0.05).share <= 0.1


def test_refusals() -> None:
    x, y = _data(0)
    model = LogisticRegression().fit(x, y)
    with pytest.raises(ConfigError):
        PredictionInstability(model.predict_proba, scale=0.0)
    with pytest.raises(ConfigError):
        PredictionInstability(model.predict_proba, score_by="vibes")
    with pytest.raises(NotFittedError):
        PredictionInstability(model.predict_proba).detect(x[:5])
    fitted = PredictionInstability(model.predict_proba).fit(x[:200])
    with pytest.raises(SchemaError, match="3 features"):
        fitted.detect(x[:5, :3])
    bad = x[:5].copy()
    bad[2, 1] = np.nan
    with pytest.raises(SchemaError, match="row 2, column 1"):
        fitted.detect(bad)
    with pytest.raises(SchemaError, match="predict_proba returned"):
        PredictionInstability(lambda a: np.zeros(3)).fit(x[:200])
