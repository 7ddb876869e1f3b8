"""The markdown of benchmarks/changepoints.py: series, F1 and alarm tables, targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ZERO = "zero (never alarms)"


def _label(tool: str, name: str) -> str:
    return name if tool == "none" else f"{tool} {name}"


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _by_detector(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    table: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for row in rows:
        table.setdefault((row["tool"], row["detector"]), {})[row["series"]] = row
    return table


def mean_f1(cells: dict[str, dict[str, Any]], names: list[str]) -> float | None:
    """Mean F1 over ``names``; None unless the detector ran without error on all of them."""
    if any(n not in cells or "f1" not in cells[n] for n in names):
        return None
    return _mean([cells[n]["f1"] for n in names])


def best(table: dict[tuple[str, str], dict[str, dict[str, Any]]], tool: str,
         names: list[str]) -> tuple[str, float] | None:
    scored = [(det, m) for (t, det), cells in table.items() if t == tool
              and (m := mean_f1(cells, names)) is not None]
    return max(scored, key=lambda item: item[1]) if scored else None


def _series_table(series: list[Any], meta: dict[str, Any]) -> list[str]:
    lines = ["| series | values | annotated changes | warm-up | prefix mean, sd | source and "
             "annotation |", "|---|---:|---|---:|---|---|"]
    for s in series:
        changes = "; ".join(", ".join(f"{c:,}" for c in a) for a in s.annotations)
        m = meta[s.name]
        lines.append(f"| `{s.name}` | {len(s.values):,} | {changes} | {s.warmup:,} | "
                     f"{m['mean']:.4g}, {m['sd']:.4g} | {s.note} |")
    return lines


def _cell(row: dict[str, Any] | None, what: str) -> str:
    if row is None:
        return "—"
    if "error" in row:
        return "error"
    if what == "f1":
        return f"{row['f1']:.3f}"
    delay = "—" if row["mean_delay"] is None else f"{row['mean_delay']:.0f}"
    return f"{row['alarms']}/{row['false_alarms']} · {row['detected']}/{row['changes']} · {delay}"


def _matrix(table: dict[tuple[str, str], dict[str, dict[str, Any]]], names: list[str],
            what: str) -> list[str]:
    header = "| detector | " + " | ".join(f"`{n}`" for n in names)
    if what == "f1":
        header += " | mean F1 (all series) |"
        lines = [header, "|---|" + "---:|" * (len(names) + 1)]
    else:
        lines = [header + " |", "|---|" + "---:|" * len(names)]
    for (tool, det), cells in table.items():
        line = f"| {_label(tool, det)} | " + " | ".join(_cell(cells.get(n), what)
                                                       for n in names)
        if what == "f1":
            m = mean_f1(cells, names)
            line += f" | {'—' if m is None else f'{m:.3f}'}"
        lines.append(line + " |")
    return lines


def _bounded_target(table: dict[tuple[str, str], dict[str, dict[str, Any]]], names: list[str],
                    bounded: tuple[str, ...]) -> list[str]:
    lines = []
    for det in bounded:
        cells = table.get(("driftwise", det))
        if not cells:
            lines.append(f"- driftwise {det}: not run.")
            continue
        over = [f"`{n}` {c['alarms']} > {c['alarm_budget']:.1f}" for n in names
                if (c := cells.get(n)) and "alarm_budget" in c
                and c["alarms"] > c["alarm_budget"]]
        arl0 = next((c["arl0"] for c in cells.values() if "arl0" in c), None)
        verdict = "PASS" if not over else "FAIL (" + "; ".join(over) + ")"
        lines.append(f"- driftwise {det} (nominal ARL0 {arl0:.0f}): at most one alarm per "
                     f"annotated change plus n / ARL0 on every series: {verdict}.")
    return lines


def render(series: list[Any], rows: list[dict[str, Any]], configs: list[Any],
           context: dict[str, Any]) -> str:
    names = [s.name for s in series]
    binary = [s.name for s in series if s.binary]
    table = _by_detector(rows)
    load = context["load"]
    lines = [
        f"Run on {context['date']} (UTC) with `benchmarks/changepoints.py`.",
        "",
        f"- Versions: driftwise {context['driftwise']} (commit {context['revision']}); "
        f"River {context['river']} (its own venv). Python {context['python']}, "
        f"{context['cpus']} CPUs, load average at the end {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}.",
    ]
    if context["skipped"]:
        lines.append("- Skipped configurations: " + "; ".join(
            f"{key.replace(':', ' ', 1)} ({reason.splitlines()[0][:90]})"
            for key, reason in context["skipped"].items()) + ".")
    lines += ["", *_series_table(series, context["standardisation"]), "",
              f"F1 with a margin of 5 values (van den Burg & Williams 2020; the start counts "
              f"as a change point, so a detector that never alarms scores 2 / (2 + c) with c "
              f"changes). DDM and EDDM run on the 0/1 error streams only "
              f"({', '.join(f'`{b}`' for b in binary)}).", "",
              *_matrix(table, names, "f1"), "",
              "Alarms / false alarms (farther than 5 values from every annotated change) · "
              "changes detected (an alarm at or after the change, before the next) / "
              "annotated · mean delay of those detections, in values:", "",
              *_matrix(table, names, "alarms"), "", "Targets:", "",
              *_bounded_target(table, names, ("cusum", "ewma"))]
    ours, theirs = best(table, "driftwise", names), best(table, "river", names)
    zero = mean_f1(table[("none", ZERO)], names)
    if ours and theirs:
        verdict = "PASS" if ours[1] > theirs[1] else "FAIL"
        lines.append(f"- best driftwise detector on mean F1 over all series ({ours[0]}, "
                     f"{ours[1]:.3f}) beats River's best ({theirs[0]}, {theirs[1]:.3f}): "
                     f"{verdict}.")
    if ours and zero is not None:
        verdict = "PASS" if ours[1] > zero else "FAIL"
        lines.append(f"- it beats the detector that never alarms ({zero:.3f}): {verdict}.")
    ours_b, theirs_b = best(table, "driftwise", binary), best(table, "river", binary)
    if ours_b and theirs_b:
        lines.append(f"- on the error streams alone (where DDM and EDDM also run): driftwise "
                     f"{ours_b[0]} {ours_b[1]:.3f}, River {theirs_b[0]} {theirs_b[1]:.3f}, "
                     f"never alarming {mean_f1(table[('none', ZERO)], binary):.3f}.")
    winners = []
    for n in names:
        top = max(c[n]["f1"] for c in table.values() if n in c and "f1" in c[n])
        who = [_label(t, d) for (t, d), c in table.items()
               if n in c and c[n].get("f1") == top]
        winners.append(f"`{n}`: {', '.join(who)} ({top:.3f})")
    lines += ["", "Best F1 per series: " + "; ".join(winners) + "."]
    return "\n".join(lines)


def render_summary(series: list[Any], rows: list[dict[str, Any]],
                   context: dict[str, Any]) -> str:
    """The short table for docs/stream.md: per detector, mean F1 over the series it ran on
    and its alarms summed over them (the full tables are in benchmarks/README.md)."""
    names = [s.name for s in series]
    table = _by_detector(rows)
    changes = sum(len(s.annotations[0]) for s in series)
    lines = [f"Run on {context['date'][:10]} (driftwise commit {context['revision']}, River "
             f"{context['river']}) on {len(names)} real series with {changes} "
             "annotated changes (benchmarks/README.md has the series, the per-series tables "
             "and the targets; DDM and EDDM run on the two 0/1 error streams only, so their "
             "F1 is over those):", "",
             "| detector | mean F1 | alarms | false alarms | changes detected | mean delay |",
             "|---|---:|---:|---:|---:|---:|"]
    for (tool, det), cells in table.items():
        ran = [c for n in names if (c := cells.get(n)) is not None and "f1" in c]
        if not ran:
            continue
        delays = [c["mean_delay"] for c in ran if c["mean_delay"] is not None]
        delay = f"{_mean(delays):.0f}" if delays else "—"
        lines.append(
            f"| {_label(tool, det)} | {_mean([c['f1'] for c in ran]):.3f} | "
            f"{sum(c['alarms'] for c in ran)} | {sum(c['false_alarms'] for c in ran)} | "
            f"{sum(c['detected'] for c in ran)} / {sum(c['changes'] for c in ran)} | "
            f"{delay} |")
    return "\n".join(lines)


def write_readme(readme: Path, block: str, start: str, end: str) -> None:
    from readme_block import write_block

    write_block(readme, block, start, end,
                "## Change points on real series (driftwise.stream vs River)")
