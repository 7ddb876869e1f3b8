"""Real-valued streams into DDM and EDDM: an error indicator from a per-row loss or a residual
gives them errors to count (and alarms where the model got worse, not before), while a real
value fed to them directly is refused with a message that names the conversion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from driftwise.errors import ConfigError, InsufficientDataError, NotFittedError, SchemaError
from driftwise.stream import DDM, EDDM, ErrorIndicator, error_indicator


def classifier_stream(rng: np.random.Generator, n: int, noise: float) -> tuple[
        np.ndarray, np.ndarray]:
    """A binary classifier's probability for class 1 and the true class; ``noise`` flips
    that share of the labels (the model gets worse)."""
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-3 * x))
    y = (rng.random(n) < p).astype(int)
    flip = rng.random(n) < noise
    return p, np.where(flip, 1 - y, y)


def test_log_loss_above_ln2_is_exactly_a_wrong_prediction_and_ddm_sees_the_decay() -> None:
    rng = np.random.default_rng(0)
    p1, y1 = classifier_stream(rng, 3000, 0.0)
    p2, y2 = classifier_stream(rng, 1000, 0.3)
    p, y = np.concatenate([p1, p2]), np.concatenate([y1, y2])
    log_loss = -np.log(np.where(y == 1, p, 1 - p))
    errors = error_indicator(log_loss, above=math.log(2))
    assert (errors == ((p >= 0.5).astype(int) != y)).all()
    alarms = DDM().update_many(errors)
    assert alarms.size and 3000 < alarms[0] < 3400
    assert EDDM().update_many(errors).size >= 1


def test_an_absolute_residual_above_a_tolerance_lets_both_detectors_see_a_wider_spread() -> None:
    """A regressor's residual sd doubles at 3,000: a miss (|residual| > 2) goes from 4.6 % to
    32 % of rows. Both detectors alarm soon after in every series; before it they raise their
    own false alarms at this low error rate (DDM 23 in 60,000 values, EDDM 55: River's
    defaults, kept), which the conversion does not add to."""
    ddm_delays, eddm_delays = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        residual = np.concatenate([rng.normal(0, 1, 3000), rng.normal(0, 2, 1000)])
        errors = error_indicator(np.abs(residual), above=2.0)
        for detector, delays in ((DDM(), ddm_delays), (EDDM(), eddm_delays)):
            after = detector.update_many(errors)
            after = after[after >= 3000]
            delays.append(int(after[0]) - 3000 if after.size else 1000)
    assert max(ddm_delays) < 300 and float(np.median(ddm_delays)) < 100
    assert max(eddm_delays) < 300


def test_z_learns_the_in_control_level_from_a_reference() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(10, 2, 500)
    fitted = ErrorIndicator(z=3).fit(reference)
    assert fitted.mean_ == pytest.approx(reference.mean())
    assert fitted.std_ == pytest.approx(reference.std(ddof=1))
    values = np.array([10.0, 16.5, 3.0, 15.0])
    expected = (np.abs(values - reference.mean()) > 3 * reference.std(ddof=1)).astype(int)
    assert fitted.transform(values).tolist() == expected.tolist()
    assert error_indicator(values, z=3, reference=reference).tolist() == expected.tolist()
    assert error_indicator([10, 17], z=3, mean=10, std=2).tolist() == [0, 1]
    assert error_indicator([0.7, 0.9, 0.95], below=0.8, above=0.92).tolist() == [1, 0, 1]
    assert ErrorIndicator(below=0.8)(0.79) == 1


def test_a_real_value_fed_to_ddm_or_eddm_is_refused_naming_the_conversion() -> None:
    for detector in (DDM(), EDDM()):
        detector.update_many([0, 1, 0])
        before = detector.to_state()
        for bad in (0.37, 2, -1.0):
            with pytest.raises(SchemaError) as caught:
                detector.update(bad)
            message = str(caught.value)
            assert f"got {bad!r}" in message
            assert "driftwise.stream.error_indicator(values, above=" in message
            assert "`binarize: {above: ...}`" in message and "checks.stream" in message
        with pytest.raises(SchemaError, match="error_indicator"):
            detector.update_many([0, 1, 0.5])
        assert detector.to_state() == before


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "needs `above` and/or `below`.*not neither"),
    ({"above": 1.0, "z": 2.0}, "not both"),
    ({"above": 1.0, "below": 1.0}, r"below \(1.0\) must be less than above \(1.0\)"),
    ({"above": 1.0, "mean": 0.0, "std": 1.0}, "give `z` too"),
    ({"z": 2.0, "mean": 0.0}, "give both mean and std"),
    ({"z": 0.0}, "z must be a finite positive number"),
    ({"z": 2.0, "mean": 0.0, "std": -1.0}, "std must be a finite positive number"),
    ({"above": math.inf}, "above must be a finite number"),
    ({"above": True}, "above must be a finite number"),
    ({"below": "0.5"}, "below must be a finite number"),
])
def test_bad_indicators_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ErrorIndicator(**kwargs)


def test_missing_level_bad_values_and_constant_references_are_clear_errors() -> None:
    with pytest.raises(NotFittedError, match="give mean and std, or call fit"):
        ErrorIndicator(z=3).transform([1.0])
    with pytest.raises(ConfigError, match="z needs the in-control level: give reference="):
        error_indicator([1.0], z=3)
    with pytest.raises(ConfigError, match="reference sets the in-control mean and sd for `z`"):
        error_indicator([1.0], above=2, reference=[1.0, 2.0])
    with pytest.raises(SchemaError, match="position 1 is not finite"):
        ErrorIndicator(above=1).transform([0.5, math.nan])
    with pytest.raises(InsufficientDataError, match="the reference is constant"):
        ErrorIndicator(z=3).fit([2.0, 2.0, 2.0])
    with pytest.raises(InsufficientDataError, match="at least 2"):
        ErrorIndicator(z=3).fit([2.0])
    assert repr(ErrorIndicator(z=3, mean=0, std=1)) == "ErrorIndicator(z=3.0, mean=0.0, std=1.0)"
