"""Monitor.remeasure: the same metrics as run, and the detectors' state left as it was."""

from __future__ import annotations

import numpy as np

from driftwise import Monitor


def _data(rng: np.random.Generator, n: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    x = rng.normal(shift, 1, n)
    p = 1 / (1 + np.exp(-2 * x))
    return {"x": x, "proba": p, "label": (rng.random(n) < p).astype(int)}


def test_remeasure_gives_runs_metrics_without_moving_streams_or_streaks() -> None:
    rng = np.random.default_rng(3)
    monitor = Monitor({
        "model": {"task": "binary"},
        "columns": {"probabilities": "proba", "target": "label"},
        "checks": {"stream": [{"metric": "drift.dataset.share",
                               "detector": {"type": "page_hinkley", "threshold": 5}}]},
        "alerts": [{"metric": "drift.dataset.drift_detected", "condition": "== true"}],
    }).fit(_data(rng, 3000))
    window = _data(rng, 800, shift=0.8)
    before = monitor.stream_state()
    again = monitor.remeasure(window, name="w")
    assert monitor.stream_state() == before
    assert again.alerts == ()
    ran = monitor.run(window, name="w")
    assert monitor.stream_state() != before  # run does move them
    stream_free = {k: v for k, v in ran.metrics.items() if not k.startswith("stream.")}
    assert {k: again.metrics[k] for k in stream_free} == stream_free
    assert ran.metrics["drift.dataset.drift_detected"] is True
    small = monitor.remeasure({k: v[:10] for k, v in window.items()})
    assert small.status == "insufficient_data"
