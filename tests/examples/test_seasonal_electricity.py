"""The seasonal-electricity example alerts on exactly the two broken days."""

from __future__ import annotations

import io

from tests.conftest import load_example, needs_shared_data


@needs_shared_data
def test_exactly_the_broken_days_alert_while_plain_drift_cries_wolf() -> None:
    example = load_example("seasonal_electricity")
    printed = io.StringIO()
    results = example.main(printed)
    assert len(results) == 28
    alerted = {n for n, r in enumerate(results) if r.alerts}
    assert alerted == set(example.BROKEN)
    for n, result in enumerate(results):
        anomalous = result.get("seasonal.nswdemand.anomalous")
        assert anomalous is (n in example.BROKEN), n
    # The plain test on the same column fires on most ordinary days: the cycle, not a bug.
    ordinary = [r for n, r in enumerate(results) if n not in example.BROKEN]
    assert sum(bool(r.get("drift.columns.nswdemand.drift_detected")) for r in ordinary) >= 20
    assert sum(bool(r.get("seasonal.nswdemand.seasonal")) for r in ordinary) >= 15
    # The zeroed stretch is caught by the burst score, the unit bug by the whole-day score.
    zeroed, scaled = results[10], results[19]
    assert zeroed.get("seasonal.nswdemand.burst_score") > zeroed.get(
        "seasonal.nswdemand.burst_threshold")
    assert scaled.get("seasonal.nswdemand.score") > scaled.get("seasonal.nswdemand.threshold")
    assert "seasonal check alerted on days [10, 19]" in printed.getvalue()
