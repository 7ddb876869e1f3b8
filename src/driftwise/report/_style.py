"""Stylesheet inlined into the HTML report (system fonts only, so it renders offline)."""

from driftwise.report._svg import CURRENT_COLOR, CURRENT_FILL_OPACITY, REFERENCE_COLOR

_RULES = """
:root {
  --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --panel: #ffffff; --page: #f3f4f6;
  --drift: #b91c1c; --drift-bg: #fef2f2; --ok: #15803d; --ok-bg: #f0fdf4;
  --skip: #4b5563; --skip-bg: #f3f4f6; --warn: #92400e; --warn-bg: #fffbeb;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--page); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    sans-serif;
}
main { max-width: 1180px; margin: 0 auto; padding: 24px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 18px; margin: 32px 0 12px; }
h3 { font-size: 17px; margin: 0; overflow-wrap: anywhere; }
h4 { font-size: 13px; margin: 16px 0 6px; color: var(--muted); text-transform: uppercase;
  letter-spacing: 0.04em; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 12.5px; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 20px 24px; }
.report-header { display: grid; grid-template-columns: 1fr auto; gap: 8px 32px; }
.samples { margin: 6px 0 0; color: var(--muted); }
.samples strong { color: var(--ink); font-weight: 600; overflow-wrap: anywhere; }
.version { color: var(--muted); font-size: 12px; text-align: right; }
.settings { grid-column: 1 / -1; display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 12px 0 0;
  padding-top: 12px; border-top: 1px solid var(--line); }
.settings div { display: flex; gap: 6px; }
.settings dt { color: var(--muted); }
.settings dd { margin: 0; font-weight: 600; }
.verdict { display: flex; align-items: center; gap: 24px; margin-top: 16px;
  border-left: 6px solid var(--skip); }
.verdict.drift { border-left-color: var(--drift); background: var(--drift-bg); }
.verdict.no-drift { border-left-color: var(--ok); background: var(--ok-bg); }
.verdict-text { font-size: 22px; font-weight: 700; margin: 0; }
.verdict.drift .verdict-text { color: var(--drift); }
.verdict.no-drift .verdict-text { color: var(--ok); }
.verdict-detail { margin: 2px 0 0; color: var(--ink); }
.verdict-count { margin-left: auto; text-align: right; font-size: 13px; color: var(--muted); }
.verdict-count span { display: block; font-size: 28px; font-weight: 700; color: var(--ink); }
.table-wrap { overflow-x: auto; padding: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 8px 12px; text-align: left; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
th { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em;
  background: #f9fafb; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { white-space: normal; overflow-wrap: anywhere; max-width: 320px; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr.drifted td:first-child { box-shadow: inset 4px 0 0 var(--drift); }
a { color: #1d4ed8; text-decoration: none; }
a:hover, a:focus { text-decoration: underline; }
.badge { display: inline-block; padding: 1px 10px; border-radius: 999px; font-size: 12px;
  font-weight: 600; border: 1px solid transparent; white-space: nowrap; }
.badge.drift { color: var(--drift); background: var(--drift-bg); border-color: #fecaca; }
.badge.no-drift { color: var(--ok); background: var(--ok-bg); border-color: #bbf7d0; }
.badge.skipped { color: var(--skip); background: var(--skip-bg); border-color: var(--line); }
.tag { display: inline-block; padding: 0 8px; border-radius: 4px; font-size: 12px;
  color: var(--muted); background: var(--skip-bg); }
.column { margin-top: 16px; scroll-margin-top: 16px; }
.column.drifted { border-left: 4px solid var(--drift); }
.column-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 10px;
  padding-bottom: 12px; border-bottom: 1px solid var(--line); }
.column-body { display: grid; grid-template-columns: minmax(280px, 1fr) minmax(0, 640px);
  gap: 24px; margin-top: 12px; align-items: start; }
.facts dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.why { margin: 10px 0 0; font-size: 13px; color: var(--muted); }
.skip-reason { margin: 0 0 8px; padding: 8px 12px; border-radius: 6px; background: var(--skip-bg);
  color: var(--skip); }
.warn { color: var(--warn); font-weight: 600; }
.categories { display: flex; flex-wrap: wrap; gap: 4px; }
.categories code { background: var(--warn-bg); border: 1px solid #fde68a; border-radius: 4px;
  padding: 0 5px; }
figure { margin: 0; }
figcaption { display: flex; gap: 18px; font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
  vertical-align: -2px; margin-right: 6px; }
.swatch.ref { background: var(--ref); opacity: 0.8; }
.swatch.cur { background: var(--cur); }
.swatch.cur-outline { background: var(--cur-tint); border: 2px solid var(--cur); }
.chart-svg { display: block; max-width: 100%; height: auto; font-family: inherit; }
.note { color: var(--muted); font-style: italic; margin: 8px 0; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; text-align: center; }
@media (max-width: 900px) { .column-body { grid-template-columns: 1fr; } }
@media print { body { background: #fff; } .panel { break-inside: avoid; } }
"""


def _tint(hex_color: str, alpha: float) -> str:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


STYLESHEET = (
    f":root {{ --ref: {REFERENCE_COLOR}; --cur: {CURRENT_COLOR}; "
    f"--cur-tint: {_tint(CURRENT_COLOR, CURRENT_FILL_OPACITY)}; }}" + _RULES
)
