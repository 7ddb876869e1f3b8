"""How often the realized metric falls inside the band of its estimate (docs/impact.md).

Usage: python benchmarks/band_coverage.py

For each data set an estimator is fitted on a labelled reference, then many labelled
windows are estimated as if their labels were missing; the table gives, per metric, the
share of windows whose realized value lies within 1σ and within 3σ of the estimate
(normal coverage: 0.683 and 0.997), and the median half-width of the 3σ band.

- credit (real): the Taiwan credit-card default data; a gradient-boosting model trained on
  10,000 clients, the reference 10,000 more, 300 windows of 500 drawn from the other 10,000.
- acs (real): NannyML's ACS employment copy (Massachusetts) with its model's outputs;
  reference 2015, windows: the 2016-2018 rows in order, 5,000 at a time (yearly
  population shift).
- car price (NannyML's synthetic regression set, tests/performance/data): DLE, reference
  60,000 rows, 60 analysis windows of 1,000.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from driftwise.performance import metrics as m
from driftwise.performance.dle import DLE
from driftwise.performance.estimation import CBPE

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CREDIT_VALUE = np.array([[100.0, -100.0], [-1000.0, 0.0]])  # rows: true 0/1, cols: pred 0/1


def _row(name: str, metric: str, gaps: list[float], sigmas: list[float]) -> str:
    g, s = np.abs(np.asarray(gaps)), np.asarray(sigmas)
    return (f"| {name} | {metric} | {g.size} | {np.mean(g <= s):.3f} | {np.mean(g <= 3 * s):.3f}"
            f" | {np.median(3 * s):.4g} |")


def _cbpe_rows(name: str, cbpe: CBPE, windows, metrics) -> list[str]:
    gaps: dict[str, list[float]] = {k: [] for k in metrics}
    sigmas: dict[str, list[float]] = {k: [] for k in metrics}
    for y, score, pred in windows:
        est = cbpe.estimate(score, pred)
        band = cbpe.bands(score, pred, est)
        for k in metrics:
            real = cbpe._realized(k, y, pred, score)
            if real is None or est.get(k) is None or k not in band:
                continue
            gaps[k].append(real - est[k])
            sigmas[k].append(band[k].sigma)
    return [_row(name, k, gaps[k], sigmas[k]) for k in metrics]


def credit() -> list[str]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame = pd.read_csv(SHARED / "credit_default_taiwan" / "default_credit_card_clients.csv")
    frame = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    x = frame.drop(columns=["ID", "Y"]).to_numpy(np.float64)
    y = frame["Y"].to_numpy(np.int64)
    model = HistGradientBoostingClassifier(max_iter=150, random_state=0).fit(x[:10_000],
                                                                             y[:10_000])
    score = model.predict_proba(x)[:, 1]
    pred = (score >= 0.5).astype(np.int64)
    ref = slice(10_000, 20_000)
    cbpe = CBPE(value=CREDIT_VALUE).fit(y[ref], score[ref], pred[ref])
    rng = np.random.default_rng(0)
    pool = np.arange(20_000, len(y))
    windows = []
    for _ in range(300):
        at = rng.choice(pool, 500, replace=False)
        windows.append((y[at], score[at], pred[at]))
    return _cbpe_rows("credit (real)", cbpe,
                      windows, ["roc_auc", "accuracy", "precision", "recall", "f1", "value"])


def acs() -> list[str]:
    folder = SHARED / "acs_employment_ma_nannyml"
    ref = pd.read_parquet(folder / "employment_MA_reference.pq")
    analysis = pd.read_parquet(folder / "employment_MA_analysis.pq").merge(
        pd.read_parquet(folder / "employment_MA_analysis_target.pq"), on="id")
    cbpe = CBPE().fit(ref["employed"].to_numpy(np.int64),
                      ref["predicted_probability"].to_numpy(np.float64),
                      ref["prediction"].to_numpy(np.int64))
    windows = []
    for start in range(0, len(analysis) - 4_999, 5_000):
        part = analysis.iloc[start:start + 5_000]
        windows.append((part["employed"].to_numpy(np.int64),
                        part["predicted_probability"].to_numpy(np.float64),
                        part["prediction"].to_numpy(np.int64)))
    return _cbpe_rows("acs 2016-18 (real)", cbpe, windows, ["roc_auc", "accuracy", "f1"])


def car_price() -> list[str]:
    frame = pd.read_parquet(ROOT / "tests" / "performance" / "data" /
                            "nannyml_car_price.parquet")
    features = ["car_age", "km_driven", "price_new", "accident_count", "door_count", "fuel",
                "transmission"]
    ref = frame[frame["period"].astype(str) == "reference"]
    analysis = frame[frame["period"].astype(str) == "analysis"]

    def table(part: pd.DataFrame) -> pa.Table:
        return pa.table({f: part[f].astype(str) if f in ("fuel", "transmission") else
                         part[f].to_numpy(np.float64) for f in features})

    dle = DLE(cost=(1.0, 3.0)).fit(table(ref), features, ref["y_pred"].to_numpy(),
                                   ref["y_true"].to_numpy())
    gaps: dict[str, list[float]] = {"mae": [], "rmse": [], "cost": []}
    sigmas: dict[str, list[float]] = {"mae": [], "rmse": [], "cost": []}
    for start in range(0, len(analysis), 1_000):
        part = analysis.iloc[start:start + 1_000]
        t, p, yy = table(part), part["y_pred"].to_numpy(), part["y_true"].to_numpy()
        est, band = dle.estimate(t, p), dle.bands(t, p)
        err = yy - p
        real = {"mae": m.mae(yy, p), "rmse": m.rmse(yy, p),
                "cost": float(np.mean(np.clip(-err, 0, None) + 3 * np.clip(err, 0, None)))}
        for k in gaps:
            gaps[k].append(real[k] - est[k])
            sigmas[k].append(band[k].sigma)
    return [_row("car price (DLE)", k, gaps[k], sigmas[k]) for k in gaps]


def main() -> None:
    if not SHARED.is_dir():
        sys.exit(f"needs {SHARED} (the project's shared data folder)")
    print("| data | metric | windows | within 1σ | within 3σ | median 3σ half-width |")
    print("|---|---|---:|---:|---:|---:|")
    for part in (credit, acs, car_price):
        for line in part():
            print(line, flush=True)


if __name__ == "__main__":
    main()
