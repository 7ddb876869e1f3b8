"""The dashboard as a person sees it: a real ``driftwise serve`` on loopback with an admin
key, clean then drifting traffic, headless Chromium signing in through the form and through
a one-time link, every page loading with no console error."""

from __future__ import annotations

import subprocess
import sys
import time
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
