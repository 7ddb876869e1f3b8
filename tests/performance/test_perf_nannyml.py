"""CBPE against NannyML's own CBPE on NannyML's synthetic data sets.

The reference values were produced by NannyML 0.13.1 (benchmarks/nannyml_reference.py, in
its own venv; see tests/performance/data/README.md); the data are the columns CBPE needs,
copied from the datasets shipped in the nannyml package.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftwise.performance.estimation import CBPE

DATA = Path(__file__).parent / "data"
VALUES = json.loads((DATA / "nannyml_reference_values.json").read_text())["datasets"]


def _chunks(dataset: str, metric: str, period: str = "analysis") -> list[dict]:
    return [c for c in VALUES[dataset]["metrics"][metric] if c["period"] == period]


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference rows, and the whole frame (chunk row ranges index the whole file)."""
    return frame[frame["period"].astype(str) == "reference"], frame


def test_binary_cbpe_matches_nannyml_on_car_loan() -> None:
    reference, analysis = _split(pd.read_parquet(DATA / "nannyml_car_loan.parquet"))
    cbpe = CBPE().fit(reference["repaid"].to_numpy(np.int64),
                      reference["y_pred_proba"].to_numpy())
    for metric in ("roc_auc", "accuracy", "precision", "recall", "f1"):
        for chunk in _chunks("car_loan", metric):
            rows = analysis.iloc[chunk["row_start"]:chunk["row_stop"]]
            ours = cbpe.estimate(rows["y_pred_proba"].to_numpy(),
                                 rows["y_pred"].to_numpy(np.int64))[metric]
            theirs = chunk["estimated"]
            assert ours == pytest.approx(theirs["value"], abs=0.01), (metric, chunk["key"])
            if metric == "roc_auc":
                # NannyML's band around its estimate holds the realized value; ours must lie
                # in that band too.
                assert theirs["lower_confidence_boundary"] <= ours <= \
                    theirs["upper_confidence_boundary"], chunk["key"]


def test_binary_roc_auc_estimates_agree_closely() -> None:
    reference, analysis = _split(pd.read_parquet(DATA / "nannyml_car_loan.parquet"))
    cbpe = CBPE().fit(reference["repaid"].to_numpy(np.int64),
                      reference["y_pred_proba"].to_numpy())
    diffs = []
    for chunk in _chunks("car_loan", "roc_auc"):
        rows = analysis.iloc[chunk["row_start"]:chunk["row_stop"]]
        ours = cbpe.estimate(rows["y_pred_proba"].to_numpy(),
                             rows["y_pred"].to_numpy(np.int64))["roc_auc"]
        diffs.append(abs(ours - chunk["estimated"]["value"]))
    # Same calibration, same expected-rate curve: NannyML only rounds its cumulative sums.
    assert max(diffs) < 1e-6


def test_multiclass_cbpe_is_close_to_nannyml() -> None:
    frame = pd.read_parquet(DATA / "nannyml_multiclass.parquet")
    reference, analysis = _split(frame)
    proba_cols = sorted(c for c in frame.columns if c.startswith("y_pred_proba_"))
    classes = [c.removeprefix("y_pred_proba_") for c in proba_cols]
    index = {c: i for i, c in enumerate(classes)}
    y_ref = reference["y_true"].astype(str).map(index).to_numpy(np.int64)
    cbpe = CBPE(metrics=["roc_auc", "accuracy", "f1"]).fit(
        y_ref, reference[proba_cols].to_numpy())
    for metric in ("roc_auc", "accuracy", "f1"):
        for chunk in _chunks("multiclass", metric):
            rows = analysis.iloc[chunk["row_start"]:chunk["row_stop"]]
            pred = rows["y_pred"].astype(str).map(index).to_numpy(np.int64)
            ours = cbpe.estimate(rows[proba_cols].to_numpy(), pred)[metric]
            assert ours == pytest.approx(chunk["estimated"]["value"], abs=0.01), (
                metric, chunk["key"])


def test_dle_is_close_to_nannyml_on_car_price() -> None:
    import pyarrow as pa

    from driftwise.performance.dle import DLE

    frame = pd.read_parquet(DATA / "nannyml_car_price.parquet")
    reference, _ = _split(frame)
    features = ["car_age", "km_driven", "price_new", "accident_count", "door_count", "fuel",
                "transmission"]
    dle = DLE().fit(pa.Table.from_pandas(reference, preserve_index=False), features,
                    reference["y_pred"].to_numpy(float), reference["y_true"].to_numpy(float))
    for metric in ("mae", "rmse"):
        for chunk in _chunks("car_price", metric):
            rows = frame.iloc[chunk["row_start"]:chunk["row_stop"]]
            ours = dle.estimate(pa.Table.from_pandas(rows, preserve_index=False),
                                rows["y_pred"].to_numpy(float))[metric]
            theirs = chunk["estimated"]
            # A different booster (scikit-learn's, not LightGBM): within 2 % of NannyML's
            # estimate, and inside NannyML's band that holds the realized value.
            assert ours == pytest.approx(theirs["value"], rel=0.02), (metric, chunk["key"])
            assert theirs["lower_confidence_boundary"] <= ours <= \
                theirs["upper_confidence_boundary"], (metric, chunk["key"])
