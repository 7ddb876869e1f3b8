"""Seasonal inputs: tell the ordinary daily cycle from an integration bug (DESIGN job 2).

Data: Elec2 (../shared/data/elec2), half-hourly New South Wales electricity demand and price,
May 1996 - Dec 1998. A gradient-boosting model predicting whether the price goes UP is
trained on the first year; the second year is the Monitor's reference; the next four weeks
are production, one window per day, with two days broken on purpose:

  day 10 (1998-05-27): the demand feed sends 0 from 10:00 to 13:00 (an integration bug);
  day 19 (1998-06-05): demand arrives 1000 times too large, all day (a unit bug).

The Monitor's plain drift test on `nswdemand` (one day against a whole year) fires on most
ordinary days: demand on any given day differs from a year's mix of seasons. The seasonal
check compares each value with its own (day of week, hour) in the reference and alerts on
exactly the two broken days.

Run:  .venv/bin/python examples/seasonal_electricity/run.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from driftwise.monitor import Monitor, MonitorResult

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data" / "elec2" / "elec2_electricity_normalized.csv"
DAY = 48  # one row every 30 minutes
MODEL_FEATURES = ["nswdemand", "nswprice", "vicdemand", "transfer", "period"]
FIRST_PRODUCTION_DAY = 740
BROKEN = {10: "demand zeroed 10:00-13:00", 19: "demand x 1000 (unit bug)"}


def load() -> pd.DataFrame:
    frame = pd.read_csv(DATA)
    i = np.arange(len(frame))
    # MANIFEST.md: row i is 1996-05-07 00:00 + i * 30 min (the `date` column has glitches).
    frame["ts"] = np.datetime64("1996-05-07T00:00") + (i * 30).astype("timedelta64[m]")
    return frame


def production_days(frame: pd.DataFrame, n_days: int = 28) -> pd.DataFrame:
    start = FIRST_PRODUCTION_DAY * DAY
    days = frame.iloc[start:start + n_days * DAY].copy()
    col = days.columns.get_loc("nswdemand")
    zeroed = 10 * DAY + np.arange(20, 26)  # 10:00 to 13:00 of day 10
    days.iloc[zeroed, col] = 0.0
    days.iloc[19 * DAY:20 * DAY, col] = days.iloc[19 * DAY:20 * DAY, col] * 1000.0
    return days


def main(out: TextIO = sys.stdout) -> list[MonitorResult]:
    frame = load()
    train, reference = frame.iloc[:365 * DAY], frame.iloc[365 * DAY:730 * DAY].copy()
    model = HistGradientBoostingClassifier(random_state=0).fit(train[MODEL_FEATURES],
                                                               train["class"])
    up = list(model.classes_).index("UP")
    reference["p_up"] = model.predict_proba(reference[MODEL_FEATURES])[:, up]
    days = production_days(frame)
    days["p_up"] = model.predict_proba(days[MODEL_FEATURES])[:, up]

    monitor = Monitor(HERE / "monitor.yaml").fit(reference)
    results = monitor.run_frame(days)
    print(f"{'day':>3}  {'date':10}  {'plain drift test':16}  {'seasonal check':14}  alerts",
          file=out)
    for number, result in enumerate(results):
        drift = "drift" if result.get("drift.columns.nswdemand.drift_detected") else "-"
        if result.get("seasonal.nswdemand.anomalous"):
            verdict = "anomalous"
        elif result.get("seasonal.nswdemand.seasonal"):
            verdict = "seasonal"
        else:
            verdict = "no drift"
        alerts = ", ".join(a.name for a in result.alerts) or "-"
        note = f"   <- {BROKEN[number]}" if number in BROKEN else ""
        print(f"{number:>3}  {result.window:10}  {drift:16}  {verdict:14}  {alerts}{note}",
              file=out)
    ordinary = [r for n, r in enumerate(results) if n not in BROKEN]
    cried = sum(bool(r.get("drift.columns.nswdemand.drift_detected")) for r in ordinary)
    print(f"\nThe plain drift test fired on {cried} of {len(ordinary)} ordinary days; the "
          f"seasonal check alerted on days {sorted(n for n, r in enumerate(results) if r.alerts)}"
          f" (broken: {sorted(BROKEN)}).", file=out)
    return results


if __name__ == "__main__":
    main()
