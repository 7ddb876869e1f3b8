"""The fleet overview, the sign-in form and the error page, as HTML strings."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from driftwise.dashboard.auth import Viewer
from driftwise.dashboard.layout import (
    badge,
    health_badge,
    model_href,
    shell,
    state_label,
    when,
)
from driftwise.dashboard.views import HEALTH, ModelSummary
from driftwise.report._format import DASH, format_rows
from driftwise.store.alerts import AlertRow

__all__ = ["alert_table", "error_page", "login_page", "overview_page"]


def _severity_counts(counts: dict[str, int]) -> str:
    shown = [badge(s, f"{counts[s]} {s}") for s in ("critical", "warning") if counts.get(s)]
    return " ".join(shown) or DASH


def _last(model: ModelSummary) -> str:
    if model.last_window is None:
        return DASH
    return (f"window {model.last_window} ({escape(model.last_status or DASH)}), "
            f"{when(model.last_evaluated_at)}")


def overview_page(models: Sequence[ModelSummary], alerts: Sequence[AlertRow], nonce: str,
                  viewer: Viewer) -> str:
    """``/``: every model the viewer may read, its health, open alerts by severity and last
    evaluation; then the fleet's open alerts, newest first."""
    tally = {state: sum(m.health == state for m in models) for state in HEALTH}
    summary = "".join(f"<div><dt>{escape(state_label(state))}</dt><dd>{tally[state]}</dd>"
                      "</div>" for state in HEALTH)
    rows = "".join(
        f'<tr class="model" data-health="{escape(m.health)}">'
        f'<td class="name"><a href="{model_href(m.name)}">{escape(m.name)}</a></td>'
        f"<td>{escape(m.task)}</td><td>{health_badge(m.health)}</td>"
        f"<td>{_severity_counts(m.open_alerts)}</td><td>{_last(m)}</td>"
        f'<td class="num">{format_rows(m.records)}</td></tr>' for m in models)
    table = (
        '<div class="panel table-wrap"><table id="models"><thead><tr><th>model</th>'
        "<th>task</th><th>health</th><th>open alerts</th><th>last evaluation</th>"
        f'<th class="num">records</th></tr></thead><tbody>{rows}</tbody></table></div>'
        if models else '<p class="note">No model to show yet: register one (docs/service.md).'
        "</p>")
    body = (f'<header class="panel"><h1>Fleet overview</h1><dl class="facts-row">{summary}'
            f"</dl></header>\n"
            f'<section aria-label="Models"><h2>Models ({len(models)})</h2>{table}</section>\n'
            f'<section aria-label="Open alerts"><h2>Open alerts ({len(alerts)})</h2>'
            f"{alert_table(alerts, with_model=True)}</section>\n")
    return shell("Fleet overview", body, nonce, viewer)


def alert_table(alerts: Sequence[AlertRow], *, with_model: bool) -> str:
    """Alerts as a table (linking each to its model's page, at the alert)."""
    if not alerts:
        return '<p class="note">No open alert.</p>'
    rows = []
    for a in alerts:
        link = f'{model_href(a.model)}#alert-{a.alert_id}'
        model = (f'<td class="name"><a href="{link}">{escape(a.model)}</a></td>'
                 if with_model else "")
        rows.append(f'<tr class="alert" data-severity="{escape(a.severity)}">{model}'
                    f'<td class="name"><a href="{link}">{escape(a.rule)}</a></td>'
                    f"<td>{badge(a.severity)}</td><td>{escape(a.state)}</td>"
                    f"<td>{when(a.opened_at)}</td><td>{when(a.updated_at)}</td></tr>")
    head = "<th>model</th>" if with_model else ""
    return ('<div class="panel table-wrap"><table class="alerts"><thead><tr>'
            f"{head}<th>rule</th><th>severity</th><th>state</th><th>opened</th>"
            f"<th>updated</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def login_page(nonce: str, next_path: str, error: str | None = None) -> str:
    """The sign-in form: an API key that may read (it is sent once, then a session cookie
    stands for it)."""
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = ('<section class="panel"><h1>Sign in to driftwise</h1>'
            "<p>Paste an API key that may read: the service's admin key, or a key made with "
            "<code>driftwise keys create NAME --scope read</code>. Or open a one-time link "
            "from <code>driftwise login-link</code>.</p>"
            f"{problem}"
            '<form class="login" method="post" action="/login">'
            '<label for="key">API key</label>'
            '<input id="key" name="key" type="password" autocomplete="off" required '
            'autofocus>'
            f'<input type="hidden" name="next" value="{escape(next_path)}">'
            '<input type="submit" value="Sign in"></form></section>\n')
    return shell("Sign in", body, nonce, None)


def error_page(status: int, message: str, nonce: str, viewer: Viewer | None) -> str:
    """A page for a refused or missing page (404, 403, 400)."""
    titles = {400: "Bad request", 403: "Not allowed", 404: "Not found"}
    title = titles.get(status, "Error")
    body = (f'<section class="panel"><h1>{escape(title)}</h1>'
            f'<p class="error">{escape(message)}</p><p><a href="/">Back to the overview</a>'
            "</p></section>\n")
    return shell(title, body, nonce, viewer)
