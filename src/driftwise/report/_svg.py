"""Inline SVG charts for the HTML reports and the dashboard.

A reference and a current sample are compared as histograms or bars, their counts normalised
to shares of each sample so that samples of different sizes compare; metrics across windows
are lines. Every chart is plain SVG markup (no script, no external resource, no style
attribute, so a strict Content-Security-Policy allows it); user strings are escaped.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from driftwise.report._format import format_number

REFERENCE_COLOR = "#4c78a8"
CURRENT_COLOR = "#e45756"
CURRENT_FILL_OPACITY = 0.18
MARK_COLOR = "#b91c1c"
MAX_CATEGORIES = 20

_WIDTH = 640
_FONT = 'font-family="inherit" font-size="11" fill="#4b5563"'
_GRID = 'stroke="#e5e7eb" stroke-width="1"'
_AXIS = 'stroke="#9ca3af" stroke-width="1"'


class MalformedPlotError(ValueError):
    """Plot data in the report is inconsistent (lengths, non-finite or unordered edges)."""


def shares(counts: Sequence[float]) -> list[float]:
    """Return ``counts`` divided by their total (all zeros when the total is zero)."""
    total = float(sum(counts))
    if total <= 0.0:
        return [0.0] * len(counts)
    return [c / total for c in counts]


def nice_ticks(
    low: float, high: float, target: int = 5, *, cover: bool = False
) -> tuple[list[float], float]:
    """Return round tick values within ``[low, high]`` and the step between them.

    With ``cover``, the last tick is the first round value at or above ``high``, so an axis
    that ends on it holds all the data.
    """
    span = high - low
    if not span > 0.0:
        return [low], 1.0
    raw = span / target
    magnitude = 10.0 ** math.floor(math.log10(raw))
    factor = next((f for f in (1.0, 2.0, 2.5, 5.0) if raw <= f * magnitude), 10.0)
    step = factor * magnitude
    first = math.ceil(low / step - 1e-9)
    last = math.ceil(high / step - 1e-9) if cover else math.floor(high / step + 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)], step


def format_tick(value: float, step: float) -> str:
    """Format an axis value with just enough digits to tell neighbouring ticks apart."""
    if value == 0.0:
        return "0"
    if abs(value) >= 1e6 or step < 1e-4:
        digits = math.floor(math.log10(abs(value))) - math.floor(math.log10(step) + 1e-9) + 1
        return f"{value:.{max(digits, 1)}g}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if step * 10**decimals % 1 > 1e-6:
        decimals += 1
    return f"{value:,.{decimals}f}"


def _percent_tick(share: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step * 100) + 1e-9))
    if step * 100 * 10**decimals % 1 > 1e-6:
        decimals += 1
    return f"{share * 100:.{decimals}f}%"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _real(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _finite_counts(values: Sequence[object], name: str) -> list[float]:
    counts: list[float] = []
    for value in values:
        count = _real(value)
        if count is None or not math.isfinite(count) or count < 0:
            raise MalformedPlotError(f"{name} counts must be finite and non-negative")
        counts.append(count)
    return counts


def _closed_edges(edges: Sequence[object]) -> list[float]:
    """Validate bin edges; an infinite outer edge is drawn one neighbouring bin width away."""
    reals = [_real(e) for e in edges]
    values = [e for e in reals if e is not None and not math.isnan(e)]
    if len(values) < 2 or len(values) != len(reals):
        raise MalformedPlotError("histogram needs at least two numeric edges")
    inner = values[1:-1]
    if not all(math.isfinite(v) for v in inner):
        raise MalformedPlotError("histogram inner edges must be finite")
    if not math.isfinite(values[0]):
        width = values[2] - values[1] if len(values) > 2 else 1.0
        values[0] = values[1] - width
    if not math.isfinite(values[-1]):
        width = values[-2] - values[-3] if len(values) > 2 else 1.0
        values[-1] = values[-2] + width
    if not all(math.isfinite(v) for v in values):
        raise MalformedPlotError("histogram needs at least one finite bin")
    if any(b < a for a, b in itertools.pairwise(values)):
        raise MalformedPlotError("histogram edges must be in increasing order")
    return values


def svg_open(height: float, label: str, width: float = _WIDTH, classes: str = "") -> str:
    """An accessible ``<svg>`` start tag of class ``chart-svg`` (and ``classes``), titled
    and labelled by ``label``."""
    extra = f" {escape(classes)}" if classes else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg{extra}" width="{width:g}" '
        f'height="{height:g}" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>'
    )


def histogram_svg(
    edges: Sequence[object],
    reference: Sequence[object],
    current: Sequence[object],
    value_label: str,
) -> str:
    """Overlaid histogram of the two samples' shares per bin, with labelled axes.

    Raises
    ------
    MalformedPlotError
        When the edges or counts are inconsistent.
    """
    bins = _closed_edges(edges)
    ref_counts = _finite_counts(reference, "reference")
    cur_counts = _finite_counts(current, "current")
    if not len(ref_counts) == len(cur_counts) == len(bins) - 1:
        raise MalformedPlotError("histogram needs one count per bin in both samples")
    ref, cur = shares(ref_counts), shares(cur_counts)

    height, left, right, top, bottom = 280, 58, 18, 14, 50
    plot_w, plot_h = _WIDTH - left - right, height - top - bottom
    low, high = bins[0], bins[-1]
    if not high > low:
        low, high = low - 0.5, high + 0.5
    y_ticks, y_step = nice_ticks(0.0, max([*ref, *cur]) or 1.0, 4, cover=True)
    y_top = y_ticks[-1]

    def x_at(value: float) -> float:
        return left + (value - low) / (high - low) * plot_w

    def y_at(share: float) -> float:
        return top + plot_h - share / y_top * plot_h

    label = f"Histogram of {value_label}: reference and current shares per bin"
    parts = [svg_open(height, label)]
    parts += _y_axis(y_ticks, y_step, y_at, left, _WIDTH - right)
    outline = [f"M{x_at(bins[0]):.2f},{y_at(0.0):.2f}"]
    for i, (r_share, c_share) in enumerate(zip(ref, cur, strict=True)):
        x0, x1 = x_at(bins[i]), x_at(bins[i + 1])
        width = max(x1 - x0 - (1.0 if x1 - x0 > 4 else 0.0), 0.8)
        tip = (
            f"[{bins[i]:.4g}, {bins[i + 1]:.4g}): reference {r_share:.1%} "
            f"({ref_counts[i]:,.0f}), current {c_share:.1%} ({cur_counts[i]:,.0f})"
        )
        parts.append(f"<g><title>{escape(tip)}</title>")
        for cls, share, color, opacity in (
            ("bar-ref", r_share, REFERENCE_COLOR, 0.6),
            ("bar-cur", c_share, CURRENT_COLOR, CURRENT_FILL_OPACITY),
        ):
            y = y_at(share)
            parts.append(
                f'<rect class="{cls}" x="{x0:.2f}" y="{y:.2f}" width="{width:.2f}" '
                f'height="{top + plot_h - y:.2f}" fill="{color}" fill-opacity="{opacity}"/>'
            )
        parts.append("</g>")
        outline.append(f"V{y_at(c_share):.2f}H{x1:.2f}")
    outline.append(f"V{y_at(0.0):.2f}")
    # The current sample is also drawn as a step outline so it stays legible over reference.
    parts.append(
        f'<path class="outline-cur" d="{"".join(outline)}" fill="none" '
        f'stroke="{CURRENT_COLOR}" stroke-width="1.8" stroke-linejoin="round"/>'
    )
    x_ticks, x_step = nice_ticks(low, high, 6)
    base = top + plot_h
    parts.append(f'<line x1="{left}" y1="{base}" x2="{_WIDTH - right}" y2="{base}" {_AXIS}/>')
    for tick in x_ticks:
        x = x_at(tick)
        parts.append(f'<line x1="{x:.2f}" y1="{base}" x2="{x:.2f}" y2="{base + 5}" {_AXIS}/>')
        parts.append(
            f'<text class="tick-x" x="{x:.2f}" y="{base + 18}" text-anchor="middle" {_FONT}>'
            f"{escape(format_tick(tick, x_step))}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" {_FONT} '
        f'font-size="12">{escape(_truncate(value_label, 60))}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _y_axis(
    ticks: list[float], step: float, y_at: Callable[[float], float], x_from: float, x_to: float
) -> list[str]:
    parts = []
    for tick in ticks:
        y = y_at(tick)
        parts.append(f'<line x1="{x_from}" y1="{y:.2f}" x2="{x_to}" y2="{y:.2f}" {_GRID}/>')
        parts.append(
            f'<text x="{x_from - 6}" y="{y + 4:.2f}" text-anchor="end" {_FONT}>'
            f"{_percent_tick(tick, step)}</text>"
        )
    parts.append(
        f'<text transform="translate(14 {y_at(ticks[-1] / 2):.1f}) rotate(-90)" '
        f'text-anchor="middle" {_FONT} font-size="12">share of rows</text>'
    )
    return parts


def _capped_rows(
    categories: list[str], ref_counts: list[float], cur_counts: list[float]
) -> list[tuple[str, float, float]]:
    """Keep the categories with the largest shares (in their given order), fold the rest."""
    rows = list(zip(categories, ref_counts, cur_counts, strict=True))
    if len(rows) <= MAX_CATEGORIES:
        return rows
    ref, cur = shares(ref_counts), shares(cur_counts)
    by_size = sorted(range(len(rows)), key=lambda i: -max(ref[i], cur[i]))
    keep = set(by_size[: MAX_CATEGORIES - 1])
    kept = [row for i, row in enumerate(rows) if i in keep]
    rest = [row for i, row in enumerate(rows) if i not in keep]
    other = (f"({len(rest)} other categories)", sum(r[1] for r in rest), sum(r[2] for r in rest))
    return [*kept, other]


def bars_svg(
    categories: Sequence[object],
    reference: Sequence[object],
    current: Sequence[object],
    value_label: str,
) -> str:
    """Horizontal grouped bars of each category's share in the two samples.

    More than ``MAX_CATEGORIES`` categories are reduced to the largest ones plus one row
    summing the others. Long labels are truncated; the full label is in the bar's tooltip.

    Raises
    ------
    MalformedPlotError
        When the categories and counts have different lengths or counts are invalid.
    """
    ref_all = _finite_counts(reference, "reference")
    cur_all = _finite_counts(current, "current")
    names = ["(missing)" if c is None else str(c) for c in categories]
    if not len(names) == len(ref_all) == len(cur_all) or not names:
        raise MalformedPlotError("bars need one reference and one current count per category")
    ref_total, cur_total = sum(ref_all), sum(cur_all)
    rows = _capped_rows(names, ref_all, cur_all)

    bar_h, row_h, left, right, top, bottom = 10, 30, 170, 24, 28, 12
    height = top + row_h * len(rows) + bottom
    plot_w = _WIDTH - left - right
    ref_share = [r / ref_total if ref_total else 0.0 for _, r, _ in rows]
    cur_share = [c / cur_total if cur_total else 0.0 for _, _, c in rows]
    ticks, step = nice_ticks(0.0, max([*ref_share, *cur_share]) or 1.0, 5, cover=True)
    x_top = ticks[-1]

    def x_at(share: float) -> float:
        return left + share / x_top * plot_w

    label = f"Bar chart of {value_label}: reference and current share of each category"
    parts = [svg_open(height, label)]
    for tick in ticks:
        x = x_at(tick)
        parts.append(
            f'<line x1="{x:.2f}" y1="{top - 4}" x2="{x:.2f}" y2="{height - bottom}" {_GRID}/>'
        )
        parts.append(
            f'<text x="{x:.2f}" y="{top - 10}" text-anchor="middle" {_FONT}>'
            f"{_percent_tick(tick, step)}</text>"
        )
    for i, (name, r_count, c_count) in enumerate(rows):
        y = top + i * row_h + (row_h - 2 * bar_h - 2) / 2
        tip = (
            f"{name}: reference {ref_share[i]:.1%} ({r_count:,.0f}), "
            f"current {cur_share[i]:.1%} ({c_count:,.0f})"
        )
        parts.append(f'<g class="category"><title>{escape(tip)}</title>')
        parts.append(
            f'<text class="category-label" x="{left - 8}" y="{y + bar_h + 4:.1f}" '
            f'text-anchor="end" {_FONT} font-size="12">{escape(_truncate(name, 24))}</text>'
        )
        for j, (cls, share, color) in enumerate(
            (("bar-ref", ref_share[i], REFERENCE_COLOR), ("bar-cur", cur_share[i], CURRENT_COLOR))
        ):
            parts.append(
                f'<rect class="{cls}" x="{left}" y="{y + j * (bar_h + 2):.1f}" '
                f'width="{max(x_at(share) - left, 0.0):.2f}" height="{bar_h}" fill="{color}"/>'
            )
        parts.append("</g>")
    parts.append(f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{height - bottom}" {_AXIS}/>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Line:
    """One series of a line chart: ``(x, y)`` points (finite), those whose x is in
    ``marked`` drawn as larger red dots (windows with alerts)."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str = REFERENCE_COLOR
    marked: frozenset[float] = frozenset()
    dashed: bool = False


def line_svg(label: str, lines: Sequence[Line], x_span: tuple[float, float],
             x_name: Callable[[float], str], *, width: int = 340, height: int = 150,
             legend: bool | None = None) -> str:
    """Lines over a shared x axis (windows), each point a dot with its value as tooltip;
    a legend names the lines (by default when there are several). ``x_name`` labels an x
    value (the axis ends and the tooltips)."""
    drawn = [line for line in lines if line.points]
    values = [v for line in drawn for _, v in line.points] or [0.0]
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
    named = len(drawn) > 1 if legend is None else legend
    widest = max(len(format_number(lo)), len(format_number(hi)))
    left, right, bottom = max(48, 12 + 7 * widest), 10, 24
    top = 24 if named else 10
    x_lo, x_hi = x_span
    span_x = (x_hi - x_lo) or 1.0

    def x_at(x: float) -> float:
        return left + (width - left - right) * (x - x_lo) / span_x

    def y_at(v: float) -> float:
        return top + (height - top - bottom) * (hi - v) / (hi - lo)

    parts = [svg_open(height, f"{label}, from {format_number(lo)} to {format_number(hi)}",
                      width),
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
             f'y2="{height - bottom}" stroke="#e5e7eb"/>']
    for y, anchor in ((hi, "end"), (lo, "end")):
        parts.append(f'<text x="{left - 6}" y="{y_at(y) + 4:.1f}" text-anchor="{anchor}" '
                     f'font-size="11" fill="#6b7280">{escape(format_number(y))}</text>')
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="11" fill="#6b7280">'
                 f"{escape(x_name(x_lo))}</text>"
                 f'<text x="{width - right}" y="{height - 6}" text-anchor="end" '
                 f'font-size="11" fill="#6b7280">{escape(x_name(x_hi))}</text>')
    if named:
        parts += _legend(drawn, left)
    for line in drawn:
        parts.append(_polyline(line, x_at, y_at, x_name))
    parts.append("</svg>")
    return "".join(parts)


def _legend(lines: Sequence[Line], left: float) -> list[str]:
    parts, x = [], left
    for line in lines:
        name = _truncate(line.name, 28)
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        parts.append(f'<line class="legend" x1="{x:.1f}" y1="9" x2="{x + 16:.1f}" y2="9" '
                     f'stroke="{line.color}" stroke-width="2"{dash}/>'
                     f'<text x="{x + 20:.1f}" y="13" font-size="11" fill="#4b5563">'
                     f"{escape(name)}</text>")
        x += 32 + 6.5 * len(name)
    return parts


def _polyline(line: Line, x_at: Callable[[float], float], y_at: Callable[[float], float],
              x_name: Callable[[float], str]) -> str:
    path = " ".join(f"{x_at(x):.1f},{y_at(v):.1f}" for x, v in line.points)
    dash = ' stroke-dasharray="5 3"' if line.dashed else ""
    dots = "".join(
        f'<circle cx="{x_at(x):.1f}" cy="{y_at(v):.1f}" r="{4 if x in line.marked else 3}" '
        f'fill="{MARK_COLOR if x in line.marked else line.color}"><title>'
        f"{escape(x_name(x))}: {escape(format_number(v))}</title></circle>"
        for x, v in line.points)
    return (f'<g class="series"><title>{escape(line.name)}</title>'
            f'<polyline points="{path}" fill="none" stroke="{line.color}" '
            f'stroke-width="2"{dash}/>{dots}</g>')
