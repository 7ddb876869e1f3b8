"""Adversarial signals: calibrated low-confidence p-values and window shifts; query probing
flagged on a simulated boundary attack, not on ordinary traffic from many keys or retries."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression

from driftwise.detect.adversarial import ConfidenceMonitor, QueryProbingDetector, margins
from driftwise.errors import ConfigError, NotFittedError, SchemaError


def test_margins_binary_and_multiclass() -> None:
    assert margins(np.array([0.9, 0.5, 0.2])).tolist() == pytest.approx([0.8, 0.0, 0.6])
    p = np.array([[0.7, 0.2, 0.1], [0.34, 0.33, 0.33]])
    assert margins(p).tolist() == pytest.approx([0.5, 0.01])
    with pytest.raises(SchemaError, match="row 1 does not sum to 1"):
        margins(np.array([[0.5, 0.5], [0.5, 0.4]]))
    with pytest.raises(SchemaError, match="row 0 holds a value outside"):
        margins(np.array([1.5, 0.2]))
    with pytest.raises(SchemaError, match="not numbers"):
        margins(["a", "b"])


def test_low_margin_p_values_are_calibrated() -> None:
    shares = []
    for draw in range(40):
        rng = np.random.default_rng(draw)
        mon = ConfidenceMonitor().fit(rng.beta(6, 2, 2000))
        shares.append(np.mean(mon.p_values(rng.beta(6, 2, 3000)) <= 0.02))
    assert 0.8 * 0.02 <= np.mean(shares) <= 1.2 * 0.02


def test_window_confidence_shift_false_alarms_and_power() -> None:
    rng = np.random.default_rng(1)
    mon = ConfidenceMonitor(alpha=0.05, min_drop=0.0).fit(rng.beta(6, 2, 5000))
    fired = [mon.compare(rng.beta(6, 2, 500)).drift_detected for _ in range(300)]
    assert np.mean(fired) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)
    # A 15 % drop of the mean confidence is found, and sized.
    ref = rng.beta(6, 2, 5000)
    mon = ConfidenceMonitor().fit(ref)
    window = np.clip(rng.beta(6, 2, 1000) * 0.85 + 0.075, 0, 1)  # margins ~15 % lower
    shift = mon.compare(window)
    assert shift.drift_detected and shift.relative_change == pytest.approx(-0.15, abs=0.05)
    expected = stats.mannwhitneyu(margins(window), margins(ref), alternative="less").pvalue
    assert shift.p_value == pytest.approx(expected)
    # Significant but tiny: not called a shift (min_drop 5 % by default).
    tiny = ConfidenceMonitor().fit(ref).compare(np.clip(rng.beta(6, 2, 100_000) - 0.01, 0, 1))
    assert tiny.p_value < 0.01 and not tiny.drift_detected


def _model_and_data(seed: int) -> tuple[LogisticRegression, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(6000, 8))
    y = (x[:, 0] + 0.5 * x[:, 1] - 0.3 * x[:, 2] + 0.3 * rng.normal(size=6000) > 0).astype(int)
    return LogisticRegression().fit(x, y), x


def _boundary_attack(model: LogisticRegression, source: np.ndarray, target: np.ndarray,
                     rng: np.random.Generator, steps: int = 40) -> np.ndarray:
    """A black-box decision-boundary walk: a binary search between a point of each class,
    then random perturbations of shrinking size that keep the adversarial label, each a
    query (the shape of HopSkipJump's and the boundary attack's query streams)."""
    label = model.predict(source[None])[0]
    queries = []
    lo, hi = source, target
    for _ in range(12):  # binary search on the segment
        mid = (lo + hi) / 2
        queries.append(mid)
        if model.predict(mid[None])[0] == label:
            lo = mid
        else:
            hi = mid
    current, size = hi, 0.3
    while len(queries) < steps:
        candidate = current + size * rng.normal(size=current.size) / np.sqrt(current.size)
        candidate = candidate + 0.1 * (source - candidate)  # towards the source image
        queries.append(candidate)
        if model.predict(candidate[None])[0] != label:
            current = candidate
        size *= 0.93
    return np.array(queries)


def test_a_boundary_attack_is_flagged_and_ordinary_traffic_is_not() -> None:
    model, x = _model_and_data(2)
    det = QueryProbingDetector().fit(x[:3000])
    rng = np.random.default_rng(3)
    # Ordinary traffic: 1,000 keys, 30 queries each over an hour, interleaved.
    n = 30_000
    keys = [f"client-{i % 1000}" for i in range(n)]
    queries = rng.normal(size=(n, 8))
    verdicts = det.observe_many(keys, queries, margins(model.predict_proba(queries)),
                                np.linspace(0, 3600, n))
    assert not any(v.flagged for v in verdicts)
    # Five attackers, each walking one point of class 0 to the boundary.
    found = []
    for a in range(5):
        source = x[3000 + a]
        target = x[3100 + int(np.flatnonzero(model.predict(x[3100:3200])
                                            != model.predict(source[None]))[0])]
        walk = _boundary_attack(model, source, target, rng)
        out = det.observe_many([f"attacker-{a}"] * len(walk), walk,
                               margins(model.predict_proba(walk)),
                               3600 + np.arange(len(walk)) * 0.2)
        flagged_at = [i for i, v in enumerate(out) if v.flagged]
        found.append(flagged_at[0] if flagged_at else None)
    assert all(f is not None and f < 25 for f in found), found


def test_retries_are_not_probing_and_memory_is_bounded() -> None:
    model, x = _model_and_data(4)
    det = QueryProbingDetector(max_keys=50, max_queries=16, window_s=60.0).fit(x[:2000])
    confident = margins(model.predict_proba(x[2000:])) > 0.5
    record = x[2000 + int(np.flatnonzero(confident)[0])]
    m = float(margins(model.predict_proba(record[None]))[0])
    assert m > 0.3
    retries = det.observe_many(["retry"] * 16, np.repeat(record[None], 16, axis=0), [m] * 16,
                               np.arange(16.0))
    assert retries[-1].near_duplicates == 15 and not retries[-1].flagged
    assert "retries" in retries[-1].reason
    for i in range(200):
        det.observe(f"k{i}", x[i], margin=0.5, timestamp=100.0 + i)
    assert det.keys_tracked == 50
    # Queries older than window_s leave the window.
    det.observe("late", x[0], timestamp=0.0)
    later = det.observe("late", x[0], timestamp=1000.0)
    assert later.queries == 1 and later.near_duplicates == 0


def test_bad_settings_and_input() -> None:
    _, x = _model_and_data(5)
    with pytest.raises(ConfigError, match=r"min_duplicates .* cannot exceed max_queries"):
        QueryProbingDetector(min_duplicates=40).fit(x)
    with pytest.raises(NotFittedError):
        QueryProbingDetector().observe("k", x[0])
    det = QueryProbingDetector().fit(x[:500])
    with pytest.raises(SchemaError, match="2 keys for 3 records"):
        det.observe_many(["a", "b"], x[:3])
    with pytest.raises(ConfigError, match="alpha must be in"):
        ConfidenceMonitor(alpha=2.0).fit(np.full(100, 0.9))


def test_repeated_reference_rows_do_not_blind_the_probing_radius() -> None:
    from driftwise.detect.adversarial import QueryProbingDetector

    x = np.random.default_rng(0).normal(size=(1000, 5))
    x[500:530] = x[:30]  # 3 % exact repeats, as real logs hold
    columns = {f"x{j}": x[:, j] for j in range(5)}
    detector = QueryProbingDetector(min_duplicates=6).fit(columns)
    assert detector.radius_ > 0
    found = [detector.observe("k", x[0] + 1e-6 * q, margin=0.4 * 0.8 ** q, timestamp=q)
             for q in range(20)]
    assert found[-1].flagged and found[-1].near_duplicates >= 6
