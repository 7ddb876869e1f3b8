"""The automated response through the service: actions bound to alert rules run when the
alert opens, once per incident, each step in the incident's append-only trail; blocks that
/screen enforces; the retraining policy's decision; the incident's export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_helpers import ServiceFactory, records, register, settled, wait_windows

from driftwise.cli import run

SEED = 300


def _window(client: TestClient, n: int, shift: float, **extra: Any) -> None:
    batch = records(200, start=200 * n, shift=shift, seed=SEED + n, **extra)
    assert client.post("/v1/models/m/records/batch",
                       json={"records": batch}).json()["accepted"] == 200
    wait_windows(client, "m", n + 1)



def test_bound_actions_run_once_per_incident_into_the_trail(
        make_service: ServiceFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flags, ran = tmp_path / "flags.json", tmp_path / "retrained.txt"
    script = ("import os, pathlib; p = pathlib.Path(os.environ['OUT']); "
              "p.write_text(p.read_text() + os.environ['DRIFTWISE_INCIDENT'] + ' ' "
              "if p.exists() else os.environ['DRIFTWISE_INCIDENT'] + ' ')")
    actions = [
        {"name": "rollback", "kind": "webhook", "url": "http://127.0.0.1:9/rollback",
         "dry_run": True},
        {"name": "freeze", "kind": "flag_file", "path": str(flags), "flag": "model_v2",
         "value": False},
        {"name": "retrain", "kind": "command", "argv": [sys.executable, "-c", script]}]
    rule = {"name": "share", "metric": "drift.dataset.share", "condition": ">= 0.3",
            "severity": "critical", "clear": "< 0.1", "clear_for": 1,
            "actions": ["rollback", "freeze", "retrain"]}
    monkeypatch.setenv("OUT", str(ran))
    service = make_service()
    register(service, alerts=[rule], actions=actions)
    for n, shift in enumerate([0.0, 3.0, 3.0]):  # opens at window 1, still firing at 2
        _window(service, n, shift)
    (incident,) = service.get("/v1/incidents").json()
    report = settled(service, incident["id"], 3)
    by_name = {a["action"]: a for a in report["actions"]}
    assert set(by_name) == {"rollback", "freeze", "retrain"}  # once, though it fired twice
    assert by_name["rollback"]["status"] == "dry_run"
    assert "would POST http://127.0.0.1:9/rollback" in by_name["rollback"]["result"]["detail"]
    assert by_name["freeze"]["status"] == "done"
    assert json.loads(flags.read_text()) == {"model_v2": False}
    assert by_name["retrain"]["status"] == "done"
    assert ran.read_text().split() == [str(incident["id"])]
    kinds = [e["kind"] for e in report["trail"]]
    assert kinds[0] == "opened" and kinds.count("action_queued") == 3
    assert kinds.count("action_result") == 3
    assert all(e["actor"] == "driftwise" for e in report["trail"])
    queued = [e for e in report["trail"] if e["kind"] == "action_queued"]
    assert {e["why"]["rule"] for e in queued} == {"share"} and queued[0]["window"] == 1
    assert report["impact"]["records"] == 400  # windows 1 and 2, while it is open
    assert report["resolution"] is None

    # Clean windows resolve it; a new drift is a new incident: the actions run again.
    _window(service, 3, 0.0)
    resolved = service.get(f"/v1/incidents/{incident['id']}/report").json()
    assert resolved["state"] == "resolved" and resolved["resolution"]["by"] == "driftwise"
    assert resolved["impact"]["records"] == 400  # the clean window that resolved it is not in
    _window(service, 4, 3.0)
    newest = service.get("/v1/incidents").json()[0]
    assert newest["id"] != incident["id"]
    settled(service, newest["id"], 3)
    assert ran.read_text().split() == [str(incident["id"]), str(newest["id"])]

    # A person's note joins the trail; the export is the same after a restart.
    noted = service.post(f"/v1/incidents/{incident['id']}/notes",
                         json={"by": "ana", "text": "rolled back canary by hand too"})
    assert noted.status_code == 200, noted.text
    assert noted.json()["trail"][-1] == {**noted.json()["trail"][-1], "kind": "note",
                                         "actor": "ana",
                                         "text": "rolled back canary by hand too"}
    service.__exit__(None, None, None)
    again = make_service()
    after = again.get(f"/v1/incidents/{incident['id']}/report").json()
    assert after["trail"] == noted.json()["trail"]


def _probe(base: dict[str, Any], step: int, rng: np.random.Generator) -> dict[str, Any]:
    return {**base, "id": f"probe-{step}", "client_key": "attacker",
            "features": {**base["features"],
                         "a": base["features"]["a"] + 0.002 * rng.normal(),
                         "b": base["features"]["b"] + 0.001 * rng.normal()},
            "probabilities": 0.5 + 0.4 * 0.8 ** step}


def test_a_probing_key_is_blocked_by_the_incident_and_lifted_by_hand(
        make_service: ServiceFactory) -> None:
    service = make_service()
    register(service, checks={"outliers": {"alpha": 0.01}, "probing": {"min_duplicates": 6}},
             actions=[{"name": "block", "kind": "block_client", "duration_s": 3600}],
             alerts=[{"name": "probing", "metric": "screen.probing_keys",
                      "condition": "> 0", "severity": "critical", "actions": ["block"]}])
    rng = np.random.default_rng(3)
    base = records(1, seed=5, prefix="probe")[0]
    for step in range(20):
        service.post("/v1/models/m/screen", json={"records": [_probe(base, step, rng)]})
    # Ordinary traffic from many keys: screened (allowed) and logged; it closes a window.
    ordinary = records(200, seed=SEED)
    for i, r in enumerate(ordinary):
        r["client_key"] = f"client-{i % 50}"
    verdicts = service.post("/v1/models/m/screen", json={"records": ordinary}).json()
    assert not any({"probing", "blocked"} & set(v["signals"]) for v in verdicts["verdicts"])
    service.post("/v1/models/m/records/batch", json={"records": ordinary})
    (window,) = wait_windows(service, "m", 1)
    assert window["status"] != "failed"  # screen.* rules are known to the Monitor's run
    metrics = {r["metric"]: r["value"] for r in service.get(
        "/v1/models/m/results", params={"prefix": "screen."}).json()["results"]}
    assert metrics["screen.probing_keys"] == 1 and metrics["screen.probing"] >= 8
    (incident,) = service.get("/v1/incidents").json()
    report = settled(service, incident["id"], 1)
    assert report["actions"][0]["status"] == "done", report["actions"]
    (block,) = service.get("/v1/models/m/blocks").json()
    assert block["client_key"] == "attacker" and block["incident_id"] == incident["id"]
    # The attacker's ordinary-looking records are quarantined now; others' are not.
    fresh = records(2, seed=SEED + 1, prefix="late")
    fresh[0]["client_key"], fresh[1]["client_key"] = "attacker", "client-1"
    late = service.post("/v1/models/m/screen", json={"records": fresh}).json()["verdicts"]
    assert late[0]["verdict"] == "quarantine" and "blocked" in late[0]["signals"]
    assert "blocked" not in late[1]["signals"]
    # Lifted by hand: recorded in the trail, enforced at once on this server.
    lifted = service.post(f"/v1/models/m/blocks/{block['id']}/lift", json={"by": "ana"})
    assert lifted.status_code == 200 and lifted.json()["lifted_by"] == "ana"
    again = service.post("/v1/models/m/blocks/{}/lift".format(block["id"]), json={"by": "bo"})
    assert again.status_code == 409
    fresh[0]["id"] = "late-again"
    after = service.post("/v1/models/m/screen", json={"records": fresh[:1]}).json()
    assert "blocked" not in after["verdicts"][0]["signals"]
    trail = service.get(f"/v1/incidents/{incident['id']}/report").json()["trail"]
    assert [e["kind"] for e in trail if e["kind"].startswith("block")] == [
        "block", "block_lifted"]
    assert trail[-1]["actor"] == "ana"


def test_blocks_by_hand_and_their_refusals(service: TestClient) -> None:
    register(service, checks={"outliers": {"alpha": 0.01}})
    made = service.post("/v1/models/m/blocks", json={"by": "ana", "segment": {"c": "v"},
                                                      "duration_s": 60, "reason": "fraud ring"})
    assert made.status_code == 200, made.text
    batch = records(40, seed=SEED)
    verdicts = service.post("/v1/models/m/screen", json={"records": batch}).json()["verdicts"]
    for r, v in zip(batch, verdicts, strict=True):
        assert ("blocked" in v["signals"]) == (r["features"]["c"] == "v")
    both = service.post("/v1/models/m/blocks", json={"by": "ana", "client_key": "k",
                                                      "segment": {"c": "v"}})
    assert both.status_code == 422 and "exactly one" in both.text
    neither = service.post("/v1/models/m/blocks", json={"by": "ana"})
    assert neither.status_code == 422
    unknown = service.post("/v1/models/m/blocks", json={"by": "ana", "client_key": "k",
                                                         "incident_id": 999})
    assert unknown.status_code == 404
    assert service.post("/v1/models/m/blocks/999/lift", json={"by": "a"}).status_code == 404


def test_the_policy_decides_and_runs_the_decision_s_actions(
        make_service: ServiceFactory, tmp_path: Path) -> None:
    service = make_service()
    register(service, checks={"estimated_performance": True},
             actions=[{"name": "retrain", "kind": "webhook", "url": "http://127.0.0.1:9/t",
                       "dry_run": True},
                      {"name": "recalibrate", "kind": "webhook",
                       "url": "http://127.0.0.1:9/c", "dry_run": True}],
             policy={"metric": "accuracy", "retrain": ["retrain"],
                     "recalibrate": ["recalibrate"]},
             alerts=[{"name": "unsure", "metric": "estimated.accuracy",
                      "condition": "< 0.65", "policy": True}])
    _window(service, 0, 0.0)
    # The model turns unsure: every probability near 0.5, so CBPE's accuracy falls.
    batch = records(200, start=200, seed=SEED + 1)
    for r in batch:
        r["probabilities"] = 0.5 + 0.02 * (r["probabilities"] - 0.5)
    service.post("/v1/models/m/records/batch", json={"records": batch})
    wait_windows(service, "m", 2)
    (incident,) = service.get("/v1/incidents").json()
    report = settled(service, incident["id"], 2)
    (decision,) = [e for e in report["trail"] if e["kind"] == "decision"]
    assert decision["decision"] == "retrain" and decision["waiting_for_labels"]
    assert decision["evidence"]["estimated_loss"] > 0.05
    assert decision["reference"]["accuracy"] > 0.7
    assert any("estimated performance loss" in r for r in decision["reasons"])
    by_name = {a["action"]: a for a in report["actions"]}
    assert set(by_name) == {"policy", "retrain"}
    assert by_name["retrain"]["status"] == "dry_run"
    assert by_name["retrain"]["why"]["decision"] == "retrain"


def test_the_cli_exports_notes_blocks_and_lifts(
        make_service: ServiceFactory, store_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    service = make_service()
    rule = {"name": "share", "metric": "drift.dataset.share", "condition": ">= 0.3",
            "actions": ["rollback"]}
    register(service, checks={"outliers": {"alpha": 0.01}}, alerts=[rule],
             actions=[{"name": "rollback", "kind": "webhook", "url": "http://127.0.0.1:9/r",
                       "dry_run": True, "headers": {"authorization": "Bearer s3cret"}}])
    _window(service, 0, 3.0)
    (incident,) = service.get("/v1/incidents").json()
    settled(service, incident["id"], 1)
    monkeypatch.setenv("DRIFTWISE_DATABASE_URL", store_url)
    monkeypatch.setenv("DRIFTWISE_DATA_DIR", str(tmp_path / "data"))
    capsys.readouterr()
    assert run(["incident", "list"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.split()[:3] == [str(incident["id"]), "open", "m"]
    assert run(["incident", "note", str(incident["id"]), "paged the owner", "--by", "ana"]) == 0
    out = tmp_path / "incident.json"
    assert run(["incident", "export", str(incident["id"]), "-o", str(out)]) == 0
    exported = json.loads(out.read_text())
    assert exported["trail"][-1]["text"] == "paged the owner"
    assert exported["actions"][0]["status"] == "dry_run"
    assert "s3cret" not in out.read_text()  # header values never reach the trail
    assert exported["actions"][0]["spec"]["headers"] == ["authorization"]
    assert run(["incident", "export", "999"]) == 2
    assert run(["block", "add", "m", "--by", "ana", "--client-key", "k1",
                "--incident", str(incident["id"])]) == 0
    assert run(["block", "add", "m", "--by", "ana", "--segment", "c=v", "--duration-s", "60"]) == 0
    assert run(["block", "add", "m", "--by", "ana"]) == 2
    assert run(["block", "add", "m", "--by", "ana", "--segment", "novalue"]) == 2
    capsys.readouterr()
    assert run(["block", "list", "m"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split()[1] for ln in lines] == ["segment", "client"]
    assert run(["block", "lift", "m", lines[1].split()[0], "--by", "bo"]) == 0
    assert run(["block", "lift", "m", lines[1].split()[0], "--by", "bo"]) == 2
    trail = service.get(f"/v1/incidents/{incident['id']}/report").json()["trail"]
    assert [e["kind"] for e in trail][-2:] == ["block", "block_lifted"]
    assert trail[-1]["actor"] == "bo"


def test_an_alert_reopened_in_its_cooldown_reopens_its_incident_without_acting_again(
        service: TestClient) -> None:
    rule = {"name": "share", "metric": "drift.dataset.share", "condition": ">= 0.3",
            "clear": "< 0.1", "cooldown_s": 3600, "actions": ["rollback"]}
    register(service, alerts=[rule], actions=[{"name": "rollback", "kind": "webhook",
                                               "url": "http://127.0.0.1:9/r",
                                               "dry_run": True}])
    for n, shift in enumerate([3.0, 0.0]):
        _window(service, n, shift)
    (incident,) = service.get("/v1/incidents").json()
    assert incident["state"] == "resolved"
    _window(service, 2, 3.0)
    again = service.get("/v1/incidents").json()
    assert [i["id"] for i in again] == [incident["id"]] and again[0]["state"] == "open"
    report = settled(service, incident["id"], 1)
    assert [e["kind"] for e in report["trail"] if e["kind"] in ("resolved", "reopened")] == [
        "resolved", "reopened"]
    assert [a["action"] for a in report["actions"]] == ["rollback"]  # once per incident
