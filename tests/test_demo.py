"""The batch demo finds the documented break in the Elec2 data, from either data source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from driftwise.demo import load_elec2, quarterly_reports
from tests.conftest import needs_shared_data

VICTORIAN = {"vicprice", "vicdemand", "transfer"}


def _drifted_by_period(search: list[Path] | None) -> dict[str, set[str]]:
    table, day, _ = load_elec2(search)
    return {label: set(report.drifted_columns) for label, report in quarterly_reports(table, day)}


def _check_documented_break(drifted: dict[str, set[str]]) -> None:
    labels = sorted(drifted)
    before = [label for label in labels if label < "1997-05-06"]
    after = [label for label in labels if label >= "1997-05-06"]
    assert before and after
    # Imputed (constant) Victorian data until early May 1997, real data afterwards.
    for label in before:
        assert not drifted[label] & VICTORIAN, label
    for label in after:
        assert VICTORIAN <= drifted[label], label


def test_shipped_sample_shows_the_documented_break() -> None:
    table, _, source = load_elec2([])
    assert "every 4th row" in source and table.num_rows == 11_328
    _check_documented_break(_drifted_by_period([]))


@needs_shared_data
def test_full_data_shows_the_documented_break() -> None:
    table, _, source = load_elec2()
    assert table.num_rows == 45_312 and "shared" in source
    _check_documented_break(_drifted_by_period(None))


def test_demo_command_prints_periods_and_writes_html(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "driftwise"
    proc = subprocess.run([str(exe), "demo", "--batch", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "1997-05-06 – 1997-08-04" in proc.stdout
    pages = sorted((tmp_path / "demo").glob("elec2_period_*.html"))
    assert len(pages) >= 9
    assert str(pages[-1]) in proc.stdout.replace("\n", "")
    assert "vicprice" in pages[-1].read_text()


def test_service_demo_replays_and_exits_without_a_terminal(tmp_path: Path) -> None:
    """`make demo`: the service starts, windows are evaluated live, and with stdin not a
    terminal the demo prints its summary and exits 0 (stopping the server)."""
    exe = Path(sys.executable).parent / "driftwise"
    proc = subprocess.run([str(exe), "demo", "--data-dir", str(tmp_path / "store")],
                          capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("│")]
    clean = [r for r in rows if "clean" in r]
    drifting = [r for r in rows if "drifting" in r]
    assert len(clean) == 4 and len(drifting) == 4 and any("attack" in r for r in rows)
    # Clean traffic is a sample of the reference's distribution; after May 1997 the
    # imputed Victorian columns end: every drifting window must flag vicprice.
    assert sum("yes" in r for r in clean) <= 1
    assert all("yes" in r and "vicprice" in r for r in drifting)
    assert "Service stopped." in proc.stdout
    assert (tmp_path / "store" / "driftwise.db").is_file()
    # The drift alert, end to end: open in the service, on the dashboard (signed in with a
    # one-time link), and in Alertmanager's API (make test installs Alertmanager and
    # Prometheus; the demo starts its own), with Prometheus' shipped rules firing on it.
    out = " ".join(proc.stdout.split())
    assert "Alert 1 open on elec2-updown: rule input drift (warning)" in out
    assert "shows the open alert(s): input drift" in out
    assert "/api/v2/alerts holds input drift (model elec2-updown, warning, active)" in out
    assert "its shipped rules fire: " in out and "DriftwiseDatasetDrift" in out
    assert "/login/link?token=ds_" in out
