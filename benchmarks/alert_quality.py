"""Alert quality on real data: false pages with no change, detection delay with four changes.

Run from the repository root with driftwise's venv (needs ../shared/data)::

    .venv/bin/python benchmarks/alert_quality.py [--windows 1000] [--rows 500] [--json OUT]

Per dataset, the reference is a random half of the rows and the monitored stream is made of
windows drawn without replacement from the other half, in a fresh random order for each
sequence of 20 windows. Both halves come from one distribution, so every alert on such a
stream is a false page. Then the same kind of streams carry an injected change from their
11th window on, and the delay is the number of changed windows seen until an alert opens
(1 = the first changed window; at most 10). A sequence whose alert (false, opened before
the change) is still open when the change begins has no delay to measure: it is left out of
that rule's detection counts and counted as ``already_open``. The changes:

- ``shift``: one numeric feature shifted by ``--shift`` (0.5) of its reference standard
  deviation;
- ``scale``: the same feature's spread times ``--scale`` (1.5) around its reference mean;
- ``mix``: a categorical (or integer-coded) feature's category shares changed: rows of its
  most common category become its second most common, ``--mix`` (10 %) of the window's
  rows in all (a total variation distance of 0.1);
- ``gradual``: the shift of ``shift``, ramped up over ``--ramp`` (5) windows: the k-th
  changed window carries ``min(k / 5, 1)`` of it.

The default Monitor checks run on each window, and the alert lifecycle (driftwise.act) runs
on the results with three rules:

- ``naive``: ``drift.dataset.drift_detected == true``, for 1 window;
- ``for2``: the same for 2 windows, cleared after 2 windows without drift;
- ``share``: ``drift.dataset.share >= 0.2`` for 2 windows, cleared below 0.1 for 2.

One line of JSON per dataset and rule is printed (and written to ``--json``): false pages
per 1,000 windows, the windows whose dataset verdict fired per 1,000 (the per-window false
alarm rate, the same for every rule), and per change the detection rate and median delay
over the changed sequences.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Dataset:
    """A replayed data set: its table (features, ``proba``, ``label``) and changed features."""

    table: pa.Table
    features: list[str]
    numeric: str  # shifted, scaled, ramped
    category: str  # its mix changed


def _with_model(out: dict[str, Any], x: np.ndarray, y: np.ndarray) -> pa.Table:
    """Add a logistic regression's probability (the monitored model) and the label."""
    from sklearn.linear_model import LogisticRegression

    scale = np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    model = LogisticRegression(max_iter=1000).fit(x / scale, y)
    out.update(proba=model.predict_proba(x / scale)[:, 1], label=np.where(y == 1, "1", "0"))
    return pa.table(out)


def _credit() -> Dataset:
    table = pcsv.read_csv(DATA / "credit_default_taiwan" / "default_credit_card_clients.csv")
    features = [f"X{i}" for i in range(1, 24)]
    x = np.column_stack([table[c].to_numpy().astype(float) for c in features])
    out: dict[str, Any] = {c: x[:, i] for i, c in enumerate(features)}
    # X1: amount of credit; X3: education (integer-coded, 7 values).
    return Dataset(_with_model(out, x, table["Y"].to_numpy()), features, "X1", "X3")


def _acs() -> Dataset:
    t = pq.read_table(DATA / "acs_employment_ma_nannyml" / "employment_MA_reference.pq")
    features = ["AGEP", "SCHL", "MAR", "RELP", "DIS", "ESP", "CIT", "MIG", "MIL", "ANC",
                "NATIVITY", "DEAR", "DEYE", "DREM", "SEX", "RAC1P"]
    out: dict[str, Any] = {c: t[c].to_numpy().astype(float) for c in features}
    out.update(proba=t["predicted_probability"].to_numpy(),
               label=np.where(t["employed"].to_numpy().astype(int) == 1, "1", "0"))
    # AGEP: age; MAR: marital status (5 codes).
    return Dataset(pa.table(out), features, "AGEP", "MAR")


def _nsl_kdd() -> Dataset:
    t = pcsv.read_csv(DATA / "nsl_kdd" / "KDDTrain+_20Percent.csv.gz")
    features = [c for c in t.column_names if c not in ("attack", "difficulty")]
    text = {"protocol_type", "service", "flag"}
    numeric = [c for c in features if c not in text]
    x = np.column_stack([t[c].to_numpy().astype(float) for c in numeric])
    out: dict[str, Any] = {c: t[c] if c in text else t[c].to_numpy().astype(float)
                           for c in features}
    y = (t["attack"].to_numpy(zero_copy_only=False) != "normal").astype(int)
    # count: connections to the same host in the past 2 s; service: 66 network services.
    return Dataset(_with_model(out, x, y), features, "count", "service")


DATASETS: dict[str, Callable[[], Dataset]] = {
    "credit_default_taiwan": _credit, "acs_employment_ma": _acs, "nsl_kdd": _nsl_kdd,
}
TITLES = {"credit_default_taiwan": "credit default, Taiwan",
          "acs_employment_ma": "ACS employment, Massachusetts",
          "nsl_kdd": "NSL-KDD network connections"}


@dataclass(frozen=True)
class Change:
    """An injected change: ``apply(window, k, rng)`` alters the k-th changed window (k >= 1)."""

    name: str
    label: str
    apply: Callable[[pa.Table, int, np.random.Generator], pa.Table]


def _replaced(window: pa.Table, name: str, values: np.ndarray) -> pa.Table:
    return window.set_column(window.schema.get_field_index(name), name, pa.array(values))


def _changes(data: Dataset, reference: pa.Table, args: argparse.Namespace) -> list[Change]:
    num = data.numeric
    ref_values = reference[num].to_numpy()
    mean, delta = float(np.mean(ref_values)), args.shift * float(np.std(ref_values))
    labels, counts = np.unique(reference[data.category].to_numpy(zero_copy_only=False),
                               return_counts=True)
    top, second = labels[np.argsort(-counts)[:2]]
    # Rows of the top category move with this probability: --mix of all rows on average.
    move = min(1.0, args.mix / (counts.max() / counts.sum()))

    def shift(window: pa.Table, k: int, rng: np.random.Generator) -> pa.Table:
        return _replaced(window, num, window[num].to_numpy() + delta)

    def scale(window: pa.Table, k: int, rng: np.random.Generator) -> pa.Table:
        return _replaced(window, num, mean + args.scale * (window[num].to_numpy() - mean))

    def mix(window: pa.Table, k: int, rng: np.random.Generator) -> pa.Table:
        values = window[data.category].to_numpy(zero_copy_only=False).copy()
        values[(values == top) & (rng.random(values.size) < move)] = second
        return _replaced(window, data.category, values)

    def gradual(window: pa.Table, k: int, rng: np.random.Generator) -> pa.Table:
        ramped = delta * min(k / args.ramp, 1.0)
        return _replaced(window, num, window[num].to_numpy() + ramped)

    return [
        Change("shift", f"{num} + {args.shift:g} sd", shift),
        Change("scale", f"{num} spread x {args.scale:g}", scale),
        Change("mix", f"{data.category}: {args.mix:.0%} of rows {top} -> {second}", mix),
        Change("gradual", f"{num} + {args.shift:g} sd over {args.ramp} windows", gradual),
    ]


def _replay(monitor: Monitor, pool: pa.Table, rows: int, sequences: int, seed: int,
            change: Change | None) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    opened = {r.name: 0 for r in RULES}
    delays: dict[str, list[int | None]] = {r.name: [] for r in RULES}
    already_open = {r.name: 0 for r in RULES}
    windows = verdicts = 0
    for _ in range(sequences):
        order = rng.permutation(pool.num_rows)
        state = AlertState()
        is_open = {r.name: False for r in RULES}
        skipped: list[str] = []
        # A rule whose (false) alert is still open when the change begins cannot show a
        # delay: that sequence is left out of its detection counts (and counted apart).
        first: dict[str, int | None] = {r.name: None for r in RULES}
        for w in range(SEQUENCE):
            if change is not None and w == CHANGE_AT:
                skipped = [name for name, open_now in is_open.items() if open_now]
                for name in skipped:
                    already_open[name] += 1
            window = pool.take(pa.array(order[w * rows:(w + 1) * rows]))
            if change is not None and w >= CHANGE_AT:
                window = change.apply(window, w - CHANGE_AT + 1, rng)
            metrics = dict(monitor.run(window.drop_columns(["label"])).metrics)
            state, events = step(RULES, state, w, float(w), metrics)
            windows += 1
            verdicts += bool(metrics["drift.dataset.drift_detected"])
            for event in events:
                if event.kind in ("opened", "reopened", "still_firing"):
                    is_open[event.rule] = True
                elif event.kind == "resolved":
                    is_open[event.rule] = False
                if event.kind in ("opened", "reopened"):
                    opened[event.rule] += 1
                    if change is not None and w >= CHANGE_AT and first[event.rule] is None:
                        first[event.rule] = w - CHANGE_AT + 1
            if change is not None and w >= CHANGE_AT and all(
                    first[name] is not None or name in skipped for name in first):
                break  # every rule has its delay; the rest of the sequence changes nothing
        for name in delays:
            if change is None or name not in skipped:
                delays[name].append(first[name])
    return {"windows": windows, "verdicts": verdicts, "opened": opened, "delays": delays,
            "already_open": already_open}


def _split(table: pa.Table, rows: int) -> tuple[pa.Table, pa.Table, int]:
    order = np.random.default_rng(0).permutation(table.num_rows)
    half = table.num_rows // 2
    pool = table.take(pa.array(order[half:]))
    pool_rows = min(rows, pool.num_rows // SEQUENCE)
    return table.take(pa.array(order[:half])), pool, pool_rows


RULE_LABELS = {
    "naive": "`drift.dataset.drift_detected == true`, for 1",
    "for2": "the same, `for: 2`, `clear_for: 2`",
    "share": "`drift.dataset.share >= 0.2` for 2, clear `< 0.1` for 2",
}


def markdown(lines: list[dict[str, Any]]) -> str:
    """The table of docs/alerts.md: per change, detected / counted sequences and delay."""
    names = list(lines[0]["changes"])
    out = ["| dataset | rule | false pages / 1,000 windows | "
           + " | ".join(names) + " |", "|---|---|---:|" + "---:|" * len(names)]
    for line in lines:
        first = line["rule"] == RULES[0].name
        dataset = f"{TITLES[line['dataset']]} ({line['features']} features)" if first else ""
        cells = []
        for name in names:
            c = line["changes"][name]
            delay = c["median_delay_windows"]
            cells.append(f"{c['detected']}/{c['sequences']}, "
                         + ("—" if delay is None else f"{delay:g}"))
        out.append(f"| {dataset} | {RULE_LABELS[line['rule']]} | "
                   f"{line['false_pages_per_1000']:g} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=1000,
                        help="windows without change per dataset (sequences of 20)")
    parser.add_argument("--changed", type=int, default=10,
                        help="changed sequences per dataset and change")
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--shift", type=float, default=0.5)
    parser.add_argument("--scale", type=float, default=1.5)
    parser.add_argument("--mix", type=float, default=0.1)
    parser.add_argument("--ramp", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS),
                        default=list(DATASETS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", action="store_true",
                        help="print the table of docs/alerts.md at the end")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: this benchmark replays the shared real data")
    lines = []
    for name in args.datasets:
        started = time.perf_counter()
        data = DATASETS[name]()
        reference, pool, pool_rows = _split(data.table, args.rows)
        config = {"model": {"task": "binary", "positive_class": "1"},
                  "columns": {"features": data.features, "probabilities": "proba",
                              "target": "label"}}
        monitor = Monitor(config).fit(reference)
        quiet = _replay(monitor, pool, pool_rows, max(1, args.windows // SEQUENCE), 1, None)
        changed = {}
        for i, change in enumerate(_changes(data, reference, args)):
            changed[change.name] = (change, _replay(monitor, pool, pool_rows, args.changed,
                                                    2 + i, change))
        for rule in RULES:
            line: dict[str, Any] = {
                "dataset": name, "rule": rule.name, "features": len(data.features),
                "rows_per_window": pool_rows, "windows": quiet["windows"],
                "false_pages_per_1000": 1000 * quiet["opened"][rule.name] / quiet["windows"],
                "verdicts_per_1000": 1000 * quiet["verdicts"] / quiet["windows"],
                "changes": {},
            }
            for change_name, (change, result) in changed.items():
                found = [d for d in result["delays"][rule.name] if d is not None]
                counted = len(result["delays"][rule.name])
                line["changes"][change_name] = {
                    "change": change.label,
                    "sequences": counted,
                    "already_open": result["already_open"][rule.name],
                    "detected": len(found),
                    "detected_share": len(found) / counted if counted else None,
                    "median_delay_windows": float(np.median(found)) if found else None,
                }
            line["seconds"] = time.perf_counter() - started
            lines.append(line)
            print(json.dumps(line), flush=True)
    if args.json is not None:
        args.json.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    if args.markdown:
        print(markdown(lines))


if __name__ == "__main__":
    sys.exit(main())
