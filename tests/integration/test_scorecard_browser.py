"""The purple-team scorecard page as a reader sees it: written by the CLI, opened in
headless Chromium from disk, offline."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_html_browser import _driftwise_executable
from tests.redteam.test_purple_team_cli import FAST, THIN

pytestmark = pytest.mark.browser


def test_scorecard_renders_in_chromium(browser: Any, tmp_path: Path) -> None:
    import joblib
    import numpy as np
    import pandas as pd
    from selenium.webdriver.common.by import By
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    x = rng.normal(size=(7000, 3))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]})
    frame["y"] = (rng.random(7000) < 1 / (1 + np.exp(-2 * x[:, 0]))).astype(int)
    joblib.dump(LogisticRegression().fit(frame[["a", "b", "c"]][:1500], frame["y"][:1500]),
                tmp_path / "model.joblib")
    frame[1500:].to_csv(tmp_path / "ref.csv", index=False)
    (tmp_path / "thin.yaml").write_text(THIN)
    page = tmp_path / "card.html"
    proc = subprocess.run(
        [_driftwise_executable(), "purple-team", "--model", str(tmp_path / "model.joblib"),
         "--reference", str(tmp_path / "ref.csv"), "--config", str(tmp_path / "thin.yaml"),
         *FAST, "--scenarios", "covariate_mean,concept_flip,dropped_feature",
         "--intensities", "0,1", "--html", str(page)],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    browser.open(page)
    assert browser.driver.title == "driftwise purple-team scorecard: toy"
    text = browser.body_text()
    assert "1 gap(s): harmful failures the monitor missed" in text
    gaps = browser.driver.find_elements(By.CSS_SELECTOR, "#gaps tbody tr")
    assert len(gaps) == 1 and "concept_flip" in gaps[0].text
    assert "condition:" in gaps[0].text  # the alert rule to add
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "#scores tbody tr")
    assert len(rows) == 6
    assert rows[0].get_attribute("class") == "gap"  # gaps first
    dropped = [r.text for r in rows if "dropped_feature" in r.text]
    assert len(dropped) == 2 and sum("schema" in t for t in dropped) == 1  # intensity 1
    assert "5 clean windows" in browser.driver.find_element(By.ID, "clean").text
    overflow = browser.driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
    assert overflow <= 0
    assert browser.severe_console_messages() == []
    assert browser.screenshot("scorecard.png").stat().st_size > 10_000
