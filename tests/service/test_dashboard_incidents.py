"""The incident page over a real service: what an incident with actions, a block and a note
shows, its JSON download, the links to it, unknown incidents, keys limited to models, and
client keys and notes that try to inject HTML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import ServiceFactory, records, register, settled, wait_for, wait_windows

from driftwise.dashboard.auth import COOKIE
from driftwise.store import keys, open_store, sessions

SEED = 300
SCRIPT = "<script>alert(1)</script>"
HOSTILE_BY = "<img src=x onerror=alert(2)>"
RULE = {"name": "share", "metric": "drift.dataset.share", "condition": ">= 0.3",
        "severity": "critical", "clear": "< 0.1", "clear_for": 1,
        "actions": ["rollback", "block"]}
ACTIONS = [{"name": "rollback", "kind": "webhook", "url": "http://127.0.0.1:9/rb",
            "dry_run": True},
           {"name": "block", "kind": "block_client", "client_keys": [SCRIPT]}]


@pytest.fixture
def engine(store_url: str) -> Iterator[Any]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def _window(client: TestClient, name: str, n: int, shift: float) -> None:
    batch = records(200, start=200 * n, shift=shift, seed=SEED + n)
    assert client.post(f"/v1/models/{name}/records/batch",
                       json={"records": batch}).json()["accepted"] == 200
    wait_windows(client, name, n + 1)



def _incident(client: TestClient, name: str = "m") -> int:
    """Register ``name`` with the bound actions, a clean then a drifting window; the
    incident's id once both actions finished."""
    register(client, name, alerts=[RULE], actions=ACTIONS,
             checks={"outliers": {"alpha": 0.01}})
    _window(client, name, 0, 0.0)
    _window(client, name, 1, 3.0)
    (incident,) = client.get("/v1/incidents").json()
    settled(client, incident["id"], 2)
    return int(incident["id"])


def _section(page: str, section_id: str) -> str:
    return page.split(f'<section id="{section_id}"')[1].split("</section>")[0]


def test_the_page_shows_the_incident_its_actions_and_its_trail(
        make_service: ServiceFactory) -> None:
    client = make_service()
    incident = _incident(client)
    noted = client.post(f"/v1/incidents/{incident}/notes",
                        json={"by": HOSTILE_BY, "text": f"paged the owner {SCRIPT}"})
    assert noted.status_code == 200, noted.text
    answer = client.get(f"/incidents/{incident}")
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"].startswith("default-src 'none';")
    page = answer.text
    header = page.split('<header class="panel" id="incident-header">')[1].split("</header>")[0]
    assert f"<h1>Incident {incident} " in header and '<a href="/models/m">m</a>' in header
    assert f'href="/incidents/{incident}.json"' in header and "Download JSON" in header
    assert "share" in header and "resolved" not in header  # still open

    # The window that opened it, in plain words, above the facts.
    story = _section(page, "explanation")
    assert page.index('<section id="explanation"') < page.index('<section id="models"')
    assert '<a href="/models/m">m</a>, window 1 (opened)' in story
    assert "<p><strong>Inputs drifted (a" in story and "<p>a moved: median" in story
    assert '<a href="/models/m#alert-1">alert 1</a>' in _section(page, "models")
    impact = _section(page, "impact")
    assert re.search(r'<tr class="impact"><td class="name"><a href="/models/m">m</a></td>'
                     r'<td>1 \(1\)</td>.*?<td class="num">200</td><td class="num">200</td>',
                     impact)
    assert "<td>accuracy</td><td>estimated</td>" in impact  # against the reference's

    actions = _section(page, "actions")
    rollback = re.search(r'<tr class="action dry-run" data-status="dry_run">(.*?)</tr>',
                         actions)
    assert rollback is not None and "rollback" in rollback.group(1)
    assert "dry run: nothing done" in rollback.group(1)
    assert "would POST http://127.0.0.1:9/rb" in rollback.group(1)
    block = re.search(r'<tr class="action" data-status="done">(.*?)</tr>', actions)
    assert block is not None and "block_client" in block.group(1)
    assert "blocked client key &#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;" in \
        block.group(1)

    blocks = _section(page, "blocks")
    assert "client key <code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in blocks
    assert "<td>in force</td>" in blocks
    assert "No retraining decision" in _section(page, "decisions")

    trail = _section(page, "trail")
    kinds = re.findall(r'<tr class="event" data-kind="([a-z_]+)">', trail)
    assert kinds[:2] == ["opened", "alert"] and kinds[-1] == "note"
    assert kinds.count("action_queued") == 2 and kinds.count("action_result") == 2
    assert "block" in kinds
    assert "paged the owner &lt;script&gt;alert(1)&lt;/script&gt;" in trail
    assert "&lt;img src=x onerror=alert(2)&gt;" in trail
    for raw in ("<script>", "<img src=x"):
        assert raw not in page, raw

    # The fleet's incidents and the model's alert link here.
    fleet = client.get("/fleet").text.split('<table id="incidents">')[1]
    assert f'<a href="/incidents/{incident}">{incident}</a>' in fleet
    alert = client.get("/models/m").text.split('id="alert-1"')[1].split("</details>")[0]
    assert f'<a href="/incidents/{incident}">incident {incident}</a>' in alert

    # A clean window resolves it: the header says when and why.
    _window(client, "m", 2, 0.0)
    header = client.get(f"/incidents/{incident}").text.split("</header>")[0]
    assert "<dt>resolved</dt>" in header and "none of its alerts is open" in header


def test_the_json_download_is_the_export(make_service: ServiceFactory) -> None:
    client = make_service()
    incident = _incident(client)
    client.post(f"/v1/incidents/{incident}/notes", json={"by": "ana", "text": SCRIPT})
    _window(client, "m", 2, 0.0)  # resolved: the export no longer moves with the clock
    download = client.get(f"/incidents/{incident}.json")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/json"
    assert download.headers["content-disposition"] == \
        f'attachment; filename="incident-{incident}.json"'
    assert download.headers["x-content-type-options"] == "nosniff"
    mine = download.json()
    api = client.get(f"/v1/incidents/{incident}/report").json()
    assert mine.pop("exported_at") <= api.pop("exported_at")
    assert mine == api
    (note,) = [e for e in mine["trail"] if e["kind"] == "note"]
    (story,) = mine["explanations"]  # one model: its latest alert-moving window's story
    assert story["model"] == "m" and story["window"] == 2 and story["event"] == "resolved"
    assert story["text"].splitlines()[0] == story["summary"]
    opened = next(e for e in mine["trail"] if e["kind"] == "alert" and e["event"] == "opened")
    assert "Inputs drifted" in opened["explanation"]["summary"]
    assert note["text"] == SCRIPT  # the record, not its escaped text


def test_unknown_incidents_are_not_found(make_service: ServiceFactory) -> None:
    client = make_service()
    register(client)
    for path in ("/incidents/1", "/incidents/999", "/incidents/1.json", "/incidents/0",
                 "/incidents/abc", "/incidents/%C2%B2", "/incidents/99999999999",
                 "/incidents/-1", f"/incidents/{'9' * 5000}"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "<h1>Not found</h1>" in answer.text and "no incident" in answer.text, path
    assert "no incident &#x27;abc&#x27;" in client.get("/incidents/abc").text


def test_a_key_limited_to_other_models_is_told_not_found(make_service: ServiceFactory,
                                                        engine: Any) -> None:
    client = make_service(api_key="admin-for-pages")
    client.headers["authorization"] = "Bearer admin-for-pages"
    register(client, "other")
    incident = _incident(client)
    client.headers.pop("authorization")
    # Signed out: both routes ask for a key first.
    for path in (f"/incidents/{incident}", f"/incidents/{incident}.json"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/login?next=" + path.replace("/", "%2F")
    _text, limited = keys.create_key(engine, "team-other", ("read",), ("other",))
    client.cookies.set(COOKIE, sessions.create_session(engine, limited.id, ttl_s=600))
    for path in (f"/incidents/{incident}", f"/incidents/{incident}.json"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert f"no incident {incident}" in answer.text
        assert "share" not in answer.text and "rollback" not in answer.text
    def unstyled(path: str) -> str:
        return re.sub(r'nonce="[^"]+"', "", client.get(path).text)
    # The same answer as for an incident that does not exist.
    assert unstyled(f"/incidents/{incident + 1}") == \
        unstyled(f"/incidents/{incident}").replace(f"no incident {incident}",
                                                   f"no incident {incident + 1}")
    # The session stands for the key at the pages only: the API wants the key itself,
    # which is why the page links its own download.
    assert client.get(f"/v1/incidents/{incident}/report").status_code == 401
    _text, reader = keys.create_key(engine, "team-m", ("read",), ("m",))
    client.cookies.set(COOKIE, sessions.create_session(engine, reader.id, ttl_s=600))
    assert client.get(f"/incidents/{incident}").status_code == 200
    assert client.get(f"/incidents/{incident}.json").json()["id"] == incident


def _downstream(client: TestClient, engine: Any) -> int:
    """``up``'s incident with its actions, joined by the alert of ``down`` (which consumes
    up); the client signed in with a key that reads ``down`` only."""
    client.headers["authorization"] = "Bearer admin-for-pages"
    incident = _incident(client, "up")
    register(client, "down", alerts=[{**RULE, "actions": []}],
             model={"positive_class": "1", "upstream": ["up"]})
    _window(client, "down", 0, 0.0)
    _window(client, "down", 1, 3.0)
    wait_for(lambda: len(client.get(f"/v1/incidents/{incident}").json()["members"]) == 2,
             what="down's alert in up's incident")
    client.headers.pop("authorization")
    _text, key = keys.create_key(engine, "team-down", ("read",), ("down",))
    client.cookies.set(COOKIE, sessions.create_session(engine, key.id, ttl_s=600))
    return incident


def test_a_downstream_key_sees_its_own_part_only(make_service: ServiceFactory,
                                                 engine: Any) -> None:
    client = make_service(api_key="admin-for-pages")
    incident = _downstream(client, engine)
    page = client.get(f"/incidents/{incident}")
    assert page.status_code == 200
    assert '<a href="/models/down#alert-1">alert 1</a>' in _section(page.text, "models")
    assert "And 1 model(s) this key does not read." in page.text
    assert 'href="/models/up"' not in page.text  # named as the root, never linked
    assert "No action:" in _section(page.text, "actions")
    impact = _section(page.text, "impact")
    assert '<a href="/models/down">down</a>' in impact and ">up<" not in impact
    trail = _section(page.text, "trail")
    assert "up alert" not in trail and "of up" not in trail


def test_a_downstream_key_reads_nothing_of_the_upstream_response(
        make_service: ServiceFactory, engine: Any) -> None:
    client = make_service(api_key="admin-for-pages")
    incident = _downstream(client, engine)
    page = client.get(f"/incidents/{incident}").text
    export = client.get(f"/incidents/{incident}.json").text
    assert [x["model"] for x in json.loads(export)["explanations"]] == ["down"]
    for shown in (page, export):
        assert "rollback" not in shown and "127.0.0.1:9" not in shown  # up's webhook
        assert "alert(1)" not in shown  # the client key up's action blocked


def _hostile_report() -> dict[str, Any]:
    """A merged incident whose every client- or person-written string is a script: its
    trail has each kind of event, and one of a kind this page does not know."""
    bad = SCRIPT
    at = 1.7e9
    block = {"block_id": 3, "target": "segment", "client_key": None,
             "segment": {bad: bad}, "until": at + 60, "extended": True}
    trail = [
        {"kind": "opened", "model": bad, "alert_id": 1, "rule": bad, "severity": bad,
         "window": 4},
        {"kind": "alert", "model": bad, "alert_id": 1, "rule": bad, "severity": "critical",
         "event": bad, "window": 4, "value": 0.5, "role": bad},
        {"kind": "action_queued", "action": bad, "action_kind": bad, "window": 4,
         "why": {"rule": bad, "bound_by": bad}, "dry_run": True},
        {"kind": "action_result", "action": bad, "action_kind": bad, "status": bad,
         "detail": bad},
        {"kind": "decision", "decision": bad, "reasons": [bad, bad], "metric": bad,
         "waiting_for_labels": True, "evidence": {bad: bad}, "reference": {bad: 0.9},
         "then": [bad]},
        {"kind": "block", **block},
        {"kind": "block_lifted", "block_id": 3, "target": "client", "client_key": bad},
        {"kind": "note", "text": f"{bad}\nsecond line"},
        {"kind": "absorbed", "incident": 9, "root_model": bad},
        {"kind": "merged", "into": 12, "why": bad},
        {"kind": bad, bad: {bad: [bad]}},
    ]
    for n, e in enumerate(trail, start=1):
        e.update(id=n, at=at + n, actor=bad)
    return {"id": 7, "root_model": bad, "state": "merged", "opened_at": at, "updated_at": at,
            "models": [bad], "members": [{"model": bad, "alert_id": 1, "role": bad,
                                          "joined_at": at}],
            "root_alert": {"model": bad, "alert_id": 1, "rule": bad, "severity": bad},
            "merged_into": 12, "trail": trail,
            "actions": [{"action": bad, "model": bad, "alert_id": 1, "window": 4,
                         "status": "failed", "attempts": 3, "queued_at": at,
                         "finished_at": at + 1, "spec": {"kind": bad, "dry_run": False},
                         "why": {"rule": bad}, "result": {bad: bad}}],
            "impact": {"records": 10, "predictions": 10, "quarantined": 2, "models": [
                {"model": bad, "since": at, "until": at + 9, "windows": [4, 5],
                 "records": 10, "predictions": 10,
                 "performance": {f"performance.{bad}": 0.5}, "reference_performance": {
                     bad: 0.75}, "quarantined": 2, "quarantined_by_signal": {bad: 2},
                 "blocked_now": []}]},
            "resolution": {"state": "merged", "at": at + 9, "by": bad, "why": bad,
                           "merged_into": 12},
            "explanations": [{"model": bad, "window": bad, "event": bad, "at": at,
                              "summary": bad, "text": f"{bad}\n{bad}\n{bad}"}],
            "exported_at": at + 10}


def test_every_string_of_the_export_is_escaped() -> None:
    from driftwise.dashboard.auth import Viewer
    from driftwise.dashboard.incident_page import incident_page
    from driftwise.dashboard.views import IncidentView

    page = incident_page(IncidentView(_hostile_report()), "n0nce", Viewer(None, None))
    assert "<script" not in page and "alert(1)</" not in page
    shown = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert page.count(shown) >= 60
    for section in ("explanation", "models", "impact", "actions", "decisions", "blocks",
                    "trail"):
        assert shown in _section(page, section), section
    assert '<a href="/incidents/12">incident 12</a>' in page  # merged into
    assert '<a href="/incidents/9">incident 9</a>' in page  # absorbed
    assert "<dt>merged into</dt>" in page and '<span class="health no-data">merged' in page
    decision = _section(page, "decisions")
    assert decision.count(f"<li>{shown}</li>") == 2 and "<dd>yes</dd>" in decision
    blocks = _section(page, "blocks")
    assert f"segment <code>{shown} = {shown}</code>" in blocks and "lifted by" in blocks
    assert '<span class="status failed">failed</span>' in _section(page, "actions")
    perf = _section(page, "impact").split('id="impact-performance"')[1]
    assert '<td class="num">0.5</td><td class="num">0.75</td><td class="num">-0.25</td>' \
        in perf
