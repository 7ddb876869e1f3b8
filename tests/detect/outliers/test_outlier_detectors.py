"""Each detector computes what its definition says, compiled and NumPy paths agree, and bad
input gets an error naming what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from sklearn.ensemble import IsolationForest

from driftwise.detect.geometry._encoder import MissingExtraError
from driftwise.detect.outliers import (
    IsolationForestOutliers,
    KNNOutliers,
    MahalanobisOutliers,
    OutlierFeatures,
    PyODOutliers,
    _native,
)
from driftwise.detect.outliers.isolation import FlatForest
from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError, SchemaError


def test_the_flat_forest_scores_as_scikit_learn_does() -> None:
    rng = np.random.default_rng(1)
    forest = IsolationForest(n_estimators=60, max_samples=128, random_state=3).fit(
        rng.normal(size=(3000, 7)))
    x = np.vstack([rng.normal(size=(4000, 7)), rng.normal(size=(10, 7)) * 6.0])
    flat = FlatForest(forest)
    np.testing.assert_allclose(flat.scores(x), -forest.score_samples(x), rtol=1e-12, atol=0)


def test_compiled_and_numpy_paths_give_the_same_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    ref, x = rng.normal(size=(2000, 6)), rng.normal(size=(3000, 6)) * 1.3
    forest = IsolationForestOutliers(seed=1).fit(ref)
    knn = KNNOutliers(k=7).fit(ref)
    compiled = forest.score(x), knn.score(x)
    monkeypatch.setattr(_native, "kernels", None)
    assert np.array_equal(forest.score(x), compiled[0])
    assert np.array_equal(knn.score(x), compiled[1])


def test_knn_score_is_the_distance_to_the_kth_neighbour() -> None:
    rng = np.random.default_rng(3)
    det = KNNOutliers(k=4, max_reference=10_000).fit(rng.normal(size=(1200, 5)))
    x = rng.normal(size=(300, 5))
    encoded, _ = det.features_.transform(x)
    expected = np.sort(cdist(encoded, det.neighbours_), axis=1)[:, 3]
    np.testing.assert_allclose(det.score(x), expected, rtol=2e-3, atol=2e-3)


def test_mahalanobis_distance_and_its_contributions() -> None:
    rng = np.random.default_rng(4)
    cov = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, 0.0], [0.0, 0.0, 2.0]])
    ref = rng.multivariate_normal(np.zeros(3), cov, size=3000)
    ref[:60] += 25.0  # gross outliers in the reference: the MCD is not pulled by them
    det = MahalanobisOutliers().fit(ref)
    assert np.abs(det.location_).max() < 0.15
    scale = np.diag(1.0 / det.features_._scale)  # the features are robustly standardised
    assert np.abs(det.precision_ @ (scale @ cov @ scale) - np.eye(3)).max() < 0.2
    x = rng.multivariate_normal(np.zeros(3), cov, size=200)
    d = det.score(x)
    centred = det.features_.transform(x)[0] - det.location_
    np.testing.assert_allclose(d, np.einsum("ij,jk,ik->i", centred, det.precision_, centred),
                               rtol=1e-9)
    np.testing.assert_allclose(det.contributions(x).sum(axis=1), d, rtol=1e-9)
    # A row that breaks the correlation of the first two features: they explain it.
    odd = np.array([[2.0, -2.0, 0.0]])
    share = det.contributions(odd)[0]
    assert set(np.argsort(share)[-2:]) == {0, 1}
    # Its p-value is bounded below by the reference's own 2 % of outliers, which the
    # calibration part holds too; against a clean reference it is far out.
    clean = MahalanobisOutliers().fit(ref[60:])
    assert clean.p_values(odd)[0] <= 0.01 < det.p_values(odd)[0]


def test_features_impute_and_count_missing_values() -> None:
    ref = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, np.nan]])
    enc = OutlierFeatures().fit(ref)
    z, missing = enc.transform(np.array([[np.nan, 20.0], [2.5, 25.0]]))
    assert missing.tolist() == [1, 0]
    assert z[0, 0] == 0.0  # the median, centred
    with pytest.raises(SchemaError, match="reference had 2 features"):
        enc.transform(np.zeros((2, 3)))
    with pytest.raises(SchemaError, match=r"infinite value \(row 1, feature x1\)"):
        enc.transform(np.array([[1.0, 2.0], [1.0, np.inf]]))


def test_bad_input_is_named() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    det = KNNOutliers().fit(frame)
    with pytest.raises(SchemaError, match="column 'b' is missing from the current sample"):
        det.score(frame[["a"]])
    with pytest.raises(SchemaError, match="'a'"):
        det.score(pd.DataFrame({"a": ["x"] * 3, "b": [1.0] * 3}))
    with pytest.raises(NotFittedError, match="call fit first"):
        KNNOutliers().score(frame)
    with pytest.raises(InsufficientDataError, match="each part needs at least 20"):
        KNNOutliers().fit(frame.head(30))
    with pytest.raises(ConfigError, match="calibration must be a share"):
        KNNOutliers(calibration=1.0).fit(frame)
    with pytest.raises(ConfigError, match="alpha must be in"):
        det.detect(frame, alpha=0.0)
    with pytest.raises(SchemaError, match="column 'zz' is not in the reference"):
        KNNOutliers(columns=["a", "zz"]).fit(frame)
    with pytest.raises(ConfigError, match="no fit"):
        PyODOutliers(object()).fit(frame)


def test_a_pyod_name_without_pyod_names_the_extra() -> None:
    pytest.importorskip("numpy")
    try:
        import pyod  # noqa: F401
    except ImportError:
        with pytest.raises(MissingExtraError, match=r"driftwise\[outliers\]"):
            PyODOutliers("IForest").fit(np.random.default_rng(6).normal(size=(200, 3)))
    else:  # with the extra installed, the real detector runs and is calibrated
        det = PyODOutliers("IForest", params={"random_state": 0}).fit(
            np.random.default_rng(6).normal(size=(2000, 3)))
        share = det.detect(np.random.default_rng(7).normal(size=(4000, 3)), 0.05).share_flagged
        assert 0.03 <= share <= 0.07


def test_result_serialises() -> None:
    rng = np.random.default_rng(8)
    det = IsolationForestOutliers().fit(rng.normal(size=(400, 2)))
    out = det.detect(np.array([[0.0, 0.0], [9.0, 9.0]]), alpha=0.05).to_dict()
    assert out["flagged"] == [1] and out["calibration_rows"] == 200
    assert out["p_values"][1] == pytest.approx(1 / 201)


def test_columns_as_plain_lists_encode_as_the_table_does() -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"amount": rng.lognormal(size=300), "n": rng.integers(0, 50, 300),
                          "city": rng.choice(["a", "b", "c"], 300), "vip": rng.random(300) < .2})
    enc = OutlierFeatures().fit(frame)
    rows = frame.head(40).astype(object)
    rows.loc[0, "amount"] = None
    rows.loc[1, "city"] = "never seen"
    rows.loc[2, "city"] = None
    lists = {c: [None if pd.isna(v) else v for v in rows[c].tolist()] for c in rows.columns}
    via_table = enc.transform(pd.DataFrame(lists))
    via_lists = enc.transform(lists)
    np.testing.assert_array_equal(via_lists[0], via_table[0])
    np.testing.assert_array_equal(via_lists[1], via_table[1])
    with pytest.raises(SchemaError, match="column 'amount' of the current sample holds 'x'"):
        enc.transform({**lists, "amount": ["x"] * 40})
    with pytest.raises(SchemaError, match="infinite value at row 3"):
        enc.transform({**lists, "amount": [1.0, 2.0, 3.0, float("inf")] + [1.0] * 36})
