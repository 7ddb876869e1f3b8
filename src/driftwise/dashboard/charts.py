"""The dashboard's charts: metrics across windows as lines, a window's reference-vs-current
distribution as a histogram or bars, all server-side SVG from ``driftwise.report._svg``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from driftwise.dashboard.views import Points
from driftwise.report._svg import (
    CURRENT_COLOR,
    REFERENCE_COLOR,
    Line,
    MalformedPlotError,
    bars_svg,
    histogram_svg,
    line_svg,
)

__all__ = ["PALETTE", "Trace", "distribution", "trend"]

#: Colours of a chart's lines, in order (the report's reference and current first).
PALETTE = (REFERENCE_COLOR, CURRENT_COLOR, "#54a24b", "#f58518", "#b279a2", "#72b7b2")
WIDTH, HEIGHT = 540, 180


@dataclass(frozen=True)
class Trace:
    """One line to draw: its legend name, its points, dashed or not."""

    name: str
    points: Points
    dashed: bool = False


def _window_name(x: float) -> str:
    return f"window {x:g}"


def trend(label: str, traces: Sequence[Trace], alerted: frozenset[int],
          windows: Sequence[int]) -> str | None:
    """A line chart of ``traces`` over ``windows`` (windows with alerts as red dots), or
    ``None`` when no trace has a point."""
    if not windows or not any(t.points for t in traces):
        return None
    marked = frozenset(float(w) for w in alerted)
    # Colours by position among the traces asked for, so that "realized" has the same
    # colour in every chart, whether or not "estimated" has points there.
    lines = [Line(t.name, t.points, PALETTE[i % len(PALETTE)], marked, t.dashed)
             for i, t in enumerate(traces) if t.points]
    span = (float(min(windows)), float(max(windows)))
    return line_svg(f"{label} over windows {span[0]:g} to {span[1]:g}", lines, span,
                    _window_name, width=WIDTH, height=HEIGHT, legend=len(traces) > 1)


def distribution(plot: Mapping[str, Any], feature: str) -> str:
    """The reference and current distributions a window stored for ``feature`` (its
    ``plot``: histogram edges and counts, or categories and counts); a note when the data
    cannot be drawn."""
    try:
        if plot.get("type") == "histogram":
            return histogram_svg(plot.get("edges", []), plot.get("reference", []),
                                 plot.get("current", []), feature)
        if plot.get("type") == "bars":
            return bars_svg(plot.get("categories", []), plot.get("reference", []),
                            plot.get("current", []), feature)
    except MalformedPlotError as exc:
        return f'<p class="note">The stored distribution cannot be drawn: {escape(str(exc))}</p>'
    return '<p class="note">The stored distribution is of a kind this page cannot draw.</p>'
