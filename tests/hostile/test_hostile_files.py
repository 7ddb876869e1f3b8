"""Hostile files: corrupt compression, FIFOs and devices, misleading names, CSV dialects,
encodings, quoted newlines, Parquet folders that disagree. Each gets exit 2 and one line
naming the file (and what to do), or, where the input is valid, the right verdict."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from tests.hostile.helpers import assert_bad_input, assert_verdict, cli, frame, write_pair

DRIFTWISE = str(Path(sys.executable).parent / "driftwise")


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write_pair(tmp_path, shift=1.0)


def _p_values(path: Path) -> dict[str, float]:
    report = json.loads(path.read_text())
    return {c["name"]: c["p_value"] for c in report["columns"]}


def _json_of(*args: str | Path, out: Path) -> dict[str, float]:
    outcome = cli("report", *args, "--json", out)
    assert outcome.code == 0, outcome
    return _p_values(out)


# -- compression ------------------------------------------------------------------------
def test_truncated_gzip(pair, tmp_path) -> None:
    ref, cur = pair
    data = gzip.compress(cur.read_bytes())
    bad = tmp_path / "cur.csv.gz"
    bad.write_bytes(data[: len(data) // 2])
    assert_bad_input(cli("check", ref, bad), "cur.csv.gz", "truncated or corrupt gzip")


def test_corrupt_bz2(pair, tmp_path) -> None:
    ref, _ = pair
    bad = tmp_path / "cur.csv.bz2"
    bad.write_bytes(b"BZh9" + os.urandom(200))
    assert_bad_input(cli("check", ref, bad), "cur.csv.bz2", "corrupt bz2")


def test_valid_compressed_files_give_the_plain_file_p_values(pair, tmp_path) -> None:
    ref, cur = pair
    (tmp_path / "cur.csv.gz").write_bytes(gzip.compress(cur.read_bytes()))
    (tmp_path / "cur.csv.bz2").write_bytes(bz2.compress(cur.read_bytes()))
    plain = _json_of(ref, cur, out=tmp_path / "a.json")
    assert _json_of(ref, tmp_path / "cur.csv.gz", out=tmp_path / "b.json") == plain
    assert _json_of(ref, tmp_path / "cur.csv.bz2", out=tmp_path / "c.json") == plain


def test_truncated_parquet(pair, tmp_path) -> None:
    ref, cur = pair
    whole = tmp_path / "whole.parquet"
    pd.read_csv(cur).to_parquet(whole)
    bad = tmp_path / "cut.parquet"
    bad.write_bytes(whole.read_bytes()[:-40])
    assert_bad_input(cli("check", ref, bad), "cut.parquet", "not readable as Parquet")


def test_empty_parquet_file(pair, tmp_path) -> None:
    ref, _ = pair
    bad = tmp_path / "empty.parquet"
    bad.write_bytes(b"")
    assert_bad_input(cli("check", ref, bad), "empty.parquet", "Parquet")


# -- not regular files --------------------------------------------------------------
@pytest.mark.parametrize("which", ["reference", "current"])
def test_a_fifo_is_refused_without_waiting(pair, tmp_path, which) -> None:
    ref, cur = pair
    fifo = tmp_path / "stream.csv"
    os.mkfifo(fifo)
    args = (fifo, cur) if which == "reference" else (ref, fifo)
    # A real process with a timeout: reading a FIFO nobody writes to would block forever.
    proc = subprocess.run([DRIFTWISE, "check", *map(str, args)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "stream.csv: not a regular file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_device_is_refused(pair) -> None:
    ref, _ = pair
    assert_bad_input(cli("check", ref, "/dev/zero"), "/dev/zero", "not a regular file")


def test_a_fifo_config_is_refused(pair, tmp_path) -> None:
    ref, cur = pair
    fifo = tmp_path / "monitor.yaml"
    os.mkfifo(fifo)
    assert_bad_input(cli("check", ref, cur, "--config", fifo), "monitor.yaml",
                     "not a regular file")


def test_a_folder_named_like_a_csv(pair, tmp_path) -> None:
    ref, _ = pair
    folder = tmp_path / "data.csv"
    folder.mkdir()
    assert_bad_input(cli("check", ref, folder), "data.csv", "must hold Parquet files")


def test_a_symlink_loop(pair, tmp_path) -> None:
    ref, _ = pair
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    assert_bad_input(cli("check", ref, loop), "loop.csv", "cannot read")


def test_a_missing_file(pair, tmp_path) -> None:
    ref, _ = pair
    assert_bad_input(cli("check", ref, tmp_path / "nope.csv"), "nope.csv", "no such file")


def test_a_path_with_a_nul_byte(pair) -> None:
    ref, _ = pair
    assert_bad_input(cli("check", ref, "cur\x00.csv"), "cur\\x00.csv")


# -- the final suffix decides ---------------------------------------------------------
def test_csv_text_named_parquet_dot_csv_is_read_as_csv(pair, tmp_path) -> None:
    ref, cur = pair
    odd = tmp_path / "export.parquet.csv"
    odd.write_bytes(cur.read_bytes())
    assert_verdict(cli("check", ref, odd), drift=True)


@pytest.mark.parametrize(("name", "message"), [
    ("plain.csv.gz", "truncated or corrupt gzip"),
    ("export.csv.parquet", "not readable as Parquet"),  # no sniffing of the content
    ("data.txt", "not a CSV or Parquet file name"),
    ("data.xlsx", "not a CSV or Parquet file name"),
    ("data.json", "not a CSV or Parquet file name"),
    ("data", "not a CSV or Parquet file name"),
    ("data.csv.zip", "archives"),
    ("data.csv.xz", "archives"),
    ("data.parquet.gz", "compresses its own"),
])
def test_csv_text_under_a_name_that_says_otherwise(pair, tmp_path, name, message) -> None:
    ref, cur = pair
    odd = tmp_path / name
    odd.write_bytes(cur.read_bytes())
    assert_bad_input(cli("check", ref, odd), name, message)


def test_parquet_bytes_named_csv(pair, tmp_path) -> None:
    ref, cur = pair
    odd = tmp_path / "really_parquet.csv"
    pd.read_csv(cur).to_parquet(odd)
    assert_bad_input(cli("check", ref, odd), "really_parquet.csv", "binary content")


# -- CSV dialects -------------------------------------------------------------------------
@pytest.mark.parametrize(("sep", "name"), [(";", "semi.csv"), ("\t", "tabs.csv"),
                                           ("|", "pipes.csv"), ("\t", "tabs.tsv")])
def test_delimiters_are_sniffed_and_give_the_comma_p_values(pair, tmp_path, sep, name) -> None:
    ref, cur = pair
    other = tmp_path / name
    pd.read_csv(cur).to_csv(other, sep=sep, index=False)
    plain = _json_of(ref, cur, out=tmp_path / "a.json")
    assert _json_of(ref, other, out=tmp_path / "b.json") == plain


def test_explicit_delimiter_applies_to_both_files(pair, tmp_path) -> None:
    ref, cur = pair
    for path in (ref, cur):
        pd.read_csv(path).to_csv(tmp_path / f"semi_{path.name}", sep=";", index=False)
    assert_verdict(cli("check", tmp_path / "semi_ref.csv", tmp_path / "semi_cur.csv",
                       "--delimiter", ";"), drift=True)


def test_one_column_whose_name_holds_a_delimiter(pair, tmp_path) -> None:
    ref, cur = pair
    # Told the wrong delimiter, the comma file parses to one column "x,amount,...".
    outcome = cli("check", ref, cur, "--delimiter", ";")
    assert_bad_input(outcome, "ref.csv", "parsed as one column", "--delimiter ','")


def test_a_bad_delimiter_option(pair) -> None:
    ref, cur = pair
    assert_bad_input(cli("check", ref, cur, "--delimiter", ";;"), "--delimiter")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("ragged.csv", b"x,amount,grade,city\n1,2,3,north\n4,5,6,south,extra\n",
     "Expected 4 columns"),
    ("dup.csv", b"x,x\n1,2\n3,4\n", "duplicate column names: 'x'"),
    ("empty.csv", b"", "empty file"),
    ("header.csv", b"x,amount,grade,city\n", "current sample is empty"),
    ("garbage.csv", bytes(range(256)) * 4, "binary content"),
])
def test_malformed_csv_files(pair, tmp_path, name, content, message) -> None:
    ref, _ = pair
    bad = tmp_path / name
    bad.write_bytes(content)
    assert_bad_input(cli("check", ref, bad), message)
    if name != "header.csv":  # the empty sample is named by role, the others by file
        assert name in cli("check", ref, bad).stderr


def test_crlf_line_endings_give_the_same_p_values(pair, tmp_path) -> None:
    ref, cur = pair
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(cur.read_bytes().replace(b"\n", b"\r\n"))
    plain = _json_of(ref, cur, out=tmp_path / "a.json")
    assert _json_of(ref, crlf, out=tmp_path / "b.json") == plain


def test_quoted_newlines_in_a_large_csv(tmp_path) -> None:
    rng = np.random.default_rng(7)
    n = 60_000  # several MB: Arrow reads it in blocks, a newline may fall in a value
    notes = np.where(rng.random(n) < 0.05, "first line\nsecond, with a comma\n\"quoted\"",
                     "plain")
    ref = pd.DataFrame({"x": rng.normal(size=n), "note": notes})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1.0, n), "note": notes})
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    out = tmp_path / "r.json"
    outcome = cli("check", tmp_path / "ref.csv", tmp_path / "cur.csv", "--json", out)
    assert_verdict(outcome, drift=True)
    report = json.loads(out.read_text())
    assert report["reference_rows"] == n and report["current_rows"] == n
    x = next(c for c in report["columns"] if c["name"] == "x")
    assert x["p_value"] == pytest.approx(stats.ks_2samp(ref.x, cur.x).pvalue, rel=1e-9,
                                         abs=1e-300)


# -- encodings ---------------------------------------------------------------------
def _accented(tmp_path: Path, encoding: str) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    words = ["café", "naïve", "plain"]
    ref = pd.DataFrame({"word": rng.choice(words, 300, p=[0.5, 0.3, 0.2]),
                        "x": rng.normal(size=300)})
    cur = pd.DataFrame({"word": rng.choice(words, 300, p=[0.1, 0.1, 0.8]),
                        "x": rng.normal(size=300)})
    paths = tmp_path / f"ref_{encoding}.csv", tmp_path / f"cur_{encoding}.csv"
    ref.to_csv(paths[0], index=False, encoding=encoding)
    cur.to_csv(paths[1], index=False, encoding=encoding)
    return paths


def test_latin1_without_an_encoding_names_the_fix(tmp_path) -> None:
    ref, cur = _accented(tmp_path, "latin-1")
    assert_bad_input(cli("check", ref, cur), "ref_latin-1.csv", "not valid utf-8",
                     "--encoding latin-1")


def test_latin1_with_its_encoding_tests_the_accented_column(tmp_path) -> None:
    ref, cur = _accented(tmp_path, "latin-1")
    out = tmp_path / "r.json"
    assert_verdict(cli("check", ref, cur, "--encoding", "latin-1", "--json", out), drift=True)
    word = next(c for c in json.loads(out.read_text())["columns"] if c["name"] == "word")
    assert word["kind"] == "categorical" and word["drift_detected"] and word["skipped"] is None


def test_invalid_utf8_far_into_a_file_is_not_a_skipped_binary_column(tmp_path) -> None:
    rng = np.random.default_rng(4)
    text = pd.DataFrame({"word": rng.choice(["alpha", "beta"], 40_000),
                         "x": rng.normal(size=40_000)}).to_csv(index=False)
    ref = tmp_path / "ref.csv"
    ref.write_text(text)
    cur = tmp_path / "cur.csv"
    cur.write_bytes(text.encode() + b"caf\xe9,0.5\n")  # past the sniffed head
    assert_bad_input(cli("check", ref, cur), "cur.csv", "'word'", "not valid utf-8")


def test_an_undecodable_byte_in_the_given_encoding(pair, tmp_path) -> None:
    ref, _ = pair
    bad = tmp_path / "cp.csv"
    bad.write_bytes(b"x,word\n1.0,\x81\n")
    assert_bad_input(cli("check", ref, bad, "--encoding", "cp1252"), "cp.csv", "cp1252")


def test_utf16_is_recognised_and_read_when_asked(pair, tmp_path) -> None:
    ref, cur = pair
    wide = tmp_path / "wide.csv"
    wide.write_bytes(cur.read_text().encode("utf-16"))
    assert_bad_input(cli("check", ref, wide), "wide.csv", "--encoding utf-16")
    plain = _json_of(ref, cur, out=tmp_path / "a.json")
    both = tmp_path / "ref16.csv"
    both.write_bytes(ref.read_text().encode("utf-16"))
    assert _json_of(both, wide, "--encoding", "utf-16", out=tmp_path / "b.json") == plain


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_name(pair, tmp_path) -> None:
    ref, cur = pair
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + cur.read_bytes())
    plain = _json_of(ref, cur, out=tmp_path / "a.json")
    assert _json_of(ref, bom, out=tmp_path / "b.json") == plain


def test_an_unknown_encoding_name(pair) -> None:
    ref, cur = pair
    assert_bad_input(cli("check", ref, cur, "--encoding", "klingon"), "--encoding",
                     "klingon")


# -- Parquet folders ---------------------------------------------------------------------
def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "parts"
    folder.mkdir()
    cur = frame(600, 1.0, 5)
    cur.iloc[:300].to_parquet(folder / "part-0.parquet")
    return folder


def test_folder_parts_with_a_missing_column(pair, tmp_path) -> None:
    ref, _ = pair
    folder = _folder(tmp_path)
    frame(300, 1.0, 6).drop(columns=["city"]).to_parquet(folder / "part-1.parquet")
    assert_bad_input(cli("check", ref, folder), "part-1.parquet", "lacks column 'city'")


def test_folder_parts_with_another_type(pair, tmp_path) -> None:
    ref, _ = pair
    folder = _folder(tmp_path)
    other = frame(300, 1.0, 6)
    other["grade"] = other["grade"].astype(str)
    other.to_parquet(folder / "part-1.parquet")
    assert_bad_input(cli("check", ref, folder), "part-1.parquet", "column 'grade'")


def test_folder_with_a_stray_file(pair, tmp_path) -> None:
    ref, _ = pair
    folder = _folder(tmp_path)
    (folder / "README.txt").write_text("notes")
    assert_bad_input(cli("check", ref, folder), "README.txt", "only Parquet files")


def test_folder_markers_of_finished_jobs_are_ignored(pair, tmp_path) -> None:
    ref, _ = pair
    folder = _folder(tmp_path)
    frame(300, 1.0, 6).to_parquet(folder / "part-1.parquet")
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-1.parquet.crc").write_bytes(b"\x00\x01")
    assert_verdict(cli("check", ref, folder), drift=True)


def test_an_empty_folder(pair, tmp_path) -> None:
    ref, _ = pair
    (tmp_path / "none").mkdir()
    assert_bad_input(cli("check", ref, tmp_path / "none"), "none", "must hold Parquet")


def test_a_folder_with_a_corrupt_part(pair, tmp_path) -> None:
    ref, _ = pair
    folder = _folder(tmp_path)
    (folder / "part-1.parquet").write_bytes(b"PAR1 not really")
    assert_bad_input(cli("check", ref, folder), "part-1.parquet", "not readable as Parquet")


def test_parquet_with_nested_types_beside_plain_ones(tmp_path) -> None:
    rng = np.random.default_rng(8)
    n = 500

    def table(shift: float) -> pa.Table:
        return pa.table({
            "x": rng.normal(shift, 1.0, n),
            "tags": [["a", "b"]] * n,
            "meta": [{"k": 1, "v": "x"}] * n,
            "attrs": pa.array([[("k", 1)]] * n, type=pa.map_(pa.string(), pa.int64())),
        })

    pq.write_table(table(0.0), tmp_path / "ref.parquet")
    pq.write_table(table(1.0), tmp_path / "cur.parquet")
    out = tmp_path / "r.json"
    assert_verdict(cli("check", tmp_path / "ref.parquet", tmp_path / "cur.parquet", "--json",
                       out), drift=True)
    columns = {c["name"]: c for c in json.loads(out.read_text())["columns"]}
    assert columns["x"]["drift_detected"]
    for name in ("tags", "meta", "attrs"):
        assert columns[name]["kind"] == "nested" and "nested" in columns[name]["skipped"]
