"""How often a no-drift window alarms, given one fixed reference (docs/false-alarms.md).

A two-sample test at level alpha rejects a fraction alpha of no-drift comparisons *averaged
over references and windows*. A monitor keeps one reference and compares many windows with
it: its false-alarm rate is the rate *given that reference*, which varies from one reference
to another. This script measures that spread for the KS test (N(0, 1) data), alone and with
driftwise's default effect gate (normed Wasserstein distance >= 0.1), for a few reference
sizes, and prints a Markdown table (``--doc`` also writes it into docs/false-alarms.md)::

    .venv/bin/python benchmarks/false_alarms.py [--references 100] [--windows 200] [--doc]

About ten minutes on two cores with the defaults.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from driftwise.stats import ks_2samp

ALPHA = 0.05
MIN_EFFECT = 0.1
DOC = Path(__file__).resolve().parents[1] / "docs" / "false-alarms.md"
START, END = "<!-- false-alarms:start -->", "<!-- false-alarms:end -->"


def conditional_rates(n_ref: int, n_cur: int, references: int, windows: int,
                      seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per reference: share of no-drift windows with p < alpha, and with the effect gate too."""
    rng = np.random.default_rng(seed)
    p_only = np.empty(references)
    gated = np.empty(references)
    for r in range(references):
        ref = rng.normal(size=n_ref)
        hits = gated_hits = 0
        for _ in range(windows):
            res = ks_2samp(ref, rng.normal(size=n_cur))
            p = 1.0 if res.p_value is None else res.p_value
            hits += p < ALPHA
            gated_hits += p < ALPHA and res.effect >= MIN_EFFECT
        p_only[r] = hits / windows
        gated[r] = gated_hits / windows
    return p_only, gated


def table(references: int, windows: int) -> str:
    lines = [
        f"KS test, alpha = {ALPHA}, N(0, 1) reference and windows (no drift); {references} "
        f"references x {windows} windows each.",
        "",
        "| reference rows | window rows | decision | mean rate | 10 % of references below "
        "| median | 90 % below | worst reference |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n_ref, n_cur in ((1_000, 1_000), (10_000, 1_000), (100_000, 1_000), (10_000, 10_000)):
        p_only, gated = conditional_rates(n_ref, n_cur, references, windows,
                                          seed=n_ref + n_cur)
        for name, rates in ((f"p < {ALPHA}", p_only),
                            (f"p < {ALPHA} and effect >= {MIN_EFFECT}", gated)):
            q10, q50, q90 = np.quantile(rates, [0.1, 0.5, 0.9])
            lines.append(f"| {n_ref:,} | {n_cur:,} | {name} | {rates.mean():.3f} | {q10:.3f} | "
                         f"{q50:.3f} | {q90:.3f} | {rates.max():.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=int, default=100)
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--doc", action="store_true", help="write the table into the doc")
    args = parser.parse_args()
    block = table(args.references, args.windows)
    print(block)
    if args.doc:
        text = DOC.read_text()
        head, rest = text.split(START, 1)
        DOC.write_text(head + START + "\n" + block + "\n" + END + rest.split(END, 1)[1])


if __name__ == "__main__":
    main()
