"""``/incidents/{id}``: one incident's export as a page (``driftwise.app.response``).

What it is and how it ended, the models it touched, the impact on each (records and
predictions affected, what ``/screen`` held back, performance during it against the
reference), the actions and their results, the retraining decisions with their reasons,
the blocks, and the whole trail in the order it was written. Every string of the export
can come from a client (keys, segments, notes, rule names): all of it is escaped here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from driftwise.dashboard.auth import Viewer
from driftwise.dashboard.layout import badge, incident_href, model_href, number, shell, when
from driftwise.dashboard.views import IncidentView
from driftwise.report._format import DASH, format_rows

__all__ = ["incident_page"]

Event = Mapping[str, Any]

#: An action's status in words; ``dry_run`` says plainly that nothing was done.
STATUS = {"pending": "pending", "running": "running", "done": "done", "failed": "failed",
          "dry_run": "dry run: nothing done", "skipped": "skipped", "decided": "decided"}
STATE_CLASS = {"open": "critical", "resolved": "ok", "merged": "no-data"}


def _text(value: object) -> str:
    return DASH if value is None or value == "" else escape(str(value))


def _at(value: object) -> str:
    return when(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else DASH


def _value(value: object) -> str:
    """A value of the export of any shape: numbers formatted, the rest as JSON text."""
    if value is None or isinstance(value, bool | int | float):
        return number(value)
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, default=str, sort_keys=True))


def _pairs(body: Mapping[str, Any]) -> str:
    """``key: value`` pairs, for the fields no column shows."""
    return "; ".join(f"{escape(str(k))}: {_value(v)}" for k, v in body.items()) or DASH


def _model(name: object, viewer: Viewer) -> str:
    """A model's name, linking to its page when the viewer may read it."""
    if name is None:
        return DASH
    if viewer.sees(str(name)):
        return f'<a href="{model_href(str(name))}">{escape(str(name))}</a>'
    return escape(str(name))


def _status(status: object) -> str:
    key = str(status)
    cls = key.replace("_", "-") if key in STATUS else "unknown"
    return f'<span class="status {cls}">{escape(STATUS.get(key, key))}</span>'


def _target(body: Mapping[str, Any]) -> str:
    """What a block holds back: a client key or a segment."""
    if body.get("client_key") is not None:
        return f"client key <code>{escape(str(body['client_key']))}</code>"
    segment = body.get("segment")
    if isinstance(segment, Mapping):
        shown = ", ".join(f"{k} = {v}" for k, v in segment.items())
        return f"segment <code>{escape(shown)}</code>"
    return _text(body.get("target"))


def _header(r: Mapping[str, Any], viewer: Viewer) -> str:
    state = str(r.get("state"))
    root = r.get("root_alert") or {}
    rule = (f" (rule {escape(str(root.get('rule')))}, {badge(str(root.get('severity')))})"
            if root.get("model") is not None else "")
    facts = [("state", escape(state)), ("root model", _model(r.get("root_model"), viewer) + rule),
             ("opened", _at(r.get("opened_at"))), ("updated", _at(r.get("updated_at")))]
    end = r.get("resolution")
    if isinstance(end, Mapping):
        facts.append((escape(str(end.get("state"))), f"{_at(end.get('at'))} by "
                      f"{_text(end.get('by'))}" + (f": {escape(str(end['why']))}"
                                                   if end.get("why") else "")))
    into = r.get("merged_into")
    if into is not None:
        facts.append(("merged into", f'<a href="{incident_href(into)}">incident '
                      f"{escape(str(into))}</a>"))
    dl = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    cls = STATE_CLASS.get(state, "no-data")
    return (f'<header class="panel" id="incident-header"><h1>Incident {escape(str(r.get("id")))}'
            f' <span class="health {cls}">{escape(state)}</span></h1>'
            f'<dl class="facts-row">{dl}</dl><p class="download"><a id="download" '
            f'href="{incident_href(r.get("id"), ".json")}" download>Download JSON</a> '
            "(the incident's full export, as the API gives it)</p></header>\n")


def _section(section_id: str, title: str, inner: str) -> str:
    return (f'<section id="{section_id}" aria-label="{escape(title)}"><h2>{escape(title)}'
            f"</h2>{inner}</section>\n")


def _table(table_id: str, heads: Sequence[str], rows: Sequence[str], empty: str) -> str:
    if not rows:
        return f'<p class="note">{escape(empty)}</p>'
    head = "".join(f'<th class="num">{h[1:]}</th>' if h.startswith("#") else f"<th>{h}</th>"
                   for h in heads)
    return (f'<div class="panel table-wrap"><table id="{table_id}"><thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>")


def _models(v: IncidentView, viewer: Viewer) -> str:
    rows = [f'<tr class="member"><td class="name">{_model(m.get("model"), viewer)}</td>'
            f'<td>{_text(m.get("role"))}</td><td><a href="{model_href(str(m.get("model")))}'
            f'#alert-{escape(str(m.get("alert_id")))}">alert {escape(str(m.get("alert_id")))}'
            f'</a></td><td>{_at(m.get("joined_at"))}</td></tr>'
            for m in v.report.get("members", [])]
    hidden = (f'<p class="note">And {v.hidden_models} model(s) this key does not read.</p>'
              if v.hidden_models else "")
    return _section("models", "Affected models", _table(
        "members", ["model", "role", "alert", "joined"], rows, "No model to show.") + hidden)


def _windows(seqs: object) -> str:
    if not isinstance(seqs, list) or not seqs:
        return DASH
    span = f"{seqs[0]}–{seqs[-1]}" if len(seqs) > 1 else str(seqs[0])
    return escape(f"{span} ({len(seqs)})")


def _held(m: Mapping[str, Any]) -> str:
    signals = m.get("quarantined_by_signal") or {}
    by = ", ".join(f"{k} {v}" for k, v in signals.items()) if isinstance(signals, Mapping) \
        else ""
    return number(m.get("quarantined")) + (f" ({escape(by)})" if by else "")


def _performance_rows(m: Mapping[str, Any], viewer: Viewer) -> list[str]:
    reference = m.get("reference_performance") or {}
    rows = []
    for metric, during in sorted((m.get("performance") or {}).items()):
        source, _, name = str(metric).partition(".")
        ref = reference.get(name)
        change = (during - ref if isinstance(during, int | float)
                  and isinstance(ref, int | float) else None)
        rows.append(f'<tr class="metric"><td class="name">{_model(m.get("model"), viewer)}</td>'
                    f"<td>{escape(name)}</td><td>{escape(source)}</td>"
                    f'<td class="num">{number(during)}</td><td class="num">{number(ref)}</td>'
                    f'<td class="num">{number(change)}</td></tr>')
    return rows


def _impact(r: Mapping[str, Any], viewer: Viewer) -> str:
    impact = r.get("impact") or {}
    models = list(impact.get("models", []))
    totals = "".join(f"<div><dt>{k}</dt><dd>{number(impact.get(k))}</dd></div>"
                     for k in ("records", "predictions", "quarantined"))
    rows = [f'<tr class="impact"><td class="name">{_model(m.get("model"), viewer)}</td>'
            f'<td>{_windows(m.get("windows"))}</td><td>{_at(m.get("since"))}</td>'
            f'<td>{_at(m.get("until"))}</td><td class="num">{format_rows(m.get("records"))}</td>'
            f'<td class="num">{format_rows(m.get("predictions"))}</td>'
            f'<td class="num">{_held(m)}</td></tr>' for m in models]
    perf = [row for m in models for row in _performance_rows(m, viewer)]
    return _section("impact", "Impact", (
        f'<dl class="facts-row panel">{totals}</dl>'
        + _table("impact-models", ["model", "windows", "since", "until", "#records",
                                   "#predictions", "#quarantined"], rows,
                 "No model's windows to count.")
        + '<h3 class="sub">Performance during the incident and the reference\'s</h3>'
        + _table("impact-performance", ["model", "metric", "source", "#during",
                                        "#reference", "#change"], perf,
                 "No performance measured or estimated in the incident's windows.")))


def _result(a: Mapping[str, Any]) -> str:
    result = a.get("result")
    if not isinstance(result, Mapping):
        return DASH
    if result.get("detail"):
        return escape(str(result["detail"]))
    if result.get("decision") is not None:
        return f"decision: {escape(str(result['decision']))}"
    return _pairs({k: v for k, v in result.items() if k not in ("started_at", "finished_at")})


def _why(why: object) -> str:
    if not isinstance(why, Mapping):
        return DASH
    rule = f"rule {escape(str(why.get('rule')))}" if why.get("rule") is not None else ""
    bound = f" ({escape(str(why['bound_by']))})" if why.get("bound_by") else ""
    return (rule + bound) or _pairs(why)


def _actions(r: Mapping[str, Any], viewer: Viewer) -> str:
    rows = []
    for a in r.get("actions", []):
        spec = a.get("spec") or {}
        dry = bool(spec.get("dry_run")) or a.get("status") == "dry_run"
        tag = ' <span class="tag dry-run">dry run</span>' if dry else ""
        rows.append(
            f'<tr class="action{" dry-run" if dry else ""}" '
            f'data-status="{escape(str(a.get("status")))}"><td>'
            f'{_text(a.get("action"))}{tag}</td><td>{_text(spec.get("kind"))}</td>'
            f'<td>{_model(a.get("model"), viewer)}</td>'
            f'<td>{_status(a.get("status"))}</td><td class="num">{number(a.get("attempts"))}</td>'
            f'<td>{_at(a.get("queued_at"))}<br>{_at(a.get("finished_at"))}</td>'
            f'<td class="cause">{_why(a.get("why"))}</td>'
            f'<td class="detail">{_result(a)}</td></tr>')
    return _section("actions", "Actions", _table(
        "action-table", ["action", "kind", "model", "status", "#attempts",
                         "queued, finished", "why", "result"], rows,
        "No action: no rule of these models binds one (alerts[].actions, policy)."))


def _decision(e: Event) -> str:
    reasons = "".join(f"<li>{escape(str(x))}</li>" for x in e.get("reasons") or [])
    facts = [("decided", _at(e.get("at"))), ("by", _text(e.get("actor"))),
             ("metric", _text(e.get("metric"))),
             ("waiting for labels", "yes" if e.get("waiting_for_labels") else "no"),
             ("then", _text(", ".join(str(n) for n in e.get("then") or [])))]
    dl = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    parts = [f'<dl class="facts-row">{dl}</dl>',
             f'<h4>Reasons</h4><ul class="reasons">{reasons}</ul>' if reasons else ""]
    for title, key in (("Evidence", "evidence"), ("Reference", "reference")):
        found = e.get(key)
        if isinstance(found, Mapping) and found:
            pairs = "".join(f"<div><dt>{escape(str(k))}</dt><dd>{_value(v)}</dd></div>"
                            for k, v in found.items())
            parts.append(f'<h4>{title}</h4><dl class="facts-row">{pairs}</dl>')
    return (f'<div class="panel decision"><h3>Decision: {_text(e.get("decision"))}</h3>'
            f"{''.join(parts)}</div>")


def _decisions(trail: Sequence[Event]) -> str:
    found = [_decision(e) for e in trail if e.get("kind") == "decision"]
    inner = "".join(found) or ('<p class="note">No retraining decision: no rule of these '
                               "models asks the policy (alerts[].policy).</p>")
    return _section("decisions", "Decisions", inner)


def _blocks(r: Mapping[str, Any], trail: Sequence[Event]) -> str:
    now = {b.get("id") for m in (r.get("impact") or {}).get("models", [])
           for b in m.get("blocked_now", [])}
    lifted = {e.get("block_id"): e for e in trail if e.get("kind") == "block_lifted"}
    latest: dict[Any, Event] = {}
    for e in trail:
        if e.get("kind") == "block":
            latest[e.get("block_id")] = e  # an extension's event holds the later end
    rows = []
    for block_id, e in latest.items():
        if block_id in lifted:
            gone = lifted[block_id]
            state = f"lifted by {_text(gone.get('actor'))}, {_at(gone.get('at'))}"
        else:
            state = "in force" if block_id in now else "ended"
        rows.append(f'<tr class="block"><td class="num">{_text(block_id)}</td>'
                    f"<td>{_target(e)}</td><td>{_text(e.get('actor'))}</td>"
                    f"<td>{_at(e.get('at'))}</td><td>{_at(e.get('until'))}</td>"
                    f"<td>{state}</td></tr>")
    return _section("blocks", "Blocks", _table(
        "block-table", ["#block", "holds back", "by", "since", "until", "state"], rows,
        "No client key or segment blocked for this incident."))


def _opened(e: Event, viewer: Viewer) -> str:
    return (f"alert {_text(e.get('alert_id'))} of {_model(e.get('model'), viewer)}: rule "
            f"{_text(e.get('rule'))} ({_text(e.get('severity'))}), window "
            f"{_text(e.get('window'))}")


def _alert(e: Event, viewer: Viewer) -> str:
    return (f"{_model(e.get('model'), viewer)} alert {_text(e.get('alert_id'))} "
            f"({_text(e.get('rule'))}, {_text(e.get('severity'))}, {_text(e.get('role'))}): "
            f"{_text(e.get('event'))} in window {_text(e.get('window'))}, value "
            f"{number(e.get('value'))}")


def _queued(e: Event, viewer: Viewer) -> str:
    dry = ' <span class="tag dry-run">dry run</span>' if e.get("dry_run") else ""
    return (f"{_text(e.get('action'))} ({_text(e.get('action_kind'))}){dry} for window "
            f"{_text(e.get('window'))}, because of {_why(e.get('why'))}")


def _finished(e: Event, viewer: Viewer) -> str:
    detail = f": {escape(str(e['detail']))}" if e.get("detail") else ""
    return (f"{_text(e.get('action'))} ({_text(e.get('action_kind'))}) "
            f"{_status(e.get('status'))}{detail}")


def _decided(e: Event, viewer: Viewer) -> str:
    reasons = "; ".join(str(x) for x in e.get("reasons") or [])
    return f"decided {_text(e.get('decision'))}" + (f": {escape(reasons)}" if reasons else "")


def _blocked(e: Event, viewer: Viewer) -> str:
    again = " (extended)" if e.get("extended") else ""
    return (f"blocked {_target(e)} until {_at(e.get('until'))}{again} "
            f"(block {_text(e.get('block_id'))})")


def _lifted(e: Event, viewer: Viewer) -> str:
    return f"lifted block {_text(e.get('block_id'))}: {_target(e)}"


def _noted(e: Event, viewer: Viewer) -> str:
    return f'<span class="note-text">{_text(e.get("text"))}</span>'


def _merged(e: Event, viewer: Viewer) -> str:
    into = e.get("into")
    return (f'merged into <a href="{incident_href(into)}">incident {_text(into)}</a>: '
            f"{_text(e.get('why'))}")


def _absorbed(e: Event, viewer: Viewer) -> str:
    return (f'took in <a href="{incident_href(e.get("incident"))}">incident '
            f"{_text(e.get('incident'))}</a>, rooted at {_model(e.get('root_model'), viewer)}")


def _resolved(e: Event, viewer: Viewer) -> str:
    return _text(e.get("why"))


DETAILS: dict[str, Callable[[Event, Viewer], str]] = {
    "opened": _opened, "alert": _alert, "action_queued": _queued, "action_result": _finished,
    "decision": _decided, "block": _blocked, "block_lifted": _lifted, "note": _noted,
    "merged": _merged, "absorbed": _absorbed, "resolved": _resolved}
#: Every event's own fields, which the trail's columns show.
COMMON = ("id", "at", "kind", "actor")


def _details(e: Event, viewer: Viewer) -> str:
    shown = DETAILS.get(str(e.get("kind")))
    if shown is not None:
        return shown(e, viewer)
    return _pairs({k: v for k, v in e.items() if k not in COMMON})


def _trail(trail: Sequence[Event], viewer: Viewer) -> str:
    rows = [f'<tr class="event" data-kind="{escape(str(e.get("kind")))}">'
            f'<td class="num">{_text(e.get("id"))}</td><td>{_at(e.get("at"))}</td>'
            f'<td>{_text(e.get("actor"))}</td><td>{_text(e.get("kind"))}</td>'
            f'<td class="detail">{_details(e, viewer)}</td></tr>' for e in trail]
    return _section("trail", f"Trail ({len(trail)} events, in the order they were written)",
                    _table("trail-table", ["#event", "when", "who", "what", "details"],
                           rows, "The trail is empty."))


def _explanation(r: Mapping[str, Any], viewer: Viewer) -> str:
    """Each model's latest window that moved its alerts, in plain words."""
    stories = [x for x in r.get("explanations") or [] if isinstance(x, Mapping)]
    items = []
    for x in stories:
        lines = "".join(f"<p>{escape(line)}</p>" for line in str(x.get("text") or "")
                        .splitlines()[1:] if line.strip())
        items.append(f'<article class="explanation"><h3>{_model(x.get("model"), viewer)}, '
                     f"window {_text(x.get('window'))} ({_text(x.get('event'))})</h3>"
                     f"<p><strong>{_text(x.get('summary'))}</strong></p>{lines}</article>")
    return _section("explanation", "In plain words", "".join(items) or (
        '<p class="empty">No window of this incident carried an explanation.</p>'))


def incident_page(v: IncidentView, nonce: str, viewer: Viewer) -> str:
    """``/incidents/{id}``."""
    r = v.report
    trail = list(r.get("trail", []))
    body = (_header(r, viewer) + _explanation(r, viewer) + _models(v, viewer)
            + _impact(r, viewer) + _actions(r, viewer)
            + _decisions(trail) + _blocks(r, trail) + _trail(trail, viewer))
    return shell(f"Incident {r.get('id')}", body, nonce, viewer)
