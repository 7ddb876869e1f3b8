"""A hypothesis fuzz of the CLI: generated CSV/Parquet files, configurations and flags.

Whatever the input, ``driftwise check`` exits 0, 1 or 2 — never 3 (a bug) — prints no
traceback, says what was wrong in exactly one line when it exits 2, and writes valid JSON
(no NaN) when it exits 0 or 1.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.hostile.helpers import ERROR_LINE, cli

NAMES = st.sampled_from(["x", "amount", "city", "user_id", "a.b", "with space", "[red]m[/]",
                         "ünïcode", "tab\tname", "", "Unnamed: 0", "x"])
MARKERS = ["?", "-", "n/a", "NA", "", "null", "#VALUE!"]
TEXT = st.text(alphabet=st.sampled_from(list("ab,;|\t\"'\n é€[]?-")), max_size=8) | \
    st.sampled_from(MARKERS)
FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1e-300, 1e300, -0.0, 0.5, 2.5])
CELL_KINDS = {
    "float": FLOATS, "int": st.integers(-10**12, 10**12), "small": st.integers(0, 4),
    "bool": st.booleans(), "text": TEXT, "marker": st.sampled_from(MARKERS),
    "none": st.none(),
}


@st.composite
def columns(draw: Any) -> dict[str, list[Any]]:
    n = draw(st.sampled_from([0, 1, 3, 20, 60, 150]))
    out: dict[str, list[Any]] = {}
    for _ in range(draw(st.integers(1, 4))):
        kinds = draw(st.lists(st.sampled_from(sorted(CELL_KINDS)), min_size=1, max_size=2))
        cells = st.one_of(*(CELL_KINDS[k] for k in kinds))
        out[draw(NAMES)] = draw(st.lists(cells, min_size=n, max_size=n))
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def write_table(path: Path, data: dict[str, list[Any]], form: str) -> Path:
    """Write ``data`` as CSV (with the given delimiter) or Parquet; Parquet falls back to
    CSV when the values do not make an Arrow column."""
    if form == "parquet":
        try:
            table = pa.table({k: pa.array(v, from_pandas=True) for k, v in data.items()})
            target = path.with_suffix(".parquet")
            pq.write_table(table, target)
            return target
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            form = ","
    target = path.with_suffix(".csv")
    rows = list(zip(*data.values(), strict=True)) if data else []
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=form)
        writer.writerow(list(data))
        writer.writerows([[_text(v) for v in row] for row in rows])
    return target


def _drift_config(draw: Any, names: list[str]) -> dict[str, Any]:
    value = st.sampled_from([0.05, "0.05", 1, True, None, -1, 0.5, "fdr", "ks", [1], {}])
    cfg: dict[str, Any] = {}
    if draw(st.booleans()):
        cfg["drift"] = draw(st.dictionaries(st.sampled_from(
            ["alpha", "correction", "numeric_test", "bins", "alhpa", "drift_share"]), value,
            max_size=3))
    if draw(st.booleans()):
        cfg["columns"] = {draw(st.sampled_from([*names, "zz"])): draw(st.dictionaries(
            st.sampled_from(["kind", "test", "knd"]),
            st.sampled_from(["numeric", "categorical", "identifier", "chi2", "ks", "blob", 3]),
            max_size=2))}
    if draw(st.booleans()):
        cfg["exclude"] = draw(st.sampled_from([[n] for n in names] + ["x", [3]]))
    return cfg


def _monitor_config(draw: Any, names: list[str]) -> dict[str, Any]:
    column = st.sampled_from([*names, "zz"])
    cfg: dict[str, Any] = {"model": {"task": draw(st.sampled_from(
        ["binary", "multiclass", "regression", "ranking"]))}}
    cfg["columns"] = {"prediction": draw(column)}
    if draw(st.booleans()):
        cfg["columns"]["target"] = draw(column)
    if draw(st.booleans()):
        cfg["windows"] = {"rows": draw(st.sampled_from([1, 10, 0, "ten"]))}
    if draw(st.booleans()):
        cfg["alerts"] = [{"metric": "drift.dataset.drift_detected",
                          "condition": draw(st.sampled_from(["== true", "< x", "> 0"]))}]
    return cfg


@st.composite
def runs(draw: Any) -> tuple[dict[str, list[Any]], dict[str, list[Any]], str, Any, list[str]]:
    ref = draw(columns())
    how = draw(st.sampled_from(["independent", "permuted", "shifted"]))
    if how == "independent":
        cur = draw(columns())
    elif how == "permuted":
        cur = {k: draw(st.permutations(v)) for k, v in ref.items()}
    else:  # the same cells, numbers moved far: a drift the verdict must see
        cur = {k: [v + 1000 if isinstance(v, int | float) and not isinstance(v, bool) else v
                   for v in cells] for k, cells in ref.items()}
    form = draw(st.sampled_from([",", ";", "\t", "|", "parquet"]))
    names = list(ref) or ["x"]
    config = draw(st.sampled_from(["none", "none", "none", "drift", "monitor", "garbage"]))
    if config == "drift":
        config_data: Any = _drift_config(draw, names)
    elif config == "monitor":
        config_data = _monitor_config(draw, names)
    elif config == "garbage":
        config_data = draw(st.sampled_from(["[unclosed", "- a\n- b", "a: &a [*a]", "\t\t"]))
    else:
        config_data = None
    flags: list[str] = []
    for flag, values in (("--numeric-test", ["ks", "cvm", "psi", "nope"]),
                         ("--categorical-test", ["chi2", "tvd", "fisher"]),
                         ("--alpha", ["0.05", "0.5", "0", "nan", "x"]),
                         ("--correction", ["fdr", "none", "holm"]),
                         ("--exclude", [*names, "zz"]), ("--target", [*names, "zz"]),
                         ("--delimiter", [",", ";", "tab", "ab"]),
                         ("--encoding", ["utf-8", "latin-1", "utf-16", "bogus"]),
                         ("--na-values", ["", "?", "NA"])):
        if draw(st.integers(0, 8)) == 0:
            flags += [flag, draw(st.sampled_from(values))]
    return ref, cur, form, config_data, flags


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=runs())
def test_check_exits_0_1_or_2_and_never_prints_a_traceback(case) -> None:
    ref, cur, form, config_data, flags = case
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        ref_path = write_table(base / "ref", ref, form)
        cur_path = write_table(base / "cur", cur, form)
        args: list[str | Path] = ["check", ref_path, cur_path, "--json", base / "out.json"]
        if config_data is not None:
            text = config_data if isinstance(config_data, str) else yaml.safe_dump(config_data)
            (base / "config.yaml").write_text(text)
            args += ["--config", base / "config.yaml"]
        outcome = cli(*args, *flags)
        event(f"exit {outcome.code}")
        assert outcome.code in (0, 1, 2), outcome
        assert "Traceback" not in outcome.stderr + outcome.stdout, outcome
        if outcome.code == 2:
            assert ERROR_LINE.match(outcome.stderr), outcome.stderr
        else:
            assert "driftwise: error" not in outcome.stderr, outcome.stderr
            json.loads((base / "out.json").read_text())
