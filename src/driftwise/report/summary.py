"""A readable terminal summary of a drift report (rich tables)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from driftwise._text import one_line
from driftwise.detect.results import ColumnDrift, DriftReport


def literal_text(value: object) -> Text:
    """A name or value from the user's data, shown as written (no markup, one line)."""
    return Text(one_line(str(value)))


def safe(value: object) -> str:
    """A name or value for a rich markup string: markup escaped, control chars escaped."""
    return escape(one_line(str(value)))


def severity_key(column: ColumnDrift) -> tuple[int, float, float]:
    """Sort key: drifted first, then tested, then skipped; by adjusted p, then effect."""
    group = 0 if column.drift_detected else (2 if column.skipped else 1)
    p = column.p_value_adjusted if column.p_value_adjusted is not None else column.p_value
    p = p if p is not None else 2.0
    effect = column.effect if column.effect is not None else 0.0
    return group, p, -effect


def format_p(p: float | None) -> str:
    """p-values as people read them: 0.031, 1.2e-07, < 1e-300."""
    if p is None:
        return "–"
    if p == 0.0:
        return "< 1e-300"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}g}"


def columns_table(columns: Sequence[ColumnDrift], title: str | None = None) -> Table:
    """One row per column, most severe first."""
    table = Table(title=title, show_lines=False, header_style="bold")
    for header, justify in [
        ("column", "left"),
        ("kind", "left"),
        ("test", "left"),
        ("statistic", "right"),
        ("p (adj.)", "right"),
        ("effect", "right"),
        ("drift", "center"),
        ("notes", "left"),
    ]:
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for c in sorted(columns, key=severity_key):
        if c.skipped:
            verdict = Text("skipped", style="dim")
        elif c.drift_detected:
            verdict = Text("DRIFT", style="bold red")
        else:
            verdict = Text("ok", style="green")
        notes = []
        q = c.quality
        if q.new_categories_count:
            notes.append(f"{q.new_categories_count} new categories")
        if q.out_of_range_share:
            notes.append(f"{q.out_of_range_share:.1%} out of range")
        if q.missing_share_current > q.missing_share_reference + 0.01:
            notes.append(f"missing {q.missing_share_reference:.1%}→{q.missing_share_current:.1%}")
        if c.skipped:
            notes.append(c.skipped)
        effect = f"{_num(c.effect)} {c.effect_name}" if c.effect_name else "–"
        if q.missing_markers_current:
            shown = ", ".join(f"{k!r} ({v})" for k, v in
                              list(q.missing_markers_current.items())[:3])
            notes.append(f"markers read as missing: {shown}")
        table.add_row(
            literal_text(c.name),
            c.kind,
            c.test or "–",
            _num(c.statistic),
            format_p(c.p_value_adjusted),
            effect,
            verdict,
            literal_text("; ".join(notes)),
        )
    return table


def print_summary(report: DriftReport, console: Console | None = None) -> None:
    """Print the verdict line and the per-column table."""
    console = console or Console()
    d = report.dataset_drift
    verdict = "[bold red]DRIFT DETECTED[/]" if d.drift_detected else "[bold green]no drift[/]"
    console.print(
        f"{verdict}: {d.drifted_columns} of {d.columns} tested columns drifted "
        f"({safe(report.reference_name)}: {report.reference_rows:,} rows vs "
        f"{safe(report.current_name)}: {report.current_rows:,} rows; "
        f"correction {d.correction}, alpha {d.alpha})"
    )
    console.print(columns_table(report.columns))


def print_parts(report: DriftReport, console: Console) -> None:
    """One line per multivariate / embedding / text result (details in JSON and HTML)."""
    parts: list[Any] = [*([report.multivariate] if report.multivariate is not None else []),
                        *report.embeddings, *report.text]
    for part in parts:
        label = getattr(part, "name", None) or "multivariate: " + ", ".join(part.columns)
        if part.skipped:
            console.print(safe(f"{label}: skipped ({part.skipped})"), highlight=False)
            continue
        verdict = "[bold red]DRIFT[/]" if part.drift_detected else "[green]ok[/]"
        facts = []
        for view in ("mmd", "classifier"):
            result = getattr(part, view, None)
            if result is not None and view == "mmd":
                facts.append(f"MMD p={result.p_value:.3g}")
            elif result is not None:
                top = ", ".join(f.feature for f in result.top_features[:3])
                facts.append(f"classifier AUC={result.auc:.3f}" + (f" ({top})" if top else ""))
        vocab = getattr(part, "vocabulary", None)
        if vocab is not None:
            facts.append("gained: " + ", ".join(t.term for t in vocab.gained[:5]))
        console.print(f"{safe(label)}: {verdict} {safe('; '.join(facts))}", highlight=False)


def top_drifted(report: DriftReport, limit: int = 4) -> list[dict[str, Any]]:
    """The most severe drifted columns with their effects, for one-line summaries."""
    drifted = sorted((c for c in report.columns if c.drift_detected), key=severity_key)
    return [
        {"name": c.name, "effect": c.effect, "effect_name": c.effect_name} for c in drifted[:limit]
    ]
