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
