"""Turn a benchmark summary into the results block of benchmarks/README.md.

Usage: python benchmarks/render.py [SUMMARY.json]   (default: .results/latest/summary.json)

The block between `<!-- bench:start -->` and `<!-- bench:end -->` is replaced; the
rest of the README is left as written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
TARGET_SIZE = 1_000_000
MIB = 2**20


def _median(summary: dict[str, Any], n: int, tool: str, key: str) -> float | None:
    entry = summary["sizes"].get(str(n), {}).get("tools", {}).get(tool, {})
    value = entry.get(key)
    return None if value is None else float(value)


def evaluate_targets(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Judge the three targets on the medians at TARGET_SIZE rows."""
    n = TARGET_SIZE
    dw_time = _median(summary, n, "driftwise", "median_wall_s")
    floor_time = _median(summary, n, "floor", "median_wall_s")
    ev_time = _median(summary, n, "evidently", "median_wall_s")
    dw_rss = _median(summary, n, "driftwise", "median_rss_bytes")
    raw = summary["sizes"].get(str(n), {}).get("raw_bytes")

    def judge(
        name: str, measured: float | None, limit: str, ok: Callable[[float], bool]
    ) -> dict[str, Any]:
        if measured is None:
            return {"target": name, "limit": limit, "measured": None, "status": "not measured"}
        status = "PASS" if ok(measured) else "FAIL"
        return {"target": name, "limit": limit, "measured": measured, "status": status}

    speed = dw_time / floor_time if dw_time and floor_time else None
    lead = ev_time / dw_time if ev_time and dw_time else None
    memory = dw_rss / raw if dw_rss and raw else None
    return [
        judge("driftwise time / floor time", speed, "≤ 0.6", lambda r: r <= 0.6),
        judge("Evidently time / driftwise time", lead, "≥ 30", lambda r: r >= 30),
        judge("driftwise peak RSS / raw data size", memory, "≤ 2", lambda r: r <= 2),
    ]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _sci(value: float | None) -> str:
    return "—" if value is None else f"{value:.1e}"


def timing_table(summary: dict[str, Any]) -> list[str]:
    lines = [
        "| N | tool | median wall s | median peak RSS MiB | ratio to floor (time) "
        "| ratio Evidently/driftwise (time) | peak RSS / raw data size |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n_key, size in summary["sizes"].items():
        n = int(n_key)
        floor_time = _median(summary, n, "floor", "median_wall_s")
        dw_time = _median(summary, n, "driftwise", "median_wall_s")
        for tool in summary["tools"]:
            entry = size["tools"][tool]
            wall = entry.get("median_wall_s")
            rss = entry.get("median_rss_bytes")
            if wall is None:
                cells = [f"failed ({entry['failed']} of {entry['runs']} runs)", "—", "—", "—", "—"]
            else:
                to_floor = wall / floor_time if floor_time else None
                lead = wall / dw_time if tool == "evidently" and dw_time else None
                cells = [
                    _fmt(wall),
                    f"{rss / MIB:.0f}",
                    _fmt(to_floor),
                    _fmt(lead, 1),
                    _fmt(rss / size["raw_bytes"]),
                ]
            lines.append(f"| {n:,} | {tool} | " + " | ".join(cells) + " |")
    return lines


def flags_table(summary: dict[str, Any]) -> list[str]:
    lines = ["| N | tool | columns flagged as drifted |", "|---:|---|---|"]
    for n_key, size in summary["sizes"].items():
        for tool in summary["tools"]:
            flagged = size["tools"][tool].get("flagged")
            shown = "—" if flagged is None else (", ".join(f"`{c}`" for c in flagged) or "none")
            lines.append(f"| {int(n_key):,} | {tool} | {shown} |")
    return lines


def agreement_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    for n_key, size in summary["sizes"].items():
        agreement = size.get("driftwise_vs_floor")
        if agreement is None:
            continue
        same = "the same" if agreement["same_flags"] else "different"
        lines.append(
            f"- {int(n_key):,} rows: driftwise and the floor flag {same} columns; over the "
            f"{agreement['columns_compared']} columns where both ran the same test, the largest "
            f"difference is {_sci(agreement['max_abs_diff_statistic'])} in the statistic and "
            f"{_sci(agreement['max_abs_diff_p_value'])} in the p-value."
        )
    return lines


def _evidently_methods(size: dict[str, Any]) -> list[str]:
    return list(size["tools"].get("evidently", {}).get("methods", []))


def render_block(summary: dict[str, Any]) -> str:
    m, v = summary["machine"], summary["versions"]
    planted = summary["planted_drift"]
    truth = [*planted["numeric_mean_shift_sd"], *planted["categorical_mix_change"]]
    reps = ", ".join(f"{int(n):,}: {r}" for n, r in summary["reps"].items())
    sizes_mib = ", ".join(
        f"{int(n):,} rows: {s['raw_bytes'] / MIB:.1f} MiB" for n, s in summary["sizes"].items()
    )
    methods = sorted({m for size in summary["sizes"].values() for m in _evidently_methods(size)})
    out = [
        f"Run on {summary['date']} (UTC) with `{summary['command']}`.",
        "",
        f"- Machine: {m['nproc']} CPUs (`nproc`), {m['cpu']}, {m['memory']} RAM, {m['os']}, "
        f"Python {m['python']}; load average at start {m.get('load_at_start', '?')}.",
        f"- Versions: driftwise {v['driftwise']}, numpy {v['numpy']}, scipy {v['scipy']}, "
        f"pyarrow {v['pyarrow']}; Evidently {v['evidently']} ({v['anchors_env']} in its venv).",
        f"- Runs per size: {reps}; medians shown. Raw data size (Arrow `nbytes` of reference "
        f"+ current): {sizes_mib}.",
        "",
        *timing_table(summary),
        "",
        f"Targets, judged on the medians at {TARGET_SIZE:,} rows:",
        "",
        "| target | limit | measured | result |",
        "|---|---|---:|---|",
    ]
    for t in summary["targets"]:
        out.append(f"| {t['target']} | {t['limit']} | {_fmt(t['measured'])} | {t['status']} |")
    out += [
        "",
        "Columns each tool flagged (its own default criterion; see above). Planted drift: "
        + ", ".join(f"`{c}`" for c in truth)
        + ".",
        "",
        *flags_table(summary),
    ]
    agreement = agreement_lines(summary)
    if agreement:
        out += ["", *agreement]
    if methods:
        out += ["", "Evidently's chosen methods: " + "; ".join(methods) + "."]
    return "\n".join(out)


def update_readme(readme: Path, summary: dict[str, Any]) -> str:
    text = readme.read_text()
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"{readme}: markers {START} and {END} not found")
    block = render_block(summary)
    readme.write_text(f"{head}{START}\n{block}\n{END}{tail}")
    return block


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    path = Path(argv[0]) if argv else here / ".results" / "latest" / "summary.json"
    summary = json.loads(path.read_text())
    print(update_readme(here / "README.md", summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
