"""Self-contained HTML rendering of a purple-team scorecard.

Rendered from the scorecard's JSON form (``Scorecard.to_dict()``), so a saved JSON renders
the same page; inline styles, no script, and a Content-Security-Policy that forbids any
fetch, like the other pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from driftwise.report._format import (
    DASH,
    as_list,
    as_mapping,
    as_number,
    as_text,
    format_number,
    format_rows,
)
from driftwise.report._style import STYLESHEET

__all__ = ["render_scorecard_html"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_EXTRA_STYLE = """
tr.gap td:first-child { box-shadow: inset 4px 0 0 var(--drift); }
tr.harmful td:first-child { box-shadow: inset 4px 0 0 var(--warn); }
.badge.gap { color: var(--drift); background: var(--drift-bg); border-color: #fecaca; }
.badge.caught { color: var(--ok); background: var(--ok-bg); border-color: #bbf7d0; }
.badge.missed { color: var(--skip); background: var(--skip-bg); border-color: #e5e7eb; }
.badge.harm { color: var(--warn); background: var(--warn-bg); border-color: #fde68a; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
  gap: 12px; margin: 0; }
.facts div { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 12px 16px; }
.facts dt { color: var(--muted); font-size: 12px; }
.facts dd { margin: 0; font-size: 22px; font-weight: 700; }
td.describe { white-space: normal; max-width: 420px; color: var(--muted); }
pre.rule { margin: 4px 0 0; font-size: 12px; white-space: pre-wrap; }
"""


def _share(value: object) -> str:
    number = as_number(value)
    return DASH if number is None else f"{100 * number:.0f} %"


def _harm(value: object) -> str:
    number = as_number(value)
    return DASH if number is None else f"{100 * number:+.1f} %"


def _delay(value: object) -> str:
    number = as_number(value)
    return DASH if number is None else f"{number:g}"


def _rule_yaml(rule: Mapping[str, Any]) -> str:
    if not rule:
        return ""
    lines = [f"- name: {as_text(rule.get('name'))}",
             f"  metric: {as_text(rule.get('metric'))}",
             f"  condition: \"{as_text(rule.get('condition'))}\""]
    return '<pre class="rule">' + escape("\n".join(lines)) + "</pre>"


def render_scorecard_html(card: Mapping[str, Any]) -> str:
    """Render a scorecard (``Scorecard.to_dict()``) as one self-contained HTML5 page.

    Sections: the summary (``id="summary"``), the gaps (``id="gaps"``: harmful scenarios
    the Monitor missed, each with the check that would have caught it), every scenario and
    intensity (``id="scores"``; rows of class ``gap`` or ``harmful``), the clean replays'
    false alarms (``id="clean"``) and the scenarios that did not apply (``id="skipped"``).

    Examples
    --------
    >>> page = render_scorecard_html({"model": "m", "summary": {"gaps": 1}, "gaps": [
    ...     {"scenario": "null_storm", "intensity": 1.0, "harm": 0.1, "gap": True}],
    ...     "scores": [{"scenario": "null_storm", "intensity": 1.0, "gap": True}]})
    >>> 'id="gaps"' in page and 'class="gap"' in page
    True
    """
    name = as_text(card.get("model"), "model")
    version = as_text(card.get("driftwise_version"), "unknown version")
    summary = as_mapping(card.get("summary"))
    scores = [s for s in as_list(card.get("scores")) if isinstance(s, Mapping)]
    gaps = [s for s in as_list(card.get("gaps")) if isinstance(s, Mapping)]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>driftwise purple-team scorecard: {escape(name)}</title>\n"
        f"<style>{STYLESHEET}{_EXTRA_STYLE}</style>\n</head>\n<body>\n<main>\n"
        '<header class="panel report-header"><div><h1>driftwise purple-team scorecard</h1>'
        f'<p class="samples">Model <strong>{escape(name)}</strong>: '
        f"{format_rows(card.get('windows'))} windows of {format_rows(card.get('window_rows'))}"
        f" rows, changes from window {format_rows(card.get('onset_window'))}, "
        f"{format_rows(card.get('repeats'))} repeat(s); harm is the relative loss of "
        f"{escape(as_text(card.get('metric'), 'the metric'))} (reference "
        f"{format_number(card.get('reference_metric'))}), harmful above "
        f"{_share(card.get('harm_threshold'))}; signals: "
        f"{escape(as_text(card.get('signals_from'), DASH))}</p></div>"
        f'<div class="version">driftwise {escape(version)}</div></header>\n'
        f"{_verdict(summary, gaps)}{_summary(summary)}{_gaps(gaps)}{_scores(scores)}"
        f"{_clean(as_mapping(card.get('clean')))}"
        f"{_skipped(as_mapping(card.get('not_applicable')))}"
        f"<footer>Generated by driftwise {escape(version)}. This page is self-contained "
        "and works offline.</footer>\n</main>\n</body>\n</html>\n"
    )


def _verdict(summary: Mapping[str, Any], gaps: Sequence[Mapping[str, Any]]) -> str:
    if gaps:
        cls, text = "drift", f"{len(gaps)} gap(s): harmful failures the monitor missed"
        detail = "Listed first below, each with the check that would have caught it."
    else:
        cls, text = "no-drift", "No gaps: every harmful scenario was detected"
        detail = (f"{format_rows(summary.get('harmful'))} of "
                  f"{format_rows(summary.get('scenarios'))} scenario runs were harmful.")
    return (f'<section class="panel verdict {cls}" id="verdict" aria-label="Verdict"><div>'
            f'<p class="verdict-text">{escape(text)}</p>'
            f'<p class="verdict-detail">{escape(detail)}</p></div>'
            f'<div class="verdict-count"><span>{_share(summary.get("coverage"))}</span>'
            "coverage of harmful scenarios</div></section>\n")


def _summary(summary: Mapping[str, Any]) -> str:
    facts = [("Coverage of harmful scenarios", _share(summary.get("coverage"))),
             ("Harmful detected", f"{format_rows(summary.get('harmful_detected'))} / "
                                  f"{format_rows(summary.get('harmful'))}"),
             ("Median delay (windows)", _delay(summary.get("median_delay"))),
             ("False alarms per 1,000 clean windows",
              format_number(summary.get("false_alarms_per_1000"))),
             ("Gaps", format_rows(summary.get("gaps")))]
    items = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    return (f'<section id="summary" aria-label="Summary"><h2>Summary</h2>'
            f'<dl class="facts">{items}</dl></section>\n')


def _gaps(gaps: Sequence[Mapping[str, Any]]) -> str:
    if not gaps:
        return ('<section id="gaps" aria-label="Gaps"><h2>Gaps</h2><p class="panel">None: '
                "no harmful scenario went undetected.</p></section>\n")
    rows = []
    for g in gaps:
        catch = as_mapping(g.get("would_catch"))
        if catch:
            fix = (f"{escape(as_text(catch.get('check')))} "
                   f"(<code>{escape(as_text(catch.get('section')))}</code>; caught in "
                   f"{_share(catch.get('detection_rate'))} of the repeats, median delay "
                   f"{_delay(catch.get('median_delay'))}; fired on "
                   f"{_share(catch.get('clean_fire_rate'))} of clean windows)"
                   f"{_rule_yaml(as_mapping(catch.get('rule')))}")
        else:
            fix = "no check of the all-checks monitor caught it either"
        rows.append(
            f'<tr class="gap"><td class="name">{escape(as_text(g.get("scenario")))}</td>'
            f'<td class="num">{format_number(g.get("intensity"))}</td>'
            f'<td class="num">{_harm(g.get("harm"))}</td>'
            f'<td class="num">{_share(g.get("detection_rate"))}</td>'
            f'<td class="describe">{escape(as_text(g.get("description")))}</td>'
            f'<td class="describe">{fix}</td></tr>')
    return ('<section id="gaps" aria-label="Gaps"><h2>Gaps</h2>'
            '<div class="panel table-wrap"><table><thead><tr><th>Scenario</th>'
            '<th class="num">Intensity</th><th class="num">Harm</th>'
            '<th class="num">Detected</th><th>What changed</th>'
            "<th>Would have caught it</th></tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table></div></section>\n")


def _status(score: Mapping[str, Any]) -> tuple[str, str]:
    if score.get("gap"):
        return "gap", '<span class="badge gap">gap</span>'
    badge = ('<span class="badge caught">detected</span>' if score.get("detected")
             else '<span class="badge missed">not detected</span>')
    if score.get("harmful"):
        return "harmful", badge + ' <span class="badge harm">harmful</span>'
    return "", badge


def _scores(scores: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for s in scores:
        cls, badge = _status(s)
        errors = {as_text(as_mapping(r).get("error")) for r in as_list(s.get("replays"))
                  if as_mapping(r).get("error")}
        note = escape(as_text(s.get("description"))) + (
            "<br>" + escape("; ".join(sorted(errors))) if errors else "")
        rows.append(
            f'<tr class="{cls}"><td class="name">{escape(as_text(s.get("scenario")))}</td>'
            f'<td>{escape(as_text(s.get("kind")))}</td>'
            f'<td class="num">{format_number(s.get("intensity"))}</td><td>{badge}</td>'
            f'<td class="num">{_share(s.get("detection_rate"))}</td>'
            f'<td class="num">{_delay(s.get("median_delay"))}</td>'
            f'<td class="name">{escape(as_text(s.get("first_check"), DASH))}</td>'
            f'<td class="num">{_harm(s.get("harm"))}</td>'
            f'<td class="describe">{note}</td></tr>')
    return ('<section id="scores" aria-label="Scenarios"><h2>Every scenario</h2>'
            '<div class="panel table-wrap"><table><thead><tr><th>Scenario</th><th>Kind</th>'
            '<th class="num">Intensity</th><th>Verdict</th><th class="num">Detected</th>'
            '<th class="num">Delay</th><th>Fired first</th><th class="num">Harm</th>'
            "<th>What changed</th></tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table></div></section>\n")


def _clean(clean: Mapping[str, Any]) -> str:
    by_signal = as_mapping(clean.get("by_signal"))
    listed = "".join(f"<li><code>{escape(str(k))}</code>: {format_rows(v)}</li>"
                     for k, v in sorted(by_signal.items()))
    return ('<section id="clean" aria-label="Clean replays"><h2>Clean replays</h2>'
            f'<p class="panel">{format_rows(clean.get("alarmed_windows"))} of '
            f'{format_rows(clean.get("windows"))} clean windows fired a signal '
            f'({format_number(clean.get("false_alarms_per_1000"))} per 1,000).'
            f"{'<ul>' + listed + '</ul>' if listed else ''}</p></section>\n")


def _skipped(skipped: Mapping[str, Any]) -> str:
    if not skipped:
        return ""
    items = "".join(f"<li><code>{escape(str(k))}</code>: {escape(as_text(v))}</li>"
                    for k, v in sorted(skipped.items()))
    return ('<section id="skipped" aria-label="Not applicable"><h2>Scenarios that do not '
            f'apply to this data</h2><ul class="panel">{items}</ul></section>\n')
