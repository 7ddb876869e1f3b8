"""``/fleet``: the models' dependency graph coloured by state, and the open incidents.

It draws what ``driftwise.app.fleet.fleet`` gives. A viewer limited to some models sees
those models and the edges between them only; a viewer of every model also sees the
upstream names no registered model answers to (dashed, so that a typo shows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from driftwise.dashboard.auth import Viewer
from driftwise.dashboard.graph import fleet_svg
from driftwise.dashboard.layout import incident_href, model_href, shell, state_label, when
from driftwise.report._format import DASH

__all__ = ["fleet_page"]


def _graph(models: Sequence[Mapping[str, Any]], viewer: Viewer) -> str:
    visible = {str(m["name"]) for m in models}
    upstream: dict[str, list[str]] = {}
    for m in models:
        ups = [str(u) for u in m.get("upstream", [])]
        upstream[str(m["name"])] = [u for u in ups if u in visible or viewer.key is None]
    for ups in list(upstream.values()):
        for u in ups:
            upstream.setdefault(u, [])  # declared, not registered: drawn dashed
    states = {str(m["name"]): str(m.get("state")) for m in models}
    titles = {}
    for m in models:
        counts = m.get("open_alerts", {})
        alerts = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no open alert"
        titles[str(m["name"])] = f"{m['name']}: {state_label(str(m.get('state')))}, {alerts}"
    for name in upstream:
        titles.setdefault(name, f"{name}: declared upstream, not a registered model")
    if not upstream:
        return '<p class="note">No model to show yet.</p>'
    return f'<div class="panel graph">{fleet_svg(upstream, states, titles)}</div>'


def _members(incident: Mapping[str, Any], viewer: Viewer) -> str:
    shown, hidden = [], 0
    for m in incident.get("members", []):
        model = str(m.get("model"))
        if not viewer.sees(model):
            hidden += 1
            continue
        link = f'{model_href(model)}#alert-{escape(str(m.get("alert_id")))}'
        shown.append(f'<a href="{link}">{escape(model)}</a> ({escape(str(m.get("role")))}, '
                     f'alert {escape(str(m.get("alert_id")))})')
    if hidden:
        shown.append(f"{hidden} alert(s) of models this key does not read")
    return "<br>".join(shown) or DASH


def _incidents(found: Sequence[Mapping[str, Any]], viewer: Viewer) -> str:
    if not found:
        return '<p class="note">No open incident.</p>'
    rows = "".join(
        f'<tr class="incident" id="incident-{escape(str(i.get("id")))}">'
        f'<td class="num"><a href="{incident_href(i.get("id"))}">{escape(str(i.get("id")))}'
        "</a></td>"
        f'<td class="name"><a href="{model_href(str(i.get("root_model")))}">'
        f'{escape(str(i.get("root_model")))}</a></td><td>{escape(str(i.get("state")))}</td>'
        f'<td>{when(i.get("opened_at"))}</td><td>{when(i.get("updated_at"))}</td>'
        f'<td class="name">{_members(i, viewer)}</td></tr>' for i in found)
    return ('<div class="panel table-wrap"><table id="incidents"><thead><tr>'
            '<th class="num">incident</th><th>root model</th><th>state</th><th>opened</th>'
            f"<th>updated</th><th>alerts</th></tr></thead><tbody>{rows}</tbody></table></div>")


def fleet_page(fleet: Mapping[str, Any], nonce: str, viewer: Viewer) -> str:
    """The page of ``fleet`` (``driftwise.app.fleet.fleet``'s answer)."""
    models = [m for m in fleet.get("models", []) if viewer.sees(str(m.get("name")))]
    incidents = list(fleet.get("incidents", []))
    body = ('<header class="panel"><h1>Fleet</h1><p class="samples">Which models consume '
            "which: an alert of an upstream model groups the alerts it causes downstream "
            "into one incident, paged once.</p></header>\n"
            f'<section id="graph" aria-label="Dependency graph"><h2>Dependencies '
            f"({len(models)} models)</h2>{_graph(models, viewer)}</section>\n"
            f'<section aria-label="Open incidents"><h2>Open incidents ({len(incidents)})'
            f"</h2>{_incidents(incidents, viewer)}</section>\n")
    return shell("Fleet", body, nonce, viewer)
