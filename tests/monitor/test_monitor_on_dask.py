"""The Monitor on the Dask engine, on a real LocalCluster of two worker processes: the same
windows and metrics as in memory where every window fits its sample; column drift from all
rows where a window is sampled."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from driftwise.monitor import Monitor

distributed = pytest.importorskip("distributed", reason="driftwise[dask] is not installed")
dd = pytest.importorskip("dask.dataframe")

from driftwise.scale import DaskEngine  # noqa: E402
from driftwise.scale.monitor import run_on_engine  # noqa: E402

CONFIG: dict[str, Any] = {
    "model": {"task": "binary"},
    "columns": {"probabilities": "proba", "target": "label", "timestamp": "ts",
                "segments": ["plan"]},
    "windows": {"rows": 4_000, "min_rows": 500},
    "checks": {"estimated_performance": {"metrics": ["accuracy", "roc_auc"]},
               "performance": {"metrics": ["accuracy", "roc_auc"]}, "bootstrap": 0},
}


def _table(n: int, seed: int, shift: float = 0.0, start: str = "2026-01-01") -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    income = rng.lognormal(size=n) * (1 + shift * np.linspace(0, 2, n))
    proba = 1 / (1 + np.exp(-(1.5 * x + 0.3 * np.log(income))))
    plans = np.array(["basic", "plus", "pro"])
    ts = np.datetime64(start) + (np.arange(n) * 40).astype("timedelta64[s]")
    return pa.table({
        "x": x + shift * np.linspace(0, 1, n),
        "income": income,
        "plan": plans[rng.choice(3, size=n, p=[0.5, 0.3, 0.2])],
        "proba": proba,
        "label": (rng.random(n) < proba).astype(np.int64),
        "ts": pa.array(ts.astype("datetime64[us]")),
    })


def _folder(path: Path, table: pa.Table, files: int = 3, row_group: int = 1_700) -> Path:
    path.mkdir()
    step = -(-table.num_rows // files)
    for i in range(files):
        pq.write_table(table.slice(i * step, step), path / f"part-{i}.parquet",
                       row_group_size=row_group)
    return path


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)
    return a == b


def _compare_runs(on_dask: list[Any], in_memory: list[Any]) -> None:
    assert [r.window for r in on_dask] == [r.window for r in in_memory]
    for got, want in zip(on_dask, in_memory, strict=True):
        assert (got.rows, got.status) == (want.rows, want.status), got.window
        assert set(got.metrics) == set(want.metrics), got.window
        for key, value in want.metrics.items():
            assert _same(got.metrics[key], value), (got.window, key, got.metrics[key], value)
        assert [a.name for a in got.alerts] == [a.name for a in want.alerts]
        assert "sample" not in got.reasons


def test_row_windows_equal_the_in_memory_monitor(tmp_path: Path, cluster: object) -> None:
    ref_t, cur_t = _table(9_000, 1), _table(14_000, 2, shift=0.3)
    ref, cur = _folder(tmp_path / "ref", ref_t), _folder(tmp_path / "cur", cur_t)
    in_memory = Monitor(CONFIG).fit(ref_t).run_frame(cur_t)
    engine = DaskEngine(client=cluster)
    monitor = Monitor(CONFIG).fit(ref, engine=engine)
    assert monitor.reference_rows_ == 9_000
    on_dask = monitor.run_frame(cur, engine=engine)
    assert len(on_dask) == 4 and on_dask[-1].rows == 2_000  # 14,000 rows in windows of 4,000
    _compare_runs(on_dask, in_memory)
    assert any(r.get("drift.dataset.drift_detected") for r in on_dask)


def test_period_windows_and_a_dask_dataframe(tmp_path: Path, cluster: object) -> None:
    config = {**CONFIG, "windows": {"period": "day", "min_rows": 500}}
    ref_t = _table(9_000, 3)
    # Three days and a bit: the last day is too small to evaluate.
    cur_t = _table(3 * 2_160 + 300, 4, shift=0.2, start="2026-02-01")
    in_memory = Monitor(config).fit(ref_t).run_frame(cur_t)
    engine = DaskEngine(client=cluster)
    frame = dd.from_pandas(cur_t.to_pandas(), npartitions=5)
    monitor = Monitor(config).fit(dd.from_pandas(ref_t.to_pandas(), npartitions=4),
                                  engine=engine)
    on_dask = monitor.run_frame(frame, engine=engine)
    assert [r.status for r in on_dask] == ["ok", "ok", "ok", "insufficient_data"]
    _compare_runs(on_dask, in_memory)


def test_a_sampled_window_has_column_drift_from_every_row(tmp_path: Path,
                                                          cluster: object) -> None:
    config = {**CONFIG, "windows": {"min_rows": 500}}
    ref_t, cur_t = _table(8_000, 5), _table(30_000, 6, shift=0.01)
    ref, cur = _folder(tmp_path / "ref", ref_t), _folder(tmp_path / "cur", cur_t)
    engine = DaskEngine(client=cluster)
    monitor = Monitor(config).fit(ref, engine=engine)
    [result] = run_on_engine(monitor, cur, engine, window_rows=3_000, name="cur")
    assert result.rows == 30_000 and result.window == "cur"
    assert "3,000" in result.reasons["sample"] and "30,000" in result.reasons["sample"]
    whole = Monitor(config).fit(ref_t).run(cur_t)
    for key, value in whole.metrics.items():
        if key.startswith("drift.columns.") and key.endswith(".p_value"):
            assert _same(result.metrics[key], value), key
    # The row-level estimates come from the sample: close, not equal.
    assert result.metrics["estimated.accuracy"] == pytest.approx(
        whole.metrics["estimated.accuracy"], abs=0.03)
    again = run_on_engine(Monitor(config).fit(ref, engine=engine), cur, engine,
                          window_rows=3_000, name="cur")[0]
    assert again.metrics == result.metrics  # seeded


def test_a_missing_column_is_named(tmp_path: Path, cluster: object) -> None:
    ref_t = _table(3_000, 7)
    ref = _folder(tmp_path / "ref", ref_t)
    cur = _folder(tmp_path / "cur", ref_t.drop_columns(["proba"]))
    engine = DaskEngine(client=cluster)
    monitor = Monitor(CONFIG).fit(ref, engine=engine)
    from driftwise.errors import SchemaError

    with pytest.raises(SchemaError, match="'proba'"):
        monitor.run_frame(cur, engine=engine)


def test_the_cli_runs_a_monitor_on_dask(tmp_path: Path) -> None:
    ref = _folder(tmp_path / "ref", _table(6_000, 8))
    cur = _folder(tmp_path / "cur", _table(8_000, 9, shift=0.3))
    config = tmp_path / "monitor.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    out = tmp_path / "run.json"
    done = subprocess.run(
        [sys.executable, "-m", "driftwise", "report", str(ref), str(cur), "--config",
         str(config), "--engine", "dask", "--workers", "2", "--json", str(out)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    run = json.loads(out.read_text())
    assert run["reference_rows"] == 6_000
    assert [w["window"] for w in run["windows"]] == ["rows 0-3999", "rows 4000-7999"]


def test_gridded_profiles_keep_the_verdicts(tmp_path: Path, cluster: object) -> None:
    ref_t, cur_t = _table(12_000, 10), _table(12_000, 11, shift=0.3)
    ref, cur = _folder(tmp_path / "ref", ref_t), _folder(tmp_path / "cur", cur_t)
    engine = DaskEngine(client=cluster, exact_limit=0, cells=1_024)
    monitor = Monitor(CONFIG).fit(ref, engine=engine)
    assert monitor.drift_ is not None
    assert monitor.drift_.profile_.columns["income"].grid is not None
    on_grid = monitor.run_frame(cur, engine=engine)
    exact = Monitor(CONFIG).fit(ref_t).run_frame(cur_t)
    for got, want in zip(on_grid, exact, strict=True):
        for name in ("x", "income"):
            key = f"drift.columns.{name}.drift_detected"
            assert got.metrics[key] == want.metrics[key], (got.window, key)
            # KS on the grid: D_grid <= D <= D_grid + the largest cell's mass (about 1/1024).
            d_grid = got.metrics[f"drift.columns.{name}.statistic"]
            d = want.metrics[f"drift.columns.{name}.statistic"]
            assert d_grid <= d + 1e-12 and d <= d_grid + 3 / 1_024, (got.window, name)


def test_windows_are_batched_by_count_and_by_exact_rows() -> None:
    from driftwise.scale.monitor import BATCH_EXACT_ROWS, WINDOWS_PER_BATCH, _batches, _Window

    small = [_Window(i, f"w{i}", {0: 10}) for i in range(WINDOWS_PER_BATCH * 2 + 1)]
    assert [len(b) for b in _batches(small, 1_000_000)] == [WINDOWS_PER_BATCH,
                                                            WINDOWS_PER_BATCH, 1]
    exact = [_Window(i, f"w{i}", {0: 900_000}) for i in range(5)]
    batches = _batches(exact, 1_000_000)
    assert all(sum(w.n_rows for w in b) <= BATCH_EXACT_ROWS for b in batches)
    assert [w.key for b in batches for w in b] == list(range(5))  # order kept
    gridded = [_Window(i, f"w{i}", {0: 5_000_000}) for i in range(3)]
    assert [len(b) for b in _batches(gridded, 1_000_000)] == [3]  # grids have a fixed size
