"""/screen: verdicts from the outlier check; quarantined records held durably (across a
restart of the service), listed, released into the monitored stream or discarded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from service_helpers import ServiceFactory, records, register

from driftwise.cli import run

SCREEN = "/v1/models/m/screen"
OUTLIERS = {"checks": {"outliers": {"alpha": 0.01, "quarantine_alpha": 0.002}}}


def _far(n: int, start: int = 0) -> list[dict[str, Any]]:
    out = records(n, start=start, seed=9, prefix="far")
    for r in out:
        r["features"]["b"] = 40.0  # far beyond the reference
        r["client_key"] = "acct-7"
    return out


def test_screen_quarantines_outliers_and_allows_ordinary_records(
        make_service: ServiceFactory) -> None:
    service = make_service()
    register(service, **OUTLIERS)
    ordinary = records(400, seed=5)
    answer = service.post(SCREEN, json={"records": ordinary + _far(5)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    verdicts = [v["verdict"] for v in body["verdicts"]]
    assert verdicts[400:] == ["quarantine"] * 5
    assert verdicts[:400].count("quarantine") <= 4  # p <= 0.002 on ordinary rows: rare
    assert body["quarantined"] == verdicts.count("quarantine")
    # Screening a record again does not hold it twice.
    service.post(SCREEN, json={"records": _far(5)})
    held = service.get("/v1/models/m/quarantine").json()
    far = [h for h in held if h["record_id"].startswith("far")]
    assert len(far) == 5 and {h["client_key"] for h in far} == {"acct-7"}
    assert far[0]["reason"]["signal"] == "outlier" and far[0]["state"] == "held"

    # The queue survives a restart of the service (a new app over the same store).
    service.__exit__(None, None, None)
    again = make_service()
    held = again.get("/v1/models/m/quarantine").json()
    assert sorted(h["record_id"] for h in held if h["record_id"].startswith("far")) == \
        sorted(r["id"] for r in _far(5))

    first, second = [h["id"] for h in held if h["record_id"].startswith("far")][:2]
    released = again.post(f"/v1/models/m/quarantine/{first}/release", json={"by": "ana"})
    assert released.status_code == 200, released.text
    assert released.json()["state"] == "released" and released.json()["decided_by"] == "ana"
    discarded = again.post(f"/v1/models/m/quarantine/{second}/discard", json={"by": "ana"})
    assert discarded.json()["state"] == "discarded"
    twice = again.post(f"/v1/models/m/quarantine/{first}/release", json={"by": "bo"})
    assert twice.status_code == 409 and "already released" in twice.json()["detail"]
    # The released record entered the monitored stream: it is stored as a record (its id
    # is taken), the discarded one is not.
    record_id = released.json()["record_id"]
    clash = again.post("/v1/models/m/records", json=released.json()["record"])
    assert clash.status_code == 200  # a retry of a stored record
    assert record_id.startswith("far")
    states = {h["state"] for h in again.get("/v1/models/m/quarantine",
                                           params={"state": "all"}).json()}
    assert states >= {"released", "discarded"}


def test_screen_needs_an_outlier_check_and_every_feature(service: TestClient) -> None:
    register(service)
    refused = service.post(SCREEN, json={"records": records(3)})
    assert refused.status_code == 409 and "checks.outliers" in refused.json()["detail"]
    register(service, name="n", **OUTLIERS)
    record = records(1)[0]
    del record["features"]["b"]
    missing = service.post("/v1/models/n/screen", json={"records": [record]})
    assert missing.status_code == 422 and "'b'" in missing.json()["detail"]
    assert service.get("/v1/models/n/quarantine/99").status_code == 404


def test_the_cli_lists_shows_releases_and_discards(make_service: ServiceFactory, store_url: str,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    service = make_service()
    register(service, **OUTLIERS)
    assert service.post(SCREEN, json={"records": _far(3)}).json()["quarantined"] == 3
    monkeypatch.setenv("DRIFTWISE_DATABASE_URL", store_url)
    monkeypatch.setenv("DRIFTWISE_DATA_DIR", str(tmp_path / "data"))
    capsys.readouterr()
    assert run(["quarantine", "list", "m"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all("held" in line and "acct-7" in line for line in lines)
    entry = int(lines[0].split()[0])
    assert run(["quarantine", "show", "m", str(entry)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["reason"]["signal"] == "outlier" and shown["record"]["features"]["b"] == 40.0
    assert run(["quarantine", "release", "m", str(entry), "--by", "ana"]) == 0
    assert run(["quarantine", "discard", "m", str(int(lines[1].split()[0])), "--by", "ana"]) == 0
    assert run(["quarantine", "release", "m", str(entry), "--by", "ana"]) != 0  # decided
    capsys.readouterr()
    assert run(["quarantine", "list", "m", "--state", "all"]) == 0
    states = sorted(line.split()[1] for line in capsys.readouterr().out.strip().splitlines())
    assert states == ["discarded", "held", "released"]
    assert run(["quarantine", "list", "m", "--state", "lost"]) == 2


def test_a_probing_client_key_is_quarantined(make_service: ServiceFactory) -> None:
    service = make_service()
    register(service, checks={"outliers": {"alpha": 0.01}, "probing": {"min_duplicates": 6}})
    rng = np.random.default_rng(3)
    # Ordinary traffic from 100 keys: no probing signal.
    ordinary = records(600, seed=4)
    for i, r in enumerate(ordinary):
        r["client_key"] = f"client-{i % 100}"
    verdicts = service.post(SCREEN, json={"records": ordinary}).json()["verdicts"]
    assert not any("probing" in v["signals"] for v in verdicts)
    # One key walks a point to the decision boundary: perturbations of a few thousandths
    # of an sd (a black-box attack's step), its margins falling to 0.
    base = records(1, seed=5, prefix="probe")[0]
    walk = []
    for step in range(20):
        r = {**base, "id": f"probe-{step}", "client_key": "attacker",
             "features": {**base["features"],
                          "a": base["features"]["a"] + 0.002 * rng.normal(),
                          "b": base["features"]["b"] + 0.001 * rng.normal()},
             "probabilities": 0.5 + 0.4 * 0.8 ** step}
        walk.append(r)
    found = [service.post(SCREEN, json={"records": [r]}).json()["verdicts"][0] for r in walk]
    flagged = [i for i, v in enumerate(found) if "probing" in v["signals"]]
    assert flagged and flagged[0] < 12 and found[-1]["verdict"] == "quarantine"
    held = [h for h in service.get("/v1/models/m/quarantine").json()
            if h["client_key"] == "attacker"]
    assert held and "probing" in held[0]["reason"]["signals"]
    assert held[0]["reason"]["probing"]["near_duplicates"] >= 6
