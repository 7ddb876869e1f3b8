"""The credit-scoring example flags exactly the modified batches and names their causes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_example, needs_shared_data


@needs_shared_data
def test_exactly_the_modified_batches_are_flagged(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("credit_scoring")
    results = example.main()
    flagged = {i for i, r in enumerate(results, start=1) if r.alerts}
    assert flagged == set(example.MODIFIED)
    by_number = dict(enumerate(results, start=1))
    # Covariate shift: input drift led by the shifted feature, no performance gap.
    shift = by_number[3]
    assert shift.get("drift.columns.LIMIT_BAL.drift_detected")
    assert abs(shift.get("concept.performance_gap.roc_auc")) < 0.05
    # Truncation: PAY_0 drifted and its relation with the target changed.
    trunc = by_number[5]
    assert trunc.get("drift.columns.PAY_0.drift_detected")
    assert trunc.get("concept.PAY_0.change_p_value_adjusted") < 0.05
    # Concept drift: no input drift, relation changed, realized AUC far below the estimate,
    # and the flipped segment is the worst slice.
    concept = by_number[7]
    assert not concept.get("drift.dataset.drift_detected")
    assert concept.get("concept.PAY_0.change_p_value_adjusted") < 0.05
    assert concept.get("concept.performance_gap.roc_auc") < -0.1
    assert concept.worst_slices[0].name == "MARRIAGE=1"
    out = capsys.readouterr().out
    assert "PAY_0–Y relation changed" in out and "worst slice MARRIAGE=1" in out
    assert Path(example.__file__).name == "run.py"
    # Bands, value and expectations on every batch; clean batches break no data rule.
    for number, result in by_number.items():
        assert result.get("estimated.roc_auc.lower") <= result.get("estimated.roc_auc") <= \
            result.get("estimated.roc_auc.upper")
        assert result.get("business.estimated_change") is not None
        assert result.get("business.value") is not None
        if number not in example.MODIFIED:
            assert result.get("expectations.passed"), result.reasons
    assert "relation between the features and the target changed" in \
        concept.explanation.summary
    assert "in plain words:" in out
