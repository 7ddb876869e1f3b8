"""False alarms of CUSUM and EWMA on serially correlated in-control values, with and without
driftwise's AR(1) long-run correction (``autocorrelation="auto"`` vs ``"ignore"``).

Run from the repository root with driftwise's venv (``benchmarks/run.sh`` does; skip it there
with ``BENCH_AUTOCORRELATION=0``)::

    .venv/bin/python benchmarks/autocorrelation.py [--no-docs]

Two tables, both for charts calibrated for an in-control ARL of 500 (2 alarms per 1,000
values nominal) with ``after_alarm="keep"`` so every alarm counts:

- real series (../shared/data): Elec2 from row 17,424 on (half-hourly, the Victorian data
  real from there) and INSECTS Att1 before its drift at 14,028; each cut into blocks of
  2,500 values, the chart fitted on the first 500 of a block and run on the other 2,000.
- simulated stationary AR(1) streams with unit marginal sd (fixed seeds): 20 charts, each
  fitted on 500 values of the process and run on 50,000 more; the pooled ARL0.

The markdown replaces the block between ``<!-- autocorrelation:start -->`` and
``<!-- autocorrelation:end -->`` in docs/stream.md.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

from driftwise.stream import CUSUM, EWMA, calibrate_cusum, calibrate_ewma
from driftwise.stream._base import lag1_autocorrelation

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DOC = ROOT / "docs" / "stream.md"
START, END = "<!-- autocorrelation:start -->", "<!-- autocorrelation:end -->"
BLOCK, FIT = 2500, 500
N_SIM = 1_000_000
N_REF = 20  # references of 500 values, each charting N_SIM / N_REF values


def _charts() -> dict[str, object]:
    h = calibrate_cusum(500, k=0.5).h
    l05 = calibrate_ewma(500, lam=0.05).L
    l2 = calibrate_ewma(500, lam=0.2).L
    return {"CUSUM k = 0.5": lambda **kw: CUSUM(h=h, k=0.5, after_alarm="keep", **kw),
            "EWMA lam = 0.05": lambda **kw: EWMA(lam=0.05, L=l05, after_alarm="keep", **kw),
            "EWMA lam = 0.2": lambda **kw: EWMA(lam=0.2, L=l2, after_alarm="keep", **kw)}


def real_series() -> dict[str, np.ndarray]:
    import pandas as pd

    elec = pd.read_csv(DATA / "elec2" / "elec2_electricity_normalized.csv")
    out = {f"Elec2 `{c}`": elec[c].to_numpy(np.float64)[17_424:]
           for c in ("vicdemand", "nswdemand", "transfer", "nswprice", "vicprice")}
    insects = pd.read_csv(DATA / "insects" / "insects_gradual_balanced_norm.csv.gz",
                          usecols=["Att1"])
    out["INSECTS `Att1` (before its drift)"] = insects["Att1"].to_numpy(np.float64)[:14_000]
    return out


def per_thousand(make: object, x: np.ndarray, mode: str) -> float:
    alarms = watched = 0
    for start in range(0, x.size - BLOCK + 1, BLOCK):
        ref, rest = x[start:start + FIT], x[start + FIT:start + BLOCK]
        if not np.std(ref) > 0:
            continue
        det = make(autocorrelation=mode).fit(ref)  # type: ignore[operator]
        alarms += det.update_many(rest).size
        watched += rest.size
    return 1000.0 * alarms / watched


def ar1(phi: float, n: int, seed: int) -> np.ndarray:
    e = np.random.default_rng(seed).standard_normal(n + 500)
    return lfilter([1.0], [1.0, -phi], e)[500:] * math.sqrt(1.0 - phi * phi)


def simulated_arl(make: object, phi: float, mode: str) -> float:
    """Values over alarms, pooled over N_REF fitted references (their estimation error
    included, as a user's reference has it)."""
    alarms = 0
    for r in range(N_REF):
        det = make(autocorrelation=mode).fit(ar1(phi, FIT, seed=1000 + r))  # type: ignore[operator]
        alarms += det.update_many(ar1(phi, N_SIM // N_REF, seed=r)).size
    return N_SIM / alarms if alarms else math.inf


def report() -> str:
    charts = _charts()
    lines = ["Alarms per 1,000 in-control values (nominal 2), fitted on 500 values of each "
             "block of 2,500 (`benchmarks/autocorrelation.py`):", "",
             "| series (lag-1) | " + " | ".join(f"{c}: sd / long-run sd" for c in charts)
             + " |", "|---|" + "---:|" * len(charts)]
    for name, x in real_series().items():
        cells = [f"{per_thousand(mk, x, 'ignore'):.1f} / {per_thousand(mk, x, 'auto'):.1f}"
                 for mk in charts.values()]
        lines.append(f"| {name} ({lag1_autocorrelation(x[:5000]):.2f}) | "
                     + " | ".join(cells) + " |")
    phis = (0.0, 0.3, 0.6, 0.9)
    lines += ["", f"Simulated ARL0 (target 500) on AR(1) streams ({N_REF} references of {FIT} "
              f"values, {N_SIM:,} values charted), as independent / with the long-run sd:", "",
              "| chart | " + " | ".join(f"rho = {p}" for p in phis) + " |",
              "|---|" + "---:|" * len(phis)]

    def fmt(v: float) -> str:
        return f"> {N_SIM:,}" if math.isinf(v) else f"{v:,.0f}"

    for name, mk in charts.items():
        cells = [f"{fmt(simulated_arl(mk, p, 'ignore'))} / {fmt(simulated_arl(mk, p, 'auto'))}"
                 for p in phis]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-docs", action="store_true", help="print only")
    args = parser.parse_args()
    table = report()
    print(table)
    if not args.no_docs:
        text = DOC.read_text()
        i, j = text.index(START), text.index(END)
        DOC.write_text(text[:i + len(START)] + "\n" + table + "\n" + text[j:])


if __name__ == "__main__":
    main()
