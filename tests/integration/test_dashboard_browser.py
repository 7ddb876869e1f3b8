"""The dashboard as a person sees it: a real ``driftwise serve`` on loopback with an admin
key, clean then drifting traffic, headless Chromium signing in through the form and through
a one-time link, every page loading with no console error; an incident's page with the
actions its alert ran, a block and a note."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftwise.client import Client
from tests.integration_service.live_helpers import LiveServer, records, register

pytestmark = pytest.mark.browser

ADMIN = "admin-key-of-the-browser-test"
RULE = {"name": "dataset drift", "metric": "drift.dataset.drift_detected",
        "condition": "== true", "severity": "warning"}
SCRIPT = "<script>alert(1)</script>"
RESPONSE = {"model": {"positive_class": "1"}, "windows": {"rows": 200},
            "checks": {"outliers": {"alpha": 0.01}},
            "alerts": [{**RULE, "severity": "critical", "actions": ["rollback", "block"]}],
            "actions": [{"name": "rollback", "kind": "webhook",
                         "url": "http://127.0.0.1:9/rb", "dry_run": True},
                        {"name": "block", "kind": "block_client", "client_keys": [SCRIPT]}]}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """``driftwise serve`` on a free loopback port with an admin key (killed by its ids
    at the end)."""
    started = LiveServer(tmp_path / "data", tmp_path / "server.log",
                         env={"DRIFTWISE_API_KEY": ADMIN})
    try:
        yield started.start()
    finally:
        started.close()


def _login_link(server: LiveServer) -> str:
    """A one-time sign-in URL from ``driftwise login-link``, as an operator runs it."""
    done = subprocess.run([sys.executable, "-m", "driftwise", "login-link", "--data-dir",
                           str(server.data_dir), "--base-url", server.url], env=server.env,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def _traffic(server: LiveServer) -> None:
    """``credit``: a clean window then a drifting one (its rule opens an alert);
    ``pricing``, consuming credit: one clean window."""
    with Client(server.url, api_key=ADMIN) as client:
        for name, upstream in (("credit", []), ("pricing", ["credit"])):
            register(client, name, {"model": {"positive_class": "1", "upstream": upstream},
                                    "windows": {"rows": 200}, "alerts": [RULE]})
        client.log_batch("credit", records("clean-", 200))
        client.log_batch("credit", records("drift-", 200, seed=2, shift=2.0, start=200))
        client.log_batch("pricing", records("p-", 200, seed=3))
        client.wait_windows("credit", 2)
        client.wait_windows("pricing", 1)
        deadline = time.monotonic() + 30
        while not client.request("GET", "/v1/models/credit/alerts",
                                 params={"state": "open"}):
            assert time.monotonic() < deadline, "the drift alert never opened"
            time.sleep(0.1)


def _loaded_cleanly(browser: Any, shot: str) -> None:
    assert browser.severe_console_messages() == []
    assert browser.screenshot(shot).stat().st_size > 10_000


def _follow(driver: Any, element: Any, path: str) -> None:
    """Click ``element`` and wait for the page it leads to (``path``: the URL's end): a
    click returns before the navigation it starts has finished on a busy machine."""
    from selenium.webdriver.support.ui import WebDriverWait

    element.click()
    WebDriverWait(driver, 20).until(
        lambda d: d.current_url.endswith(path)
        and d.execute_script("return document.readyState") == "complete",
        f"no page at {path} after the click (at {driver.current_url})")


def _drawn(browser: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    charts = browser.driver.find_elements(By.CSS_SELECTOR, css)
    assert charts, css
    for chart in charts:
        assert chart.size["width"] > 150 and chart.size["height"] > 80, (css, chart.size)
    return list(charts)


def test_signing_in_and_reading_every_page(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    _traffic(server)
    driver = browser.driver
    driver.get(server.url + "/models/credit")
    assert driver.current_url == f"{server.url}/login?next=%2Fmodels%2Fcredit"
    _loaded_cleanly(browser, "dashboard-login.png")
    driver.find_element(By.ID, "key").send_keys(ADMIN)
    _follow(driver, driver.find_element(By.CSS_SELECTOR, "form.login input[type=submit]"),
            "/models/credit")
    assert driver.current_url == f"{server.url}/models/credit"
    assert "driftwise_session" not in driver.execute_script("return document.cookie")
    cookie = driver.get_cookie("driftwise_session")
    assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"

    # The model page: the alert with its trail, charts of real size.
    alert = driver.find_element(By.ID, "alert-1")
    assert "dataset drift" in alert.text and "opened" in alert.text
    _drawn(browser, "#drift svg.chart-svg")
    _drawn(browser, "#operations svg.chart-svg")
    _drawn(browser, "#performance svg.chart-svg")
    # The newest window in plain words, above the charts.
    story = driver.find_element(By.ID, "explanation")
    assert "IN PLAIN WORDS" in story.text.upper() and story.size["height"] > 20
    assert "Recommendation:" in story.text
    _loaded_cleanly(browser, "dashboard-model.png")

    # The overview: credit's health and its open alert.
    _follow(driver, driver.find_element(By.LINK_TEXT, "Overview"), "/")
    row = driver.find_element(By.CSS_SELECTOR, "tr.model[data-health=warning]")
    assert row.text.startswith("credit") and "1 warning" in row.text
    alerts = driver.find_element(By.CSS_SELECTOR, "table.alerts").text
    assert "credit" in alerts and "dataset drift" in alerts
    _loaded_cleanly(browser, "dashboard-overview.png")

    # The drill-down of the drifted feature: both distributions, then another window.
    _follow(driver, driver.find_element(By.LINK_TEXT, "credit"), "/models/credit")
    _follow(driver, driver.find_element(By.CSS_SELECTOR, "#features a"),
            "/models/credit/features/a?window=1")
    chart = _drawn(browser, "#distribution svg.chart-svg")[0]
    assert chart.find_elements(By.CSS_SELECTOR, "rect.bar-ref")
    assert chart.find_elements(By.CSS_SELECTOR, "rect.bar-cur")
    assert "drifted" in driver.find_element(By.ID, "distribution").text
    _drawn(browser, "#tests svg.chart-svg")
    _loaded_cleanly(browser, "dashboard-feature.png")
    driver.find_element(By.CSS_SELECTOR, "#window option[value='0']").click()
    _follow(driver, driver.find_element(By.CSS_SELECTOR, "#distribution input[type=submit]"),
            "/models/credit/features/a?window=0")
    assert "no drift" in driver.find_element(By.ID, "distribution").text

    # The fleet: pricing consumes credit; both coloured by their state.
    _follow(driver, driver.find_element(By.LINK_TEXT, "Fleet"), "/fleet")
    graph = _drawn(browser, "svg.fleet-graph")[0]
    states = {n.get_attribute("data-model"): n.get_attribute("data-state")
              for n in graph.find_elements(By.CSS_SELECTOR, "g.node")}
    assert states == {"credit": "warning", "pricing": "ok"}
    assert len(graph.find_elements(By.CSS_SELECTOR, "path.edge")) == 1
    _loaded_cleanly(browser, "dashboard-fleet.png")

    # Signing out ends the session: the pages ask for a key again.
    _follow(driver, driver.find_element(By.CSS_SELECTOR, "nav.top button"), "/login")
    assert driver.current_url == f"{server.url}/login"
    driver.get(server.url + "/")
    assert driver.current_url.startswith(f"{server.url}/login")
    assert browser.severe_console_messages() == []


def test_a_one_time_link_signs_in_once(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    link = _login_link(server)
    assert link.startswith(f"{server.url}/login/link?token=ds_")
    driver = browser.driver
    driver.get(link)
    assert driver.current_url == f"{server.url}/"
    assert "Fleet overview" in driver.find_element(By.TAG_NAME, "h1").text
    assert browser.severe_console_messages() == []
    driver.delete_all_cookies()
    driver.get(link)
    assert "already used" in browser.body_text()
    assert driver.get_cookie("driftwise_session") is None
    errors = browser.severe_console_messages()
    assert len(errors) == 1 and "400" in errors[0]  # the refused link's own status
    driver.get(server.url + "/")
    assert driver.current_url.startswith(f"{server.url}/login")


def _incident(server: LiveServer) -> int:
    """``scoring``: a clean window then a drifting one, whose alert runs a dry-run webhook
    and blocks a hostile client key; a hostile note. The incident's id once both actions
    finished."""
    with Client(server.url, api_key=ADMIN) as client:
        register(client, "scoring", RESPONSE)
        client.log_batch("scoring", records("clean-", 200))
        client.log_batch("scoring", records("drift-", 200, seed=2, shift=3.0, start=200))
        client.wait_windows("scoring", 2)
        deadline = time.monotonic() + 30
        while True:
            found = client.incidents()
            actions = client.incident_report(found[0]["id"])["actions"] if found else []
            if len([a for a in actions if a["status"] != "pending"]) == 2:
                break
            assert time.monotonic() < deadline, f"the incident's actions never ran: {found}"
            time.sleep(0.1)
        client.note(found[0]["id"], "ana", f"paged the owner {SCRIPT}")
        return int(found[0]["id"])


def test_an_incident_page_shows_the_response(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    incident = _incident(server)
    driver = browser.driver
    driver.get(server.url + "/fleet")
    driver.find_element(By.ID, "key").send_keys(ADMIN)
    _follow(driver, driver.find_element(By.CSS_SELECTOR, "form.login input[type=submit]"),
            "/fleet")
    _follow(driver, driver.find_element(By.CSS_SELECTOR, "#incidents td.num a"),
            f"/incidents/{incident}")
    assert driver.title == f"Incident {incident} · driftwise"
    for section in ("incident-header", "explanation", "models", "impact", "actions",
                    "decisions", "blocks", "trail"):
        shown = driver.find_element(By.ID, section)
        assert shown.is_displayed() and shown.size["height"] > 40, section
    story = driver.find_element(By.CSS_SELECTOR, "#explanation article.explanation").text
    assert "scoring, window" in story and "drifted" in story
    header = driver.find_element(By.ID, "incident-header").text
    assert f"Incident {incident}" in header and "open" in header and "scoring" in header
    rows = {r.find_element(By.CSS_SELECTOR, "td").text.split()[0]: r
            for r in driver.find_elements(By.CSS_SELECTOR, "#action-table tr.action")}
    assert set(rows) == {"rollback", "block"}
    assert "dry run: nothing done" in rows["rollback"].text
    assert "dry-run" in (rows["rollback"].get_attribute("class") or "")
    assert "done" in rows["block"].text
    # The hostile key and note read as text: no element came of them.
    assert SCRIPT in driver.find_element(By.ID, "block-table").text
    trail = driver.find_element(By.ID, "trail-table")
    assert f"paged the owner {SCRIPT}" in trail.text
    assert driver.find_elements(By.TAG_NAME, "script") == []
    kinds = [r.get_attribute("data-kind") for r in trail.find_elements(By.CSS_SELECTOR,
                                                                         "tr.event")]
    assert kinds[0] == "opened" and kinds[-1] == "note" and kinds.count("action_result") == 2
    impact = driver.find_element(By.ID, "impact-models").text
    assert impact.splitlines()[1].startswith("scoring ")
    _loaded_cleanly(browser, "dashboard-incident.png")

    # The download link gives the export to the browser's session (the API would want
    # the key itself).
    link = driver.find_element(By.ID, "download")
    assert link.get_attribute("href") == f"{server.url}/incidents/{incident}.json"
    cookie = driver.get_cookie("driftwise_session")["value"]
    request = urllib.request.Request(link.get_attribute("href"),
                                     headers={"cookie": f"driftwise_session={cookie}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert "attachment" in answer.headers["content-disposition"]
        exported = json.loads(answer.read())
    assert exported["id"] == incident and exported["trail"][-1]["text"].endswith(SCRIPT)
    affected = exported["impact"]["models"][0]["records"]
    assert affected >= 200 and impact.endswith(f" {affected:,} {affected:,} 0")

    # The model's alert links back to the incident.
    _follow(driver, driver.find_element(By.CSS_SELECTOR, "#models td.name a"),
            "/models/scoring")
    _follow(driver, driver.find_element(By.CSS_SELECTOR, "#alert-1 p.incident a"),
            f"/incidents/{incident}")
    assert browser.severe_console_messages() == []
