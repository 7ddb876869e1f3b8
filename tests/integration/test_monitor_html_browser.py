"""The Monitor report page as a reader sees it: written by the CLI, opened in headless
Chromium from disk, offline."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli_monitor import SEASONAL_CONFIG, _hourly
from tests.integration.test_html_browser import _driftwise_executable

pytestmark = pytest.mark.browser


def test_cli_monitor_report_renders_in_chromium(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _hourly("2024-01-01", 60, 0).to_csv(tmp_path / "ref.csv", index=False)
    current = _hourly("2024-03-01", 3, 1)
    current.loc[24 + 8:24 + 11, "load"] = 0.0  # the second day's feed is broken
    current.to_csv(tmp_path / "cur.csv", index=False)
    (tmp_path / "monitor.yaml").write_text(SEASONAL_CONFIG)
    page = tmp_path / "monitor.html"
    run = subprocess.run(
        [_driftwise_executable(), "check", str(tmp_path / "ref.csv"), str(tmp_path / "cur.csv"),
         "--config", str(tmp_path / "monitor.yaml"), "--html", str(page)],
        capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 1, f"driftwise check:\n{run.stdout}\n{run.stderr}"
    assert page.is_file()

    browser.open(page)
    assert browser.driver.title == "driftwise monitor report: hourly"
    text = browser.body_text()
    assert "Alerts in 1 of 3 windows" in text
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "#windows tbody tr")
    assert [r.get_attribute("class") for r in rows] == ["", "alerted warning", ""]
    assert "load feed broken" in rows[1].text and "load: anomalous" in rows[1].text
    # The alerted window's details are open; the link in the table leads to them.
    alerted = browser.driver.find_element(By.ID, "win-2024-03-02")
    assert alerted.get_attribute("open") is not None
    assert browser.driver.find_element(By.ID, "win-2024-03-01").get_attribute("open") is None
    rows[1].find_element(By.TAG_NAME, "a").click()
    assert browser.driver.current_url.endswith("#win-2024-03-02")
    assert "seasonal.load.anomalous" in alerted.text
    story = alerted.find_element(By.CSS_SELECTOR, ".explanation")
    assert "IN PLAIN WORDS" in story.text.upper() and "Alerts: load feed broken" in story.text
    # One trend chart per key metric the run has, drawn at a readable size.
    charts = browser.driver.find_elements(By.CSS_SELECTOR, "#trends svg.chart-svg")
    assert charts and all(c.size["width"] > 200 for c in charts)
    overflow = browser.driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
    assert overflow <= 0
    assert browser.severe_console_messages() == []
    assert browser.screenshot("monitor.png").stat().st_size > 10_000
