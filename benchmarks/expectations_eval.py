"""Suggested expectations on real data: how often they fail clean windows, and which
injected pipeline bugs they catch that the drift tests miss (docs/expectations.md).

Usage: python benchmarks/expectations_eval.py

- False failures: a suite is suggested from half of a shuffled data set for windows of 500
  rows at alpha 0.01; 300 windows of 500 are drawn from the other half, and the table gives
  the share of windows failing each kind of rule (worst rule of the kind) and the whole
  suite.
- Bugs: the red-team pipeline scenarios (driftwise.redteam) applied to 5 % of one clean
  window's rows: does the suite fail, and does the default drift report flag the column?
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from driftwise.data import to_table
from driftwise.detect import DriftDetector
from driftwise.expect import evaluate, suggest
from driftwise.redteam import make_scenario

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
WINDOW = 500
ALPHA = 0.01


def credit() -> pa.Table:
    frame = pd.read_csv(SHARED / "credit_default_taiwan" / "default_credit_card_clients.csv")
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    # The education code as text, as a warehouse would hold it ("edu-1" ...): a string
    # category for the truncation bug.
    frame["EDUCATION"] = "edu-" + frame.pop("X3").astype(str)
    return to_table(frame.drop(columns=["ID"]))


def acs() -> pa.Table:
    frame = pd.read_parquet(SHARED / "acs_employment_ma_nannyml" /
                            "employment_MA_reference.pq")
    frame = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    return to_table(frame.drop(columns=["id", "year", "prediction",
                                        "predicted_probability"]))


def false_failures(table: pa.Table, windows: int = 300, seed: int = 0) -> dict[str, float]:
    """Share of clean windows failing: per rule (``<column>.<rule>``) and ``suite``."""
    half = table.num_rows // 2
    suite = suggest(table.slice(0, half), window_rows=WINDOW, alpha=ALPHA)
    held = table.slice(half)
    rng = np.random.default_rng(seed)
    fails: dict[str, int] = {}
    suite_fails = 0
    for _ in range(windows):
        at = np.sort(rng.choice(held.num_rows, WINDOW, replace=False))
        result = evaluate(suite, held.take(pa.array(at)))
        suite_fails += not result.passed
        for o in result.outcomes:
            key = f"{o.column}.{o.rule}"
            fails[key] = fails.get(key, 0) + (not o.passed)
    out = {k: v / windows for k, v in fails.items()}
    out["suite"] = suite_fails / windows
    return out


BUGS = [("null_storm", {"columns": ["X5"]}, "X5"),
        ("unit_change", {"column": "X1", "factor": 0.001}, "X1"),
        ("category_truncation", {"column": "EDUCATION"}, "EDUCATION"),
        ("stuck_value", {"column": "X12"}, "X12")]


def bugs(table: pa.Table, intensity: float = 0.05) -> list[dict[str, object]]:
    """Each bug on 5 % of a clean window: caught by the suite, flagged by drift?"""
    half = table.num_rows // 2
    reference = table.slice(0, half)
    suite = suggest(reference, window_rows=WINDOW, alpha=ALPHA)
    detector = DriftDetector().fit(reference)
    window = table.slice(half, WINDOW)
    rows = []
    for name, params, column in BUGS:
        broken = make_scenario(name, **params).apply(window, intensity=intensity, seed=1).data
        result = evaluate(suite, broken)
        report = detector.compare(broken)
        drift = {c.name: c for c in report.columns}[column]
        failed = [f"{o.column}.{o.rule}" for o in result.failed]
        rows.append({"bug": name, "column": column, "expectations": failed,
                     "drift_flagged": bool(drift.drift_detected),
                     "drift_p": drift.p_value_adjusted})
    return rows


def main() -> None:
    if not SHARED.is_dir():
        sys.exit(f"needs {SHARED} (the project's shared data folder)")
    print(f"## False failures on clean windows ({WINDOW} rows, alpha {ALPHA})\n")
    print("| data | rules | worst rule | its failure rate | mean per rule | suite fails |")
    print("|---|---:|---|---:|---:|---:|")
    for label, load in (("credit", credit), ("acs 2015", acs)):
        rates = false_failures(load())
        suite = rates.pop("suite")
        worst = max(rates, key=lambda k: rates[k]) if any(rates.values()) else "(none failed)"
        print(f"| {label} | {len(rates)} | {worst} | {rates[worst]:.3f} | "
              f"{np.mean(list(rates.values())):.4f} | {suite:.3f} |")
    print("\n## Injected bugs (5 % of one window's rows, credit)\n")
    print("| bug | column | expectations failed | drift test flags the column (adj. p) |")
    print("|---|---|---|---|")
    for row in bugs(credit()):
        print(f"| {row['bug']} | {row['column']} | {', '.join(row['expectations']) or '-'} "
              f"| {'yes' if row['drift_flagged'] else 'no'} ({row['drift_p']:.2g}) |")


if __name__ == "__main__":
    main()
