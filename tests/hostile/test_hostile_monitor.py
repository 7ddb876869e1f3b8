"""A Monitor configuration run by the CLI on hostile windows: bad model outputs, unknown
classes, unusable timestamps, windows too small to test, features the estimators cannot use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.hostile.helpers import assert_bad_input, cli

N = 600
BINARY = ("model: {task: binary}\ncolumns: {probabilities: proba, target: label, "
          "prediction: pred, segments: seg, timestamp: ts, id: id}\n")


def scored(seed: int = 0, n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-2 * x))
    return pd.DataFrame({
        "x": x, "proba": p, "label": (rng.random(n) < p).astype(int),
        "pred": (p > 0.5).astype(int), "seg": rng.choice(["a", "b"], n),
        "ts": pd.date_range("2024-01-01", periods=n, freq="h").astype(str), "id": np.arange(n),
    })


def run_with(tmp_path: Path, current: pd.DataFrame, config: str, *extra: str):
    scored(0).to_csv(tmp_path / "ref.csv", index=False)
    current.to_csv(tmp_path / "cur.csv", index=False)
    (tmp_path / "monitor.yaml").write_text(config)
    return cli("check", tmp_path / "ref.csv", tmp_path / "cur.csv", "--config",
               tmp_path / "monitor.yaml", *extra)


@pytest.mark.parametrize(("change", "config", "message"), [
    (lambda f: f.assign(proba=f.proba * 3), BINARY, "column 'proba' holds values outside [0, 1]"),
    (lambda f: f.assign(proba="high"), BINARY, "column 'proba' must hold probabilities"),
    (lambda f: f.assign(proba=np.where(np.arange(N) % 9 == 0, np.nan, f.proba)), BINARY,
     "column 'proba' has missing probabilities"),
    (lambda f: f.assign(label=f.label + 5), BINARY,
     "column 'label' holds class(es) never seen in the reference: '5', '6'"),
    (lambda f: f.assign(pred=7), BINARY, "column 'pred' holds class(es) never seen"),
    (lambda f: f.drop(columns=["proba"]), BINARY, "lacks configured column(s) 'proba'"),
    (lambda f: f.assign(ts="not a time"), BINARY + "windows: {period: day}\n",
     "period windows: column 'ts': timestamp 'not a time' at position 0 is not in a form"),
    (lambda f: f.assign(ts="x"), BINARY + "checks: {seasonal: [{column: x}]}\n",
     "checks.seasonal: column 'ts': timestamp 'x' at position 0 is not in a form driftwise "
     "reads; accepted: datetimes"),
    (lambda f: f, BINARY + "checks: {seasonal: [{column: seg}]}\n",
     "column 'seg' must be numeric"),
    (lambda f: f, BINARY + "alerts: [{metric: estimated.acuracy, condition: '< 0.5'}]\n",
     "did you mean estimated.accuracy"),
    (lambda f: f, BINARY + "checks: {concept_drift: {features: [zz]}}\n",
     "'zz' is not a monitored feature"),
    (lambda f: f, "model: {task: regression}\ncolumns: {prediction: seg, target: x}\n",
     "column 'seg' must be numeric for a regression model"),
    (lambda f: f, "model: {task: multiclass}\ncolumns: {probabilities: {0: proba}, "
     "target: label}\n", "(at least two)"),
    (lambda f: f, "model: {task: binary, positive_class: 3}\ncolumns: {probabilities: proba, "
     "target: label}\n", "model.positive_class '3' is not a class of the reference"),
    (lambda f: f.iloc[:0], BINARY, "the current sample is empty"),
    (lambda f: f, BINARY + "windows: {min_rows: 100000}\n",
     "nothing was tested: each of the 1 window(s) has fewer rows than windows.min_rows"),
    (lambda f: f, BINARY + "windows: {period: day}\n",
     "nothing was tested: each of the 25 window(s)"),
])
def test_bad_windows_are_named(tmp_path, change, config, message) -> None:
    assert_bad_input(run_with(tmp_path, change(scored(1)), config), message)


def test_a_regressor_with_a_high_cardinality_text_feature_is_estimated(tmp_path) -> None:
    frame = scored(1)
    frame["city"] = [f"c{i}" for i in range(N)]  # 600 distinct strings: past 255 bins
    config = "model: {task: regression}\ncolumns: {prediction: proba, target: x}\n"
    ref = scored(0)
    ref["city"] = [f"c{i % 400}" for i in range(N)]
    ref.to_csv(tmp_path / "ref.csv", index=False)
    frame.to_csv(tmp_path / "cur.csv", index=False)
    (tmp_path / "m.yaml").write_text(config)
    out = tmp_path / "run.json"
    outcome = cli("check", tmp_path / "ref.csv", tmp_path / "cur.csv", "--config",
                  tmp_path / "m.yaml", "--json", out)
    assert outcome.code in (0, 1), outcome
    assert '"estimated.mae"' in out.read_text()


def test_nested_features_do_not_stop_a_monitor(tmp_path) -> None:
    def table(seed: int) -> pa.Table:
        frame = scored(seed)
        return pa.table({**{c: frame[c].to_numpy() for c in ("x", "proba", "label")},
                         "tags": [["a", "b"]] * N, "meta": [{"k": seed}] * N})

    pq.write_table(table(0), tmp_path / "ref.parquet")
    pq.write_table(table(1), tmp_path / "cur.parquet")
    (tmp_path / "m.yaml").write_text("model: {task: binary}\n"
                                     "columns: {probabilities: proba, target: label}\n")
    outcome = cli("check", tmp_path / "ref.parquet", tmp_path / "cur.parquet", "--config",
                  tmp_path / "m.yaml")
    assert outcome.code in (0, 1) and "Traceback" not in outcome.stderr, outcome


def test_missing_labels_are_a_reason_not_an_error(tmp_path) -> None:
    out = tmp_path / "run.json"
    outcome = run_with(tmp_path, scored(1).assign(label=np.nan), BINARY, "--json", out)
    assert outcome.code in (0, 1), outcome
    assert "labelled rows" in out.read_text()
