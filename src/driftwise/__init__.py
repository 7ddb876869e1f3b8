"""driftwise: watch ML models in production and act when they stop being trustworthy.

The main objects, importable from here (each is loaded on first use, so ``import
driftwise`` stays instant)::

    from driftwise import DriftDetector, Monitor, make_detector, CBPE, render_html

* :class:`DriftDetector` — column-by-column drift of a current sample against a reference
  (:class:`DriftReport`; a fitted reference saves as a :class:`ReferenceProfile`);
* :class:`Monitor` — everything watched for one model, one :class:`MonitorResult` per window,
  configured by a :class:`MonitorConfig` (YAML);
* :func:`make_detector` — a sequential (stream) detector from ``{type: cusum, ...}``;
* :class:`CBPE` / :class:`DLE` — performance estimated without labels;
* :func:`render_html`, :func:`render_monitor_html`, :func:`print_summary` — the report
  writers;
* :class:`DriftwiseError` and its subclasses — every problem a user can act on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftwise._lazy import lazy_attributes
from driftwise._version import __version__
from driftwise.errors import (
    ConfigError,
    DriftwiseError,
    InputFileError,
    InsufficientDataError,
    NotFittedError,
    NothingTestedError,
    SchemaError,
    StateError,
    UsageError,
)

if TYPE_CHECKING:
    from driftwise.config import DriftConfig, MonitorConfig, ReadOptions, config_schema
    from driftwise.data import read_path, to_table
    from driftwise.detect import DriftDetector, DriftReport, DriftSettings, ReferenceProfile
    from driftwise.monitor import Monitor, MonitorResult
    from driftwise.performance import CBPE, DLE
    from driftwise.report import print_summary, render_html, render_monitor_html
    from driftwise.stream import make_detector

_WHERE = {
    "CBPE": "driftwise.performance",
    "DLE": "driftwise.performance",
    "DriftConfig": "driftwise.config",
    "DriftDetector": "driftwise.detect",
    "DriftReport": "driftwise.detect",
    "DriftSettings": "driftwise.detect",
    "Monitor": "driftwise.monitor",
    "MonitorConfig": "driftwise.config",
    "MonitorResult": "driftwise.monitor",
    "ReadOptions": "driftwise.config",
    "ReferenceProfile": "driftwise.detect",
    "config_schema": "driftwise.config",
    "make_detector": "driftwise.stream",
    "print_summary": "driftwise.report",
    "read_path": "driftwise.data",
    "render_html": "driftwise.report",
    "render_monitor_html": "driftwise.report",
    "to_table": "driftwise.data",
}

__all__ = [
    "CBPE",
    "DLE",
    "ConfigError",
    "DriftConfig",
    "DriftDetector",
    "DriftReport",
    "DriftSettings",
    "DriftwiseError",
    "InputFileError",
    "InsufficientDataError",
    "Monitor",
    "MonitorConfig",
    "MonitorResult",
    "NotFittedError",
    "NothingTestedError",
    "ReadOptions",
    "ReferenceProfile",
    "SchemaError",
    "StateError",
    "UsageError",
    "__version__",
    "config_schema",
    "make_detector",
    "print_summary",
    "read_path",
    "render_html",
    "render_monitor_html",
    "to_table",
]


__getattr__ = lazy_attributes(__name__, _WHERE, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
