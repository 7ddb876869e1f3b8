"""JSON, HTML and terminal renderings of results."""

from driftwise.report.html import render_html
from driftwise.report.monitor_html import render_monitor_html
from driftwise.report.summary import columns_table, format_p, print_summary, severity_key

__all__ = ["columns_table", "format_p", "print_summary", "render_html", "render_monitor_html",
           "severity_key"]
