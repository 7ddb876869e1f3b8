"""On real yearly data, CBPE estimates track the realized metrics once labels arrive."""

from __future__ import annotations

import numpy as np

from tests.conftest import load_example, needs_shared_data


@needs_shared_data
def test_estimated_and_realized_side_by_side() -> None:
    example = load_example("acs_employment")
    pairs = [(b, a) for b, a in example.main() if a.status == "ok"]
    assert len(pairs) >= 20
    est = np.array([b.get("estimated.roc_auc") for b, _ in pairs])
    real = np.array([a.get("performance.roc_auc") for _, a in pairs])
    lower = np.array([a.get("performance.roc_auc.lower") for _, a in pairs])
    upper = np.array([a.get("performance.roc_auc.upper") for _, a in pairs])
    # Before the join there are no labels; after it every row is labelled.
    assert all(b.get("performance.labelled_rows") == 0 for b, _ in pairs)
    assert all(a.get("performance.labelled_rows") == a.rows for _, a in pairs)
    assert np.mean(np.abs(est - real)) < 0.01
    inside = np.mean((est >= lower - 0.002) & (est <= upper + 0.002))
    assert inside >= 0.8
    # Bands hold the realized AUC; the value estimate tracks the realized value.
    low = np.array([b.get("estimated.roc_auc.lower") for b, _ in pairs])
    high = np.array([b.get("estimated.roc_auc.upper") for b, _ in pairs])
    assert np.mean((real >= low) & (real <= high)) >= 0.9
    est_value = np.array([b.get("business.estimated_value") for b, _ in pairs])
    real_value = np.array([a.get("business.value") for _, a in pairs])
    assert np.corrcoef(est_value, real_value)[0, 1] > 0.5
    # The suite from 2015 holds in 2016; from 2017 ages reach 95 (the top code changed).
    broken = [b for b, _ in pairs if not b.get("expectations.AGEP.range.passed")]
    assert broken and all("95.0" in b.reasons["expectations.AGEP.range"] for b in broken)
    assert pairs[0][0].get("expectations.passed")
