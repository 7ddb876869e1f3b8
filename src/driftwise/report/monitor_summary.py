"""A readable terminal summary of a Monitor run: one row per window."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from driftwise.monitor.result import MonitorResult
from driftwise.monitor.run import MonitorRun
from driftwise.report.monitor_html import KEY_METRICS, drifted_columns, seasonal_verdicts
from driftwise.report.summary import safe


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _drifted(result: MonitorResult) -> str:
    names = drifted_columns(result.metrics)
    return safe(", ".join(names[:5])) + (f" +{len(names) - 5}" if len(names) > 5 else "")


def _seasonal(result: MonitorResult) -> str:
    """Per seasonal check: 'anomalous' or 'seasonal' (the cycle explains the difference)."""
    return ", ".join(f"[red]{safe(column)}: anomalous[/]" if verdict == "anomalous"
                     else f"{safe(column)}: seasonal"
                     for column, verdict in seasonal_verdicts(result.metrics))


def print_monitor_summary(run: MonitorRun, console: Console | None = None) -> None:
    """One row per window: rows, drifted columns, key metrics, alerts."""
    console = console or Console()
    shown = [m for m in KEY_METRICS if any(m in r.metrics for r in run.results)]
    seasonal = any(k.startswith("seasonal.") for r in run.results for k in r.metrics)
    table = Table(title=f"monitor {safe(run.monitor)}: {len(run.results)} window(s) vs "
                        f"{run.reference_rows:,} reference rows", header_style="bold")
    for header in ("window", "rows", "status", "drifted columns",
                   *(["seasonal check"] if seasonal else []), *shown, "alerts"):
        table.add_column(header)
    for r in run.results:
        alerts = ", ".join(f"[{'red' if a.severity == 'critical' else 'yellow'}]{safe(a.name)}[/]"
                           for a in r.alerts)
        status = r.status if r.status == "ok" else f"[dim]{r.status}[/]"
        table.add_row(safe(r.window), f"{r.rows:,}", status, _drifted(r) or "–",
                      *([_seasonal(r) or "–"] if seasonal else []),
                      *(_fmt(r.metrics.get(m)) for m in shown), alerts or "–")
    console.print(table)
