"""Self-contained HTML rendering of a Monitor run: every window, its alerts and metrics.

Like the drift report page, it needs nothing but the file: inline styles and SVG, no script,
and a Content-Security-Policy that forbids any fetch. It is rendered from the run's JSON form
(``MonitorRun.to_dict()``), so a saved JSON renders the same page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from driftwise.monitor.metric_names import entries
from driftwise.report._format import (
    DASH,
    as_list,
    as_mapping,
    as_number,
    as_text,
    format_number,
    format_p_value,
    format_rows,
)
from driftwise.report._style import STYLESHEET
from driftwise.report._svg import Line, line_svg

__all__ = ["KEY_METRICS", "drifted_columns", "render_monitor_html", "seasonal_verdicts"]

#: Metrics shown beside each window when the run has them (and drawn across windows).
KEY_METRICS = ("estimated.roc_auc", "performance.roc_auc", "estimated.accuracy",
               "performance.accuracy", "estimated.mae", "performance.mae", "prediction.psi")
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_EXTRA_STYLE = """
tr.alerted td:first-child { box-shadow: inset 4px 0 0 var(--warn); }
tr.alerted.critical td:first-child { box-shadow: inset 4px 0 0 var(--drift); }
tr.insufficient td { color: var(--muted); }
.badge.critical { color: var(--drift); background: var(--drift-bg); border-color: #fecaca; }
.badge.warning { color: var(--warn); background: var(--warn-bg); border-color: #fde68a; }
.trends { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr));
  gap: 16px; }
.trend h3 { font-size: 14px; margin-bottom: 6px; }
details.window { margin-top: 12px; }
details.window summary { cursor: pointer; font-weight: 600; }
details.window[open] summary { margin-bottom: 8px; }
.metric-table td.name { max-width: 520px; }
"""
_CHART_W, _CHART_H = 340, 150


def drifted_columns(metrics: Mapping[str, Any]) -> list[str]:
    """Columns whose ``drift.columns.<col>.drift_detected`` is true, in metric order."""
    return [name for name, value in entries(metrics, "drift.columns", "drift_detected")
            if value is True]


def seasonal_verdicts(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(column, "anomalous" | "seasonal")`` for each seasonal check with a verdict to show."""
    out = []
    for column, value in entries(metrics, "seasonal", "anomalous"):
        if value is True:
            out.append((column, "anomalous"))
        elif metrics.get(f"seasonal.{column}.seasonal") is True:
            out.append((column, "seasonal"))
    return out


def _stream_alarms(metrics: Mapping[str, Any]) -> list[str]:
    return [name for name, value in entries(metrics, "stream", "alarm") if value is True]


def _slug(name: str, used: set[str]) -> str:
    base = "win-" + (re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-") or "window")
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    return slug


def _value(value: object, name: str = "") -> str:
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if "p_value" in name:
        return format_p_value(value)
    return format_number(value)


def _badge(severity: object, text: object) -> str:
    """A severity-coloured badge (``critical`` red, anything else a warning)."""
    cls = "critical" if severity == "critical" else "warning"
    return f'<span class="badge {cls}">{escape(as_text(text, cls))}</span>'


def _severity(window: Mapping[str, Any]) -> str | None:
    levels = {as_text(as_mapping(a).get("severity")) for a in as_list(window.get("alerts"))}
    if "critical" in levels:
        return "critical"
    return "warning" if levels else None


def render_monitor_html(run: Mapping[str, Any]) -> str:
    """Render a Monitor run (``MonitorRun.to_dict()``) as one self-contained HTML5 page.

    Sections: a verdict (windows with alerts), the windows table (``id="windows"``; a row
    per window, class ``alerted`` and ``critical``/``warning`` when alerts fired), trends
    of the key metrics across windows (``id="trends"``), and each window's details
    (``<details id="win-<slug>">``: alerts, reasons, worst slices, every metric).

    Examples
    --------
    >>> page = render_monitor_html({"monitor": "m", "reference_rows": 10, "windows": [
    ...     {"window": "w1", "rows": 5, "status": "ok", "metrics": {}, "alerts": [
    ...         {"name": "auc low", "severity": "critical"}]}]})
    >>> 'class="alerted critical"' in page and 'id="win-w1"' in page
    True
    """
    windows = [w for w in as_list(run.get("windows")) if isinstance(w, Mapping)]
    name = as_text(run.get("monitor"), "model")
    version = as_text(run.get("driftwise_version"), "unknown version")
    used: set[str] = set()
    ids = [_slug(as_text(w.get("window"), f"window {i + 1}"), used)
           for i, w in enumerate(windows)]
    shown = [m for m in KEY_METRICS
             if any(as_mapping(w.get("metrics")).get(m) is not None for w in windows)]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>driftwise monitor report: {escape(name)}</title>\n"
        f"<style>{STYLESHEET}{_EXTRA_STYLE}</style>\n</head>\n<body>\n<main>\n"
        '<header class="panel report-header"><div><h1>driftwise monitor report</h1>'
        f'<p class="samples">Monitor <strong>{escape(name)}</strong>: {len(windows)} '
        f"window(s) compared with {format_rows(run.get('reference_rows'))} reference rows</p>"
        f'</div><div class="version">driftwise {escape(version)}</div></header>\n'
        f"{_verdict(windows)}"
        f"{_windows_table(windows, ids, shown)}"
        f"{_trends(windows, shown)}"
        '<section id="details" aria-label="Window details"><h2>Window details</h2>'
        f"{''.join(_details(w, i) for w, i in zip(windows, ids, strict=True))}</section>\n"
        f"<footer>Generated by driftwise {escape(version)}. This page is self-contained "
        "and works offline.</footer>\n</main>\n</body>\n</html>\n"
    )


def _verdict(windows: Sequence[Mapping[str, Any]]) -> str:
    alerted = [w for w in windows if as_list(w.get("alerts"))]
    critical = sum(_severity(w) == "critical" for w in alerted)
    if alerted:
        text = f"Alerts in {len(alerted)} of {len(windows)} windows"
        detail = (f"{critical} with a critical alert, {len(alerted) - critical} with warnings "
                  "only. Rows with alerts are marked in the table.")
        cls = "drift"
    else:
        text = f"No alerts in {len(windows)} windows"
        detail = "No alert rule held in any window."
        cls = "no-drift"
    return (f'<section class="panel verdict {cls}" id="verdict" aria-label="Verdict"><div>'
            f'<p class="verdict-text">{escape(text)}</p>'
            f'<p class="verdict-detail">{escape(detail)}</p></div>'
            f'<div class="verdict-count"><span>{len(alerted)}/{len(windows)}</span>'
            "windows alerted</div></section>\n")


def _windows_table(windows: Sequence[Mapping[str, Any]], ids: Sequence[str],
                   shown: Sequence[str]) -> str:
    seasonal = any(k.startswith("seasonal.") for w in windows for k in as_mapping(w.get("metrics")))
    stream = any(k.startswith("stream.") for w in windows for k in as_mapping(w.get("metrics")))
    head = ["window", "rows", "status", "alerts", "drifted columns",
            *(["seasonal check"] if seasonal else []), *(["stream alarms"] if stream else [])]
    cells = "".join(f"<th>{escape(h)}</th>" for h in head) + "".join(
        f'<th class="num">{escape(m)}</th>' for m in shown)
    rows = []
    for window, wid in zip(windows, ids, strict=True):
        metrics = as_mapping(window.get("metrics"))
        severity = _severity(window)
        status = as_text(window.get("status"), DASH)
        cls = f"alerted {severity}" if severity else ("insufficient" if status != "ok" else "")
        alerts = " ".join(_badge(as_mapping(a).get("severity"),
                                 as_text(as_mapping(a).get("name"), "alert"))
                          for a in as_list(window.get("alerts"))) or DASH
        drifted = drifted_columns(metrics)
        row = [f'<td class="name"><a href="#{wid}">'
               f'{escape(as_text(window.get("window"), DASH))}</a></td>',
               f'<td class="num">{format_rows(window.get("rows"))}</td>',
               f"<td>{escape(status)}</td>", f"<td>{alerts}</td>",
               f'<td class="name">{escape(", ".join(drifted)) or DASH}</td>']
        if seasonal:
            verdicts = ", ".join(f"{c}: {v}" for c, v in seasonal_verdicts(metrics))
            row.append(f'<td class="name">{escape(verdicts) or DASH}</td>')
        if stream:
            row.append(f'<td class="name">{escape(", ".join(_stream_alarms(metrics))) or DASH}'
                       "</td>")
        row += [f'<td class="num">{escape(_value(metrics.get(m), m))}</td>' for m in shown]
        rows.append(f'<tr class="{cls}">{"".join(row)}</tr>')
    return ('<section id="windows" aria-label="Windows"><h2>Windows</h2>'
            f'<div class="panel table-wrap"><table><thead><tr>{cells}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div></section>\n')


def _trends(windows: Sequence[Mapping[str, Any]], shown: Sequence[str]) -> str:
    charts = []
    for metric in shown:
        points = []
        for i, window in enumerate(windows):
            value = as_number(as_mapping(window.get("metrics")).get(metric))
            if value is not None and math.isfinite(value):
                points.append((i, value, bool(as_list(window.get("alerts")))))
        if len(points) >= 2:
            charts.append(f'<div class="panel trend"><h3>{escape(metric)}</h3>'
                          f"{_line_chart(metric, points, len(windows))}</div>")
    if not charts:
        return ""
    return ('<section id="trends" aria-label="Trends"><h2>Key metrics across windows</h2>'
            f'<div class="trends">{"".join(charts)}</div></section>\n')


def _line_chart(metric: str, points: Sequence[tuple[int, float, bool]],
                n_windows: int) -> str:
    """A line of one metric over the windows; windows with alerts drawn as red dots."""
    line = Line(metric, [(i, v) for i, v, _ in points],
                marked=frozenset(i for i, _, hot in points if hot))
    return line_svg(f"{metric} over {n_windows} windows", [line],
                    (0, max(n_windows - 1, 1)), lambda i: f"window {i + 1:g}",
                    width=_CHART_W, height=_CHART_H)


def _details(window: Mapping[str, Any], wid: str) -> str:
    metrics = as_mapping(window.get("metrics"))
    parts = []
    story = as_mapping(window.get("explanation"))
    lines = [as_text(x) for x in [*as_list(story.get("changed")), *as_list(story.get("impact")),
                                  *as_list(story.get("where")), story.get("recommendation")]
             if x]
    if story.get("summary"):
        items = "".join(f"<li>{escape(line)}</li>" for line in lines)
        parts.append(f'<div class="explanation"><h4>In plain words</h4><p><strong>'
                     f'{escape(as_text(story.get("summary")))}</strong></p>'
                     f'{f"<ul>{items}</ul>" if items else ""}</div>')
    alerts = [as_mapping(a) for a in as_list(window.get("alerts"))]
    if alerts:
        items = "".join(
            f'<li>{_badge(a.get("severity"), a.get("severity"))} '
            f'<strong>{escape(as_text(a.get("name")))}</strong>: '
            f'<code>{escape(as_text(a.get("metric")))}</code> = '
            f'{escape(_value(a.get("value"), as_text(a.get("metric"))))} '
            f'({escape(as_text(a.get("condition")))}, {escape(as_text(a.get("consecutive"), "1"))}'
            " consecutive window(s))</li>" for a in alerts)
        parts.append(f"<h4>Alerts</h4><ul>{items}</ul>")
    reasons = as_mapping(window.get("reasons"))
    if reasons:
        items = "".join(f"<li><code>{escape(as_text(k))}</code>: {escape(as_text(v))}</li>"
                        for k, v in reasons.items())
        parts.append(f"<h4>Why some metrics have no value</h4><ul>{items}</ul>")
    slices = [as_mapping(s) for s in as_list(window.get("worst_slices"))]
    if slices:
        rows = "".join(
            f'<tr><td class="name">{escape(as_text(s.get("name")))}</td>'
            f'<td class="num">{format_rows(s.get("rows"))}</td>'
            f'<td class="num">{escape(format_number(s.get("reference_accuracy")))}</td>'
            f'<td class="num">{escape(format_number(s.get("accuracy")))}</td>'
            f'<td class="num">{escape(format_number(s.get("z")))}</td>'
            f'<td>{escape(as_text(s.get("source")))}</td></tr>' for s in slices)
        parts.append(
            '<h4>Worst slices</h4><div class="table-wrap"><table><thead><tr><th>slice</th>'
            '<th class="num">rows</th><th class="num">reference accuracy</th>'
            '<th class="num">accuracy</th><th class="num">z of the drop</th><th>source</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></div>")
    if metrics:
        rows = "".join(f'<tr><td class="name"><code>{escape(as_text(k))}</code></td>'
                       f'<td class="num">{escape(_value(v, as_text(k)))}</td></tr>'
                       for k, v in sorted(metrics.items()))
        parts.append(f'<h4>All metrics ({len(metrics)})</h4><div class="table-wrap">'
                     '<table class="metric-table"><thead><tr><th>metric</th>'
                     f'<th class="num">value</th></tr></thead><tbody>{rows}</tbody></table>'
                     "</div>")
    body = "".join(parts) or '<p class="note">Nothing was measured in this window.</p>'
    title = escape(as_text(window.get("window"), DASH))
    status = escape(as_text(window.get("status"), DASH))
    severity = _severity(window)
    flag = f" {_badge(severity, severity)}" if severity else ""
    return (f'<details class="panel window" id="{wid}"{" open" if severity else ""}>'
            f"<summary>{title} — {status}{flag}</summary>{body}</details>\n")
