"""The Dask engine on a real LocalCluster of several worker processes: the same results as
in memory where exact, within the stated bound where gridded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftwise.detect import DriftDetector
from driftwise.errors import InputFileError, SchemaError

distributed = pytest.importorskip("distributed", reason="driftwise[dask] is not installed")
dd = pytest.importorskip("dask.dataframe")

from driftwise.scale import DaskEngine  # noqa: E402


def _table(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    labels = np.array(["a", "b", "c", "d", "e"])
    return pa.table({
        "income": rng.lognormal(size=n) * (1 + shift),
        "score": rng.normal(shift, 1.0, size=n),
        "holes": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        "visits": rng.poisson(4, size=n).astype(np.int64),
        "plan": labels[rng.choice(5, size=n, p=[0.4, 0.3, 0.15, 0.1, 0.05])],
    })


def _folder(path: Path, table: pa.Table, files: int = 3, row_group: int = 3_000) -> Path:
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


def test_exact_where_the_data_fits(tmp_path: Path, cluster: object) -> None:
    ref_t, cur_t = _table(20_000, 1), _table(15_000, 2, shift=0.04)
    ref, cur = _folder(tmp_path / "ref", ref_t), _folder(tmp_path / "cur", cur_t)
    in_memory = DriftDetector().fit(ref).compare(cur).to_dict()
    engine = DaskEngine(client=cluster)
    on_dask = DriftDetector(engine=engine).fit(ref).compare(cur).to_dict()
    for key in ("reference_rows", "current_rows", "dataset_drift"):
        assert on_dask[key] == in_memory[key]
    by_name = {c["name"]: c for c in in_memory["columns"]}
    for col in on_dask["columns"]:
        expected = by_name[col["name"]]
        for field in ("test", "statistic", "p_value", "effect", "drift_detected", "quality"):
            assert col[field] == expected[field], (col["name"], field)


def test_within_the_bound_where_gridded(tmp_path: Path, cluster: object) -> None:
    ref_t, cur_t = _table(40_000, 3), _table(30_000, 4, shift=0.05)
    ref, cur = _folder(tmp_path / "ref", ref_t), _folder(tmp_path / "cur", cur_t)
    exact = {c.name: c for c in DriftDetector().fit(ref).compare(cur).columns}
    engine = DaskEngine(client=cluster, exact_limit=0, cells=512)
    detector = DriftDetector(engine=engine).fit(ref)
    assert detector.profile_.columns["income"].grid is not None
    gridded = {c.name: c for c in detector.compare(cur).columns}
    for name, col in exact.items():
        got = gridded[name]
        assert got.drift_detected == col.drift_detected, name
        if col.test == "ks":
            assert got.method == "grid"
            assert got.statistic <= col.statistic + 1e-12
            # Pilot edges are quantiles of a sample: allow twice a cell's nominal mass.
            assert col.statistic - got.statistic <= 2.0 / 512
            assert got.effect == pytest.approx(col.effect, rel=0.05, abs=2e-3)
        elif col.test is not None:
            assert got.p_value == pytest.approx(col.p_value, rel=1e-9), name
    assert gridded["holes"].quality.missing_share_current == \
        exact["holes"].quality.missing_share_current


def test_a_dask_dataframe_is_accepted(tmp_path: Path, cluster: object) -> None:
    ref_t, cur_t = _table(12_000, 5), _table(12_000, 6, shift=0.3)
    ref = dd.from_pandas(ref_t.to_pandas(), npartitions=4)
    cur = dd.from_pandas(cur_t.to_pandas(), npartitions=3)
    report = DriftDetector(engine=DaskEngine(client=cluster)).fit(ref).compare(cur)
    expected = DriftDetector().fit(ref_t).compare(cur_t)
    assert report.drifted_columns == expected.drifted_columns
    assert report.reference_rows == 12_000 and report.current_rows == 12_000


def test_bad_inputs_get_clear_errors(tmp_path: Path, cluster: object) -> None:
    engine = DaskEngine(client=cluster)
    ref = _folder(tmp_path / "ref", _table(6_000, 7))
    bad = _table(6_000, 8)
    bad = bad.set_column(1, "score", pa.array([f"s{i}" for i in range(6_000)]))
    cur = _folder(tmp_path / "cur", bad)
    detector = DriftDetector(engine=engine).fit(ref)
    with pytest.raises(SchemaError, match="column 'score' holds number values in the "
                                          "reference but string"):
        detector.compare(cur)
    with pytest.raises(InputFileError, match="no such file"):
        detector.compare(tmp_path / "absent")
    with pytest.raises(SchemaError, match="Parquet file or folder or a Dask DataFrame"):
        detector.compare({"score": [1.0]})


def test_the_cli_runs_on_a_local_cluster(tmp_path: Path) -> None:
    ref = _folder(tmp_path / "ref", _table(9_000, 9))
    cur = _folder(tmp_path / "cur", _table(9_000, 10, shift=0.5))
    out = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "driftwise", "check", str(ref), str(cur),
                          "--engine", "dask", "--workers", "2", "--json", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    report = json.loads(out.read_text())
    assert "score" in [c["name"] for c in report["columns"] if c["drift_detected"]]
    profile = tmp_path / "ref.profile"
    run = subprocess.run([sys.executable, "-m", "driftwise", "profile", str(ref), "-o",
                          str(profile), "--grid", "256", "--engine", "dask", "--workers", "2"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    run = subprocess.run([sys.executable, "-m", "driftwise", "report", str(ref), str(cur),
                          "--scheduler", "tcp://127.0.0.1:1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "--engine dask only" in run.stderr


def _hive(root: Path, shift: float, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    for region in ("east", "west"):
        for year in (2025, 2026):
            part = root / f"region={region}" / f"year={year}"
            part.mkdir(parents=True)
            n = 2_000
            pq.write_table(pa.table({
                "x": rng.normal(shift, 1.0, n),
                "plan": pa.array(rng.choice(["basic", "plus"], n)).dictionary_encode(),
                "note": pa.array([f"t{i % 7}" for i in range(n)], pa.string_view()),
            }), part / "part.parquet", row_group_size=700)
    return root


def test_hive_folders_dictionaries_and_views_read_as_in_memory(tmp_path: Path,
                                                               cluster: object) -> None:
    ref, cur = _hive(tmp_path / "ref", 0.0, 11), _hive(tmp_path / "cur", 0.1, 12)
    in_memory = DriftDetector().fit(ref).compare(cur).to_dict()
    engine = DaskEngine(client=cluster)
    parts = engine.prepare(ref, "reference")
    assert parts.schema.names == ["x", "plan", "note", "region", "year"]
    assert parts.schema.field("plan").type == pa.string()
    on_dask = DriftDetector(engine=engine).fit(ref).compare(cur).to_dict()
    assert [c["name"] for c in on_dask["columns"]] == [c["name"] for c in in_memory["columns"]]
    by_name = {c["name"]: c for c in in_memory["columns"]}
    for col in on_dask["columns"]:
        for field in ("kind", "test", "statistic", "p_value", "drift_detected"):
            assert col[field] == by_name[col["name"]][field], (col["name"], field)
    table = parts.select(["year", "x"]).parts[0]()
    assert table.column_names == ["year", "x"] and table.column("year").type == pa.int32()
