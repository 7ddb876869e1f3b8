"""The Monitor report page, rendered from a run's JSON form: content, escaping, robustness."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from driftwise.monitor import Monitor
from driftwise.monitor.run import MonitorRun
from driftwise.report.monitor_html import render_monitor_html


def _run() -> MonitorRun:
    rng = np.random.default_rng(3)

    def frame(n: int, shift: float) -> pd.DataFrame:
        x = rng.normal(shift, 1, n)
        p = 1 / (1 + np.exp(-2 * x))
        return pd.DataFrame({"x": x, "proba": p, "y": (rng.random(n) < p).astype(int)})

    cfg = {"model": {"name": "m<1>", "task": "binary"},
           "columns": {"probabilities": "proba", "target": "y"},
           "checks": {"bootstrap": 0, "estimated_performance": True},
           "alerts": [{"name": "inputs <moved>", "metric": "drift.dataset.drift_detected",
                       "condition": "== true", "severity": "critical"}]}
    monitor = Monitor(cfg).fit(frame(3000, 0.0))
    results = monitor.run_batches([frame(800, 0.0), frame(800, 1.0), frame(800, 0.0)],
                                  names=["day <1>", "day 2", "day 2"])
    return MonitorRun("m<1>", 3000, tuple(results))


def test_page_lists_windows_alerts_and_metrics() -> None:
    run = _run()
    page = render_monitor_html(run.to_dict())
    assert page.startswith("<!DOCTYPE html>")
    assert "Alerts in 1 of 3 windows" in page
    rows = re.findall(r'<tr class="([^"]*)"><td class="name"><a href="#([^"]+)"', page)
    assert rows == [("", "win-day-1"), ("alerted critical", "win-day-2"), ("", "win-day-2-2")]
    # Each window's details, the alerted one open, every metric listed.
    assert '<details class="panel window" id="win-day-2" open>' in page
    assert '<details class="panel window" id="win-day-2-2">' in page
    for name in run.results[1].metrics:
        assert f"<code>{name}</code>" in page
    assert 'id="trends"' in page and page.count("<polyline") >= 2  # estimated AUC, accuracy


def test_everything_from_the_data_is_escaped_and_nothing_is_fetched() -> None:
    page = render_monitor_html(_run().to_dict())
    assert "<1>" not in page and "&lt;1&gt;" in page
    assert "inputs &lt;moved&gt;" in page
    assert "default-src 'none'" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_a_sparse_or_odd_run_still_renders() -> None:
    page = render_monitor_html({"windows": [
        {"window": "w", "status": "insufficient_data", "metrics": {}},
        "not a window", {"metrics": {"performance.accuracy": float("nan")}}]})
    assert "No alerts in 2 windows" in page
    assert '<tr class="insufficient">' in page
    assert 'id="trends"' not in page  # nothing to draw
    assert "Nothing was measured in this window." in page
