"""Data expectations: each rule against a direct count, suites that fail clean windows at
the rate their margins promise, injected pipeline bugs caught, the CLI gate."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from driftwise.cli import run
from driftwise.errors import ConfigError, SchemaError
from driftwise.expect import evaluate, parse_suite, suggest
from tests.conftest import needs_shared_data

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))


def _outcome(result, column, rule):
    return next(o for o in result.outcomes if o.column == column and o.rule == rule)


def test_each_rule_counts_what_it_says() -> None:
    ts = pa.array([datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 4, 3, 5)])
    table = pa.table({
        "age": pa.array([20.0, None, 150.0, float("nan"), 40.0]),
        "code": pa.array([1, 2, 3, 1, 9]),
        "email": pa.array(["a@b.c", "bad", None, "x@y.z", "p@q.r"]),
        "id": pa.array(["u1", "u2", "u2", "u3", None]),
        "ts": ts,
    })
    suite = parse_suite({
        "rows": {"min": 10},
        "columns": {
            "age": {"type": "float", "not_null": 0.8, "range": {"min": 0, "max": 120}},
            "code": {"type": "string", "allowed": {"values": ["1", 2, "3"], "mostly": 0.75}},
            "email": {"regex": {"pattern": "[^@]+@[^@]+"}, "length": {"min": 4, "max": 5}},
            "id": {"unique": True},
            "ts": {"monotonic": "increasing", "freshness": {"max_age": "2d"}},
            "gone": {"not_null": 1.0},
        }})
    now = datetime(2026, 1, 6, 12, tzinfo=UTC).timestamp()
    result = evaluate(suite, table, now=now)
    rows = _outcome(result, "table", "rows")
    assert (rows.observed, rows.passed) == (5, False)
    nn = _outcome(result, "age", "not_null")
    assert nn.observed == pytest.approx(3 / 5) and not nn.passed  # NaN counts as missing
    assert [r for r, _ in nn.examples] == [1, 3]
    rng = _outcome(result, "age", "range")
    assert rng.observed == pytest.approx(2 / 3) and rng.failing_rows == 1
    assert rng.examples == ((2, "150.0"),)
    assert _outcome(result, "age", "type").passed
    assert not _outcome(result, "code", "type").passed
    allowed = _outcome(result, "code", "allowed")  # labels: 2 and "2" agree
    assert allowed.observed == pytest.approx(4 / 5) and allowed.passed
    assert allowed.examples == ((4, "9"),)
    assert _outcome(result, "email", "regex").observed == pytest.approx(3 / 4)
    assert _outcome(result, "email", "length").failing_rows == 1  # "bad"
    unique = _outcome(result, "id", "unique")
    assert (unique.observed, unique.examples) == (1, ((2, "'u2'"),))
    mono = _outcome(result, "ts", "monotonic")
    assert mono.observed == 1 and mono.examples[0][0] == 3
    fresh = _outcome(result, "ts", "freshness")
    assert fresh.observed == pytest.approx(1.5 * 86400) and fresh.passed
    gone = _outcome(result, "gone", "present")
    assert gone.observed is None and not gone.passed
    metrics = result.metrics()
    assert metrics["expectations.age.range"] == pytest.approx(2 / 3)
    assert metrics["expectations.age.range.passed"] is False
    assert "expectations.code.type" not in metrics and metrics["expectations.code.type.passed"] \
        is False
    assert metrics["expectations.failed"] == len(result.failed)
    assert "row 2: 150.0" in rng.describe()


@pytest.mark.parametrize("suite, message", [
    ({"columns": {"x": {"regex": {"pattern": "(unclosed"}}}}, "columns.x.regex.pattern"),
    ({"columns": {"x": {"range": {"min": 3, "max": 1}}}}, "columns.x.range"),
    ({"columns": {"x": {"not_null": 1.5}}}, "columns.x.not_null"),
    ({"columns": {"x": {"freshness": {"max_age": "soon"}}}}, "columns.x.freshness.max_age"),
    ({"columns": {"x": {"nulls": 0.9}}}, "columns.x: unknown key 'nulls'"),
    ({"columns": {"x": {"type": "text"}}}, "columns.x.type"),
])
def test_bad_suites_are_refused_by_key(suite: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_suite(suite)


def test_a_rule_on_the_wrong_kind_of_column_names_it() -> None:
    table = pa.table({"name": ["a", "b"], "n": [1, 2]})
    with pytest.raises(SchemaError, match=r"'name'.*range rule needs numbers"):
        evaluate(parse_suite({"columns": {"name": {"range": {"min": 0}}}}), table)
    with pytest.raises(SchemaError, match=r"'n'.*regex rule needs text"):
        evaluate(parse_suite({"columns": {"n": {"regex": {"pattern": "1"}}}}), table)
    with pytest.raises(SchemaError, match=r"'n'.*freshness rule needs timestamps"):
        evaluate(parse_suite({"columns": {"n": {"freshness": {"max_age": "1h"}}}}), table)


def test_suggest_margins_follow_the_binomial_bound() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    table = pa.table({"x": rng.normal(size=n), "c": rng.choice(["a", "b", "c"], n),
                      "id": [f"u{i}" for i in range(n)],
                      "m": pa.array(np.where(rng.random(n) < 0.05, np.nan, 1.0))})
    suite = suggest(table, window_rows=1000, alpha=0.01)
    x = suite.columns["x"]
    assert x.range.min == pytest.approx(table["x"].to_numpy().min())
    # The mass outside the range is Beta(2, n - 1): its 0.99 quantile is 3.3e-4, and the
    # 0.99 quantile of Binomial(1000, 3.3e-4) is 2 rows.
    assert x.range.mostly == pytest.approx(0.998)
    assert suite.columns["c"].allowed.values == ["a", "b", "c"]
    assert suite.columns["id"].unique and suite.columns["id"].range is None
    # About 5 % missing: the margin sits below 0.95 by the binomial spread and more.
    assert 0.92 < suite.columns["m"].not_null < 0.945
    with pytest.raises(ConfigError, match="'nope'"):
        suggest(table, columns=["nope"])


@needs_shared_data
@pytest.mark.parametrize("load", ["credit", "acs"])
def test_suggested_suites_fail_clean_windows_at_most_at_their_rate(load: str) -> None:
    import expectations_eval as ev

    rates = ev.false_failures(getattr(ev, load)(), windows=200)
    suite = rates.pop("suite")
    # Each rule was set at alpha = 0.01: with 200 windows, 0.01 + 3 sd is 0.031.
    assert max(rates.values()) <= 0.031, max(rates.items(), key=lambda kv: kv[1])
    assert suite <= 0.10


@needs_shared_data
def test_injected_pipeline_bugs_fail_the_suite() -> None:
    import expectations_eval as ev

    found = {row["bug"]: row for row in ev.bugs(ev.credit())}
    assert found["null_storm"]["expectations"] == ["X5.not_null"]
    assert found["unit_change"]["expectations"] == ["X1.range"]
    assert "EDUCATION.allowed" in found["category_truncation"]["expectations"]
    # At 5 % of the rows the distribution tests miss the null storm and the unit change.
    assert not found["null_storm"]["drift_flagged"]
    assert not found["unit_change"]["drift_flagged"]


def test_cli_suggest_and_validate_gate(tmp_path: Path, capsys) -> None:
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    ref = pa.table({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(ref.slice(0, 400), tmp_path / "ok.parquet")
    bad = pa.table({"x": ref["x"].to_numpy()[:400] * 1000, "c": ref["c"][:400]})
    pq.write_table(bad, tmp_path / "bad.parquet")
    suite = tmp_path / "e.yaml"
    assert run(["expectations", "suggest", str(tmp_path / "ref.parquet"), "-o", str(suite),
                "--window-rows", "400"]) == 0
    assert "window_rows: 400" in suite.read_text()
    assert run(["validate", str(tmp_path / "ok.parquet"), "--expectations", str(suite)]) == 0
    out = tmp_path / "v.json"
    assert run(["validate", str(tmp_path / "bad.parquet"), "--expectations", str(suite),
                "--json", str(out)]) == 1
    assert '"rule": "range"' in out.read_text()
    assert "FAIL x.range" in capsys.readouterr().out
    assert run(["validate", str(tmp_path / "missing.parquet"), "--expectations",
                str(suite)]) == 2
    assert run(["validate", str(tmp_path / "ok.parquet"), "--expectations", str(suite),
                "--now", "yesterday"]) == 2


def test_monitor_checks_a_suite_file_next_to_its_config(tmp_path: Path) -> None:
    import pandas as pd

    from driftwise.monitor import Monitor

    (tmp_path / "e.yaml").write_text("columns:\n  x: {range: {min: -5, max: 5}}\n")
    (tmp_path / "m.yaml").write_text(
        "model: {task: binary}\ncolumns: {prediction: p}\nexpectations: e.yaml\n"
        "alerts:\n  - {metric: expectations.x.range.passed, condition: '== false'}\n")
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"x": rng.normal(size=1000), "p": rng.integers(0, 2, 1000)})
    monitor = Monitor(tmp_path / "m.yaml").fit(ref)
    clean = monitor.run(ref.iloc[:300])
    assert clean.get("expectations.x.range") == 1.0 and not clean.alerts
    broken = ref.iloc[:300].copy()
    broken.loc[broken.index[:30], "x"] = 50.0
    result = monitor.run(broken)
    assert result.get("expectations.x.range") == pytest.approx(0.9)
    assert [a.metric for a in result.alerts] == ["expectations.x.range.passed"]
    assert "30 failing row(s)" in result.reasons["expectations.x.range"]
