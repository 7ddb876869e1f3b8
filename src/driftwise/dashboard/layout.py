"""The pages' frame and small parts: head, navigation, badges, times, links.

Every user string (model, feature, rule names, labels) goes through ``escape`` or
``quote`` here or in the page that prints it. The stylesheet is the report's, plus the
dashboard's rules, in one ``<style>`` element carrying the response's CSP nonce.
"""

from __future__ import annotations

import time
from html import escape
from urllib.parse import quote

from driftwise._version import __version__
from driftwise.dashboard.auth import Viewer
from driftwise.report._format import DASH, format_number, format_p_value
from driftwise.report._style import STYLESHEET

__all__ = ["badge", "health_badge", "incident_href", "model_href", "number", "p_value", "shell",
           "state_label", "when"]

_STYLE = """
nav.top { display: flex; align-items: center; gap: 20px; margin-bottom: 16px; }
nav.top .brand { font-weight: 700; font-size: 18px; color: var(--ink); }
nav.top form { margin-left: auto; }
button, input[type=submit] { font: inherit; padding: 4px 14px; border-radius: 6px;
  border: 1px solid var(--line); background: #fff; cursor: pointer; }
.health { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: 12px;
  font-weight: 600; border: 1px solid transparent; white-space: nowrap; }
.health.ok { color: var(--ok); background: var(--ok-bg); border-color: #bbf7d0; }
.health.warning { color: var(--warn); background: var(--warn-bg); border-color: #fde68a; }
.health.critical { color: var(--drift); background: var(--drift-bg); border-color: #fecaca; }
.health.no-data { color: var(--skip); background: var(--skip-bg); border-color: var(--line); }
.badge.critical { color: var(--drift); background: var(--drift-bg); border-color: #fecaca; }
.badge.warning { color: var(--warn); background: var(--warn-bg); border-color: #fde68a; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr));
  gap: 16px; }
.chart h3 { font-size: 14px; margin-bottom: 6px; }
.facts-row { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 8px 0 0; }
.facts-row div { display: flex; gap: 6px; }
.facts-row dt { color: var(--muted); }
.facts-row dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
details.alert { margin-top: 10px; }
details.alert summary { cursor: pointer; }
form.login { display: grid; gap: 10px; max-width: 520px; }
form.login input[type=password] { font: inherit; padding: 6px 10px; border-radius: 6px;
  border: 1px solid var(--line); }
.error { color: var(--drift); font-weight: 600; }
.graph { overflow-x: auto; }
.status { display: inline-block; padding: 0 8px; border-radius: 4px; font-size: 12px;
  font-weight: 600; border: 1px solid var(--line); white-space: nowrap; }
.status.done, .status.decided { color: var(--ok); background: var(--ok-bg); }
.status.failed { color: var(--drift); background: var(--drift-bg); }
.status.dry-run, .tag.dry-run { color: var(--warn); background: var(--warn-bg);
  border: 1px dashed var(--warn); }
tr.action.dry-run td:first-child { box-shadow: inset 4px 0 0 var(--warn); }
td.detail { white-space: normal; overflow-wrap: anywhere; min-width: 180px; }
td.cause { white-space: normal; }
h3.sub { margin: 16px 0 8px; font-size: 15px; }
.note-text { white-space: pre-wrap; }
.decision { margin-top: 10px; }
.decision ul.reasons { margin: 4px 0 0 18px; padding: 0; }
p.download { margin: 10px 0 0; }
"""


def shell(title: str, body: str, nonce: str, viewer: Viewer | None) -> str:
    """A whole page: head (nonce-bearing stylesheet), navigation, ``body``, footer."""
    sign_out = ('<form method="post" action="/logout"><button type="submit">Sign out'
                "</button></form>") if viewer is not None and viewer.signed_in else ""
    nav = ('<nav class="top" aria-label="Dashboard"><a class="brand" href="/">driftwise</a>'
           '<a href="/">Overview</a><a href="/fleet">Fleet</a>'
           f"{sign_out}</nav>") if viewer is not None else ""
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<link rel="icon" href="data:,">\n'
            f"<title>{escape(title)} · driftwise</title>\n"
            f'<style nonce="{nonce}">{STYLESHEET}{_STYLE}</style>\n</head>\n<body>\n<main>\n'
            f"{nav}{body}"
            f"<footer>driftwise {escape(__version__)}: this page needs no script and no "
            "resource from elsewhere.</footer>\n</main>\n</body>\n</html>\n")


def model_href(name: str, *parts: str) -> str:
    """The escaped-for-an-attribute path of a model's page (or a page under it)."""
    path = "/models/" + "/".join(quote(p, safe="") for p in (name, *parts))
    return escape(path)


def incident_href(incident_id: object, suffix: str = "") -> str:
    """The escaped-for-an-attribute path of an incident's page (``suffix``: ``.json``, its
    export)."""
    return escape(f"/incidents/{quote(str(incident_id), safe='')}{suffix}")


def state_label(state: str) -> str:
    """A model's state in words (``no_data``: ``no data``)."""
    return state.replace("_", " ")


def health_badge(state: str) -> str:
    """A model's health as a coloured pill (``ok``, ``warning``, ``critical``,
    ``no data``)."""
    cls = state.replace("_", "-")
    return f'<span class="health {escape(cls)}">{escape(state_label(state))}</span>'


def badge(severity: str, text: str | None = None) -> str:
    """A severity pill (``critical`` red, anything else amber)."""
    cls = "critical" if severity == "critical" else "warning"
    return f'<span class="badge {cls}">{escape(text if text is not None else severity)}</span>'


def when(at: float | None) -> str:
    """A Unix time as UTC, to the second."""
    if at is None:
        return DASH
    return escape(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at)))


def number(value: object) -> str:
    """A metric value for a table cell (escaped)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return escape(format_number(value))


def p_value(value: object) -> str:
    """A p-value for a table cell (escaped)."""
    return escape(format_p_value(value))
