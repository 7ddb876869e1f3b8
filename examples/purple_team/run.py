"""The purple team on the Taiwan credit-default job: which failures would the monitor catch?

A gradient-boosted model predicts default next month on the real UCI "default of credit card
clients" data (30,000 clients, ../shared/data/credit_default_taiwan). Its team starts with a
thin Monitor: one alert, on the dataset-level feature drift decision. ``driftwise
purple-team`` replays clean windows and every red-team scenario (covariate shifts, label
and concept changes, a seasonal swing, pipeline bugs) at three intensities through that
Monitor and scores it: caught or not, after how many windows, at what false-alarm cost, and
the harm each failure does to the model's AUC.

The thin Monitor misses harmful failures that leave the inputs' distributions alone (labels
flipped in one segment, a feature joined from a lagging source): the scorecard lists them
first, with the check of an all-checks Monitor that caught them in the same replays and the
alert rule to add. The example adds the rule of the first gap and runs the scorecard again
on that scenario: the gap is closed, measured the same way.

Run it from the repository root (needs ../shared/data)::

    .venv/bin/python examples/purple_team/run.py

Writes ``model.joblib``, ``reference.parquet``, the two configurations and the scorecards
(JSON and HTML) to ``out/purple_team/`` (``main(out_dir=...)`` elsewhere).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import yaml
from sklearn.ensemble import HistGradientBoostingClassifier

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "credit_default_taiwan" / \
    "default_credit_card_clients.csv"
TRAIN_ROWS = 12_000        # the model's training rows; the next ones are the reference
REFERENCE_ROWS = 12_000
INTENSITIES = "0,0.5,1"
REPEATS = 2
GATE = "0.5"               # CI gate: fail on a gap above this intensity

THIN = {
    "model": {"name": "credit-default", "task": "binary", "positive_class": "1"},
    "columns": {"probabilities": "proba", "prediction": "pred", "target": "Y", "id": "ID"},
    "windows": {"rows": 750, "min_rows": 200},
    "checks": {"feature_drift": {"correction": "fdr", "alpha": 0.05},
               "estimated_performance": False, "bootstrap": 100},
    "alerts": [{"name": "input drift", "metric": "drift.dataset.drift_detected",
                "condition": "== true", "severity": "warning"}],
}


def prepare(out: Path) -> tuple[Path, Path]:
    """Train the model on the first rows; save it and the reference (the next rows)."""
    frame = pd.read_csv(DATA)
    features = [c for c in frame.columns if c not in ("ID", "Y")]
    model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.08,
                                           random_state=0)
    model.fit(frame[features][:TRAIN_ROWS], frame["Y"][:TRAIN_ROWS])
    joblib.dump(model, out / "model.joblib")
    frame[TRAIN_ROWS:TRAIN_ROWS + REFERENCE_ROWS].to_parquet(out / "reference.parquet",
                                                             index=False)
    return out / "model.joblib", out / "reference.parquet"


def purple_team(out: Path, config: Path, name: str, *extra: str) -> tuple[int, dict[str, Any]]:
    """``driftwise purple-team`` on the saved files; its exit code and JSON scorecard."""
    argv = [str(Path(sys.executable).parent / "driftwise"), "purple-team",
            "--model", str(out / "model.joblib"), "--reference", str(out / "reference.parquet"),
            "--config", str(config), "--repeats", str(REPEATS),
            "--json", str(out / f"{name}.json"), "--html", str(out / f"{name}.html"), *extra]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=1200, check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"driftwise purple-team failed ({proc.returncode}): {proc.stderr}")
    print(proc.stdout.rstrip())
    return proc.returncode, json.loads((out / f"{name}.json").read_text())


def with_rule(config: dict[str, Any], catch: dict[str, Any]) -> dict[str, Any]:
    """``config`` with the check the scorecard named turned on and its alert rule added."""
    fixed = json.loads(json.dumps(config))
    section = catch["section"].removeprefix("checks.")
    if catch["section"].startswith("checks."):
        fixed["checks"][section] = fixed["checks"].get(section) or {}
        if section == "data_quality":
            fixed["checks"][section] = True
    fixed["alerts"].append({**catch["rule"], "severity": "critical"})
    return fixed


def main(out_dir: Path | None = None) -> dict[str, Any]:
    """Score the thin Monitor, close its first gap, score again; the numbers."""
    out = out_dir or REPO / "out" / "purple_team"
    out.mkdir(parents=True, exist_ok=True)
    prepare(out)
    thin = out / "thin.yaml"
    thin.write_text(yaml.safe_dump(THIN, sort_keys=False))
    code, card = purple_team(out, thin, "scorecard_thin", "--intensities", INTENSITIES,
                             "--fail-above", GATE)
    gap = card["gaps"][0]
    fixed_config = with_rule(THIN, gap["would_catch"])
    fixed = out / "fixed.yaml"
    fixed.write_text(yaml.safe_dump(fixed_config, sort_keys=False))
    code_fixed, card_fixed = purple_team(
        out, fixed, "scorecard_fixed", "--scenarios", gap["scenario"], "--intensities",
        str(gap["intensity"]), "--fail-above", GATE)
    after = card_fixed["scores"][0]
    result = {"gate_thin": code, "gate_fixed": code_fixed, "summary": card["summary"],
              "clean": card["clean"], "gap": {k: gap[k] for k in (
                  "scenario", "intensity", "harm", "detection_rate", "would_catch")},
              "after": {k: after[k] for k in ("detected", "detection_rate", "median_delay",
                                              "first_check", "harm")},
              "gaps": [(g["scenario"], g["intensity"]) for g in card["gaps"]]}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
