"""Damaged and hand-edited profiles: one "damaged profile: ..." error, never a KeyError, and
the same message from the library as from the CLI."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from driftwise import DriftDetector, InputFileError, ReferenceProfile
from driftwise.detect import _profile_file
from tests.hostile.helpers import assert_bad_input, assert_verdict, cli, frame


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "ref.profile"
    DriftDetector().fit(frame(500, 0.0, 1)).save(path)
    return path


@pytest.fixture
def current(tmp_path: Path) -> Path:
    path = tmp_path / "cur.csv"
    frame(500, 1.0, 2).to_csv(path, index=False)
    return path


def _rewrite(path: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """A copy of the profile with its entries changed by ``change`` (name -> bytes)."""
    with zipfile.ZipFile(path) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    change(entries)
    out = path.with_name("edited.profile")
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out


def _meta(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, bytes]], None]:
    def edit(entries: dict[str, bytes]) -> None:
        meta = json.loads(entries["profile.json"])
        change(meta)
        entries["profile.json"] = json.dumps(meta).encode()
    return edit


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def _numeric_index(meta: dict[str, Any]) -> int:
    return next(i for i, c in enumerate(meta["columns"]) if c["kind"] == "numeric")


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda meta: meta.__setitem__(key, value)


def _set_column(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda meta: meta["columns"][0].__setitem__(key, value)


def _drop_key(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda meta: meta.pop(key)


def _categorical(meta: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in meta["columns"] if c["kind"] == "categorical")


def _replace_values(array: Callable[[np.ndarray], np.ndarray]) -> Callable[[dict[str, bytes]],
                                                                           None]:
    def edit(entries: dict[str, bytes]) -> None:
        i = _numeric_index(json.loads(entries["profile.json"]))
        values = np.load(io.BytesIO(entries[f"values/{i}.npy"]))
        entries[f"values/{i}.npy"] = _npy(array(values))
    return edit


DAMAGE: dict[str, tuple[Callable[[dict[str, bytes]], None], str]] = {
    "profile.json is not JSON": (lambda e: e.__setitem__("profile.json", b"{not json"),
                                 "profile.json is not JSON"),
    "profile.json is a list": (lambda e: e.__setitem__("profile.json", b"[1, 2]"),
                               "does not hold a mapping"),
    "columns missing": (_meta(_drop_key("columns")), "columns: required"),
    "n_rows a string": (_meta(_set("n_rows", "500")), "n_rows: expected an integer"),
    "n_rows zero": (_meta(_set("n_rows", 0)), "n_rows: expected an integer >= 1"),
    "an extra key": (_meta(_set("checksum", "abc")), "unknown key 'checksum'"),
    "a kind unknown": (_meta(_set_column("kind", "blob")), "columns[0].kind: expected one of"),
    "a role unknown": (_meta(_set_column("role", "boss")), "columns[0].role: expected one of"),
    "more missing than rows": (_meta(_set_column("n_missing", 10_000)), "missing values of"),
    "rows disagree": (_meta(_set_column("n_rows", 7)), "has 7 rows, the profile 500"),
    "a column twice": (_meta(lambda m: m["columns"].append(m["columns"][0])),
                       "a column is listed twice"),
    "counts shorter": (_meta(lambda m: _categorical(m)["counts"].pop()), "labels but"),
    "counts negative": (_meta(lambda m: _categorical(m)["counts"].__setitem__(0, -5)),
                        "expected an integer >= 0"),
    "counts do not add up": (_meta(lambda m: _categorical(m)["counts"].__setitem__(0, 1)),
                             "counts add up to"),
    "settings alpha string": (_meta(lambda m: m["settings"].__setitem__("alpha", "x")),
                              "settings.alpha: expected a number"),
    "values missing": (lambda e: [e.pop(k) for k in list(e) if k.startswith("values/")],
                       ".npy is missing"),
    "values not npy": (lambda e: e.__setitem__(
        f"values/{_numeric_index(json.loads(e['profile.json']))}.npy", b"nonsense"),
        "is not a NumPy array"),
    "values of integers": (_replace_values(lambda v: v.astype(np.int64)), "expected 1-D float64"),
    "values unsorted": (_replace_values(lambda v: v[::-1].copy()), "not sorted"),
    "values with NaN": (_replace_values(lambda v: np.r_[v[:-1], np.nan]), "NaN or infinity"),
    "values too few": (_replace_values(lambda v: v[:-3]), "values, expected"),
    "values pickled": (_replace_values(lambda v: np.array([object()] * v.size)),
                       "is not a NumPy array"),
    "rows corrupt": (lambda e: e.__setitem__("rows.parquet", b"PAR1 garbage PAR1"),
                     "rows.parquet is not readable"),
    "rows of another column": (lambda e: e.__setitem__("rows.parquet", _other_rows()),
                               "rows.parquet has column 'intruder'"),
}


def _other_rows() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"intruder": [1, 2, 3]}), buf)
    return buf.getvalue()


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damage_is_one_clear_error_in_the_library_and_the_cli(saved, current, case) -> None:
    change, message = DAMAGE[case]
    edited = _rewrite(saved, change)
    with pytest.raises(InputFileError) as info:
        ReferenceProfile.load(edited)
    assert "damaged profile: " in str(info.value) and message in str(info.value)
    outcome = cli("check", edited, current)
    assert_bad_input(outcome, "edited.profile: damaged profile: ", message)
    assert outcome.message == f"driftwise: error: {info.value}"


def test_not_a_zip(saved, current, tmp_path) -> None:
    junk = tmp_path / "junk.profile"
    junk.write_text("x,y\n1,2\n")
    assert_bad_input(cli("check", junk, current), "junk.profile", "not a readable driftwise")


def test_a_zip_without_metadata(current, tmp_path) -> None:
    other = tmp_path / "other.profile"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert_bad_input(cli("check", other, current), "other.profile", "no profile.json")


def test_a_future_version(saved, current) -> None:
    future = _rewrite(saved, _meta(_set("version", 99)))
    assert_bad_input(cli("check", future, current), "version 99 is not supported",
                     "driftwise profile")


def test_an_entry_that_would_expand_beyond_its_limit(saved, current, monkeypatch) -> None:
    monkeypatch.setattr(_profile_file, "MAX_META_BYTES", 64)
    assert_bad_input(cli("check", saved, current), "damaged profile: profile.json would "
                     "expand to")


def test_the_suffix_decides_what_a_profile_is(saved, current, tmp_path) -> None:
    renamed = tmp_path / "ref.zip"
    renamed.write_bytes(saved.read_bytes())
    assert_bad_input(cli("check", renamed, current), "ref.zip", "archives")
    assert_verdict(cli("check", saved, current), drift=True)


def test_a_profile_as_the_current_sample(saved) -> None:
    assert_bad_input(cli("check", saved, saved), "ref.profile", "not a CSV or Parquet")


def test_profile_output_needs_the_suffix(tmp_path, current) -> None:
    assert_bad_input(cli("profile", current, "-o", tmp_path / "ref.prof"), "ref.prof",
                     ".profile")


def test_kinds_cannot_change_on_a_saved_profile(saved, current, tmp_path) -> None:
    (tmp_path / "c.yaml").write_text("columns: {grade: {kind: numeric}}\n")
    outcome = cli("check", saved, current, "--config", tmp_path / "c.yaml")
    assert_bad_input(outcome, "column kinds cannot change on a saved profile",
                     "'grade' is categorical, configured numeric")


def test_an_untouched_profile_gives_the_data_results(saved, current, tmp_path) -> None:
    ref = tmp_path / "ref.csv"
    frame(500, 0.0, 1).to_csv(ref, index=False)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert cli("report", ref, current, "--json", a).code == 0
    assert cli("report", saved, current, "--json", b).code == 0
    cols = [json.loads(p.read_text())["columns"] for p in (a, b)]
    assert [c["p_value"] for c in cols[0]] == [c["p_value"] for c in cols[1]]
