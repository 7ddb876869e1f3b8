"""Property: for any parameters and any stream, update_many raises exactly update's alarms."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from driftwise.stream import CUSUM, EWMA, Shewhart


def loop(det: CUSUM | EWMA | Shewhart, xs: np.ndarray) -> list[int]:
    return [i for i, x in enumerate(xs.tolist()) if det.update(x)]


def batched(det: CUSUM | EWMA | Shewhart, xs: np.ndarray, splits: int) -> list[int]:
    """Alarm positions of update_many over ``splits`` consecutive parts of ``xs``."""
    got: list[int] = []
    offset = 0
    for part in np.array_split(xs, splits):
        got += [offset + int(i) for i in det.update_many(part)]
        offset += part.size
    return got


streams = st.builds(
    lambda seed, n, shift, at, scale, rounded: _stream(seed, n, shift, at, scale, rounded),
    st.integers(0, 2**32 - 1), st.integers(2_000, 30_000), st.floats(-3, 3), st.floats(0, 1),
    st.floats(0.1, 10), st.booleans(),
)


def _stream(seed: int, n: int, shift: float, at: float, scale: float,
            rounded: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xs = rng.normal(0.0, scale, n) + np.where(np.arange(n) >= at * n, shift, 0.0)
    return np.round(xs) if rounded else xs  # rounded values put sums exactly on h


@settings(max_examples=40, deadline=None)
@given(xs=streams, h=st.one_of(st.floats(0.5, 12), st.sampled_from([1.0, 2.5, 4.0, 5.0])),
       k=st.one_of(st.floats(0, 1.5), st.just(0.5)),
       mean=st.one_of(st.floats(-1, 1), st.just(0.0)),
       std=st.one_of(st.floats(0.2, 5), st.just(1.0)), splits=st.integers(1, 4))
def test_cusum(xs: np.ndarray, h: float, k: float, mean: float, std: float,
               splits: int) -> None:
    a, b = CUSUM(h=h, k=k, mean=mean, std=std), CUSUM(h=h, k=k, mean=mean, std=std)
    assert batched(a, xs, splits) == loop(b, xs)


@settings(max_examples=40, deadline=None)
@given(xs=streams, lam=st.floats(0.01, 1.0), L=st.floats(0.5, 4), exact=st.booleans(),
       splits=st.integers(1, 4))
def test_ewma(xs: np.ndarray, lam: float, L: float, exact: bool, splits: int) -> None:
    a = EWMA(lam=lam, L=L, mean=0.0, std=1.0, exact_limits=exact)
    b = EWMA(lam=lam, L=L, mean=0.0, std=1.0, exact_limits=exact)
    assert batched(a, xs, splits) == loop(b, xs)
    assert a.to_state() == b.to_state()


@settings(max_examples=20, deadline=None)
@given(xs=streams, L=st.floats(0.5, 4))
def test_shewhart(xs: np.ndarray, L: float) -> None:
    assert Shewhart(L=L, mean=0.0, std=1.0).update_many(xs).tolist() == loop(
        Shewhart(L=L, mean=0.0, std=1.0), xs)
