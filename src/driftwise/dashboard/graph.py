"""The fleet's dependency graph as server-side SVG: layered by depth from the roots.

A model's depth is 0 when it consumes no model of the graph, else one more than its
deepest upstream model (a loop, which registration refuses, is cut where it closes). Depths
are columns, left to right, so an arrow runs from a model to the models consuming it. In a
column, models are ordered by the mean row of the models they consume (then by name), which
keeps most arrows short and uncrossed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from urllib.parse import quote

from driftwise.report._svg import svg_open

__all__ = ["STATE_COLORS", "fleet_svg", "layers"]

#: Fill and stroke per state (a model not registered, or not the viewer's: ``unknown``).
STATE_COLORS = {"ok": ("#f0fdf4", "#15803d"), "warning": ("#fffbeb", "#d97706"),
                "critical": ("#fef2f2", "#b91c1c"), "no_data": ("#f3f4f6", "#9ca3af"),
                "unknown": ("#ffffff", "#9ca3af")}
_NODE_W, _NODE_H, _COL_W, _ROW_H, _MARGIN, _LEGEND_H = 176, 38, 236, 58, 16, 30
_FONT = 'font-family="inherit" font-size="12"'


def _depths(upstream: Mapping[str, Sequence[str]]) -> dict[str, int]:
    memo: dict[str, int] = {}

    def depth(name: str, path: frozenset[str]) -> int:
        if name not in memo:
            ups = [u for u in upstream.get(name, ()) if u in upstream and u not in path]
            memo[name] = 1 + max((depth(u, path | {name}) for u in ups), default=-1)
        return memo[name]

    return {name: depth(name, frozenset()) for name in sorted(upstream)}


def layers(upstream: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The graph's models in columns by depth, each column in drawing order.

    ``upstream``: every node and the nodes it consumes (a name that is not a key is
    ignored).

    Examples
    --------
    >>> layers({"raw": [], "features": ["raw"], "scorer": ["features", "raw"], "x": []})
    [['raw', 'x'], ['features'], ['scorer']]
    """
    depth = _depths(upstream)
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    row: dict[str, float] = {}
    for level, column in enumerate(columns):
        names = [n for n in sorted(depth) if depth[n] == level]

        def weight(name: str) -> tuple[float, str]:
            rows = [row[u] for u in upstream.get(name, ()) if u in row]
            return (sum(rows) / len(rows) if rows else -1.0, name)

        column.extend(sorted(names, key=weight))
        row.update({n: float(i) for i, n in enumerate(column)})
    return columns


def _node(name: str, state: str, x: float, y: float, title: str) -> str:
    fill, stroke = STATE_COLORS.get(state, STATE_COLORS["unknown"])
    dash = ' stroke-dasharray="4 3"' if state == "unknown" else ""
    text = name if len(name) <= 22 else name[:21] + "…"
    shape = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{_NODE_W}" height="{_NODE_H}" rx="8" '
             f'fill="{fill}" stroke="{stroke}" stroke-width="2"{dash}/>'
             f'<text x="{x + _NODE_W / 2:.1f}" y="{y + _NODE_H / 2 + 4:.1f}" '
             f'text-anchor="middle" {_FONT} fill="#111827">{escape(text)}</text>')
    body = (f'<g class="node" data-state="{escape(state)}" data-model="{escape(name)}">'
            f"<title>{escape(title)}</title>{shape}</g>")
    if state == "unknown":
        return body
    return f'<a href="/models/{escape(quote(name, safe=""))}">{body}</a>'


def _legend() -> list[str]:
    parts, x = [], float(_MARGIN)
    for state in ("ok", "warning", "critical", "no_data"):
        fill, stroke = STATE_COLORS[state]
        label = state.replace("_", " ")
        parts.append(f'<rect x="{x:.1f}" y="8" width="14" height="14" rx="3" fill="{fill}" '
                     f'stroke="{stroke}" stroke-width="2"/><text x="{x + 20:.1f}" y="19" '
                     f'{_FONT} fill="#4b5563">{label}</text>')
        x += 36 + 7 * len(label)
    return parts


def fleet_svg(upstream: Mapping[str, Sequence[str]], states: Mapping[str, str],
              titles: Mapping[str, str]) -> str:
    """The graph of ``upstream`` (node -> the nodes it consumes), each node coloured by
    its state (``states``; absent: ``unknown``, drawn dashed and not linked) with
    ``titles`` as tooltips."""
    columns = layers(upstream)
    rows = max((len(c) for c in columns), default=0)
    width = 2 * _MARGIN + max(len(columns) - 1, 0) * _COL_W + _NODE_W
    height = _LEGEND_H + 2 * _MARGIN + max(rows - 1, 0) * _ROW_H + _NODE_H
    place = {name: (_MARGIN + i * _COL_W, _LEGEND_H + _MARGIN + j * _ROW_H)
             for i, column in enumerate(columns) for j, name in enumerate(column)}
    label = (f"Dependency graph of {len(place)} models in {len(columns)} layers: an arrow "
             "runs from a model to a model consuming it")
    parts = [svg_open(height, label, width, "fleet-graph") +
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" '
             'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
             '<path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/></marker></defs>', *_legend()]
    for name in sorted(place):
        x2, y2 = place[name]
        for up in upstream.get(name, ()):
            if up not in place:
                continue
            x1, y1 = place[up]
            a = (x1 + _NODE_W, y1 + _NODE_H / 2)
            b = (x2, y2 + _NODE_H / 2)
            bend = max((b[0] - a[0]) / 2, 30.0)
            parts.append(f'<path class="edge" d="M{a[0]:.1f},{a[1]:.1f} C{a[0] + bend:.1f},'
                         f'{a[1]:.1f} {b[0] - bend:.1f},{b[1]:.1f} {b[0]:.1f},{b[1]:.1f}" '
                         'fill="none" stroke="#9ca3af" stroke-width="1.5" '
                         'marker-end="url(#arrow)"/>')
    for name, (x, y) in place.items():
        state = states.get(name, "unknown")
        parts.append(_node(name, state, x, y, titles.get(name, name)))
    parts.append("</svg>")
    return "".join(parts)
