"""`driftwise report/check --config monitor.yaml` runs the Monitor over the current file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tests.cli.test_cli import run

CONFIG = """\
model: {name: demo, task: binary}
columns: {probabilities: proba, target: y}
windows: {rows: 1000}
checks: {bootstrap: 20}
alerts:
  - {name: inputs moved, metric: drift.dataset.drift_detected, condition: "== true"}
"""


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    x = rng.normal(shift, 1, n)
    p = 1 / (1 + np.exp(-2 * x))
    return pd.DataFrame({"x": x, "z": rng.choice(["a", "b"], n), "proba": p,
                         "y": (rng.random(n) < p).astype(int)})


def test_monitor_config_runs_windows_and_sets_the_exit_code(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    _frame(rng, 4000).to_csv(tmp_path / "ref.csv", index=False)
    pd.concat([_frame(rng, 1000), _frame(rng, 1000, 1.0)]).to_csv(tmp_path / "cur.csv",
                                                                  index=False)
    _frame(rng, 2000).to_csv(tmp_path / "same.csv", index=False)
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(CONFIG)
    out = tmp_path / "out.json"
    proc = run("check", tmp_path / "ref.csv", tmp_path / "cur.csv", "--config", cfg,
               "--json", out, "--html", tmp_path / "r.html")
    assert proc.returncode == 1, proc.stderr
    windows = json.loads(out.read_text())["windows"]
    assert [w["window"] for w in windows] == ["rows 0-999", "rows 1000-1999"]
    assert [bool(w["alerts"]) for w in windows] == [False, True]
    assert windows[1]["metrics"]["drift.columns.x.drift_detected"] is True
    assert "inputs moved" in proc.stdout and (tmp_path / "r.html").is_file()
    assert run("check", tmp_path / "ref.csv", tmp_path / "same.csv", "--config",
               cfg).returncode == 0
    cfg.write_text(CONFIG.replace("task: binary", "task: ranking"))
    bad = run("report", tmp_path / "ref.csv", tmp_path / "cur.csv", "--config", cfg)
    assert bad.returncode == 2 and "model.task" in bad.stderr


SEASONAL_CONFIG = """\
model: {name: hourly, task: binary}
columns: {probabilities: proba, target: y, timestamp: ts, features: [load]}
windows: {period: day, min_rows: 20}
checks: {bootstrap: 0, seasonal: [{column: load, season: [hour]}]}
alerts:
  - {name: load feed broken, metric: seasonal.load.anomalous, condition: "== true"}
"""


def _hourly(start: str, days: int, seed: int) -> pd.DataFrame:
    ts = pd.date_range(start, periods=24 * days, freq="h")
    rng = np.random.default_rng(seed)
    load = 10 + 5 * np.sin(ts.hour / 24 * 2 * np.pi) + rng.normal(0, 0.5, ts.size)
    p = np.full(ts.size, 0.3)
    return pd.DataFrame({"ts": ts, "load": load, "proba": p,
                         "y": (rng.random(ts.size) < p).astype(int)})


def test_seasonal_check_through_the_cli_names_the_anomalous_day(tmp_path: Path) -> None:
    _hourly("2024-01-01", 60, 0).to_csv(tmp_path / "ref.csv", index=False)
    current = _hourly("2024-03-01", 3, 1)
    current.loc[24 + 8:24 + 11, "load"] = 0.0  # the second day: zeroed from 08:00 to 11:00
    current.to_csv(tmp_path / "cur.csv", index=False)
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(SEASONAL_CONFIG)
    out = tmp_path / "out.json"
    proc = run("check", tmp_path / "ref.csv", tmp_path / "cur.csv", "--config", cfg,
               "--json", out)
    assert proc.returncode == 1, proc.stderr
    windows = json.loads(out.read_text())["windows"]
    assert [w["metrics"]["seasonal.load.anomalous"] for w in windows] == [False, True, False]
    assert [bool(w["alerts"]) for w in windows] == [False, True, False]
    # The table wraps its cells at 160 columns: look for the words, row by row.
    rows = [line for line in proc.stdout.splitlines() if "│" in line or "┃" in line]
    assert any("seasonal" in line for line in rows[:3])
    start = next(i for i, line in enumerate(rows) if "2024-03-02" in line)
    stop = next(i for i, line in enumerate(rows) if "2024-03-03" in line)
    broken_day = " ".join(rows[start:stop])
    assert "load:" in broken_day and "anomalous" in broken_day and "broken" in broken_day
    assert "anomalous" not in " ".join(rows[:start] + rows[stop:])
