"""`driftwise report` on real data it was not tuned on: every column equals SciPy or is
skipped with a reason. Real pairs bring constant columns, integer-coded categoricals,
unseen categories, missing values and free text."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.test_cli import run, scipy_p_values
from tests.conftest import needs_shared_data, shared_data


def _nsl_kdd(tmp: Path) -> tuple[Path, Path]:
    # Test traffic holds attack types never seen in training: unseen categories.
    return (shared_data("nsl_kdd/KDDTrain+_20Percent.csv.gz"),
            shared_data("nsl_kdd/KDDTest+.csv.gz"))


def _split(frame: pd.DataFrame, at: int, tmp: Path) -> tuple[Path, Path]:
    frame.iloc[:at].to_csv(tmp / "ref.csv", index=False)
    frame.iloc[at:].to_csv(tmp / "cur.csv", index=False)
    return tmp / "ref.csv", tmp / "cur.csv"


def _elec2(tmp: Path) -> tuple[Path, Path]:
    # The Victorian columns are constant (imputed) in the first 17,424 rows.
    elec = pd.read_csv(shared_data("elec2/elec2_electricity_normalized.csv"))
    return _split(elec.iloc[:30_000], 15_000, tmp)


def _credit(tmp: Path) -> tuple[Path, Path]:
    credit = pd.read_csv(shared_data("credit_default_taiwan/default_credit_card_clients.csv"))
    return _split(credit, 20_000, tmp)


def _tweets(tmp: Path) -> tuple[Path, Path]:
    tweets = pd.read_csv(shared_data("twitter_airline_sentiment/tweets_airline_sentiment.csv"))
    tweets = tweets.sort_values("tweet_created", kind="stable")
    return _split(tweets, len(tweets) // 2, tmp)


def _acs(tmp: Path) -> tuple[Path, Path]:
    ref = pd.read_parquet(shared_data("acs_employment_ma_nannyml/employment_MA_reference.pq"))
    ana = pd.read_parquet(shared_data("acs_employment_ma_nannyml/employment_MA_analysis.pq"))
    ref.drop(columns=["employed"]).to_parquet(tmp / "ref.parquet")
    ana[ana.year == 2016].to_parquet(tmp / "cur.parquet")
    return tmp / "ref.parquet", tmp / "cur.parquet"


PAIRS = {"nsl_kdd": _nsl_kdd, "elec2": _elec2, "credit": _credit, "tweets": _tweets,
         "acs": _acs}


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@needs_shared_data
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_real_pairs_equal_scipy_or_give_a_reason(pair: str, tmp_path: Path) -> None:
    ref_path, cur_path = PAIRS[pair](tmp_path)
    out = tmp_path / "out.json"
    proc = run("report", ref_path, cur_path, "--numeric-test", "ks", "--categorical-test",
               "chi2", "--json", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    tested = {c["name"]: c["kind"] for c in report["columns"] if c["skipped"] is None}
    expected = scipy_p_values(_read(ref_path), _read(cur_path), tested)
    for col in report["columns"]:
        if col["skipped"] is not None:
            assert len(col["skipped"]) > 10 and col["test"] is None
            continue
        stat, p = expected[col["name"]]
        assert col["statistic"] == pytest.approx(stat, rel=1e-9, abs=1e-12), col["name"]
        assert col["p_value"] == pytest.approx(p, rel=1e-9, abs=1e-300), col["name"]
    assert tested, "a real pair with no tested column proves nothing"


@needs_shared_data
def test_real_pairs_show_their_documented_traits(tmp_path: Path) -> None:
    ref_path, cur_path = _nsl_kdd(tmp_path)
    out = tmp_path / "kdd.json"
    assert run("report", ref_path, cur_path, "--json", out).returncode == 0
    cols = {c["name"]: c for c in json.loads(out.read_text())["columns"]}
    new_attacks = set(cols["attack"]["quality"]["new_categories"])
    assert {"apache2", "mailbomb", "snmpguess", "xterm"} <= new_attacks  # MANIFEST.md, #11
    assert cols["num_outbound_cmds"]["p_value"] == 1.0  # constant 0 in both samples
    (tmp_path / "e").mkdir()
    ref_path, cur_path = _elec2(tmp_path / "e")
    assert run("report", ref_path, cur_path, "--json", out).returncode == 0
    cols = {c["name"]: c for c in json.loads(out.read_text())["columns"]}
    # vicprice is constant (imputed) until row 17,424, then real: drift in the second half.
    assert cols["vicprice"]["drift_detected"]
    (tmp_path / "t").mkdir()
    ref_path, cur_path = _tweets(tmp_path / "t")
    assert run("report", ref_path, cur_path, "--json", out).returncode == 0
    cols = {c["name"]: c for c in json.loads(out.read_text())["columns"]}
    assert cols["text"]["kind"] == "text" and cols["tweet_id"]["kind"] == "identifier"
    assert cols["tweet_created"]["kind"] == "datetime"
    assert cols["negativereason"]["quality"]["missing_share_reference"] > 0.2
