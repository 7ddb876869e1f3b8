"""A stream detector attached to a per-window metric: learned in-control level, alarms on a
sustained change, state that resumes exactly."""

from __future__ import annotations

import json

import pytest

from driftwise.errors import ConfigError
from driftwise.monitor import Monitor, parse_monitor_config
from tests.monitor.test_monitor_run import CONFIG, binary_frame


def stream_config(detector: dict) -> dict:
    return dict(CONFIG, checks={"bootstrap": 0, "stream": [
        {"name": "confidence", "metric": "prediction.mean_confidence", "detector": detector}]},
        windows={"rows": 500},
        alerts=[{"name": "confidence moved", "metric": "stream.confidence.alarm",
                 "condition": "== true", "severity": "critical"}])


def test_cusum_on_mean_confidence_learns_reference_and_alarms_on_a_shift() -> None:
    cfg = stream_config({"type": "cusum", "k": 0.5, "target_arl0": 500})
    monitor = Monitor(cfg).fit(binary_frame(8000, 0))
    steady = monitor.run_batches([binary_frame(500, 20 + i) for i in range(6)])
    assert not any(r.get("stream.confidence.alarm") for r in steady)
    assert all(isinstance(r.get("stream.confidence.value"), float) for r in steady)
    shifted = monitor.run_batches([binary_frame(500, 40 + i, shift=1.0) for i in range(6)])
    alarms = [r.get("stream.confidence.alarm") for r in shifted]
    assert any(alarms)
    fired = [r for r in shifted if r.alerts]
    assert fired and fired[0].alerts[0].name == "confidence moved"


def test_state_round_trip_continues_exactly() -> None:
    cfg = stream_config({"type": "page_hinkley", "delta": 0.005, "threshold": 0.05})
    a = Monitor(cfg).fit(binary_frame(6000, 0))
    b = Monitor(cfg).fit(binary_frame(6000, 0))
    frames = [binary_frame(500, 60 + i, shift=0.3 * i) for i in range(8)]
    a.run_batches(frames[:4])
    b.restore_stream_state(json.loads(json.dumps(a.stream_state())))
    rest_a = [r.get("stream.confidence.alarm") for r in a.run_batches(frames[4:])]
    rest_b = [r.get("stream.confidence.alarm") for r in b.run_batches(frames[4:])]
    assert rest_a == rest_b


def test_stream_config_errors_name_the_entry() -> None:
    with pytest.raises(ConfigError,
                       match=r"checks.stream\[0\].detector.type: expected one of .*got 'cusm'"):
        parse_monitor_config(stream_config({"type": "cusm"}))
    with pytest.raises(ConfigError, match=r"checks.stream\[0\]: unknown key"):
        parse_monitor_config(dict(CONFIG, checks={"stream": [
            {"metric": "x", "detector": {"type": "adwin"}, "extra": 1}]}))
    small = stream_config({"type": "ewma", "lam": 0.2, "L": 3.0})
    with pytest.raises(ConfigError, match="needs at least 3 reference windows"):
        Monitor(small).fit(binary_frame(900, 0))


def test_state_from_other_detector_parameters_is_refused() -> None:
    a = Monitor(stream_config({"type": "page_hinkley", "delta": 0.005, "threshold": 0.05}))
    b = Monitor(stream_config({"type": "page_hinkley", "delta": 0.005, "threshold": 0.5}))
    a.fit(binary_frame(3000, 0))
    b.fit(binary_frame(3000, 0))
    with pytest.raises(ConfigError, match="made with parameters"):
        b.restore_stream_state(a.stream_state())
