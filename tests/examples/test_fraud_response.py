"""The fraud response example on the real ULB data: calibrated outlier p-values, a boundary
attack flagged, blocked and lifted, an outage that the retraining policy answers with
retrain, the quarantine queue worked by an analyst, and each incident exported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_example, needs_shared_data


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    example = load_example("fraud_response")
    found: dict[str, Any] = example.main(quiet=True,
                                         out_dir=tmp_path_factory.mktemp("fraud-out"))
    return found


def _trail(report: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in report["trail"] if e["kind"] == kind]


@needs_shared_data
def test_outlier_p_values_are_calibrated_and_see_frauds(result: dict[str, Any]) -> None:
    s = result["screening"]
    assert s["alpha"] == 0.01
    # Traffic drawn like the reference: the share at p <= alpha is about alpha (the
    # conformal guarantee; its sd over 800 rows and ~600 calibration rows is ~0.5 %).
    assert s["ordinary"]["rows"] >= 780
    assert s["ordinary"]["share"] <= 0.03
    assert s["legit"]["rows"] >= 750 and s["legit"]["share"] <= 0.03
    assert s["legit"]["quarantined"] <= 2
    assert s["verdicts"]["allow"] >= 0.95 * s["ordinary"]["rows"]
    # Frauds are outlying far more often (measured: about 20 % against 0.5 %).
    assert s["fraud"]["rows"] >= 200
    assert s["fraud"]["share"] >= 0.10
    assert s["fraud"]["share"] >= 5 * max(s["legit"]["share"], 1 / s["legit"]["rows"])
    # Nobody else was taken for a prober.
    assert s["probing_flags_elsewhere"] == 0


@needs_shared_data
def test_the_boundary_attack_is_flagged_and_quarantined(result: dict[str, Any]) -> None:
    p = result["probing"]
    assert len(p["queries"]) == 20
    assert p["flagged_at"] is not None and p["flagged_at"] < 12
    assert p["quarantined_from_flag"]
    assert all(q["verdict"] != "quarantine" or "probing" in q["signals"]
               for q in p["queries"][:p["flagged_at"] - 1])
    # The walk closed on the decision boundary: the probabilities on 0.5.
    distance = [abs(q["probability"] - 0.5) for q in p["queries"]]
    assert max(distance[:3]) > 0.1 and max(distance[-10:]) < 0.01
    # Each probe alone looks ordinary: the outlier screen would have let every one pass.
    assert all(q["p_value"] > result["screening"]["alpha"] for q in p["queries"])


@needs_shared_data
def test_the_probing_incident_blocks_the_key_and_dry_runs_the_rollback(
        result: dict[str, Any]) -> None:
    report = result["incidents"]["probing"]
    assert report["root_alert"]["rule"] == "probing"
    actions = {a["action"]: a for a in report["actions"]}
    assert set(actions) == {"block-prober", "rollback"}
    assert actions["block-prober"]["status"] == "done"
    assert actions["rollback"]["status"] == "dry_run"
    assert "would POST" in actions["rollback"]["result"]["detail"]
    assert result["rollback_requests"] == []  # a dry run sends nothing
    (block,) = result["blocks"]
    assert block["client_key"] == result["probing"]["key"]
    assert block["incident_id"] == report["id"]
    after = result["after_block"]
    assert after["verdict"] == "quarantine" and "blocked" in after["signals"]
    kinds = [e["kind"] for e in report["trail"]]
    assert kinds[0] == "opened"
    assert "block" in kinds and "block_lifted" in kinds
    assert kinds.index("block") < kinds.index("block_lifted")
    (lifted,) = _trail(report, "block_lifted")
    assert lifted["actor"] == "analyst" and lifted["block_id"] == block["id"]
    assert [b["lifted_by"] for b in result["quarantine"]["lifted"]] == ["analyst"]


@needs_shared_data
def test_the_outage_is_decided_retrain_and_the_job_runs(result: dict[str, Any]) -> None:
    windows = {w["window"]: w for w in result["windows"]}
    assert set(windows) == {0, 1, 2}
    outage, clean = windows[1], [windows[0], windows[2]]
    assert outage["drift.dataset.share"] >= 0.2
    assert all(w["drift.dataset.share"] < 0.1 for w in clean)
    # The model really got worse: the realized AUC (the outcomes were in) fell.
    assert outage["performance.roc_auc"] < 0.93
    assert all(w["performance.roc_auc"] > 0.97 for w in clean)
    report = result["incidents"]["input-drift"]
    (decision,) = _trail(report, "decision")
    assert decision["decision"] == "retrain" and decision["waiting_for_labels"]
    assert decision["evidence"]["realized_loss"] >= 0.05
    assert decision["then"] == ["retrain"]
    actions = {a["action"]: a for a in report["actions"]}
    assert actions["policy"]["status"] == "decided"
    assert actions["retrain"]["status"] == "done"
    assert actions["retrain"]["why"]["decision"] == "retrain"
    request = result["retrain_request"]
    assert request is not None and request["incident"] == str(report["id"])
    assert request["context"]["decision"] == "retrain"
    assert request["context"]["waiting_for_labels"] is True


@needs_shared_data
def test_the_queue_is_worked_and_the_incidents_exported(result: dict[str, Any]) -> None:
    q = result["quarantine"]
    by_id = {e["id"]: e for e in q["after"]}
    (released,) = q["released"]
    assert released["state"] == "released" and released["decided_by"] == "analyst"
    assert released["record_id"] == result["after_block"]["id"]
    probes = [e for e in q["held_before"] if e["record_id"].startswith("probe-")]
    assert len(probes) == 20 - result["probing"]["flagged_at"] + 1
    assert {e["id"] for e in q["discarded"]} == {e["id"] for e in probes}
    assert all(by_id[e["id"]]["state"] == "discarded" and
               by_id[e["id"]]["decided_by"] == "analyst" for e in probes)
    for report in result["incidents"].values():
        assert report["impact"]["records"] > 0
        assert report["state"] == "resolved" and report["resolution"]["by"] == "driftwise"
    paths = [Path(p) for p in result["exports"]]
    assert len(paths) == 2
    for path in paths:
        exported = json.loads(path.read_text())
        assert exported["impact"]["records"] > 0 and exported["trail"]
