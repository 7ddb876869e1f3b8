"""The dashboard's pages over a real service: what they show after clean then drifting
traffic, the feature drill-down, the fleet graph, keys limited to models, and names that try
to inject HTML."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from service_helpers import (
    ServiceFactory,
    parquet_bytes,
    records,
    reference_table,
    register,
    wait_for,
    wait_windows,
)
from sqlalchemy import update

from driftwise.app import models
from driftwise.dashboard.auth import COOKIE
from driftwise.dashboard.graph import layers
from driftwise.store import keys, open_store, sessions
from driftwise.store import schema as s

DRIFT_RULE = {"name": "dataset drift", "metric": "drift.dataset.drift_detected",
              "condition": "== true", "severity": "warning"}
HOSTILE = """<img src=x onerror=alert(1)>"'&"""


@pytest.fixture
def engine(store_url: str) -> Iterator[Any]:
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def _open_alert(client: TestClient, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = wait_for(
        lambda: client.get(f"/v1/models/{quote(name, safe='')}/alerts",
                           params={"state": "open"}).json(), what=f"an alert of {name}")
    return found


def _drifted(client: TestClient, name: str = "m") -> None:
    """A clean window, then a drifting one whose rule opens an alert."""
    path = f"/v1/models/{quote(name, safe='')}/records/batch"
    client.post(path, json={"records": records(200)})
    client.post(path, json={"records": records(200, start=200, shift=2.0, seed=5)})
    wait_windows(client, name, 2)
    _open_alert(client, name)


def test_the_alert_shows_on_the_overview_and_the_model_page(
        make_service: ServiceFactory) -> None:
    client = make_service()
    register(client, "m", alerts=[DRIFT_RULE])
    register(client, "quiet")
    assert 'data-health="no_data"' in client.get("/").text  # nothing evaluated yet
    empty = client.get("/models/quiet")
    assert empty.status_code == 200 and "No window measured drift yet." in empty.text
    assert client.get("/models/quiet/features/a").status_code == 404
    _drifted(client)
    overview = client.get("/").text
    row = re.search(r'<tr class="model" data-health="([a-z_]+)"><td class="name">'
                    r'<a href="/models/m">m</a>', overview)
    assert row is not None and row.group(1) == "warning"
    assert "1 warning" in overview and "window 1 (ok)" in overview
    assert re.search(r'data-health="no_data"><td class="name"><a href="/models/quiet">',
                     overview)
    assert 'data-severity="warning"' in overview and "dataset drift" in overview
    page = client.get("/models/m").text
    alert = re.search(r'<details class="panel alert" id="alert-1" open>(.*?)</details>',
                      page, re.S)
    assert alert is not None and "dataset drift" in alert.group(1)
    assert '<tr class="event"><td>opened</td><td class="num">1</td>' in alert.group(1)
    # Drift, estimated performance, operations: charts drawn with the alert window marked.
    for section in ("drift", "performance", "operations"):
        part = page.split(f'<section id="{section}"')[1].split("</section>")[0]
        assert part.count("<svg") >= 1, section
    drift = page.split('<section id="drift"')[1].split("</section>")[0]
    assert 'fill="#b91c1c"><title>window 1:' in drift and "<title>window 0:" in drift
    assert 'href="/models/m/features/a?window=1"' in page


def test_the_drill_down_draws_both_distributions(make_service: ServiceFactory) -> None:
    client = make_service()
    register(client, "m", alerts=[DRIFT_RULE])
    _drifted(client)
    page = client.get("/models/m/features/a", params={"window": "1"})
    assert page.status_code == 200
    figure = page.text.split('<section id="distribution"')[1].split("</section>")[0]
    assert figure.count('class="bar-ref"') == figure.count('class="bar-cur"') >= 10
    assert "drifted" in figure and "window 1 (rows 200-399)" in figure
    assert '<option value="1" selected>' in figure
    tests = page.text.split('<section id="tests"')[1].split("</section>")[0]
    assert tests.count("<svg") == 2
    bars = client.get("/models/m/features/c").text  # the newest window by default
    assert 'class="category-label"' in bars and ">u</text>" in bars and ">v</text>" in bars
    clean = client.get("/models/m/features/a?window=0").text
    assert "no drift" in clean
    assert client.get("/models/m/features/a?window=7").status_code == 404
    assert client.get("/models/m/features/a?window=x").status_code == 400
    assert client.get("/models/m/features/nope").status_code == 404


def test_a_window_stored_without_distributions_says_so(make_service: ServiceFactory,
                                                       engine: Any) -> None:
    client = make_service()
    register(client, "m")
    client.post("/v1/models/m/records/batch", json={"records": records(200)})
    wait_windows(client, "m", 1)
    evidence = client.get("/v1/models/m/windows/0").json()["evidence"]
    evidence.pop("distributions")  # as windows evaluated before they were kept
    with engine.begin() as conn:
        conn.execute(update(s.windows).where(s.windows.c.seq == 0)
                     .values(evidence=json.dumps(evidence)))
    page = client.get("/models/m/features/a?window=0")
    assert page.status_code == 200
    assert "No distribution stored for this window" in page.text
    assert 'class="bar-ref"' not in page.text


def test_hostile_names_are_shown_not_run(make_service: ServiceFactory, engine: Any) -> None:
    feature = "<svg onload=alert(2)>/x"
    rule = {**DRIFT_RULE, "name": "<script>alert(3)</script>"}
    client = make_service()
    models.register_model(engine, HOSTILE, "binary",
                          {"probabilities": "proba", "target": "label"},
                          {"model": {"positive_class": "1"}, "windows": {"rows": 200},
                           "alerts": [rule]})
    table = reference_table().rename_columns(["a", feature, "c", "proba", "label"])
    models.upload_reference(engine, HOSTILE, parquet_bytes(table),
                            "application/vnd.apache.parquet")
    path = f"/v1/models/{quote(HOSTILE, safe='')}/records/batch"
    for start, shift in ((0, 0.0), (200, 2.0)):
        batch = records(200, start=start, shift=shift, seed=start)
        for r in batch:
            r["features"][feature] = r["features"].pop("b")
        assert client.post(path, json={"records": batch}).status_code == 200
    _open_alert(client, HOSTILE)
    pages = [client.get("/"), client.get("/fleet"),
             client.get(f"/models/{quote(HOSTILE, safe='')}"),
             client.get(f"/models/{quote(HOSTILE, safe='')}/features/"
                        f"{quote(feature, safe='')}?window=1")]
    for page in pages:
        assert page.status_code == 200, page.url
        for raw in ("<img src=x", "<svg onload", "<script>"):
            assert raw not in page.text, (page.url, raw)
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;" in pages[0].text
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in pages[2].text
    assert "&lt;svg onload=alert(2)&gt;/x" in pages[3].text
    assert pages[3].text.count('class="bar-cur"') >= 10  # the drill-down found it


def test_a_key_limited_to_models_sees_only_those(make_service: ServiceFactory,
                                                engine: Any) -> None:
    client = make_service(api_key="admin-for-pages")
    client.headers["authorization"] = "Bearer admin-for-pages"
    register(client, "m", alerts=[DRIFT_RULE])
    register(client, "other", alerts=[DRIFT_RULE], model={"positive_class": "1",
                                                           "upstream": ["m"]})
    _drifted(client, "other")
    client.headers.pop("authorization")
    _text, key = keys.create_key(engine, "team-m", ("read",), ("m",))
    client.cookies.set(COOKIE, sessions.create_session(engine, key.id, ttl_s=600))
    overview = client.get("/").text
    assert 'href="/models/m"' in overview and "/models/other" not in overview
    assert "No open alert." in overview  # other's alert is not shown to this key
    assert client.get("/models/other").status_code == 404
    assert client.get("/models/other/features/a").status_code == 404
    assert client.get("/models/m").status_code == 200
    fleet = client.get("/fleet").text
    assert 'data-model="m"' in fleet and 'data-model="other"' not in fleet
    assert 'class="edge"' not in fleet and "No open incident." in fleet


def test_the_fleet_graph_colours_models_by_state(make_service: ServiceFactory) -> None:
    client = make_service()
    register(client, "raw", alerts=[DRIFT_RULE])
    register(client, "scorer", alerts=[DRIFT_RULE],
             model={"positive_class": "1", "upstream": ["raw"]})
    register(client, "pricing", model={"positive_class": "1",
                                       "upstream": ["scorer", "raw", "not-registered"]})
    register(client, "idle")
    for name in ("raw", "scorer"):
        _drifted(client, name)
    client.post("/v1/models/pricing/records/batch", json={"records": records(200)})
    wait_windows(client, "pricing", 1)
    page = client.get("/fleet").text
    states = {m: st for st, m in re.findall(r'data-state="([a-z_]+)" data-model="([^"]+)"',
                                            page)}
    assert states == {"raw": "warning", "scorer": "warning", "pricing": "ok",
                      "idle": "no_data", "not-registered": "unknown"}
    assert page.count('class="edge"') == 4  # raw->scorer, scorer->pricing, raw->pricing, ghost
    assert '<a href="/models/pricing">' in page and '<a href="/models/not-registered">' \
        not in page
    incidents = page.split('<table id="incidents">')[1]
    assert '<a href="/models/raw">raw</a></td><td>open</td>' in incidents
    assert "scorer</a> (downstream" in incidents


def test_layers_follow_depth_and_survive_a_loop() -> None:
    assert layers({"a": [], "b": ["a"], "c": ["b"], "d": ["a", "c"]}) == \
        [["a"], ["b"], ["c"], ["d"]]
    looped = layers({"x": ["y"], "y": ["x"], "z": []})
    assert sorted(n for column in looped for n in column) == ["x", "y", "z"]


def test_a_categorical_reference_with_an_odd_label_draws(make_service: ServiceFactory) -> None:
    table = reference_table()
    table = table.set_column(2, "c", pa.array([f"<{v}>" for v in table["c"].to_pylist()]))
    client = make_service()
    register(client, "m", reference=table)
    batch = records(200)
    for r in batch:
        r["features"]["c"] = f"<{r['features']['c']}>"
    client.post("/v1/models/m/records/batch", json={"records": batch})
    wait_windows(client, "m", 1)
    page = client.get("/models/m/features/c").text
    assert "&lt;u&gt;" in page and "<u>" not in page
