"""The fleet example: 12 interdependent models, a fault at one upstream model, and the
result is one incident grouping the downstream alerts and one page, not nine."""

from __future__ import annotations

from tests.conftest import load_example


def test_a_fault_upstream_is_one_incident_and_one_page() -> None:
    example = load_example("fleet")
    result = example.main(quiet=True)
    hit = {example.FAULT_AT} | example.downstream_of(example.FAULT_AT)
    assert len(example.FLEET) == 12 and len(hit) == 9
    alerting = {m for m, alerts in result["alerts"].items() if alerts}
    assert alerting == hit  # the merchant side, untouched, stays quiet
    opened = [i for i in result["incidents"] if i["state"] == "open"]
    assert len(opened) == 1
    (incident,) = opened
    assert incident["root_model"] == example.FAULT_AT
    assert set(incident["models"]) == hit and incident["models"][0] == example.FAULT_AT
    roles = {m["model"]: m["role"] for m in incident["members"]}
    assert roles.pop(example.FAULT_AT) == "root" and set(roles.values()) == {"downstream"}
    # Any incident a downstream model opened before its cause was merged into this one.
    assert all(i["merged_into"] == incident["id"] for i in result["incidents"]
               if i["id"] != incident["id"])
    assert [(p["kind"], p["model"], p["incident"]["id"]) for p in result["pages"]] == [
        ("opened", example.FAULT_AT, incident["id"])]
    states = {m["name"]: m["state"] for m in result["fleet"]["models"]}
    assert {m for m, s in states.items() if s == "critical"} == hit
    assert {m for m, s in states.items() if s == "ok"} == set(example.FLEET) - hit
