"""A Monitor run over files, as ``driftwise report --config monitor.yaml`` does it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftwise._version import __version__
from driftwise.data import to_table
from driftwise.detect.config import read_yaml
from driftwise.errors import ConfigError
from driftwise.monitor.config import load_monitor_config
from driftwise.monitor.monitor import Monitor
from driftwise.monitor.result import MonitorResult


def is_monitor_config(path: str | os.PathLike[str]) -> bool:
    """Whether a YAML file is a Monitor configuration (it has a ``model`` section)."""
    try:
        data = read_yaml(path)
    except ConfigError:
        return False
    return isinstance(data, dict) and "model" in data


@dataclass(frozen=True)
class MonitorRun:
    """The results of every window of one Monitor run."""

    monitor: str
    reference_rows: int
    results: tuple[MonitorResult, ...]

    @property
    def alerted(self) -> bool:
        """Whether any window fired an alert or saw dataset drift."""
        return any(r.alerts or r.metrics.get("drift.dataset.drift_detected")
                   for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"driftwise_version": __version__, "monitor": self.monitor,
                "reference_rows": self.reference_rows,
                "windows": [r.to_dict() for r in self.results]}

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """JSON text, also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text


def run_monitor(config: str | os.PathLike[str], reference: Any, current: Any) -> MonitorRun:
    """Fit the configured Monitor on ``reference``; run it on ``current``'s windows.

    Without ``windows.rows``/``windows.period`` the whole current sample is one window.
    """
    cfg = load_monitor_config(config)
    reference_table = to_table(reference)
    monitor = Monitor(cfg).fit(reference_table)
    table = to_table(current)
    if cfg.window_rows is None and cfg.window_period is None:
        name = Path(os.fspath(current)).name if isinstance(current, str | os.PathLike) \
            else "current"
        results = [monitor.run(table, name=name)]
    else:
        results = monitor.run_frame(table)
    return MonitorRun(cfg.name, reference_table.num_rows, tuple(results))
