"""The CLI as users run it: real processes, exit codes, files, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.conftest import make_pair

DRIFTWISE = str(Path(sys.executable).parent / "driftwise")


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DRIFTWISE, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.fixture
def csv_pair(tmp_path: Path) -> tuple[Path, Path]:
    ref, cur = make_pair(n_ref=1500, n_cur=1200, shift=1.0, seed=3)
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    return tmp_path / "ref.csv", tmp_path / "cur.csv"


def scipy_p_values(ref: pd.DataFrame, cur: pd.DataFrame, kinds: dict[str, str]) -> (
    dict[str, tuple[float, float]]
):
    """KS for numeric columns, chi2 of homogeneity for categorical ones, straight from SciPy."""
    out = {}
    for name, kind in kinds.items():
        r, c = ref[name].dropna(), cur[name].dropna()
        if kind == "numeric":
            res = stats.ks_2samp(r.to_numpy(float), c.to_numpy(float))
        else:
            labels = np.r_[np.zeros(len(r)), np.ones(len(c))]
            table = pd.crosstab(labels, np.r_[r.astype(str), c.astype(str)]).to_numpy()
            res = stats.chi2_contingency(table, correction=False)
        out[name] = (float(res.statistic), float(res.pvalue))
    return out


def test_report_json_p_values_equal_scipy(csv_pair, tmp_path) -> None:
    ref_path, cur_path = csv_pair
    out = tmp_path / "out.json"
    proc = run("report", ref_path, cur_path, "--numeric-test", "ks", "--categorical-test",
               "chi2", "--json", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["reference_rows"] == 1500 and report["current_rows"] == 1200
    assert set(report["dataset_drift"]) >= {"drift_detected", "drifted_columns", "columns",
                                            "share", "correction", "alpha"}
    kinds = {c["name"]: c["kind"] for c in report["columns"]}
    expected = scipy_p_values(pd.read_csv(ref_path), pd.read_csv(cur_path), kinds)
    for col in report["columns"]:
        stat, p = expected[col["name"]]
        assert col["statistic"] == pytest.approx(stat, rel=1e-9)
        assert col["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-300)
        for key in ("name", "kind", "test", "effect", "effect_name", "drift_detected",
                    "quality"):
            assert key in col
    assert {c["name"] for c in report["columns"] if c["drift_detected"]} == {"x_shift",
                                                                            "cat_shift"}
    assert "DRIFT DETECTED" in proc.stdout


def test_check_exit_codes(csv_pair, tmp_path) -> None:
    ref_path, cur_path = csv_pair
    assert run("check", ref_path, cur_path).returncode == 1
    assert run("check", ref_path, ref_path).returncode == 0
    same = make_pair(n_ref=1400, shift=0.0, seed=4)[0]
    same.to_parquet(tmp_path / "same.parquet")
    assert run("check", ref_path, tmp_path / "same.parquet").returncode == 0
    assert run("check", ref_path, tmp_path / "missing.csv").returncode == 2


BAD_CURRENT = {
    "extra_and_missing": (lambda df: df.drop(columns=["code"]).assign(new=1),
                          "missing from current: 'code'"),
    "type_change": (lambda df: df.assign(x_same=["oops", *df.x_same.astype(str).tolist()[1:]]),
                    "column 'x_same'"),
    "all_nan": (lambda df: df.assign(x_shift=np.nan), "column 'x_shift' has no values"),
    "inf": (lambda df: df.assign(x_same=np.r_[np.inf, df.x_same.to_numpy()[1:]]),
            "column 'x_same' holds 1 infinite"),
    "empty": (lambda df: df.iloc[:0], "current sample is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_CURRENT))
def test_bad_current_exits_2_with_a_message_and_no_traceback(csv_pair, tmp_path, case) -> None:
    ref_path, cur_path = csv_pair
    change, message = BAD_CURRENT[case]
    bad = tmp_path / f"{case}.csv"
    change(pd.read_csv(cur_path)).to_csv(bad, index=False)
    for command in ("check", "report"):
        proc = run(command, ref_path, bad)
        assert proc.returncode == 2, (command, proc.stdout, proc.stderr)
        assert message in " ".join(proc.stderr.split())
        assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize(("name", "content", "message"), [
    ("notes.txt", b"a,b\n1,2\n", "not a CSV or Parquet file"),
    ("garbage.csv", b"\x00\x00\x01binary", "binary content"),
    ("broken.parquet", b"PAR1xxxx", "not readable as Parquet"),
])
def test_unreadable_files_exit_2(csv_pair, tmp_path, name, content, message) -> None:
    ref_path, _ = csv_pair
    bad = tmp_path / name
    bad.write_bytes(content)
    proc = run("check", ref_path, bad)
    assert proc.returncode == 2
    assert message in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr


def test_usage_errors_exit_2(csv_pair) -> None:
    ref_path, cur_path = csv_pair
    proc = run("check", ref_path, cur_path, "--numeric-test", "nope")
    assert proc.returncode == 2
    assert "--numeric-test: expected one of" in " ".join(proc.stderr.split())
    assert run("check", ref_path).returncode == 2


def test_profile_as_reference_gives_the_same_json(csv_pair, tmp_path) -> None:
    ref_path, cur_path = csv_pair
    prof = tmp_path / "ref.profile"
    proc = run("profile", ref_path, "-o", prof)
    assert proc.returncode == 0, proc.stderr
    assert prof.is_file()
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run("report", ref_path, cur_path, "--json", a).returncode == 0
    assert run("report", prof, cur_path, "--json", b).returncode == 0
    ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
    assert ja["columns"] == jb["columns"]
    assert ja["dataset_drift"] == jb["dataset_drift"]
    assert run("check", prof, cur_path).returncode == 1


def test_json_to_stdout_and_html_file(csv_pair, tmp_path) -> None:
    ref_path, cur_path = csv_pair
    html = tmp_path / "r.html"
    proc = run("report", ref_path, cur_path, "--json", "-", "--html", html)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["dataset_drift"]["drift_detected"] is True
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "x_shift" in page


def test_config_file_overrides_kinds_tests_and_exclusions(csv_pair, tmp_path) -> None:
    ref_path, cur_path = csv_pair
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        "drift:\n  correction: bonferroni\n  alpha: 0.01\n"
        "columns:\n  code: {kind: numeric, test: cvm}\n  cat_same: {test: g_test}\n"
        "exclude: [x_same]\ntarget: cat_shift\n"
    )
    out = tmp_path / "o.json"
    proc = run("report", ref_path, cur_path, "--config", cfg, "--json", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    cols = {c["name"]: c for c in report["columns"]}
    assert "x_same" not in cols
    assert cols["code"]["kind"] == "numeric" and cols["code"]["test"] == "cvm"
    assert cols["cat_same"]["test"] == "g_test"
    assert cols["cat_shift"]["role"] == "target"
    assert report["dataset_drift"]["correction"] == "bonferroni"
    # Explicit options beat the file.
    proc = run("report", ref_path, cur_path, "--config", cfg, "--correction", "none", "--json",
               out)
    assert json.loads(out.read_text())["dataset_drift"]["correction"] == "none"
    cfg.write_text("drift:\n  alhpa: 0.01\n")
    proc = run("check", ref_path, cur_path, "--config", cfg)
    assert proc.returncode == 2 and "alhpa" in proc.stderr


def test_exclude_and_target_options(csv_pair, tmp_path) -> None:
    ref_path, cur_path = csv_pair
    out = tmp_path / "o.json"
    proc = run("report", ref_path, cur_path, "--exclude", "x_shift", "--exclude", "cat_shift",
               "--target", "code", "--json", out)
    assert proc.returncode == 0, proc.stderr
    cols = {c["name"]: c for c in json.loads(out.read_text())["columns"]}
    assert set(cols) == {"x_same", "cat_same", "code"} and cols["code"]["role"] == "target"
    assert run("check", ref_path, cur_path, "--exclude", "x_shift", "--exclude",
               "cat_shift").returncode == 0


def test_parquet_folder_input(tmp_path) -> None:
    ref, cur = make_pair(n_ref=900, n_cur=900, shift=1.0, seed=5)
    folder = tmp_path / "cur_parts"
    folder.mkdir()
    for i in range(3):
        cur.iloc[i * 300:(i + 1) * 300].to_parquet(folder / f"part-{i}.parquet")
    ref.to_parquet(tmp_path / "ref.parquet")
    out = tmp_path / "o.json"
    assert run("report", tmp_path / "ref.parquet", folder, "--json", out).returncode == 0
    assert json.loads(out.read_text())["current_rows"] == 900


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("driftwise 0.1.0")
