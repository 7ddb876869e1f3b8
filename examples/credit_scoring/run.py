"""Credit scoring end to end: a model, production batches, a Monitor that finds what broke.

Data: the Taiwan credit-card default data (UCI; ../shared/data/credit_default_taiwan). A
gradient-boosting model is trained on one split; a second split is the Monitor's
reference; the rest becomes seven production batches of 2,000 clients:

  batch 1, 2, 4, 6: untouched;
  batch 3: covariate shift: clients sampled with a preference for high credit limits;
  batch 5: pipeline bug: the repayment status PAY_0 (a coded categorical) is truncated
           at 1, so every "2+ months late" becomes "1 month late";
  batch 7: concept drift: for married clients (MARRIAGE = 1) the relation between
           PAY_0 and default is flipped: the same number of defaults, now among the
           clients who paid on time.

Run:  .venv/bin/python examples/credit_scoring/run.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from driftwise.config import load_monitor_config
from driftwise.expect import suggest
from driftwise.monitor import Monitor, MonitorResult

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data" / "credit_default_taiwan" / \
    "default_credit_card_clients.csv"
# Column meanings from the UCI documentation of the data set.
NAMES = {"X1": "LIMIT_BAL", "X2": "SEX", "X3": "EDUCATION", "X4": "MARRIAGE", "X5": "AGE",
         "X6": "PAY_0", "X7": "PAY_2", "X8": "PAY_3", "X9": "PAY_4", "X10": "PAY_5",
         "X11": "PAY_6"}
BATCH_ROWS = 2000
MODIFIED = {3: "covariate shift (LIMIT_BAL)", 5: "truncated PAY_0",
            7: "concept drift (MARRIAGE=1)"}


def load() -> pd.DataFrame:
    frame = pd.read_csv(DATA).rename(columns=NAMES)
    return frame.sample(frac=1.0, random_state=7).reset_index(drop=True)


def features(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("ID", "Y")]


def make_batches(pool: pd.DataFrame, rng: np.random.Generator) -> list[pd.DataFrame]:
    batches = []
    start = 0
    for number in range(1, 8):
        if number == 3:
            # Sampling bias towards high limits: P(y | x) unchanged, P(x) shifted.
            rest = pool.iloc[start:]
            weight = rest["LIMIT_BAL"].rank().to_numpy() ** 2
            picked = rng.choice(len(rest), BATCH_ROWS, replace=False, p=weight / weight.sum())
            batch = rest.iloc[picked].copy()
            start += BATCH_ROWS  # keep later batches disjoint from the untouched stretch
        else:
            batch = pool.iloc[start:start + BATCH_ROWS].copy()
            start += BATCH_ROWS
        if number == 5:
            batch["PAY_0"] = batch["PAY_0"].clip(upper=1)
        if number == 7:
            married = batch.index[batch["MARRIAGE"] == 1]
            defaults = int(batch.loc[married, "Y"].sum())
            # Defaults go to the clients with the best repayment status instead.
            order = batch.loc[married].sort_values(["PAY_0", "PAY_2"], kind="stable").index
            batch.loc[married, "Y"] = 0
            batch.loc[order[:defaults], "Y"] = 1
        batches.append(batch)
    return batches


def score(model: HistGradientBoostingClassifier, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["proba"] = model.predict_proba(frame[features(frame)])[:, 1]
    out["pred"] = (out["proba"] >= 0.5).astype(int)
    return out


def explain(result: MonitorResult) -> list[str]:
    """The causes a person should read first."""
    causes = []
    if result.drift is not None:
        drifted = sorted((c for c in result.drift.columns if c.drift_detected),
                         key=lambda c: -(c.effect or 0.0))
        for c in drifted[:4]:
            causes.append(f"{c.name} drifted ({c.test} p={c.p_value_adjusted:.1e}, "
                          f"{c.effect_name} {c.effect:.2f})")
        if len(drifted) > 4:
            causes.append(f"... and {len(drifted) - 4} more drifted columns")
    changed = sorted(
        (float(v), k.split(".")[1]) for k, v in result.metrics.items()
        if k.startswith("concept.") and k.endswith(".change_p_value_adjusted")
        and v is not None and float(v) < 0.05)
    for p, feature in changed[:3]:
        v_ref = result.get(f"concept.{feature}.cramers_v_reference")
        v_cur = result.get(f"concept.{feature}.cramers_v_current")
        causes.append(f"{feature}–Y relation changed (chi-square of independence, Cramér's V "
                      f"{v_ref:.2f} -> {v_cur:.2f}; change p={p:.1e})")
    if result.worst_slices and result.worst_slices[0].z > 4:
        s = result.worst_slices[0]
        causes.append(f"worst slice {s.name}: accuracy {s.reference_accuracy:.2f} -> "
                      f"{s.accuracy:.2f} (n={s.rows}, z={s.z:.1f})")
    return causes


def main() -> list[MonitorResult]:
    if not DATA.is_file():
        sys.exit(f"needs {DATA} (the project's shared data folder)")
    rng = np.random.default_rng(11)
    data = load()
    train, reference, pool = data.iloc[:10_000], data.iloc[10_000:16_000], data.iloc[16_000:]
    model = HistGradientBoostingClassifier(max_iter=150, random_state=0)
    model.fit(train[features(train)], train["Y"])
    scored = score(model, reference)
    # Data expectations proposed from the reference for batches of 2,000 (each rule fails a
    # clean batch with probability at most about 1 %), as `driftwise expectations suggest`.
    config = load_monitor_config(HERE / "monitor.yaml").model_dump(by_alias=True,
                                                                   exclude_none=True)
    config["expectations"] = suggest(scored[features(scored)], window_rows=BATCH_ROWS)\
        .to_yaml_dict()
    monitor = Monitor(config).fit(scored)
    batches = [score(model, b) for b in make_batches(pool, rng)]
    results = monitor.run_batches(batches, names=[f"batch {i}" for i in range(1, 8)])
    print(f"{'batch':8} {'flagged':8} {'est. AUC [3σ band]':>20} {'real AUC':>8} "
          f"{'est. value change/1000':>23} {'rules':>5}  alerts / causes")
    for number, result in enumerate(results, start=1):
        flagged = "YES" if result.alerts else "no"
        low, high = (result.get(f"estimated.roc_auc.{end}") for end in ("lower", "upper"))
        band = f"{result.get('estimated.roc_auc'):.3f} [{low:.2f}-{high:.2f}]"
        print(f"{result.window:8} {flagged:8} {band:>20} "
              f"{result.get('performance.roc_auc'):8.3f} "
              f"{result.get('business.estimated_change'):+23,.0f} "
              f"{result.get('expectations.failed'):5d}  "
              f"{', '.join(a.name for a in result.alerts) or '-'}"
              f"{'   <- ' + MODIFIED[number] if number in MODIFIED else ''}")
        for cause in explain(result) if result.alerts else []:
            print(f"{'':37}- {cause}")
        if result.alerts and result.explanation is not None:
            print(f"{'':37}  in plain words: {result.explanation.summary}")
        for metric, why in result.reasons.items():
            if metric.startswith("expectations."):
                print(f"{'':37}  rule broken: {why}")
    return results


if __name__ == "__main__":
    main()
