"""The arithmetic floor: the least honest work a column-wise drift check must do.

Usage: python benchmarks/floor.py REFERENCE.parquet CURRENT.parquet OUT.json

Numeric columns: two-sample Kolmogorov-Smirnov with the statistic and p-value of
scipy.stats.ks_2samp (default method). Both samples are sorted once; the statistic comes
from searchsorted on the pooled values, the p-value from Smirnov's asymptotic
distribution exactly as ks_2samp computes it when either sample exceeds 10,000 rows.
At 10,000 rows or fewer ks_2samp itself is called, since it then computes an exact p.

Categorical columns: the chi-square test of homogeneity on the 2 x k table of category
counts (scipy.stats.chi2_contingency, no continuity correction).

A column is flagged at alpha 0.05 after Benjamini-Hochberg correction across columns;
the uncorrected flags are written too. No NaN handling: the benchmark data has none.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy import stats

ALPHA = 0.05
EXACT_MAX_N = 10_000  # ks_2samp's own threshold for its exact method


def ks_two_sample(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    n1, n2 = reference.size, current.size
    if max(n1, n2) <= EXACT_MAX_N:
        result = stats.ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue)
    a = np.sort(reference)
    b = np.sort(current)
    pooled = np.concatenate([a, b])
    diff = np.searchsorted(a, pooled, side="right") / n1
    diff -= np.searchsorted(b, pooled, side="right") / n2
    d = float(max(diff.max(), -diff.min(), 0.0))
    m, n = max(n1, n2), min(n1, n2)
    p = float(stats.kstwo.sf(d, round(m * n / (m + n))))
    return d, min(max(p, 0.0), 1.0)


def _counts(column: pa.ChunkedArray) -> dict[str, int]:
    counts = pc.value_counts(column)
    return dict(
        zip(
            counts.field("values").to_pylist(),
            counts.field("counts").to_pylist(),
            strict=True,
        )
    )


def chi2_homogeneity(reference: pa.ChunkedArray, current: pa.ChunkedArray) -> tuple[float, float]:
    ref_counts, cur_counts = _counts(reference), _counts(current)
    categories = sorted(ref_counts.keys() | cur_counts.keys())
    table = np.array(
        [
            [ref_counts.get(c, 0) for c in categories],
            [cur_counts.get(c, 0) for c in categories],
        ]
    )
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def benjamini_hochberg(p_values: np.ndarray, alpha: float) -> np.ndarray:
    m = p_values.size
    order = np.argsort(p_values)
    passed = p_values[order] <= alpha * np.arange(1, m + 1) / m
    rejected = np.zeros(m, dtype=bool)
    if passed.any():
        rejected[order[: np.flatnonzero(passed).max() + 1]] = True
    return rejected


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    reference = pq.read_table(argv[0])
    current = pq.read_table(argv[1])
    columns = []
    for field in reference.schema:
        name = field.name
        if pa.types.is_floating(field.type) or pa.types.is_integer(field.type):
            kind, test = "numeric", "ks"
            statistic, p_value = ks_two_sample(reference[name].to_numpy(), current[name].to_numpy())
        else:
            kind, test = "categorical", "chi2"
            statistic, p_value = chi2_homogeneity(reference[name], current[name])
        columns.append(
            {"name": name, "kind": kind, "test": test, "statistic": statistic, "p_value": p_value}
        )
    p_values = np.array([c["p_value"] for c in columns])
    corrected = benjamini_hochberg(p_values, ALPHA)
    for column, flag in zip(columns, corrected, strict=True):
        column["drift_detected"] = bool(flag)
    report = {
        "reference_rows": reference.num_rows,
        "current_rows": current.num_rows,
        "alpha": ALPHA,
        "correction": "fdr",
        "drifted_columns": [c["name"] for c in columns if c["drift_detected"]],
        "drifted_columns_uncorrected": [c["name"] for c in columns if c["p_value"] < ALPHA],
        "columns": columns,
    }
    with open(argv[2], "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
