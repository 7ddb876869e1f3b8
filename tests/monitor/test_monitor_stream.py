"""A stream detector attached to a per-window metric: learned in-control level, alarms on a
sustained change, state that resumes exactly."""

from __future__ import annotations

import json

import pytest

from driftwise.errors import ConfigError, SchemaError
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


def binarized(detector: dict, binarize: dict | None) -> dict:
    cfg = stream_config(detector)
    if binarize is not None:
        cfg["checks"]["stream"][0]["binarize"] = binarize
    return cfg


def test_ddm_on_a_real_metric_is_refused_naming_binarize() -> None:
    monitor = Monitor(binarized({"type": "ddm"}, None)).fit(binary_frame(3000, 0))
    with pytest.raises(SchemaError, match=r"checks.stream 'confidence': "
                                          r"prediction.mean_confidence is 0\.\d+ in this window; "
                                          r"a ddm detector counts errors, 0 or 1\. Turn the value "
                                          r"into one with `binarize:` in the entry"):
        monitor.run(binary_frame(500, 1))


def test_binarize_z_learns_the_metric_from_reference_windows_and_ddm_sees_the_shift() -> None:
    cfg = binarized({"type": "ddm", "warm_start": 5}, {"z": 3})
    monitor = Monitor(cfg).fit(binary_frame(8000, 0))
    indicator = monitor.streams_.indicators["confidence"]
    assert 0.45 < indicator.mean_ < 0.55 and 0 < indicator.std_ < 0.05  # 16 windows of 500
    steady = monitor.run_batches([binary_frame(500, 20 + i) for i in range(8)])
    assert [r.get("stream.confidence.error") for r in steady] == [False] * 8
    assert not any(r.get("stream.confidence.alarm") for r in steady)
    shifted = monitor.run_batches([binary_frame(500, 40 + i, shift=1.0) for i in range(4)])
    assert all(r.get("stream.confidence.error") for r in shifted)
    assert any(r.get("stream.confidence.alarm") for r in shifted)
    assert any(r.alerts for r in shifted)


def test_binarize_config_errors_name_the_entry() -> None:
    for detector, binarize, message in (
        ({"type": "cusum"}, {"above": 0.8}, r"checks.stream\[0\]: binarize turns "
                                            r"'prediction.mean_confidence' into the 0/1 errors"),
        ({"type": "ddm"}, {}, r"checks.stream\[0\].binarize: an error indicator needs"),
        ({"type": "eddm"}, {"above": 0.5, "below": 0.7}, "must be less than above"),
        ({"type": "ddm"}, {"above": 0.5, "z": 2}, "not both"),
        ({"type": "ddm"}, {"z": 2, "mean": 0.7}, "give both mean and std"),
        ({"type": "ddm"}, {"abov": 2}, "did you mean .above."),
    ):
        with pytest.raises(ConfigError, match=message):
            parse_monitor_config(binarized(detector, binarize))
    with pytest.raises(ConfigError, match="give mean and std in binarize, or a larger reference"):
        Monitor(binarized({"type": "ddm"}, {"z": 3})).fit(binary_frame(900, 0))
    given = Monitor(binarized({"type": "ddm"}, {"z": 3, "mean": 0.7, "std": 0.01}))
    assert given.fit(binary_frame(900, 0)).streams_.indicators["confidence"](0.8) == 1


def test_bocpd_learns_its_reference_from_the_reference_windows_and_alarms_once() -> None:
    # BOCPD's prior sits on the reference windows' mean and sd (fit), like a chart's
    # reference; a lasting shift is one episode, so one alert, not one per window.
    monitor = Monitor(stream_config({"type": "bocpd", "target_arl0": 1000})).fit(
        binary_frame(8000, 0))
    steady = monitor.run_batches([binary_frame(500, 20 + i) for i in range(6)])
    assert not any(r.get("stream.confidence.alarm") for r in steady)
    shifted = monitor.run_batches([binary_frame(500, 40 + i, shift=1.0) for i in range(6)])
    assert [r.get("stream.confidence.alarm") for r in shifted] == [True] + [False] * 5
    assert shifted[0].alerts and shifted[0].alerts[0].name == "confidence moved"
