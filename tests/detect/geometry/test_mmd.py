"""MMD: equal to the O(n²) definition, reproducible, calibrated under no drift, powerful."""

from __future__ import annotations

import numpy as np
import pytest

from driftwise.detect.geometry import mmd as mmd_mod
from driftwise.detect.geometry.mmd import (
    mmd2_unbiased,
    mmd_block_test,
    mmd_permutation_test,
    mmd_test,
)
from driftwise.errors import ConfigError, InsufficientDataError


@pytest.mark.parametrize(("n", "m", "scales"), [(40, 40, (1.0,)), (30, 55, (0.5, 1.0, 2.0))])
def test_statistic_equals_the_direct_computation(n: int, m: int, scales: tuple[float, ...]) -> (
    None
):
    rng = np.random.default_rng(n + m)
    x, y = rng.normal(size=(n, 4)), rng.normal(0.2, 1.3, size=(m, 4))
    result = mmd_permutation_test(x, y, scales=scales, n_permutations=20)
    assert result.statistic == pytest.approx(mmd2_unbiased(x, y, result.bandwidths), abs=1e-12)
    r32 = mmd_permutation_test(x.astype(np.float32), y.astype(np.float32), scales=scales,
                               n_permutations=20)
    assert r32.statistic == pytest.approx(result.statistic, rel=1e-4, abs=1e-6)


def test_every_permutation_statistic_equals_the_direct_computation() -> None:
    """The one-product shortcut (with the diagonal terms) matches each relabelled split."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(25, 3)), rng.normal(size=(35, 3))
    z = np.concatenate([x, y])
    labels = mmd_mod._label_matrix(25, 35, 5, 7, np.float64)
    sigma = mmd_mod.median_bandwidth(z)
    quad, cross, total = mmd_mod._quadratic_forms_numpy(z, labels, [1 / (2 * sigma**2)])
    fast = mmd_mod._mmd2_from_forms(quad, cross, total, 25, 35)
    for j in range(labels.shape[1]):
        chosen = labels[:, j] == 1
        assert fast[j] == pytest.approx(mmd2_unbiased(z[chosen], z[~chosen], [sigma]), abs=1e-12)


def test_same_seed_same_p_value_and_torch_agrees() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(80, 6)), rng.normal(0.15, 1, size=(90, 6))
    a = mmd_permutation_test(x, y, n_permutations=200, seed=5)
    b = mmd_permutation_test(x, y, n_permutations=200, seed=5)
    assert a == b
    t = mmd_permutation_test(x, y, n_permutations=200, seed=5, backend="torch")
    assert t.p_value == a.p_value
    assert t.statistic == pytest.approx(a.statistic, abs=1e-10)


def test_false_positive_rate_under_no_drift() -> None:
    """300 draws at alpha 0.05: the permutation p-value is exact, so 2-8 % reject."""
    rng = np.random.default_rng(10)
    p = [mmd_permutation_test(rng.normal(size=(60, 5)), rng.normal(size=(50, 5)),
                              n_permutations=99, seed=i).p_value for i in range(300)]
    rate = float(np.mean(np.array(p) < 0.05))
    assert 0.02 <= rate <= 0.08, rate


def test_block_test_false_positive_rate_under_no_drift() -> None:
    rng = np.random.default_rng(11)
    p = [mmd_block_test(rng.normal(size=(400, 5)), rng.normal(size=(400, 5)), seed=i).p_value
         for i in range(300)]
    rate = float(np.mean(np.array(p) < 0.05))
    assert 0.02 <= rate <= 0.08, rate


def test_power_for_a_small_shift_on_384_dimensions() -> None:
    """+0.05 on every one of 384 dimensions, n = 2000 per sample: detected every time."""
    rng = np.random.default_rng(12)
    hits = []
    for i in range(10):
        x = rng.normal(size=(2000, 384)).astype(np.float32)
        y = (rng.normal(size=(2000, 384)) + 0.05).astype(np.float32)
        hits.append(mmd_permutation_test(x, y, n_permutations=100, seed=i).p_value < 0.05)
    assert np.mean(hits) >= 0.9


def test_auto_switches_to_the_block_test_on_large_samples() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    assert mmd_test(x, y, max_permutation_rows=500).method == "block"
    assert mmd_test(x, y).method == "permutation"


def test_bad_arguments_get_clear_errors() -> None:
    x = np.zeros((3, 2))
    with pytest.raises(InsufficientDataError, match="at least 4 rows"):
        mmd_permutation_test(x, x)
    with pytest.raises(ConfigError, match="bandwidths must be positive"):
        mmd_permutation_test(np.ones((10, 2)), np.ones((10, 2)), bandwidth=0.0)
    with pytest.raises(InsufficientDataError, match="two blocks"):
        mmd_block_test(np.ones((3, 2)), np.ones((3, 2)))


def test_missing_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)
    rng = np.random.default_rng(4)
    with pytest.raises(ConfigError, match=r"driftwise\[torch\]"):
        mmd_permutation_test(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)),
                             backend="torch")


def test_constant_samples_do_not_drift() -> None:
    result = mmd_permutation_test(np.ones((20, 3)), np.ones((20, 3)), n_permutations=50)
    assert result.p_value == 1.0 and result.statistic == pytest.approx(0.0, abs=1e-12)
