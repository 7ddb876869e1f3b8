"""Performance before and after the labels arrive, on real yearly data (ACS employment).

Reference: 2015 (68,785 people, with the model's predictions and the true employment
status). Analysis: 2016–2018 (208,892 people) in chunks of 10,000 rows. First the Monitor
runs on the predictions alone and *estimates* ROC AUC, accuracy and F1 (CBPE); then the
targets, delivered separately, are joined by `id` and the *realized* metrics appear beside
the estimates. Each estimate carries its band, the predictions their estimated and realized
value (`business_value`, docs/impact.md), and each chunk is checked against the data
expectations suggested from 2015 (`expectations.yaml`, docs/expectations.md): from 2017 on,
the survey's ages reach 95 where 2015's stopped at 94 (the top code changed), which breaks
the `AGEP` range rule while no performance estimate moves.

Run:  .venv/bin/python examples/acs_employment/run.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from driftwise.monitor import Monitor, MonitorResult

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data" / "acs_employment_ma_nannyml"


def main() -> list[tuple[MonitorResult, MonitorResult]]:
    if not DATA.is_dir():
        sys.exit(f"needs {DATA} (the project's shared data folder)")
    reference = pd.read_parquet(DATA / "employment_MA_reference.pq")
    analysis = pd.read_parquet(DATA / "employment_MA_analysis.pq")
    targets = pd.read_parquet(DATA / "employment_MA_analysis_target.pq")
    monitor = Monitor(HERE / "monitor.yaml").fit(reference)
    pairs = []
    print(f"{'chunk':>6} {'years':>10} | {'est. AUC [3σ band]':>22} {'real AUC':>8} "
          f"{'95% CI':>15} | {'est. acc':>8} {'real acc':>8} | {'est. value':>10} "
          f"{'real value':>10} | rules")
    for start in range(0, len(analysis), 10_000):
        chunk = analysis.iloc[start:start + 10_000]
        years = f"{chunk.year.min()}–{chunk.year.max()}"
        before = monitor.run(chunk, name=f"rows {start}")
        after = monitor.run(chunk, labels=targets, name=f"rows {start}")
        pairs.append((before, after))
        if after.status != "ok":
            print(f"{start // 10_000:>6} {years:>10} | {after.reasons['window']}")
            continue
        ci = f"[{after.get('performance.roc_auc.lower'):.3f}, " \
             f"{after.get('performance.roc_auc.upper'):.3f}]"
        band = f"{before.get('estimated.roc_auc'):.3f} " \
               f"[{before.get('estimated.roc_auc.lower'):.3f}-" \
               f"{before.get('estimated.roc_auc.upper'):.3f}]"
        print(f"{start // 10_000:>6} {years:>10} | {band:>22} "
              f"{after.get('performance.roc_auc'):8.3f} {ci:>15} | "
              f"{before.get('estimated.accuracy'):8.3f} {after.get('performance.accuracy'):8.3f}"
              f" | {before.get('business.estimated_value'):10,.0f} "
              f"{after.get('business.value'):10,.0f} | {before.get('expectations.failed')}")
    return pairs


if __name__ == "__main__":
    main()
