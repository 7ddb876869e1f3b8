"""`driftwise purple-team`: the scorecard from files, JSON and HTML, and the CI gate."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from tests.cli.test_cli import run

THIN = """\
model: {name: toy, task: binary, positive_class: "1"}
columns: {probabilities: proba, prediction: pred, target: y}
windows: {min_rows: 100}
checks: {estimated_performance: false, performance: false, bootstrap: 20}
alerts:
  - {name: input drift, metric: drift.dataset.drift_detected, condition: "== true"}
"""
FAST = ["--repeats", "1", "--windows", "5", "--onset-window", "2", "--window-rows", "300"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("purple")
    rng = np.random.default_rng(0)
    n = 8000
    x = rng.normal(size=(n, 3))
    p = 1 / (1 + np.exp(-(2 * x[:, 0] + x[:, 1])))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2],
                          "y": (rng.random(n) < p).astype(int)})
    model = LogisticRegression().fit(frame[["a", "b", "c"]][:2000], frame["y"][:2000])
    joblib.dump(model, folder / "model.joblib")
    frame[2000:].to_parquet(folder / "ref.parquet")
    (folder / "thin.yaml").write_text(THIN)
    return {"folder": folder, "model": folder / "model.joblib",
            "reference": folder / "ref.parquet", "config": folder / "thin.yaml"}


def _args(files: dict[str, Path], *extra: str | Path) -> list[str | Path]:
    return ["purple-team", "--model", files["model"], "--reference", files["reference"],
            "--config", files["config"], *FAST, *extra]


def test_scorecard_json_html_and_the_gate(files: dict[str, Path]) -> None:
    out, page = files["folder"] / "card.json", files["folder"] / "card.html"
    proc = run(*_args(files, "--scenarios", "covariate_mean,concept_flip",
                      "--intensities", "0,1", "--json", out, "--html", page,
                      "--fail-above", "0.5"))
    assert proc.returncode == 1, proc.stderr
    assert "gate: 1 harmful scenario(s) above intensity 0.5" in proc.stderr
    card = json.loads(out.read_text())
    assert card["kind"] == "purple_team_scorecard" and card["signals_from"] == "alerts"
    assert [(g["scenario"], g["intensity"]) for g in card["gaps"]] == [("concept_flip", 1.0)]
    assert card["gaps"][0]["would_catch"]["rule"]["metric"]
    by = {(s["scenario"], s["intensity"]): s for s in card["scores"]}
    assert by[("covariate_mean", 1.0)]["detected"]
    assert not by[("covariate_mean", 0.0)]["detected"] and by[("covariate_mean", 0.0)][
        "harm"] == 0.0
    assert card["summary"]["gaps"] == 1 and card["clean"]["windows"] == 5
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert "gap: concept_flip at 1" in proc.stdout
    # Below the gate's intensity the same gap passes; without the gate, exit 0.
    assert run(*_args(files, "--scenarios", "concept_flip", "--intensities", "1",
                      "--fail-above", "1")).returncode == 0
    quiet = run(*_args(files, "--scenarios", "concept_flip", "--intensities", "1",
                       "--json", "-"))
    assert quiet.returncode == 0 and json.loads(quiet.stdout)["gaps"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--scenarios", "no_such_thing"], "no_such_thing"),
    (["--intensities", "0.5,lots"], "--intensities: 'lots'"),
    (["--intensities", "2"], "intensity must be in [0, 1]"),
    (["--metric", "mae"], "--metric: 'mae'"),
])
def test_bad_options_exit_2_naming_them(files: dict[str, Path], extra: list[str],
                                        message: str) -> None:
    proc = run(*_args(files, *extra))
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_a_file_that_is_not_a_model_is_refused(files: dict[str, Path]) -> None:
    fake = files["folder"] / "fake.joblib"
    fake.write_text("not a pickle")
    proc = run("purple-team", "--model", fake, "--reference", files["reference"],
               "--config", files["config"])
    assert proc.returncode == 2 and "--model" in proc.stderr and "joblib" in proc.stderr
    drift_only = files["folder"] / "drift.yaml"
    drift_only.write_text("drift: {alpha: 0.05}\n")
    proc = run("purple-team", "--model", files["model"], "--reference", files["reference"],
               "--config", drift_only)
    assert proc.returncode == 2 and "not a Monitor configuration" in proc.stderr
