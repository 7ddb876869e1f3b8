"""The protocol every stream detector shares: batch = loop, exact state round trip, bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from driftwise.errors import ConfigError, NotFittedError, SchemaError, StateError
from driftwise.stream import (
    ADWIN,
    BOCPD,
    CUSUM,
    DDM,
    DETECTOR_TYPES,
    EDDM,
    EWMA,
    KSWIN,
    PageHinkley,
    Shewhart,
    StreamDetector,
    make_detector,
)

BINARY = {"ddm", "eddm"}


def build(kind: str, after_alarm: str | None = None) -> StreamDetector:
    spec: dict[str, Any] = {"type": kind}
    if kind in ("bocpd", "cusum", "ewma", "shewhart"):
        spec.update(mean=0.0, std=1.0)
        if after_alarm is not None:
            spec["after_alarm"] = after_alarm
    if kind == "cusum":
        spec["h"] = 4.0
    if kind == "page_hinkley":
        spec["threshold"] = 8.0
    return make_detector(spec)


def stream(kind: str, n: int = 6000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind in BINARY:
        p = np.where(np.arange(n) < n // 2, 0.1, 0.3)
        return (rng.random(n) < p).astype(np.float64)
    return rng.normal(0.0, 1.0, n) + np.where(np.arange(n) < n // 2, 0.0, 1.0)


def loop(det: StreamDetector, xs: np.ndarray) -> list[int]:
    return [i for i, x in enumerate(xs.tolist()) if det.update(x)]


def assert_same_state(a: StreamDetector, b: StreamDetector) -> None:
    """The same state, a running sum equal to the last few bits: a vectorised run sums in
    another order than the loop (the alarms, decided exactly, are the same)."""
    sa, sb = a.to_state(), b.to_state()
    assert {k: v for k, v in sa.items() if k != "state"} == \
        {k: v for k, v in sb.items() if k != "state"}
    assert sa["state"].keys() == sb["state"].keys()
    for name, value in sa["state"].items():
        if isinstance(value, float):
            assert value == pytest.approx(sb["state"][name], rel=1e-12, abs=1e-12), name
        else:
            assert value == sb["state"][name], name


def test_every_type_is_buildable_and_listed() -> None:
    assert set(DETECTOR_TYPES) == {"adwin", "bocpd", "cusum", "ddm", "eddm", "ewma", "kswin",
                                   "page_hinkley", "shewhart"}


@pytest.mark.parametrize("kind", DETECTOR_TYPES)
def test_update_many_gives_exactly_the_alarms_of_update(kind: str) -> None:
    xs = stream(kind)
    batch = build(kind).update_many(xs)
    assert batch.dtype == np.int64
    single = loop(build(kind), xs)
    assert batch.tolist() == single
    assert len(single) > 0  # the stream has a change every detector catches


@pytest.mark.parametrize("kind", ["cusum", "ewma"])
@pytest.mark.parametrize("seed", range(4))
def test_vectorised_charts_match_the_loop_in_control_and_split_batches(kind: str,
                                                                       seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    xs = rng.standard_t(5, 200_000) * 1.3 + 0.1
    single = loop(build(kind), xs)
    det = build(kind)
    parts = np.array_split(xs, 7)
    offsets = np.cumsum([0] + [p.size for p in parts[:-1]])
    batched = [int(i + o) for p, o in zip(parts, offsets, strict=True) for i in det.update_many(p)]
    assert batched == single
    assert len(single) > 100


@pytest.mark.parametrize("kind", DETECTOR_TYPES)
def test_state_round_trips_through_json_and_continues_exactly(kind: str) -> None:
    xs = stream(kind, seed=3)
    a = build(kind)
    first = a.update_many(xs[:2500]).tolist()
    saved = json.loads(json.dumps(a.to_state()))
    b = StreamDetector.from_state(saved)
    assert type(b) is type(a)
    assert b.to_state() == a.to_state()
    rest_a = loop(a, xs[2500:])
    rest_b = loop(b, xs[2500:])
    assert rest_a == rest_b
    assert a.to_state() == b.to_state()
    assert first + [i + 2500 for i in rest_a] == loop(build(kind), xs)


def test_state_is_plain_json_even_with_infinite_internals() -> None:
    det = PageHinkley()  # its running minimum starts at +inf
    text = json.dumps(det.to_state(), allow_nan=False)
    assert '"inf"' in text
    assert PageHinkley.from_state(json.loads(text)).to_state() == det.to_state()


@pytest.mark.parametrize("kind", DETECTOR_TYPES)
def test_reset_forgets_the_stream(kind: str) -> None:
    xs = stream(kind)
    det = build(kind)
    det.update_many(xs[:1000])
    det.reset()
    fresh = build(kind)
    if kind == "kswin":  # the sampler's generator moves on; the window is what is forgotten
        assert det.to_state()["state"]["window"] == []
        return
    assert det.to_state() == fresh.to_state()


def test_state_from_another_detector_type_is_refused() -> None:
    state = CUSUM(mean=0.0, std=1.0).to_state()
    with pytest.raises(StateError, match=r"'cusum'.*as 'ewma'"):
        EWMA.from_state(state)


def test_state_of_another_version_is_refused_not_reset() -> None:
    state = ADWIN().to_state()
    state["version"] = 99
    with pytest.raises(StateError, match="version 99"):
        StreamDetector.from_state(state)


@pytest.mark.parametrize("bad", [
    {},
    {"detector": "cusum_v2", "version": 1, "params": {}, "state": {}},
    {"detector": "adwin", "version": 1, "params": {}, "state": {"width": 0}},
    {"detector": "adwin", "version": 1, "params": {"delta": -1}, "state": {}},
    {"detector": "adwin", "version": 1, "state": {}},
    {"detector": "cusum", "version": 1, "params": {"mean": 0.0, "std": 1.0},
     "state": {"mu": 0.0, "sd": 1.0, "hi": "high", "lo": 0.0}},
    {"detector": "adwin", "version": 1, "params": {},
     "state": {"width": 1.5, "total": 0.0, "variance": 0.0, "tick": 0, "totals": [[]],
               "variances": [[]], "pending": []}},
])
def test_malformed_states_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(StateError):
        StreamDetector.from_state(bad)


@pytest.mark.parametrize("kind", DETECTOR_TYPES)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_rejected_and_consume_nothing(kind: str, value: float) -> None:
    det = build(kind)
    det.update_many(stream(kind)[:300])
    before = det.to_state()
    with pytest.raises(SchemaError, match="not finite"):
        det.update(value)
    assert det.to_state() == before
    with pytest.raises(SchemaError, match="position 2"):
        det.update_many([0.0, 1.0, value, 0.0])
    assert det.to_state() == before


@pytest.mark.parametrize("det", [DDM(), EDDM()])
def test_error_streams_take_only_zero_or_one(det: StreamDetector) -> None:
    with pytest.raises(SchemaError, match="0 \\(correct\\) or 1 \\(error\\)"):
        det.update(0.5)


def test_reference_charts_need_a_reference() -> None:
    for det in (CUSUM(), EWMA(), Shewhart(), BOCPD()):
        with pytest.raises(NotFittedError, match="fit\\(reference\\)"):
            det.update(1.0)
        with pytest.raises(NotFittedError):
            det.update_many([1.0, 2.0])


def test_fit_learns_the_reference_mean_and_sd() -> None:
    ref = np.random.default_rng(1).normal(10.0, 2.0, 5000)
    det = CUSUM().fit(ref)
    assert det.mean_ == pytest.approx(ref.mean())
    assert det.std_ == pytest.approx(ref.std(ddof=1))
    assert det.update_many(np.full(50, 10.0 + 2.0 * 1.5)).size > 0
    restored = CUSUM.from_state(json.loads(json.dumps(det.to_state())))
    assert restored.mean_ == det.mean_


def test_make_detector_calibrates_from_a_target_arl() -> None:
    cusum = make_detector({"type": "cusum", "k": 0.5, "target_arl0": 500, "mean": 0.0,
                           "std": 1.0})
    assert isinstance(cusum, CUSUM)
    assert cusum.h == pytest.approx(5.07, abs=0.01)
    ewma = make_detector({"type": "ewma", "lam": 0.1, "target_arl0": 500})
    assert isinstance(ewma, EWMA)
    assert ewma.L == pytest.approx(2.8, abs=0.05)
    assert isinstance(make_detector({"type": "kswin", "seed": 3}), KSWIN)
    shewhart = make_detector({"type": "shewhart", "target_arl0": 370.4, "mean": 0.0,
                              "std": 1.0})
    assert isinstance(shewhart, Shewhart)
    assert shewhart.L == pytest.approx(3.0, abs=1e-3)


@pytest.mark.parametrize(("spec", "message"), [
    ({"h": 5.0}, "type: required, but missing"),
    ({"type": "cusm"}, "type: expected one of 'adwin', .*got 'cusm'"),
    ({"type": "cusum", "hh": 5.0}, "unknown key 'hh'"),
    ({"type": "cusum", "h": -1.0}, "^h must be"),
    ({"type": "cusum", "h": 5.0, "target_arl0": 500}, "'h' or 'target_arl0'"),
    ({"type": "ewma", "L": 3.0, "target_arl0": 500}, "'L' or 'target_arl0'"),
    ({"type": "ewma", "lam": 1.5}, "lam must be in"),
    ({"type": "cusum", "target_arl0": 0.5}, "target_arl0"),
    ({"type": "page_hinkley", "mode": "sideways"}, "mode"),
    ({"type": "adwin", "clock": 0}, "clock"),
    ({"type": "shewhart", "mean": 1.0}, "both mean and std"),
    ({"type": "kswin", "window_size": 40, "stat_size": 30}, "window_size"),
])
def test_make_detector_names_the_bad_key(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_detector(spec)


def test_shewhart_alarms_beyond_its_limits() -> None:
    det = Shewhart(L=3.0, mean=10.0, std=2.0, after_alarm="keep")
    assert det.update_many([10.0, 16.1, 3.9, 4.1]).tolist() == [1, 2]


def test_ewma_exact_limits_start_narrow() -> None:
    # A jump of 0.7 sd at the first value: beyond the exact first limit (L * lam = 0.6 sd
    # of z for lam = 0.2), within the asymptotic one (L * sqrt(lam / (2 - lam)) = 1.0).
    assert EWMA(mean=0.0, std=1.0).update(3.5) is True
    assert EWMA(mean=0.0, std=1.0, exact_limits=False).update(3.5) is False


@pytest.mark.parametrize("after_alarm", ["keep", "relearn", "hold"])
@pytest.mark.parametrize("kind", ["cusum", "ewma"])
@pytest.mark.parametrize("shift", [-1.0, 0.4, 2.0])
def test_vectorised_charts_match_the_loop_out_of_control(kind: str, shift: float,
                                                         after_alarm: str) -> None:
    # Keeping the reference, alarms come every few values: update_many loops, one-sided
    # where the other side is silent, and ends in exactly the loop's state.
    xs = np.random.default_rng(int(10 * shift) + 50).normal(shift, 1.0, 100_000)
    xs[40_000:41_000] -= 2 * shift  # a stretch where the other side alarms
    a, b = build(kind, after_alarm), build(kind, after_alarm)
    assert a.update_many(xs).tolist() == loop(b, xs)
    if after_alarm == "keep":
        assert a.to_state() == b.to_state()
    else:
        assert_same_state(a, b)


@pytest.mark.parametrize("h", [2.5, 4.0, 5.0])
def test_cusum_ties_at_the_threshold_are_decided_like_the_loop(h: float) -> None:
    # Integer data with k = 0.5 put the sums exactly on h again and again: "exceeds h" is
    # strict, and the closed form hands those values to the scalar recursion.
    xs = np.random.default_rng(int(h * 10)).integers(-3, 4, 100_000).astype(np.float64)
    for after_alarm in ("keep", "relearn"):
        a, b = (CUSUM(h=h, k=0.5, mean=0.0, std=1.0, after_alarm=after_alarm)
                for _ in range(2))
        assert a.update_many(xs).tolist() == loop(b, xs)
        if after_alarm == "keep":
            assert a.statistics == b.statistics
        else:
            assert a.statistics == pytest.approx(b.statistics, rel=1e-12, abs=1e-12)
