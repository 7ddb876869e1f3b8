"""The tabular detector: verdicts, effect gating, corrections, inputs, quality facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from scipy import stats

from driftwise.detect import DriftDetector
from driftwise.errors import NotFittedError, SchemaError
from tests.conftest import make_pair


def test_flags_exactly_the_shifted_columns(drifted_pair) -> None:
    ref, cur = drifted_pair
    report = DriftDetector().fit(ref).compare(cur)
    assert sorted(report.drifted_columns) == ["cat_shift", "x_shift"]
    assert report.drift_detected
    assert report.dataset_drift.drifted_columns == 2
    assert report.dataset_drift.columns == 5


def test_no_drift_on_same_distribution(same_pair) -> None:
    ref, cur = same_pair
    report = DriftDetector().fit(ref).compare(cur)
    assert report.drifted_columns == []
    assert not report.drift_detected


def test_auto_tests_and_their_p_values_equal_scipy(drifted_pair) -> None:
    ref, cur = drifted_pair
    report = DriftDetector().fit(ref).compare(cur)
    x = report.column("x_shift")
    assert x.test == "ks"
    assert x.p_value == pytest.approx(stats.ks_2samp(ref.x_shift, cur.x_shift).pvalue,
                                      rel=1e-9)
    c = report.column("cat_shift")
    assert c.test == "chi2"
    table = pd.crosstab(np.r_[np.zeros(len(ref)), np.ones(len(cur))],
                        np.r_[ref.cat_shift, cur.cat_shift])
    assert c.p_value == pytest.approx(
        stats.chi2_contingency(table.to_numpy(), correction=False).pvalue, rel=1e-9)
    assert report.column("code").kind == "categorical"


def test_fdr_adjusted_p_values_are_reported(drifted_pair) -> None:
    ref, cur = drifted_pair
    report = DriftDetector(correction="fdr").fit(ref).compare(cur)
    raw = [c.p_value for c in report.columns]
    expected = stats.false_discovery_control(raw, method="bh")
    np.testing.assert_allclose([c.p_value_adjusted for c in report.columns], expected,
                               rtol=1e-12)
    bonf = DriftDetector(correction="bonferroni").fit(ref).compare(cur)
    np.testing.assert_allclose([c.p_value_adjusted for c in bonf.columns],
                               np.minimum(np.array(raw) * 5, 1.0))


def test_large_samples_tiny_shift_significant_but_not_practical() -> None:
    rng = np.random.default_rng(3)
    n = 200_000
    ref = {"x": rng.normal(0, 1, n)}
    cur = {"x": rng.normal(0.03, 1, n)}  # 0.03 sd: "significant", harmless
    col = DriftDetector().fit(ref).compare(cur).column("x")
    assert col.p_value < 1e-6
    assert col.effect < 0.1
    assert not col.drift_detected
    gated_off = DriftDetector(min_effect={"numeric": 0.0}).fit(ref).compare(cur)
    assert gated_off.column("x").drift_detected


def test_distance_tests_use_their_thresholds(drifted_pair) -> None:
    ref, cur = drifted_pair
    report = DriftDetector(numeric_test="psi", categorical_test="jensenshannon").fit(ref)\
        .compare(cur)
    x = report.column("x_shift")
    assert x.test == "psi" and x.p_value is None and x.threshold == 0.2
    assert x.drift_detected and x.statistic > 0.2
    assert not report.column("x_same").drift_detected
    strict = DriftDetector(numeric_test="psi", thresholds={"psi": 100.0}).fit(ref).compare(cur)
    assert not strict.column("x_shift").drift_detected


@pytest.mark.parametrize("test", ["ks", "anderson", "cvm", "mannwhitney", "wasserstein",
                                  "energy", "psi", "jensenshannon", "kl", "hellinger"])
def test_every_numeric_test_sees_a_one_sd_shift(drifted_pair, test: str) -> None:
    ref, cur = drifted_pair
    report = DriftDetector(numeric_test=test).fit(ref).compare(cur)
    assert report.column("x_shift").test == test
    assert report.column("x_shift").drift_detected
    assert not report.column("x_same").drift_detected


@pytest.mark.parametrize("test", ["chi2", "g_test", "psi", "jensenshannon", "tvd", "hellinger"])
def test_every_categorical_test_sees_the_mix_change(drifted_pair, test: str) -> None:
    ref, cur = drifted_pair
    report = DriftDetector(categorical_test=test).fit(ref).compare(cur)
    assert report.column("cat_shift").drift_detected
    assert not report.column("cat_same").drift_detected


def test_fisher_is_used_for_two_categories_and_falls_back_to_chi2() -> None:
    rng = np.random.default_rng(5)
    ref = {"b": rng.choice(["y", "n"], 300), "k": rng.choice(list("abc"), 300)}
    cur = {"b": rng.choice(["y", "n"], 300), "k": rng.choice(list("abc"), 300)}
    report = DriftDetector(categorical_test="fisher").fit(ref).compare(cur)
    assert report.column("b").test == "fisher"
    assert report.column("k").test == "chi2"
    assert "Fisher" in (report.column("k").note or "")


def test_auto_picks_fisher_for_sparse_two_category_tables() -> None:
    ref = {"rare": ["a"] * 40 + ["b"] * 2}
    cur = {"rare": ["a"] * 30 + ["b"] * 1}
    assert DriftDetector().fit(ref).compare(cur).column("rare").test == "fisher"


def test_discrete_numeric_auto_uses_chi2_on_values() -> None:
    rng = np.random.default_rng(6)
    ref = {"score": rng.choice([0.0, 0.5, 1.0], 1000)}
    cur = {"score": rng.choice([0.0, 0.5, 1.0], 1000, p=[0.2, 0.3, 0.5])}
    col = DriftDetector(kinds={"score": "numeric"}).fit(ref).compare(cur).column("score")
    assert col.test == "chi2" and col.drift_detected and "discrete" in (col.note or "")


def test_constant_and_single_category_columns() -> None:
    same = {"k": np.full(500, 3.5), "c": ["only"] * 500}
    report = DriftDetector(kinds={"k": "numeric"}).fit(same).compare(same)
    for name in ("k", "c"):
        assert report.column(name).p_value == 1.0
        assert not report.column(name).drift_detected
    changed = {"k": np.r_[np.full(250, 3.5), np.full(250, 7.0)], "c": ["only"] * 500}
    report = DriftDetector(kinds={"k": "numeric"}, numeric_test="ks").fit(same).compare(changed)
    assert report.column("k").drift_detected
    assert report.column("k").quality.out_of_range_share == 0.5


def test_quality_facts() -> None:
    ref = pd.DataFrame({"x": [1.5, 2.5, np.nan, 4.5] * 50, "c": ["a", "b", None, "a"] * 50})
    cur = pd.DataFrame({"x": [1.5, 9.5, np.nan, np.nan] * 50, "c": ["a", "z", "y", "z"] * 50})
    report = DriftDetector().fit(ref).compare(cur)
    qx = report.column("x").quality
    assert qx.missing_share_reference == 0.25 and qx.missing_share_current == 0.5
    assert qx.out_of_range_share == 0.5
    qc = report.column("c").quality
    assert qc.new_categories == ["z", "y"] and qc.new_categories_count == 2
    assert qc.new_category_share == 0.75
    assert qc.missing_share_reference == 0.25 and qc.missing_share_current == 0.0


def test_skipped_kinds_carry_reasons() -> None:
    rng = np.random.default_rng(7)
    n = 300
    ref = {"id": np.arange(n), "when": np.arange(n).astype("datetime64[s]"),
           "x": rng.normal(size=n)}
    report = DriftDetector().fit(ref).compare(ref)
    assert "identifier" in report.column("id").skipped
    assert "datetime" in report.column("when").skipped
    assert report.dataset_drift.columns == 1


def test_target_and_prediction_roles(drifted_pair) -> None:
    ref, cur = drifted_pair
    report = DriftDetector(target="cat_same", prediction="x_same").fit(ref).compare(cur)
    assert report.column("cat_same").role == "target"
    assert report.column("x_same").role == "prediction"
    assert report.column("x_shift").role == "feature"


def test_all_input_types_give_identical_reports(drifted_pair) -> None:
    ref, cur = drifted_pair
    base = DriftDetector().fit(ref).compare(cur).to_dict()
    for convert in (pl.from_pandas, pa.Table.from_pandas,
                    lambda df: {c: df[c].to_numpy() for c in df.columns}):
        other = DriftDetector().fit(convert(ref)).compare(convert(cur)).to_dict()
        assert other["columns"] == base["columns"]


def test_numpy_2d_input() -> None:
    rng = np.random.default_rng(8)
    ref = rng.normal(size=(1000, 3))
    cur = rng.normal(size=(1000, 3))
    cur[:, 1] += 1.0
    assert DriftDetector().fit(ref).compare(cur).drifted_columns == ["x1"]


def test_compare_before_fit_is_a_clear_error() -> None:
    with pytest.raises(NotFittedError, match="call fit"):
        DriftDetector().compare({"x": [1.0]})


def test_false_alarm_rate_of_the_dataset_verdict_with_twenty_columns() -> None:
    """FDR across 20 null columns keeps the dataset-level false alarm rate near alpha."""
    rng = np.random.default_rng(9)
    alarms = 0
    draws = 300
    for _ in range(draws):
        ref = rng.normal(size=(400, 20))
        cur = rng.normal(size=(400, 20))
        report = DriftDetector(min_effect={"numeric": 0.0}).fit(ref).compare(cur)
        alarms += report.drift_detected
    # Under the global null, BH controls the family-wise rate at alpha (0.05).
    assert alarms / draws <= 0.08
    uncorrected = 0
    for _ in range(100):
        ref = rng.normal(size=(400, 20))
        cur = rng.normal(size=(400, 20))
        uncorrected += DriftDetector(correction="none", min_effect={"numeric": 0.0}).fit(ref)\
            .compare(cur).drift_detected
    assert uncorrected / 100 > 0.4  # 1 - 0.95**20 = 0.64 without correction


# Repayment-status codes -2..8 with the shares of PAY_0 in the Taiwan credit-default data:
# the late codes are rare, so a window's expected counts of them are far below 1.
PAY_CODES = np.arange(-2, 9)
PAY_SHARES = np.array([2759, 5686, 14737, 3688, 2667, 322, 76, 26, 11, 9, 19]) / 30_000


def test_false_alarm_rate_of_the_dataset_verdict_on_sparse_integer_codes() -> None:
    """Six tied integer columns, a 200-row window beside a 5,000-row reference, no drift.

    No effect gate: the p-values and BH alone must hold the level. With the chi-square
    law's p-value on these sparse tables the verdict fired on 30 % of these pairs (23 %
    with the default gate); the auto test's conditional p-value fires on 6 %.
    """
    rng = np.random.default_rng(3)
    draws, alarms = 300, 0
    for _ in range(draws):
        ref = {f"pay_{j}": rng.choice(PAY_CODES, 5000, p=PAY_SHARES) for j in range(6)}
        cur = {f"pay_{j}": rng.choice(PAY_CODES, 200, p=PAY_SHARES) for j in range(6)}
        report = DriftDetector(min_effect={"categorical": 0.0}).fit(ref).compare(cur)
        assert report.column("pay_0").kind == "categorical"
        alarms += report.drift_detected
    # Under the global null BH holds the family-wise rate at 5 %; the binomial standard
    # error over 300 draws is 1.3 %.
    assert alarms / draws <= 0.08


def test_auto_uses_the_monte_carlo_p_value_on_sparse_tables() -> None:
    rng = np.random.default_rng(4)
    ref = {"code": rng.choice(PAY_CODES, 5000, p=PAY_SHARES),
           "common": rng.choice(list("abc"), 5000)}
    cur = {"code": rng.choice(PAY_CODES, 200, p=PAY_SHARES),
           "common": rng.choice(list("abc"), 200)}
    report = DriftDetector(kinds={"code": "numeric"}).fit(ref).compare(cur)
    code = report.column("code")
    assert (code.test, code.method) == ("chi2", "monte-carlo")
    assert "discrete" in (code.note or "")
    common = report.column("common")
    assert (common.test, common.method) == ("chi2", "asymptotic")
    # An explicit chi2 keeps the chi-square law (SciPy's p-value).
    explicit = DriftDetector(kinds={"code": "categorical"}, categorical_test="chi2").fit(ref)
    assert explicit.compare(cur).column("code").method == "asymptotic"


def test_make_pair_fixture_changes_with_shift() -> None:
    a, _ = make_pair(shift=0.0, seed=1)
    _, b = make_pair(shift=1.0, seed=1)
    assert b.x_shift.mean() - a.x_shift.mean() > 0.8


def test_compatible_storage_change_is_noted_not_refused() -> None:
    rng = np.random.default_rng(12)
    ref = pa.table({"amount": pa.array(rng.integers(0, 5000, 800), pa.int64())})
    cur = pa.table({"amount": pa.array(rng.integers(0, 5000, 800).astype(float))})
    col = DriftDetector().fit(ref).compare(cur).column("amount")
    assert col.quality.type_mismatch == "reference int64, current double"
    assert not col.drift_detected


def test_a_zero_one_column_that_becomes_boolean_is_a_type_error() -> None:
    ref = {"flag": np.array([0, 1] * 200)}
    cur = {"flag": np.array([False, True] * 200)}
    with pytest.raises(SchemaError, match="column 'flag' holds number values in the reference"):
        DriftDetector().fit(ref).compare(cur)
