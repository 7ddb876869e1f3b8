"""whylogs' own per-column drift verdicts between two Parquet inputs (the anchor).

Usage: python benchmarks/anchors/whylogs_drift.py REF CUR OUT.json

Runs with the interpreter of benchmarks/.venv-whylogs. REF and CUR are each a Parquet file or a
folder of them; both are profiled as in whylogs_profile.py (row group by row group, views merged).
The drift scores are whylogs' default selection in ``calculate_drift_scores``: a KS test computed
from the two KLL sketches for columns with a distribution sketch (numeric), else a chi-square
test on the frequent-items sketches (strings). whylogs' default thresholds classify the p-value:
below 0.05 DRIFT, 0.05 to 0.15 POSSIBLE_DRIFT, above NO_DRIFT.

OUT.json holds, per column, the test, its statistic, its p-value and the category, with
``drifted`` true for DRIFT only; then the counts per category, the profiling and scoring times,
and the versions. The KLL sketch is randomised, so the KS p-values change from run to run.
"""

from __future__ import annotations

import os

# whylogs posts usage events (importing whylogs.viz sends one) unless this variable is set.
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores
from whylogs_profile import machine, profile, summary, versions


def number(value: Any) -> float | str | None:
    """A JSON-safe float: the chi-square statistic is inf when a category is missing."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else str(value)


def column_verdicts(scores: dict[str, dict[str, Any] | None]) -> dict[str, dict[str, Any]]:
    verdicts: dict[str, dict[str, Any]] = {}
    for column, score in scores.items():
        if score is None:  # neither test applies (e.g. no distribution nor frequent items)
            verdicts[column] = {"test": None, "drifted": None}
            continue
        verdicts[column] = {
            "test": score["algorithm"],
            "statistic": number(score["statistic"]),
            "p_value": number(score["pvalue"]),
            "category": score["drift_category"],
            "drifted": score["drift_category"] == "DRIFT",
        }
    return verdicts


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    reference_path, current_path, out = Path(argv[0]), Path(argv[1]), Path(argv[2])
    reference, current = profile(reference_path), profile(current_path)
    start = time.perf_counter()
    scores = calculate_drift_scores(
        target_view=current.view, reference_view=reference.view, with_thresholds=True
    )
    scoring_seconds = time.perf_counter() - start
    verdicts = column_verdicts(scores)
    categories = [v.get("category") for v in verdicts.values()]
    result = {
        "reference": {"input": str(reference_path), **summary(reference)},
        "current": {"input": str(current_path), **summary(current)},
        "scoring_seconds": scoring_seconds,
        "columns_scored": sum(v["test"] is not None for v in verdicts.values()),
        "columns_drifted": sum(v["drifted"] is True for v in verdicts.values()),
        "categories": {c: categories.count(c) for c in ("DRIFT", "POSSIBLE_DRIFT", "NO_DRIFT")},
        "thresholds": {s["algorithm"]: s["thresholds"] for s in scores.values() if s},
        "columns": verdicts,
        "machine": machine(),
        "versions": versions(),
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
