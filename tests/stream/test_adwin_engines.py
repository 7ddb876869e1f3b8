"""ADWIN's compiled core and its pure-Python core are one algorithm: same alarms, same state."""

from __future__ import annotations

import copy
import json
import math
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftwise.errors import ConfigError, SchemaError, StateError
from driftwise.stream import ADWIN, StreamDetector, adwin

ENGINES = ["compiled", "python"]


def test_the_compiled_core_is_built_by_the_install() -> None:
    # `make setup` installs with gcc present: the suite must exercise the C core, not
    # silently fall back to Python.
    assert adwin.COMPILED, "driftwise.stream._adwin was not built; reinstall with a C compiler"
    assert ADWIN().compiled
    assert not ADWIN(engine="python").compiled


def regime_stream(seed: int, n: int = 30_000) -> np.ndarray:
    """Mean and variance changes of several sizes, with a stretch of ties (integers)."""
    rng = np.random.default_rng(seed)
    parts = [rng.normal(0.0, 1.0, n // 3), rng.normal(0.4, 1.0, n // 3),
             np.round(rng.normal(0.4, 3.0, n - 2 * (n // 3)))]
    return np.concatenate(parts)


@pytest.mark.parametrize("params", [
    {}, {"clock": 1, "grace_period": 0}, {"clock": 7, "max_buckets": 2},
    {"delta": 0.2, "min_window_length": 1}, {"delta": 1e-6, "clock": 64, "max_buckets": 9},
])
@pytest.mark.parametrize("seed", range(3))
def test_engines_give_the_same_alarms_and_states(params: dict[str, Any], seed: int) -> None:
    xs = regime_stream(seed)
    compiled, python = ADWIN(**params, engine="compiled"), ADWIN(**params, engine="python")
    got_c, got_p = compiled.update_many(xs), python.update_many(xs)
    assert got_c.tolist() == got_p.tolist()
    assert compiled.to_state() == python.to_state()
    one_by_one = ADWIN(**params)
    assert [i for i, x in enumerate(xs.tolist()) if one_by_one.update(x)] == got_c.tolist()
    assert one_by_one.to_state() == compiled.to_state()
    assert compiled.width == python.width and compiled.estimation == python.estimation


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=400),
       clock=st.integers(1, 40), max_buckets=st.integers(2, 6),
       cut_at=st.integers(0, 400))
def test_engines_agree_on_any_finite_stream_and_states_cross_over(
        values: list[float], clock: int, max_buckets: int, cut_at: int) -> None:
    params: dict[str, Any] = {"clock": clock, "max_buckets": max_buckets, "grace_period": 0,
                              "delta": 0.05}
    head, tail = values[:cut_at], values[cut_at:]
    compiled, python = ADWIN(**params, engine="compiled"), ADWIN(**params, engine="python")
    assert compiled.update_many(head).tolist() == python.update_many(head).tolist()
    state = json.loads(json.dumps(compiled.to_state()))
    assert state == python.to_state()
    # A state saved by one core continues exactly in the other.
    resumed = ADWIN.from_state(state)
    python_resumed = ADWIN(**params, engine="python")
    python_resumed._load_state(StreamDetector.from_state(state)._state_fields())
    assert resumed.update_many(tail).tolist() == python_resumed.update_many(tail).tolist() \
        == python.update_many(tail).tolist()
    assert resumed.to_state() == python.to_state() == python_resumed.to_state()


@pytest.mark.parametrize("engine", ENGINES)
def test_non_finite_values_are_rejected_by_both_engines(engine: str) -> None:
    det = ADWIN(engine=engine)  # type: ignore[arg-type]
    det.update_many(np.arange(100.0))
    before = det.to_state()
    for bad in (math.nan, math.inf, -math.inf, np.float64("nan")):
        with pytest.raises(SchemaError, match=r"update: value .* is not finite"):
            det.update(bad)
    for bad in ("1.0", None, [1.0], complex(1, 1)):
        with pytest.raises(SchemaError, match=r"update: expected a number, got"):
            det.update(bad)  # type: ignore[arg-type]
    assert det.to_state() == before


@pytest.mark.parametrize("engine", ENGINES)
def test_pickle_and_deepcopy_continue_exactly(engine: str) -> None:
    xs = regime_stream(5, 9000)
    det = ADWIN(delta=0.01, engine=engine)  # type: ignore[arg-type]
    det.update_many(xs[:4000])
    for clone in (pickle.loads(pickle.dumps(det)), copy.deepcopy(det)):
        assert clone.compiled == det.compiled and clone.get_params() == det.get_params()
        assert clone.update_many(xs[4000:]).tolist() == ADWIN.from_state(
            det.to_state()).update_many(xs[4000:]).tolist()
    det.update_many(xs[4000:])


def good_state() -> dict[str, Any]:
    det = ADWIN(clock=8)
    det.update_many(np.arange(203.0))
    return det.to_state()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("width", 999, "buckets hold"),
    ("tick", 2, "pending values but tick"),
    ("totals", [[1.0, 2.0]] * 30, "rows of totals"),
    ("variances", [[0.0], [0.0]] + [[]] * 10, "totals but"),
    ("pending", ["x", 1.0, 2.0], "list of numbers"),
    ("totals", [], "non-empty"),
])
@pytest.mark.parametrize("engine", ENGINES)
def test_inconsistent_states_are_refused(engine: str, field: str, value: Any,
                                         message: str) -> None:
    state = good_state()
    state["state"][field] = value
    det = ADWIN(clock=8, engine=engine)  # type: ignore[arg-type]
    with pytest.raises(StateError, match=message):
        det._load_state(StreamDetector.from_state(good_state())._state_fields() | {field: value})
    with pytest.raises(StateError):
        ADWIN.from_state(state)


def test_engine_and_delta_are_checked() -> None:
    with pytest.raises(ConfigError, match="engine"):
        ADWIN(engine="rust")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"delta must be in \(0, 1\)"):
        ADWIN(delta=1.5)


def test_compiled_engine_without_the_build_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adwin, "_compiled", None)
    with pytest.raises(ConfigError, match="not built"):
        ADWIN(engine="compiled")
    det = ADWIN()  # auto falls back to the Python core
    assert not det.compiled
    assert det.update_many(regime_stream(0)).tolist() == ADWIN(
        engine="python").update_many(regime_stream(0)).tolist()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_one_value_window_is_never_cut(engine: str) -> None:
    # clock 1 and no grace period: the first check sees a single value (no split exists).
    det = ADWIN(clock=1, grace_period=0, engine=engine)  # type: ignore[arg-type]
    assert det.update(3.0) is False
    assert det.width == 1 and det.estimation == 3.0


@pytest.mark.parametrize("engine", ENGINES)
def test_reading_the_window_changes_nothing(engine: str) -> None:
    xs = regime_stream(4, 6000).tolist()
    quiet = ADWIN(engine=engine)  # type: ignore[arg-type]
    watched = ADWIN(engine=engine)  # type: ignore[arg-type]
    for i, x in enumerate(xs):
        assert quiet.update(x) == watched.update(x)
        if i % 7 == 0:
            assert watched.estimation == quiet.estimation and watched.width == quiet.width
            ADWIN.from_state(watched.to_state())  # mid-period states restore too
    assert watched.to_state() == quiet.to_state()


def test_random_operation_sequences_keep_the_engines_together() -> None:
    rng = np.random.default_rng(12)
    for trial in range(20):
        params = {"clock": int(rng.integers(1, 40)), "max_buckets": int(rng.integers(2, 7)),
                  "min_window_length": int(rng.integers(1, 6)),
                  "grace_period": int(rng.integers(0, 20)),
                  "delta": float(rng.choice([0.002, 0.05, 0.3]))}
        compiled = ADWIN(**params, engine="compiled")
        python = ADWIN(**params, engine="python")
        for _ in range(int(rng.integers(1, 15))):
            op = rng.random()
            if op < 0.5:
                xs = rng.normal(rng.choice([0.0, 3.0]), 1.0, int(rng.integers(0, 2000)))
                assert compiled.update_many(xs).tolist() == python.update_many(xs).tolist()
            elif op < 0.8:
                for x in rng.normal(0.0, 1.0, int(rng.integers(0, 150))).tolist():
                    assert compiled.update(x) == python.update(x)
            elif op < 0.9:
                compiled = ADWIN.from_state(compiled.to_state())
            else:
                compiled.reset()
                python.reset()
            assert compiled.to_state() == python.to_state(), (trial, params)
            assert compiled.estimation == python.estimation
