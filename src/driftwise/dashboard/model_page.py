"""A model's page (drift, performance estimated and realized, operations, alerts with their
trails, features) and a feature's drill-down, as HTML strings."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from driftwise.dashboard.auth import Viewer
from driftwise.dashboard.charts import Trace, distribution, trend
from driftwise.dashboard.layout import (
    badge,
    health_badge,
    incident_href,
    model_href,
    number,
    p_value,
    shell,
    when,
)
from driftwise.dashboard.pages import alert_table
from driftwise.dashboard.views import AlertView, FeatureView, ModelSummary, ModelView
from driftwise.report._format import DASH, format_rows
from driftwise.store.evaluation import WindowRecord
from driftwise.store.incidents import Placement

__all__ = ["feature_page", "model_page"]

MAX_PERFORMANCE_CHARTS = 8
RECENT_WINDOWS = 20


def _header(m: ModelSummary, title: str | None = None) -> str:
    upstream = ", ".join(f'<a href="{model_href(u)}">{escape(u)}</a>' for u in m.upstream)
    facts = [("task", escape(m.task)), ("records", format_rows(m.records)),
             ("last window", DASH if m.last_window is None else
              f"{m.last_window} ({escape(m.last_status or DASH)})"),
             ("evaluated", when(m.last_evaluated_at)), ("upstream", upstream or DASH)]
    dl = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    heading = escape(title) if title else escape(m.name)
    return (f'<header class="panel" id="model-header"><h1>{heading} {health_badge(m.health)}'
            f'</h1><dl class="facts-row">{dl}</dl></header>\n')


def _charts(section_id: str, title: str, charts: Sequence[tuple[str, str | None]],
            empty: str) -> str:
    drawn = "".join(f'<div class="panel chart"><h3>{escape(name)}</h3>{svg}</div>'
                    for name, svg in charts if svg)
    inner = f'<div class="charts">{drawn}</div>' if drawn else f'<p class="note">{empty}</p>'
    return (f'<section id="{section_id}" aria-label="{escape(title)}"><h2>{escape(title)}</h2>'
            f"{inner}</section>\n")


def _drift(v: ModelView, windows: list[int]) -> str:
    s = v.series
    return _charts("drift", "Drift over time", [
        ("Share of drifted columns", trend("drift.dataset.share", [
            Trace("share", s.get("drift.dataset.share", []))], v.alerted, windows)),
        ("Drifted columns", trend("drift.dataset.drifted_columns", [
            Trace("columns", s.get("drift.dataset.drifted_columns", []))], v.alerted,
            windows))], "No window measured drift yet.")


def _performance(v: ModelView, windows: list[int]) -> str:
    bounds = (".lower", ".upper", ".sigma")
    names = {m.split(".", 1)[1] for m in [*v.metrics_named("performance."),
                                          *v.metrics_named("estimated.")]
             if not m.endswith(bounds)}
    charts = []
    for name in sorted(names)[:MAX_PERFORMANCE_CHARTS]:
        charts.append((f"{name}: estimated (with its band) and realized", trend(name, [
            Trace("estimated", v.series.get(f"estimated.{name}", []), dashed=True),
            Trace("band low", v.series.get(f"estimated.{name}.lower", []), dashed=True),
            Trace("band high", v.series.get(f"estimated.{name}.upper", []), dashed=True),
            Trace("realized", v.series.get(f"performance.{name}", []))], v.alerted,
            windows)))
    if v.series.get("business.estimated_change") or v.series.get("business.change"):
        charts.append(("Value against the reference", trend("business.estimated_change", [
            Trace("estimated", v.series.get("business.estimated_change", []), dashed=True),
            Trace("band low", v.series.get("business.estimated_change.lower", []),
                  dashed=True),
            Trace("band high", v.series.get("business.estimated_change.upper", []),
                  dashed=True),
            Trace("realized", v.series.get("business.change", []))], v.alerted, windows)))
    return _charts("performance", "Performance: estimated and realized", charts,
                   "No performance measured or estimated yet (labels, or probabilities "
                   "to estimate from, are needed).")


def _operations(v: ModelView, windows: list[int]) -> str:
    s = v.series
    reference = s.get("prediction.mean_confidence_reference", [])
    return _charts("operations", "Operations", [
        ("Throughput (records/s)", trend("ops.throughput_per_s", [
            Trace("records/s", s.get("ops.throughput_per_s", []))], v.alerted, windows)),
        ("Error share", trend("ops.error_share", [
            Trace("errors", s.get("ops.error_share", []))], v.alerted, windows)),
        ("Latency (ms)", trend("ops.latency_ms", [
            Trace("p50", s.get("ops.latency_ms.p50", [])),
            Trace("p99", s.get("ops.latency_ms.p99", []))], v.alerted, windows)),
        ("Prediction confidence", trend("ops.confidence", [
            Trace("p10", s.get("ops.confidence.p10", [])),
            Trace("median", s.get("ops.confidence.p50", [])),
            Trace("mean", s.get("ops.confidence.mean", [])),
            Trace("reference mean", reference, dashed=True)], v.alerted, windows))],
        "No operational figures yet.")


def _trail(events: Sequence[dict[str, Any]]) -> str:
    rows = "".join(
        f'<tr class="event"><td>{escape(str(e.get("kind", DASH)))}</td>'
        f'<td class="num">{escape(str(e.get("window", DASH)))}</td>'
        f'<td>{when(e.get("at") if isinstance(e.get("at"), int | float) else None)}</td>'
        f'<td class="num">{number(e.get("value"))}</td>'
        f'<td>{escape(str(e.get("by") or DASH))}</td>'
        f'<td>{"yes" if e.get("notify") else "no"}</td></tr>' for e in events)
    return ('<div class="table-wrap"><table class="trail"><thead><tr><th>event</th>'
            '<th class="num">window</th><th>at</th><th class="num">value</th><th>by</th>'
            f"<th>notified</th></tr></thead><tbody>{rows}</tbody></table></div>")


def _alert_facts(body: dict[str, Any]) -> str:
    silenced = body.get("silenced_until")
    facts = [("opened in window", number(body.get("opened_window"))),
             ("last value", number(body.get("last_value"))),
             ("peak value", number(body.get("peak_value"))),
             ("reopened", number(body.get("reopened"))),
             ("acknowledged by", escape(str(body.get("acknowledged_by") or DASH))),
             ("silenced until", when(silenced if isinstance(silenced, int | float) else None)),
             ("resolved", escape(str(body.get("resolved_by") or DASH))),
             ("resolved by", escape(str(body.get("resolver") or DASH)))]
    return "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts if v != DASH)


def _alert(a: AlertView) -> str:
    r = a.row
    more = (f'<p class="note">The newest {len(a.events)} of the trail\'s {a.events_total} '
            "events.</p>") if a.events_total > len(a.events) else ""
    return (f'<details class="panel alert" id="alert-{r.alert_id}"'
            f'{" open" if r.state == "open" else ""}><summary>{badge(r.severity)} '
            f"<strong>{escape(r.rule)}</strong> — {escape(r.state)}, opened "
            f'{when(r.opened_at)}</summary><dl class="facts-row">{_alert_facts(r.body)}</dl>'
            f"{_incident(a.incident)}<h4>Trail</h4>{more}{_trail(a.events)}</details>")


def _incident(placed: Placement | None) -> str:
    if placed is None:
        return ""
    link = (f'<a href="{incident_href(placed.incident_id)}">incident {placed.incident_id}'
            "</a>")
    if placed.role == "root":
        return f'<p class="incident">The root of {link}: it paged for the incident.</p>'
    return (f'<p class="incident">Part of {link}, caused upstream at '
            f'<a href="{model_href(placed.root_model)}">{escape(placed.root_model)}</a>: '
            "not paged on its own.</p>")


def _alerts(v: ModelView) -> str:
    rows = [a.row for a in v.alerts]
    return ('<section id="alerts" aria-label="Alerts"><h2>Alerts and their trails</h2>'
            f"{alert_table([r for r in rows if r.state == 'open'], with_model=False)}"
            f"{''.join(_alert(a) for a in v.alerts)}</section>\n")


def _features(v: ModelView) -> str:
    if not v.features:
        return ""
    window = v.windows[-1].seq
    rows = "".join(
        f'<tr class="feature"><td class="name"><a href="'
        f'{model_href(v.model.name, "features", f["name"])}?window={window}">'
        f'{escape(f["name"])}</a></td><td class="num">{p_value(f.get("p_value"))}</td>'
        f'<td class="num">{number(f.get("effect"))}</td>'
        f'<td>{"drifted" if f.get("drift_detected") else "no drift"}</td></tr>'
        for f in v.features)
    return (f'<section id="features" aria-label="Features"><h2>Features in window {window}'
            '</h2><div class="panel table-wrap"><table><thead><tr><th>feature</th>'
            '<th class="num">p-value</th><th class="num">effect</th><th>verdict</th></tr>'
            f"</thead><tbody>{rows}</tbody></table></div></section>\n")


def _window_row(w: WindowRecord) -> str:
    evidence = w.evidence
    drifted = ", ".join(str(d.get("name")) for d in evidence.get("drifted_columns", [])
                        if isinstance(d, dict))
    held = " ".join(badge(str(a.get("severity")), str(a.get("name")))
                    for a in evidence.get("alerts", []) if isinstance(a, dict))
    return (f'<tr><td class="num">{w.seq}</td><td>{escape(w.label)}</td>'
            f'<td>{escape(w.status)}</td><td class="num">{format_rows(w.rows)}</td>'
            f'<td>{when(w.evaluated_at)}</td><td class="name">{escape(drifted) or DASH}</td>'
            f"<td>{held or DASH}</td></tr>")


def _windows(v: ModelView) -> str:
    rows = "".join(_window_row(w) for w in reversed(v.windows[-RECENT_WINDOWS:]))
    return ('<section id="windows" aria-label="Windows"><h2>Recent windows</h2>'
            '<div class="panel table-wrap"><table><thead><tr><th class="num">window</th>'
            '<th>label</th><th>status</th><th class="num">rows</th><th>evaluated</th>'
            f"<th>drifted columns</th><th>rules that held</th></tr></thead><tbody>{rows}"
            "</tbody></table></div></section>\n")


def _explanation(v: ModelView) -> str:
    """The latest window in plain words (``evidence.explanation``)."""
    if not v.windows:
        return ""
    last = v.windows[-1]
    story = last.evidence.get("explanation")
    if not isinstance(story, dict) or not story.get("summary"):
        return ""
    lines = [x for x in [*(story.get("changed") or []), *(story.get("impact") or []),
                         *(story.get("where") or []), story.get("recommendation")] if x]
    items = "".join(f"<li>{escape(str(x))}</li>" for x in lines)
    return (f'<section id="explanation" aria-label="In plain words"><h2>Window {last.seq} '
            f'in plain words</h2><div class="panel"><p><strong>'
            f'{escape(str(story["summary"]))}</strong></p>'
            f'{f"<ul>{items}</ul>" if items else ""}</div></section>\n')


def model_page(v: ModelView, nonce: str, viewer: Viewer) -> str:
    """``/models/{name}``."""
    windows = [w.seq for w in v.windows]
    body = (_header(v.summary) + _explanation(v) + _alerts(v) + _drift(v, windows)
            + _performance(v, windows)
            + _operations(v, windows) + _features(v) + _windows(v))
    return shell(v.model.name, body, nonce, viewer)


def _selector(v: FeatureView) -> str:
    options = "".join(
        f'<option value="{w}"{" selected" if w == v.window.seq else ""}>window {w}</option>'
        for w in reversed(v.windows))
    action = model_href(v.summary.name, "features", v.feature)
    return (f'<form method="get" action="{action}" class="facts-row">'
            f'<label for="window">Window</label><select id="window" name="window">{options}'
            '</select><input type="submit" value="Show"></form>')


def feature_page(v: FeatureView, nonce: str, viewer: Viewer) -> str:
    """``/models/{name}/features/{feature}?window=N``: the window's reference and current
    distributions, and the feature's p-value and effect over the windows."""
    d = v.distribution
    if d is None:
        chart = ('<p class="note" id="no-distribution">No distribution stored for this '
                 "window (windows evaluated before distributions were kept, or a window "
                 "whose drift could not be tested, have none).</p>")
        facts = ""
    else:
        chart = distribution(d.get("plot") or {}, v.feature)
        facts = "".join(f"<div><dt>{k}</dt><dd>{val}</dd></div>" for k, val in (
            ("kind", escape(str(d.get("kind") or DASH))),
            ("test", escape(str(d.get("test") or DASH))),
            ("p-value", p_value(d.get("p_value"))),
            ("effect", f"{number(d.get('effect'))} ({escape(str(d.get('effect_name') or DASH))})"),
            ("verdict", "drifted" if d.get("drift_detected") else "no drift")))
    label = escape(v.window.label)
    distributions = (
        f'<section id="distribution" aria-label="Distributions"><h2>Reference and current, '
        f'window {v.window.seq} ({label})</h2><div class="panel">{_selector(v)}'
        f'<dl class="facts-row">{facts}</dl><figure><figcaption><span><span class="swatch '
        'ref"></span>reference</span><span><span class="swatch cur"></span>current</span>'
        f"</figcaption>{chart}</figure></div></section>\n")
    # p-values span hundreds of orders of magnitude: drawn as -log10 (2 is p = 0.01).
    evidence = [(w, -math.log10(max(p, 1e-300))) for w, p in v.p_values]
    tests = _charts("tests", "The feature's test over time", [
        ("−log10 p-value (higher: stronger evidence of drift; 1.3 is p = 0.05)",
         trend(f"{v.feature} -log10 p-value", [Trace("-log10 p", evidence)], v.alerted,
               v.windows)),
        ("effect", trend(f"{v.feature} effect", [Trace("effect", v.effects)], v.alerted,
                         v.windows))], "No window tested this feature.")
    back = (f'<p><a href="{model_href(v.summary.name)}">Back to '
            f"{escape(v.summary.name)}</a></p>")
    body = _header(v.summary, f"{v.summary.name} · {v.feature}") + back + distributions + tests
    return shell(f"{v.summary.name} · {v.feature}", body, nonce, viewer)
