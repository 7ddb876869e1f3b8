"""The results of one Monitor run over the windows of a frame."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driftwise._json import dumps
from driftwise._version import __version__
from driftwise.monitor.result import MonitorResult

__all__ = ["MonitorRun"]


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
        """JSON text (non-finite numbers as null), also written to ``path`` when given."""
        text = dumps(self.to_dict())
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text
