"""`driftwise report` with an embedding and a text column: the JSON and HTML parts."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftwise.config import parse_config
from driftwise.detect import DriftDetector
from driftwise.detect.profile import row_sample
from driftwise.errors import ConfigError
from tests.cli.test_cli import run

WORDS = ["market", "shares", "rose", "fell", "bank", "profit", "oil", "price", "trade", "deal"]


def _pair(tmp_path: Path, dims_current: int = 8) -> tuple[Path, Path]:
    rng = np.random.default_rng(40)

    def table(n: int, shift: float, dims: int, extra: list[str]) -> pa.Table:
        vectors = rng.normal(1.0, 1, size=(n, dims)).astype(np.float32)
        vectors[:, 3] += shift
        words = WORDS + extra
        texts = [" ".join(rng.choice(words, 7)) for _ in range(n)]
        return pa.table({
            "amount": rng.normal(size=n),
            "embedding": pa.array(list(vectors), type=pa.list_(pa.float32())),
            "headline": texts,
        })

    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    pq.write_table(table(400, 0.0, 8, []), ref)
    pq.write_table(table(300, 0.8, dims_current, ["lockdown", "virus"]), cur)
    return ref, cur


def test_report_shows_mmd_classifier_features_and_vocabulary(tmp_path: Path) -> None:
    ref, cur = _pair(tmp_path)
    config = tmp_path / "cfg.yaml"
    config.write_text("text: {embeddings: false}\nembeddings: {classifier: gradient_boosting}\n")
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    proc = run("check", ref, cur, "--config", config, "--json", out, "--html", html)
    assert proc.returncode == 1, proc.stderr  # drift in the embedding and the text
    report = json.loads(out.read_text())
    assert {c["name"]: c["kind"] for c in report["columns"]}["embedding"] == "embedding"
    emb = report["embeddings"][0]
    assert emb["name"] == "embedding" and emb["drift_detected"]
    assert emb["mmd"]["p_value"] < 0.05
    assert emb["classifier"]["auc"] > 0.6
    assert emb["classifier"]["top_features"][0]["feature"] == "dim_3"
    text = report["text"][0]
    assert text["drift_detected"]
    assert {t["term"] for t in text["vocabulary"]["gained"][:2]} == {"lockdown", "virus"}
    assert report["multivariate"] is None
    page = html.read_text()
    assert 'id="embeddings"' in page and 'id="text"' in page and "lockdown" in page
    assert "dim_3" in page


def test_embedding_dimensions_that_differ_exit_2_naming_the_column(tmp_path: Path) -> None:
    ref, cur = _pair(tmp_path, dims_current=6)
    proc = run("report", ref, cur, "--json", tmp_path / "r.json")
    assert proc.returncode == 2
    assert "'embedding'" in proc.stderr and "8 dimensions" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_vectors_in_csv_as_json_arrays(tmp_path: Path) -> None:
    rng = np.random.default_rng(41)
    for name, shift in (("ref.csv", 0.0), ("cur.csv", 1.0)):
        rows = ["x,emb"] + [
            f'{rng.normal()},"{json.dumps([round(float(v), 4) for v in rng.normal(shift, 1, 4)])}"'
            for _ in range(150)]
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    out = tmp_path / "r.json"
    proc = run("report", tmp_path / "ref.csv", tmp_path / "cur.csv", "--json", out)
    assert proc.returncode == 0, proc.stderr
    emb = json.loads(out.read_text())["embeddings"][0]
    assert emb["dimensions"] == 4 and emb["drift_detected"]


def test_multivariate_part_on_request_and_saved_profiles_say_why_not() -> None:
    rng = np.random.default_rng(42)
    a = rng.normal(size=800)
    ref = {"a": a, "b": a + 0.1 * rng.normal(size=800)}
    c = rng.normal(size=800)
    cur = {"a": c, "b": -c + 0.1 * rng.normal(size=800)}
    report = DriftDetector(multivariate={"classifier": "logistic"}).fit(ref).compare(cur)
    assert report.multivariate is not None and report.multivariate.drift_detected
    assert report.drift_detected  # the joint shift counts even though no column drifts
    assert report.to_dict()["multivariate"]["columns"] == ["a", "b"]


def test_a_saved_profile_gives_the_same_row_based_parts(tmp_path: Path) -> None:
    ref_path, cur_path = _pair(tmp_path)
    rng = np.random.default_rng(43)
    ref, cur = pq.read_table(ref_path), pq.read_table(cur_path)
    # A second numeric column, related to the first in the reference only: a joint shift.
    ref = ref.append_column("amount2", pa.array(
        ref.column("amount").to_numpy() + 0.1 * rng.normal(size=ref.num_rows)))
    cur = cur.append_column("amount2", pa.array(
        -cur.column("amount").to_numpy() + 0.1 * rng.normal(size=cur.num_rows)))
    settings = {"text": {"embeddings": False}, "multivariate": {"classifier": "logistic"}}
    direct = DriftDetector(**settings).fit(ref)
    direct.save(tmp_path / "ref.profile")
    from_file = DriftDetector(**settings).fit(tmp_path / "ref.profile").compare(cur).to_dict()
    loaded = DriftDetector.load(tmp_path / "ref.profile", **settings).compare(cur).to_dict()
    expected = direct.compare(cur).to_dict()
    for part in ("embeddings", "text", "multivariate"):
        assert from_file[part] == expected[part], part
        assert loaded[part] == expected[part], part
    assert expected["embeddings"][0]["drift_detected"] and expected["text"][0]["drift_detected"]
    assert expected["multivariate"]["drift_detected"]
    assert expected["multivariate"]["columns"] == ["amount", "amount2"]


def test_a_profile_without_rows_skips_row_based_parts_with_the_remedy(tmp_path: Path) -> None:
    ref, cur = _pair(tmp_path)
    det = DriftDetector(text={"enabled": False}).fit(ref)
    det.save(tmp_path / "ref.profile", rows=False)
    with zipfile.ZipFile(tmp_path / "ref.profile") as zf:
        assert "rows.parquet" not in zf.namelist()
    report = DriftDetector(text={"enabled": False}).fit(tmp_path / "ref.profile").compare(cur)
    assert report.embeddings[0].skipped is not None
    assert "--no-rows" in report.embeddings[0].skipped
    assert "pass the reference data file" in report.embeddings[0].skipped
    # The per-column tests are unaffected.
    assert report.to_dict()["columns"] == det.compare(cur).to_dict()["columns"]


def test_cli_profile_keeps_rows_unless_told_not_to(tmp_path: Path) -> None:
    ref, cur = _pair(tmp_path)
    proc = run("profile", ref, "-o", tmp_path / "with.profile")
    assert proc.returncode == 0, proc.stderr
    assert "400 rows sampled" in proc.stdout
    assert run("profile", ref, "-o", tmp_path / "without.profile", "--no-rows").returncode == 0
    with zipfile.ZipFile(tmp_path / "with.profile") as zf:
        assert "rows.parquet" in zf.namelist()
    with zipfile.ZipFile(tmp_path / "without.profile") as zf:
        assert "rows.parquet" not in zf.namelist()
    out = tmp_path / "r.json"
    config = tmp_path / "cfg.yaml"
    config.write_text("text: {embeddings: false}\n")
    assert run("check", tmp_path / "with.profile", cur, "--config", config, "--json",
               out).returncode == 1
    assert json.loads(out.read_text())["embeddings"][0]["skipped"] is None


def test_row_sample_is_seeded_ordered_and_bounded() -> None:
    table = pa.table({"i": np.arange(1000), "s": [str(v) for v in range(1000)]})
    small = row_sample(table, size=2000)
    assert small.equals(table)
    a, b = row_sample(table, size=100), row_sample(table, size=100)
    assert a.equals(b) and a.num_rows == 100
    idx = a.column("i").to_numpy()
    assert np.all(np.diff(idx) > 0)  # original order, no repeats
    assert a.column("s").to_pylist() == [str(v) for v in idx]  # whole rows


def test_report_sentence_embeddings_on_request_and_missing_extra(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    import sys

    from driftwise.detect.geometry import _encoder

    ref, cur = _pair(tmp_path)
    _encoder.load_encoder.cache_clear()
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    try:
        report = DriftDetector(text={"embeddings": True}, embeddings={"enabled": False}).fit(
            ref).compare(cur)
    finally:
        _encoder.load_encoder.cache_clear()
    emb = report.to_dict()["text"][0]["embedding"]
    assert "pip install 'driftwise[text]'" in emb["skipped"] and "'headline'" in emb["skipped"]
    assert report.embeddings == ()


def test_config_sections_name_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="embeddings: unknown key"):
        parse_config({"embeddings": {"permutations": 10}})
    cfg = parse_config({"multivariate": {"columns": ["a", "b"]}, "text": False})
    assert cfg.geometry == {"multivariate": {"columns": ["a", "b"]}, "text": {"enabled": False}}


def test_a_profile_of_a_large_reference_gives_the_same_multivariate_result(
        tmp_path: Path) -> None:
    rng = np.random.default_rng(44)
    a = rng.normal(size=25_000)
    ref = {"a": a, "b": a + 0.5 * rng.normal(size=a.size)}
    c = rng.normal(size=3000)
    cur = {"a": c, "b": 0.8 * c + 0.5 * rng.normal(size=c.size)}
    settings = {"multivariate": {"classifier": "logistic"}}
    direct = DriftDetector(**settings).fit(ref)
    assert direct.profile_.rows is not None and direct.profile_.rows.num_rows == 20_000
    direct.save(tmp_path / "big.profile")
    expected = direct.compare(cur).to_dict()["multivariate"]
    got = DriftDetector(**settings).fit(tmp_path / "big.profile").compare(cur).to_dict()
    assert got["multivariate"] == expected
    assert expected["drift_detected"]  # the a–b relation weakened
