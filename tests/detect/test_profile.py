"""A saved reference profile gives exactly the results of the raw reference."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from driftwise.detect import DriftDetector, ReferenceProfile
from driftwise.errors import ConfigError, InputFileError


@pytest.mark.parametrize("numeric_test", ["ks", "anderson", "cvm", "mannwhitney", "psi"])
def test_loaded_profile_gives_identical_p_values(drifted_pair, tmp_path, numeric_test) -> None:
    ref, cur = drifted_pair
    ref = ref.assign(x_same=ref.x_same.where(ref.index % 7 != 0))  # with missing values
    detector = DriftDetector(numeric_test=numeric_test).fit(ref)
    direct = detector.compare(cur).to_dict()
    path = tmp_path / "ref.profile"
    detector.save(path)
    loaded = DriftDetector.load(path).compare(cur).to_dict()
    assert loaded["columns"] == direct["columns"]
    via_fit = DriftDetector(numeric_test=numeric_test).fit(str(path)).compare(cur).to_dict()
    assert via_fit["columns"] == direct["columns"]


def test_saved_settings_come_back_and_can_be_overridden(drifted_pair, tmp_path) -> None:
    ref, cur = drifted_pair
    path = tmp_path / "ref.profile"
    DriftDetector(numeric_test="cvm", alpha=0.01).fit(ref).save(path)
    assert DriftDetector.load(path).compare(cur).column("x_shift").test == "cvm"
    assert DriftDetector.load(path, numeric_test="ks").compare(cur).column("x_shift").test == "ks"
    assert DriftDetector.load(path).settings().alpha == 0.01


def test_profile_keeps_exclusions_and_can_exclude_more(drifted_pair, tmp_path) -> None:
    ref, cur = drifted_pair
    path = tmp_path / "ref.profile"
    DriftDetector(exclude=["code"]).fit(ref).save(path)
    report = DriftDetector.load(path, exclude=["x_same"]).compare(cur)
    assert [c.name for c in report.columns] == ["x_shift", "cat_shift", "cat_same"]
    with pytest.raises(ConfigError, match="'nope'"):
        DriftDetector.load(path, exclude=["nope"])


def test_profile_file_is_a_zip_with_versioned_metadata(drifted_pair, tmp_path) -> None:
    ref, _ = drifted_pair
    path = tmp_path / "ref.profile"
    DriftDetector().fit(ref).save(path)
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("profile.json"))
    assert meta["format"] == "driftwise-reference-profile" and meta["version"] == 1
    assert [c["name"] for c in meta["columns"]] == list(ref.columns)


def test_foreign_or_future_files_are_rejected(tmp_path, drifted_pair) -> None:
    junk = tmp_path / "junk.profile"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match="not a readable driftwise profile"):
        ReferenceProfile.load(junk)
    other = tmp_path / "other.profile"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("profile.json", json.dumps({"format": "something-else"}))
    with pytest.raises(InputFileError, match="not a driftwise reference profile"):
        ReferenceProfile.load(other)
    future = tmp_path / "future.profile"
    with zipfile.ZipFile(future, "w") as zf:
        zf.writestr("profile.json", json.dumps({"format": "driftwise-reference-profile",
                                                "version": 99}))
    with pytest.raises(InputFileError, match="version 99"):
        ReferenceProfile.load(future)


def test_large_reference_profile_round_trip_is_exact(tmp_path) -> None:
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"x": rng.normal(size=30_000), "y": rng.exponential(size=30_000)})
    cur = pd.DataFrame({"x": rng.normal(size=12_000), "y": rng.exponential(size=12_000)})
    detector = DriftDetector().fit(ref)
    detector.save(tmp_path / "big.profile")
    a = detector.compare(cur)
    b = DriftDetector.load(tmp_path / "big.profile").compare(cur)
    assert [c.p_value for c in a.columns] == [c.p_value for c in b.columns]
    assert a.column("x").method == "asymptotic"
