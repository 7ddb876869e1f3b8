"""The HTML report as a reader sees it: opened from disk in headless Chromium, offline."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from driftwise.report.html import render_html

pytestmark = pytest.mark.browser


def _column(name: str, kind: str, drifted: bool, plot: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "role": "feature",
        "test": "ks" if kind == "numeric" else "chi2",
        "statistic": 0.31 if drifted else 0.01,
        "p_value": 3.1e-12 if drifted else 0.64,
        "p_value_adjusted": 9.3e-12 if drifted else 0.81,
        "effect": 0.45 if drifted else 0.02,
        "effect_name": "wasserstein_normed" if kind == "numeric" else "tvd",
        "threshold": 0.1,
        "drift_detected": drifted,
        "skipped": None,
        "quality": {
            "missing_share_reference": 0.0,
            "missing_share_current": 0.02 if drifted else 0.0,
            "new_categories": ["tablet"] if drifted and kind != "numeric" else [],
            "out_of_range_share": 0.04 if drifted and kind == "numeric" else None,
            "type_mismatch": None,
        },
        "plot": plot,
    }


def _hand_made_report() -> dict[str, Any]:
    rng = np.random.default_rng(7)
    edges = np.linspace(-4.0, 5.0, 28)

    def histogram(shift: float) -> dict[str, Any]:
        ref = np.histogram(rng.normal(0.0, 1.0, 5000), edges)[0]
        cur = np.histogram(rng.normal(shift, 1.0, 3000), edges)[0]
        return {
            "type": "histogram",
            "edges": edges.tolist(),
            "reference": ref.tolist(),
            "current": cur.tolist(),
        }

    devices = ["desktop", "mobile", "tablet", "a device label long enough to need truncating"]
    return {
        "driftwise_version": "0.1.0",
        "reference_rows": 5000,
        "current_rows": 3000,
        "reference_name": "train.csv",
        "current_name": "prod_2024-06.csv",
        "settings": {
            "numeric_test": "ks",
            "categorical_test": "chi2",
            "correction": "fdr",
            "alpha": 0.05,
            "min_effect": {"numeric": 0.1, "categorical": 0.1},
        },
        "dataset_drift": {
            "drift_detected": True,
            "drifted_columns": 2,
            "columns": 4,
            "share": 0.5,
            "correction": "fdr",
            "alpha": 0.05,
        },
        "columns": [
            _column("tenure_days", "numeric", False, histogram(0.0)),
            _column("basket_value", "numeric", True, histogram(1.2)),
            _column(
                "device",
                "categorical",
                True,
                {
                    "type": "bars",
                    "categories": devices,
                    "reference": [3000, 1800, 0, 200],
                    "current": [900, 1500, 500, 100],
                },
            ),
            _column(
                "region",
                "categorical",
                False,
                {
                    "type": "bars",
                    "categories": ["north", "south", "<east & west>"],
                    "reference": [2000, 2000, 1000],
                    "current": [1190, 1210, 600],
                },
            ),
            {
                "name": "order_id",
                "kind": "identifier",
                "drift_detected": False,
                "skipped": "identifier column: values are unique",
                "plot": None,
            },
        ],
    }


def _assert_charts_drawn(browser: Any, expected: int) -> None:
    from selenium.webdriver.common.by import By

    charts = browser.driver.find_elements(By.CSS_SELECTOR, "section.column svg.chart-svg")
    assert len(charts) == expected
    for chart in charts:
        assert chart.size["width"] > 200 and chart.size["height"] > 100, chart.size
        assert chart.find_elements(By.CSS_SELECTOR, "rect.bar-cur")


def test_hand_made_report_renders_in_chromium(
    browser: Any, tmp_path: Path, artifacts_dir: Path
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(_hand_made_report()), encoding="utf-8")
    browser.open(page)

    assert browser.driver.title.startswith("driftwise drift report")
    text = browser.body_text()
    assert "Dataset drift detected" in text
    for name in ("basket_value", "device", "tenure_days", "region", "<east & west>"):
        assert name in text
    assert "drifted" in browser.classes_of("col-basket_value")
    assert "drifted" in browser.classes_of("col-device")
    assert "drifted" not in browser.classes_of("col-tenure_days")
    assert "drifted" not in browser.classes_of("col-order_id")
    assert "Not tested: identifier column: values are unique" in text
    _assert_charts_drawn(browser, expected=4)
    # Nothing overflows the 1280 px window sideways.
    overflow = browser.driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"
    )
    assert overflow <= 0
    assert browser.severe_console_messages() == []
    assert browser.screenshot("report.png").stat().st_size > 10_000


def _driftwise_executable() -> str:
    beside_python = Path(sys.executable).parent / "driftwise"
    found = str(beside_python) if beside_python.exists() else shutil.which("driftwise")
    if found is None:
        pytest.fail("the `driftwise` command is not installed: run `make setup`", pytrace=False)
    return found


def _write_synthetic_pair(folder: Path, rows: int = 2000) -> tuple[Path, Path]:
    import pandas as pd

    rng = np.random.default_rng(2024)

    def sample(shift: float, mix: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "x_shift": rng.normal(10.0 + shift * 2.0, 2.0, rows),
                "x_same": rng.normal(0.0, 1.0, rows),
                "cat_shift": rng.choice(["a", "b", "c", "d"], size=rows, p=mix),
                "cat_same": rng.choice(["red", "green", "blue"], size=rows, p=[0.5, 0.3, 0.2]),
            }
        )

    reference, current = folder / "reference.csv", folder / "current.csv"
    sample(0.0, [0.4, 0.3, 0.2, 0.1]).to_csv(reference, index=False)
    # x_shift moves by one standard deviation; cat_shift's mix is reversed.
    sample(1.0, [0.1, 0.2, 0.3, 0.4]).to_csv(current, index=False)
    return reference, current


def test_cli_report_renders_in_chromium(browser: Any, tmp_path: Path) -> None:
    reference, current = _write_synthetic_pair(tmp_path)
    page = tmp_path / "report.html"
    run = subprocess.run(
        [_driftwise_executable(), "report", str(reference), str(current), "--html", str(page)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, f"driftwise report failed:\n{run.stdout}\n{run.stderr}"
    assert page.is_file(), f"driftwise report wrote no HTML:\n{run.stdout}\n{run.stderr}"

    browser.open(page)
    assert browser.driver.title.startswith("driftwise drift report")
    text = browser.body_text()
    assert "Dataset drift detected" in text
    for name in ("x_shift", "cat_shift", "x_same", "cat_same"):
        assert name in text
    assert "drifted" in browser.classes_of("col-x_shift")
    assert "drifted" in browser.classes_of("col-cat_shift")
    assert "drifted" not in browser.classes_of("col-x_same")
    assert "drifted" not in browser.classes_of("col-cat_same")
    _assert_charts_drawn(browser, expected=4)
    assert browser.severe_console_messages() == []
    assert browser.screenshot("report_cli.png").stat().st_size > 10_000
