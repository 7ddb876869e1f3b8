"""The use cases, called by both the CLI and the service: report files, profile files,
run a Monitor over files, evaluate one window; and where their outputs go."""

from driftwise.app.outputs import check_outputs, write_html, write_json
from driftwise.app.reporting import (
    DriftOptions,
    Reference,
    evaluate_window,
    open_reference,
    profile_files,
    report_files,
    require_tested,
    run_monitor,
)

__all__ = [
    "DriftOptions",
    "Reference",
    "check_outputs",
    "evaluate_window",
    "open_reference",
    "profile_files",
    "report_files",
    "require_tested",
    "run_monitor",
    "write_html",
    "write_json",
]
