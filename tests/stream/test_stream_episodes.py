"""One alarm per change: what a chart does after an alarm (re-learn, hold, keep), and the
self-starting charts that need no reference. Every mode keeps its in-control run length
within 15 % of the calibrated target (simulated, fixed seeds)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from driftwise.errors import ConfigError, NotFittedError
from driftwise.stream import (
    CUSUM,
    EWMA,
    ReferenceStreamDetector,
    Shewhart,
    StreamDetector,
    calibrate_cusum,
    calibrate_ewma,
    make_detector,
    shewhart_arl,
)

N = 1_000_000  # ~2,000 runs at ARL 500: a standard error near 2 %, against a 15 % band
CUSUM_H = calibrate_cusum(500, k=0.5).h


def _charts(**kw: object) -> dict[str, ReferenceStreamDetector]:
    return {"cusum": CUSUM(h=CUSUM_H, k=0.5, **kw),  # type: ignore[arg-type]
            "ewma-0.05": EWMA(lam=0.05, L=calibrate_ewma(500, lam=0.05).L, **kw),  # type: ignore[arg-type]
            "ewma-0.2": EWMA(lam=0.2, L=calibrate_ewma(500, lam=0.2).L, **kw),  # type: ignore[arg-type]
            "shewhart": Shewhart(L=3.0, **kw)}  # type: ignore[arg-type]


TARGET = {"cusum": 500.0, "ewma-0.05": 500.0, "ewma-0.2": 500.0, "shewhart": shewhart_arl(3.0)}


@pytest.mark.parametrize("name", sorted(TARGET))
def test_relearning_keeps_the_in_control_run_length(name: str) -> None:
    det = _charts(mean=0.0, std=1.0)[name]
    assert det.after_alarm == "relearn"  # the default
    xs = np.random.default_rng(11).standard_normal(N)
    alarms = det.update_many(xs)
    assert det.episodes == alarms.size
    assert N / alarms.size == pytest.approx(TARGET[name], rel=0.15)


@pytest.mark.parametrize("name", sorted(TARGET))
def test_self_starting_charts_keep_the_in_control_run_length(name: str) -> None:
    # No reference at all: the level and the spread are learned from the stream itself.
    det = _charts(self_starting=True)[name]
    assert det.phase == "learn"
    xs = 40.0 + 7.0 * np.random.default_rng(12).standard_normal(N)
    alarms = det.update_many(xs)
    assert N / alarms.size == pytest.approx(TARGET[name], rel=0.15)


def test_self_starting_run_lengths_from_the_first_values() -> None:
    # Many short streams, each from its start: the first alarm's position has the
    # calibrated distribution from the value the chart is armed at (Quesenberry's Q are
    # N(0, 1) from the third value; the chart is armed once arm_after values were learned).
    rng = np.random.default_rng(13)
    for arm_after in (2, 30):
        firsts = []
        for _ in range(600):
            det = Shewhart(L=3.0, self_starting=True, relearn_n=10_000, arm_after=arm_after)
            alarms = det.update_many(rng.standard_normal(3000) * 3.0 - 5.0)
            assert alarms.size == 0 or alarms[0] >= arm_after
            firsts.append(int(alarms[0]) - arm_after + 1 if alarms.size else 3000 - arm_after)
        # Each value from the armed one on alarms with probability P(|Z| > 3).
        p = 1.0 / shewhart_arl(3.0)
        expected = (1 - (1 - p) ** (3000 - arm_after)) / p  # a geometric run, censored
        assert np.mean(firsts) == pytest.approx(expected, rel=0.15)


@pytest.mark.parametrize("name", ["cusum", "ewma-0.2"])
def test_holding_then_reset_keeps_the_in_control_run_length(name: str) -> None:
    det = _charts(mean=0.0, std=1.0, after_alarm="hold")[name]
    rng = np.random.default_rng(14)
    lengths = []
    while sum(lengths) < N // 2:
        xs = rng.standard_normal(5000)
        alarms = det.update_many(xs)
        if alarms.size:
            assert alarms.size == 1 and det.phase == "hold"
            lengths.append(int(alarms[0]) + 1)
        det.reset()  # a person looked, and the chart starts again
    assert np.mean(lengths) == pytest.approx(TARGET[name], rel=0.15)


def _level_shift(seed: int) -> np.ndarray:
    # 3,000 in-control values, then the level moves for good by 3 sd.
    xs = np.random.default_rng(seed).standard_normal(13_000)
    xs[3000:] += 3.0
    return xs


@pytest.mark.parametrize("kind", ["cusum", "ewma", "shewhart"])
def test_a_lasting_change_is_one_alarm_not_one_every_few_values(kind: str) -> None:
    xs = _level_shift(15)
    chart = {"cusum": lambda **kw: CUSUM(h=CUSUM_H, **kw),
             "ewma": lambda **kw: EWMA(L=calibrate_ewma(500).L, **kw),
             "shewhart": lambda **kw: Shewhart(L=3.5, **kw)}[kind]
    kept = chart(mean=0.0, std=1.0, after_alarm="keep").update_many(xs)
    relearned = chart(mean=0.0, std=1.0).update_many(xs)
    after = relearned[relearned >= 3000]
    # Keeping the old level, the chart alarms again and again after the change...
    assert (kept >= 3000).sum() > 500
    # ...re-learning it, once, soon after the change, then at about the false-alarm rate
    # (10,000 in-control values at an ARL of ~500 or more: a handful at most).
    assert after.size >= 1 and after[0] < 3000 + 20
    assert (after > 3000 + 20).sum() <= 60
    held = chart(mean=0.0, std=1.0, after_alarm="hold")
    found = held.update_many(xs)
    assert found.size >= 1 and found[-1] < 3000 + 20 and held.phase == "hold"
    assert held.update_many(xs[:100]).size == 0  # held: values are ignored until reset


def test_a_second_change_while_relearning_is_caught() -> None:
    xs = np.random.default_rng(16).standard_normal(4000)
    xs[1000:] += 4.0
    xs[1200:] += 4.0  # a second step 200 values later, inside the re-learning window
    alarms = CUSUM(h=CUSUM_H, mean=0.0, std=1.0).update_many(xs)
    assert any(1000 <= a < 1020 for a in alarms)
    assert any(1200 <= a < 1220 for a in alarms)


def test_a_constant_feed_that_comes_alive_is_a_change() -> None:
    # An imputed constant (Elec2's vicprice before May 1997), then real values.
    xs = np.concatenate([np.full(800, 0.003467), np.random.default_rng(17).normal(0.2, 0.1,
                                                                                   800)])
    det = CUSUM(h=CUSUM_H, self_starting=True)
    alarms = det.update_many(xs)
    assert alarms.tolist()[:1] == [800]


@pytest.mark.parametrize("mode", ["relearn", "hold", "keep"])
def test_the_episode_state_survives_a_save_and_restore(mode: str) -> None:
    xs = _level_shift(18)
    for cls, kw in ((CUSUM, {"h": CUSUM_H}), (EWMA, {}), (Shewhart, {})):
        whole = cls(mean=0.0, std=1.0, after_alarm=mode, **kw)
        first = cls(mean=0.0, std=1.0, after_alarm=mode, **kw)
        expected = whole.update_many(xs).tolist()
        got = first.update_many(xs[:3100]).tolist()  # stop inside the re-learning
        state = json.loads(json.dumps(first.to_state()))
        assert state["state"]["phase"] == ("hold" if mode == "hold" else
                                           "learn" if mode == "relearn" else "watch")
        restored = StreamDetector.from_state(state)
        got += (restored.update_many(xs[3100:]) + 3100).tolist()
        assert got == expected, cls.kind
        assert restored.episodes == whole.episodes


def test_reset_returns_to_the_given_reference_and_forgets_the_episodes() -> None:
    det = CUSUM(h=CUSUM_H, mean=0.0, std=1.0)
    det.update_many(_level_shift(19)[:4000])
    assert det.episodes >= 1 and det.mean_ != 0.0  # re-learned the new level
    det.reset()
    assert (det.episodes, det.phase, det.mean_, det.std_) == (0, "watch", 0.0, 1.0)
    assert det.to_state() == CUSUM(h=CUSUM_H, mean=0.0, std=1.0).to_state()


def test_a_state_saved_before_episodes_restores_as_the_chart_it_was() -> None:
    old = {"detector": "cusum", "version": 1,
           "params": {"h": 5.0, "k": 0.5, "mean": 0.0, "std": 1.0},
           "state": {"mu": 0.0, "sd": 1.0, "hi": 1.25, "lo": 0.0}}
    det = StreamDetector.from_state(old)
    assert isinstance(det, CUSUM) and det.after_alarm == "keep"
    assert det.statistics == (1.25, 0.0) and det.phase == "watch"


def test_bad_settings_are_named() -> None:
    with pytest.raises(ConfigError, match="after_alarm must be one of relearn, hold, keep"):
        CUSUM(mean=0.0, std=1.0, after_alarm="again")
    with pytest.raises(ConfigError, match="relearn_n must be an integer >= 3"):
        EWMA(mean=0.0, std=1.0, relearn_n=2)
    with pytest.raises(ConfigError, match=r"self_starting .* not both"):
        Shewhart(mean=0.0, std=1.0, self_starting=True)
    with pytest.raises(NotFittedError, match="self_starting"):
        CUSUM().update(1.0)
    det = make_detector({"type": "ewma", "target_arl0": 500, "self_starting": True,
                         "after_alarm": "hold", "relearn_n": 50})
    assert (det.self_starting, det.after_alarm, det.relearn_n) == (True, "hold", 50)
