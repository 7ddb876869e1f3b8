"""JSON, HTML and terminal renderings of results.

Names are imported on first use, so that rendering a drift report does not import the
Monitor (which the Monitor's HTML page needs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftwise._lazy import lazy_attributes

if TYPE_CHECKING:
    from driftwise.report.html import render_html
    from driftwise.report.monitor_html import render_monitor_html
    from driftwise.report.summary import columns_table, format_p, print_summary, severity_key

_WHERE = {
    "columns_table": "driftwise.report.summary",
    "format_p": "driftwise.report.summary",
    "print_summary": "driftwise.report.summary",
    "render_html": "driftwise.report.html",
    "render_monitor_html": "driftwise.report.monitor_html",
    "severity_key": "driftwise.report.summary",
}

__getattr__ = lazy_attributes(__name__, _WHERE, globals())

__all__ = ["columns_table", "format_p", "print_summary", "render_html", "render_monitor_html",
           "severity_key"]
