"""Fixtures for the browser tests: a headless Debian Chromium that never reaches the network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO_ROOT = Path(__file__).resolve().parents[2]
WINDOW_WIDTH = 1280
WINDOW_HEIGHT = 2000
MAX_SCREENSHOT_HEIGHT = 16_000
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--window-size={WINDOW_WIDTH},{WINDOW_HEIGHT}",
)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``<repo>/test-artifacts``, where screenshots are kept for people to look at."""
    path = REPO_ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


def _start_chromium(profile: Path) -> Any:
    """Start Debian's Chromium through its own chromedriver; fail the test if either is absent."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the browser tests need Debian's Chromium and "
            "its driver. Run `make browser-deps` (as root) and try again.",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=os.devnull)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_window_size(WINDOW_WIDTH, WINDOW_HEIGHT)
    return driver


class ReportBrowser:
    """A headless Chromium, started on the first page opened, and what the tests ask of it.

    Starting lazily makes a missing browser fail the test itself rather than its setup.
    """

    def __init__(self, profile: Path, artifacts: Path) -> None:
        self.profile = profile
        self.artifacts = artifacts
        self._driver: Any = None

    @property
    def driver(self) -> Any:
        if self._driver is None:
            self._driver = _start_chromium(self.profile)
        return self._driver

    def open(self, page: Path) -> None:
        self.driver.get(page.resolve().as_uri())

    def body_text(self) -> str:
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def classes_of(self, element_id: str) -> list[str]:
        from selenium.webdriver.common.by import By

        element = self.driver.find_element(By.ID, element_id)
        return str(element.get_attribute("class") or "").split()

    def severe_console_messages(self) -> list[str]:
        """Messages the page logged to the console at level SEVERE (errors)."""
        entries = self.driver.get_log("browser")
        return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]

    def screenshot(self, name: str) -> Path:
        """Save a PNG of the whole page (the window grows to the document's height)."""
        height = self.driver.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);"
        )
        self.driver.set_window_size(WINDOW_WIDTH, min(int(height) + 120, MAX_SCREENSHOT_HEIGHT))
        path = self.artifacts / name
        assert self.driver.save_screenshot(str(path)), f"could not write the screenshot {path}"
        return path

    def quit(self) -> None:
        if self._driver is not None:
            self._driver.quit()
            self._driver = None


@pytest.fixture
def browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, artifacts_dir: Path
) -> Iterator[ReportBrowser]:
    """A headless Chromium, 1280 px wide, recording the browser console, never online."""
    # Selenium Manager must not try to download a browser or driver.
    monkeypatch.setenv("SE_OFFLINE", "true")
    session = ReportBrowser(tmp_path / "chromium-profile", artifacts_dir)
    try:
        yield session
    finally:
        session.quit()
