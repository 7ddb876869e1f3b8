"""Alert quality on real data: false pages with no change, detection delay with one.

Run from the repository root with driftwise's venv (needs ../shared/data)::

    .venv/bin/python benchmarks/alert_quality.py [--windows 1000] [--rows 500] [--json OUT]

Per dataset, the reference is a random half of the rows and the monitored stream is made of
windows drawn without replacement from the other half, in a fresh random order for each
sequence of 20 windows. Both halves come from one distribution, so every alert on such a
stream is a false page. Then the same streams carry an injected change from their 11th
window on (one feature shifted by ``--shift`` of its reference standard deviation), and the
delay is the number of changed windows seen until an alert opens (1 = the first changed
window). The default Monitor checks run on each window, and the alert lifecycle
(driftwise.act) runs on the results with three rules:

- ``naive``: ``drift.dataset.drift_detected == true``, for 1 window;
- ``for2``: the same for 2 windows, cleared after 2 windows without drift;
- ``share``: ``drift.dataset.share >= 0.2`` for 2 windows, cleared below 0.1 for 2.

One line of JSON per dataset and rule is printed (and written to ``--json``): false pages
per 1,000 windows, and the detection rate and median delay over the changed sequences.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from driftwise.act.lifecycle import AlertState, LifecycleRule, step
from driftwise.monitor import Monitor

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SEQUENCE = 20
CHANGE_AT = 10

RULES = [
    LifecycleRule(name="naive", metric="drift.dataset.drift_detected", condition="== true"),
    LifecycleRule(name="for2", metric="drift.dataset.drift_detected", condition="== true",
                  for_windows=2, clear_for=2),
    LifecycleRule(name="share", metric="drift.dataset.share", condition=">= 0.2",
                  for_windows=2, clear_condition="< 0.1", clear_for=2),
]


def _credit() -> tuple[pa.Table, str, list[str]]:
    from sklearn.linear_model import LogisticRegression

    table = pcsv.read_csv(DATA / "credit_default_taiwan" / "default_credit_card_clients.csv")
    features = [f"X{i}" for i in range(1, 24)]
    x = np.column_stack([table[c].to_numpy().astype(float) for c in features])
    y = table["Y"].to_numpy()
    scale = x.std(axis=0)
    model = LogisticRegression(max_iter=1000).fit(x / scale, y)
    proba = model.predict_proba(x / scale)[:, 1]
    out = {c: x[:, i] for i, c in enumerate(features)}
    out.update(proba=proba, label=np.where(y == 1, "1", "0"))
    return pa.table(out), "X1", features


def _acs() -> tuple[pa.Table, str, list[str]]:
    t = pq.read_table(DATA / "acs_employment_ma_nannyml" / "employment_MA_reference.pq")
    features = ["AGEP", "SCHL", "MAR", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC",
                "NATIVITY", "DEAR", "DEYE", "DREM", "SEX", "RAC1P"]
    out: dict[str, Any] = {c: t[c].to_numpy().astype(float) for c in features}
    out.update(proba=t["predicted_probability"].to_numpy(),
               label=np.where(t["employed"].to_numpy().astype(int) == 1, "1", "0"))
    return pa.table(out), "AGEP", features


DATASETS = {"credit_default_taiwan": _credit, "acs_employment_ma": _acs}


def _config(features: list[str]) -> dict[str, Any]:
    return {"model": {"task": "binary", "positive_class": "1"},
            "columns": {"features": features, "probabilities": "proba", "target": "label"}}


def _replay(monitor: Monitor, pool: pa.Table, rows: int, sequences: int, seed: int,
            shift: tuple[str, float] | None) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    opened = {r.name: 0 for r in RULES}
    delays: dict[str, list[int | None]] = {r.name: [] for r in RULES}
    windows = 0
    for _ in range(sequences):
        order = rng.permutation(pool.num_rows)
        state = AlertState()
        first: dict[str, int | None] = {r.name: None for r in RULES}
        for w in range(SEQUENCE):
            window = pool.take(pa.array(order[w * rows:(w + 1) * rows]))
            if shift is not None and w >= CHANGE_AT:
                name, delta = shift
                col = window[name].to_numpy() + delta
                window = window.set_column(window.schema.get_field_index(name), name,
                                           pa.array(col))
            metrics = dict(monitor.run(window.drop_columns(["label"])).metrics)
            state, events = step(RULES, state, w, float(w), metrics)
            windows += 1
            for event in events:
                if event.kind in ("opened", "reopened"):
                    opened[event.rule] += 1
                    if shift is not None and w >= CHANGE_AT and first[event.rule] is None:
                        first[event.rule] = w - CHANGE_AT + 1
        for name in delays:
            delays[name].append(first[name])
    return {"windows": windows, "opened": opened, "delays": delays}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--shift", type=float, default=0.5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: this benchmark replays the shared real data")
    lines = []
    for name, load in DATASETS.items():
        started = time.perf_counter()
        table, shifted, features = load()
        order = np.random.default_rng(0).permutation(table.num_rows)
        half = table.num_rows // 2
        reference = table.take(pa.array(order[:half]))
        pool = table.take(pa.array(order[half:]))
        if pool.num_rows < SEQUENCE * args.rows:
            pool_rows = pool.num_rows // SEQUENCE
        else:
            pool_rows = args.rows
        monitor = Monitor(_config(features)).fit(reference)
        sequences = max(1, args.windows // SEQUENCE)
        quiet = _replay(monitor, pool, pool_rows, sequences, 1, None)
        delta = args.shift * float(np.std(reference[shifted].to_numpy()))
        changed = _replay(monitor, pool, pool_rows, max(1, sequences // 5), 2,
                          (shifted, delta))
        for rule in RULES:
            found = [d for d in changed["delays"][rule.name] if d is not None]
            line = {"dataset": name, "rule": rule.name, "rows_per_window": pool_rows,
                    "windows": quiet["windows"],
                    "false_pages_per_1000": 1000 * quiet["opened"][rule.name] /
                    quiet["windows"],
                    "shift": f"{shifted} + {args.shift:g} sd",
                    "changed_sequences": len(changed["delays"][rule.name]),
                    "detected_share": len(found) / len(changed["delays"][rule.name]),
                    "median_delay_windows": float(np.median(found)) if found else None,
                    "seconds": time.perf_counter() - started}
            lines.append(line)
            print(json.dumps(line), flush=True)
    if args.json is not None:
        args.json.write_text("\n".join(json.dumps(line) for line in lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
