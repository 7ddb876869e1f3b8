"""Hostile configurations: YAML bombs and tricks, wrong types, unknown keys, options a Monitor
configuration cannot honour, environment settings; and the published JSON Schema."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from driftwise.config import ServiceSettings, config_schema, load_settings, open_config
from driftwise.errors import ConfigError
from driftwise.expect.suite import ExpectationSuite, load_suite
from tests.hostile.helpers import assert_bad_input, assert_verdict, cli, write_pair

REPO = Path(__file__).resolve().parents[2]
MONITOR = """\
model: {name: churn, task: multiclass}
columns: {prediction: grade, target: grade}
windows: {rows: 200}
"""


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write_pair(tmp_path, shift=1.0)


def _check_with(pair: tuple[Path, Path], tmp_path: Path, text: str | bytes, *flags: str):
    path = tmp_path / "config.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return cli("check", *pair, "--config", path, *flags)


# -- YAML that must not be trusted ---------------------------------------------------
def test_an_alias_bomb_is_refused_at_once(pair, tmp_path) -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    outcome = _check_with(pair, tmp_path, "\n".join(lines) + "\n")
    assert time.perf_counter() - start < 30  # 9^9 nodes once expanded: must not be built
    assert_bad_input(outcome, "config.yaml", "expands to more than")


def test_aliases_and_merge_keys_within_the_budget_work(pair, tmp_path) -> None:
    text = ("columns:\n  grade: &coded {kind: categorical, test: g_test}\n"
            "  city: *coded\n"
            "drift:\n  <<: {alpha: 0.01}\n  correction: bonferroni\n")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    config = open_config(path)
    assert config.tests == {"grade": "g_test", "city": "g_test"}
    assert config.drift.alpha == 0.01 and config.drift.correction == "bonferroni"
    assert_verdict(cli("check", *pair, "--config", path), drift=True)


def test_deep_nesting(pair, tmp_path) -> None:
    outcome = _check_with(pair, tmp_path, "[" * 5000 + "]" * 5000)
    assert_bad_input(outcome, "config.yaml", "nested")


def test_a_key_given_twice(pair, tmp_path) -> None:
    outcome = _check_with(pair, tmp_path, "drift:\n  alpha: 0.01\n  alpha: 0.2\n")
    assert_bad_input(outcome, "config.yaml", "line 3", "'alpha' is given twice")


def test_an_oversized_file(pair, tmp_path) -> None:
    outcome = _check_with(pair, tmp_path, "# " + "x" * (1 << 20) + "\n")
    assert_bad_input(outcome, "config.yaml", "at most")


def test_a_python_object_tag_is_not_constructed(pair, tmp_path, capfd) -> None:
    outcome = _check_with(pair, tmp_path,
                          "drift: !!python/object/apply:os.system ['echo pwned']\n")
    assert_bad_input(outcome, "config.yaml", "line 1", "could not determine a constructor")
    assert "pwned" not in capfd.readouterr().out


def test_not_utf8(pair, tmp_path) -> None:
    assert_bad_input(_check_with(pair, tmp_path, b"drift: {alpha: 0.05} # caf\xe9\n"),
                     "config.yaml", "not UTF-8")


def test_tabs_for_indentation(pair, tmp_path) -> None:
    assert_bad_input(_check_with(pair, tmp_path, "drift:\n\talpha: 0.1\n"), "config.yaml",
                     "line 2", "'\\t'")


@pytest.mark.parametrize(("text", "got"), [("- a\n- b\n", "list"), ("42\n", "int"),
                                           ("just words\n", "str")])
def test_the_top_level_must_be_a_mapping(pair, tmp_path, text, got) -> None:
    assert_bad_input(_check_with(pair, tmp_path, text), "top level: expected a mapping",
                     got)


def test_an_empty_file_is_the_defaults(pair, tmp_path) -> None:
    assert_verdict(_check_with(pair, tmp_path, ""), drift=True)


def test_a_missing_config_file(pair, tmp_path) -> None:
    assert_bad_input(cli("check", *pair, "--config", tmp_path / "nope.yaml"), "nope.yaml",
                     "cannot read")


# -- drift configuration: every error names the key, what was expected, what was given ----
@pytest.mark.parametrize(("text", "message"), [
    ("drift: {alpha: '0.05'}\n", "drift.alpha: expected a number, got '0.05'"),
    ("drift: {alpha: .nan}\n", "drift.alpha: expected a finite number"),
    ("drift: {alpha: 1.5}\n", "drift.alpha: expected a number < 1"),
    ("drift: {bins: true}\n", "drift.bins: expected an integer, got True"),
    ("drift: {bins: 2.5}\n", "drift.bins: expected an integer, got 2.5"),
    ("drift: {alhpa: 0.1}\n", "drift: unknown key 'alhpa'; did you mean 'alpha'?"),
    ("drift: {correction: holm}\n", "drift.correction: expected one of"),
    ("drift: {min_effect: {numerc: 0.1}}\n", "drift.min_effect: unknown key 'numerc'"),
    ("drift: {thresholds: {psi: -1}}\n", "drift.thresholds.psi: expected a number >= 0"),
    ("drift: [alpha]\n", "drift: expected a mapping"),
    ("columns: {x: {knd: numeric}}\n", "columns.x: unknown key 'knd'"),
    ("columns: {x: {kind: blob}}\n", "columns.x.kind: expected one of"),
    ("columns: {x: {test: ttest}}\n", "columns.x.test: expected one of"),
    ("exclude: x\n", "exclude: expected a list of column names, got the single string 'x'"),
    ("exclude: [1, 2]\n", "exclude[0]: expected a string, got 1"),
    ("target: 2020-01-01\n", "target: expected a string, got datetime.date(2020, 1, 1)"),
    ("multivariate: {n_permutations: many}\n",
     "multivariate.n_permutations: expected an integer, got 'many'"),
    ("text: {top_terms: 1.5}\n", "text.top_terms: expected an integer"),
    ("colums: {}\n", "top level: unknown key 'colums'; did you mean 'columns'?"),
])
def test_drift_config_errors_name_the_key(pair, tmp_path, text, message) -> None:
    assert_bad_input(_check_with(pair, tmp_path, text), "config.yaml: ", message)


@pytest.mark.parametrize(("text", "message"), [
    ("columns: {zz: {kind: numeric}}\n", "not in the reference: 'zz'"),
    ("columns: {city: {kind: numeric}}\n", "column 'city' is numeric in the reference but"),
    ("columns: {x: {test: chi2}}\n", "column 'x' is numeric: test 'chi2' does not apply"),
])
def test_config_that_does_not_fit_the_data(pair, tmp_path, text, message) -> None:
    assert_bad_input(_check_with(pair, tmp_path, text), message)


# -- Monitor configuration ---------------------------------------------------------------
@pytest.mark.parametrize(("text", "message"), [
    ("model: {}\n", "model.task: required, but missing"),
    ("model: {task: ranking}\n", "model.task: expected one of"),
    (MONITOR + "checks: {feature_drift: {alpha: '0.05'}}\n",
     "checks.feature_drift.alpha: expected a number, got '0.05'"),
    (MONITOR + "checks: {data_quality: 1}\n", "checks.data_quality: expected true or false"),
    (MONITOR + "checks: {bootstrap: -1}\n", "checks.bootstrap: expected an integer >= 0"),
    (MONITOR + "checks: {performance: {metrics: [auc]}}\n", "unknown metric(s) auc"),
    (MONITOR + "alerts: [{metric: estimated.accuracy, condition: 'about 0.7'}]\n",
     "alerts[0].condition: cannot read condition"),
    (MONITOR + "alerts: [{metric: estimated.accuracy, condition: '< nan'}]\n",
     "alerts[0].condition: cannot read condition"),
    (MONITOR + "alerts: [{metric: x, condition: '< 1', for: 0}]\n",
     "alerts[0].for: expected an integer >= 1"),
    (MONITOR + "checks: {stream: [{metric: x, detector: {type: cusm}}]}\n",
     "checks.stream[0].detector.type: expected one of"),
    (MONITOR + "checks: {stream: [{metric: x, detector: {type: cusum, h: big}}]}\n",
     "h: expected a number, got 'big'"),
    (MONITOR + "checks: {stream: [{metric: x, detector: {type: cusum, h: -1}}]}\n",
     "checks.stream[0].detector: h must be"),
    (MONITOR + "checks: {seasonal: [{column: x}]}\n", "checks.seasonal needs columns.timestamp"),
    (MONITOR.replace("{rows: 200}", "{rows: 10, period: day}"), "either `rows` or `period`"),
    (MONITOR + "windows: {rows: 10}\n", "line 4: key 'windows' is given twice"),
])
def test_monitor_config_errors_name_the_key(pair, tmp_path, text, message) -> None:
    assert_bad_input(_check_with(pair, tmp_path, text), message)


@pytest.mark.parametrize("flag", [("--alpha", "0.1"), ("--exclude", "x"),
                                  ("--numeric-test", "cvm"), ("--target", "grade")])
def test_flags_a_monitor_config_cannot_honour_are_refused(pair, tmp_path, flag) -> None:
    outcome = _check_with(pair, tmp_path, MONITOR, *flag)
    assert_bad_input(outcome, flag[0], "cannot be used with a Monitor configuration")


def test_reading_flags_apply_to_a_monitor_run(pair, tmp_path) -> None:
    assert _check_with(pair, tmp_path, MONITOR, "--encoding", "utf-8").code in (0, 1)


def test_a_monitor_config_with_a_profile_reference(pair, tmp_path) -> None:
    ref, cur = pair
    assert cli("profile", ref, "-o", tmp_path / "ref.profile").code == 0
    (tmp_path / "m.yaml").write_text(MONITOR)
    outcome = cli("check", tmp_path / "ref.profile", cur, "--config", tmp_path / "m.yaml")
    assert_bad_input(outcome, "not a saved profile")


def test_profile_refuses_a_monitor_config(pair, tmp_path) -> None:
    (tmp_path / "m.yaml").write_text(MONITOR)
    outcome = cli("profile", pair[0], "-o", tmp_path / "r.profile", "--config",
                  tmp_path / "m.yaml")
    assert_bad_input(outcome, "Monitor configuration")


def test_config_check_command(tmp_path) -> None:
    (tmp_path / "m.yaml").write_text(MONITOR)
    good = cli("config", "check", tmp_path / "m.yaml")
    assert good.code == 0 and "valid, a Monitor configuration" in good.stdout
    (tmp_path / "bad.yaml").write_text("model: {task: binary}\ncolumns: {}\n")
    assert_bad_input(cli("config", "check", tmp_path / "bad.yaml"), "bad.yaml",
                     "needs `prediction` or `probabilities`")


# -- the JSON Schema ---------------------------------------------------------------------
def test_the_published_schema_is_the_generated_one() -> None:
    published = json.loads((REPO / "docs" / "config.schema.json").read_text())
    assert published == config_schema(), "run: driftwise config schema -o docs/config.schema.json"


def test_the_schema_command_prints_it(tmp_path) -> None:
    outcome = cli("config", "schema")
    assert outcome.code == 0 and json.loads(outcome.stdout) == config_schema()


def _example_configs() -> list[Path]:
    found = sorted((REPO / "examples").rglob("*.yaml")) + sorted((REPO / "docs").rglob("*.yaml"))
    assert found, "the examples ship their configurations"
    return found


@pytest.mark.parametrize("path", _example_configs(), ids=lambda p: p.name)
def test_shipped_configs_validate_against_the_schema_and_the_models(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    if path.name.startswith("expectations"):
        # An expectation suite (docs/expectations.md) has its own model and schema.
        jsonschema.validate(data, ExpectationSuite.model_json_schema())
        load_suite(path)
        return
    jsonschema.validate(data, config_schema())
    open_config(path)


@pytest.mark.parametrize("bad", [
    {"model": {"task": "binary"}, "columns": {"prediction": "p"}, "checks": {"bootstrap": "x"}},
    {"drift": {"alpha": "0.05"}},
    {"model": {"task": "binary"}, "colums": {}},
    {"columns": {"x": {"kind": "blob"}}},
    {"model": {"task": "binary"}, "checks": {"stream": [{"metric": "m",
                                                          "detector": {"type": "zz"}}]}},
])
def test_the_schema_rejects_what_the_models_reject(bad) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, config_schema())


# -- settings from the environment ----------------------------------------------------------
def test_a_bad_environment_variable_is_named(monkeypatch) -> None:
    monkeypatch.setenv("DRIFTWISE_PORT", "eighty")
    with pytest.raises(ConfigError, match="DRIFTWISE_PORT: expected an integer"):
        load_settings(ServiceSettings)


def test_a_public_bind_needs_an_api_key(monkeypatch) -> None:
    monkeypatch.setenv("DRIFTWISE_HOST", "0.0.0.0")
    with pytest.raises(ConfigError, match="needs an API key"):
        load_settings(ServiceSettings)
    monkeypatch.setenv("DRIFTWISE_API_KEY", "s3cret")
    settings = load_settings(ServiceSettings)
    assert settings.host == "0.0.0.0" and "s3cret" not in repr(settings)


def test_flags_override_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("DRIFTWISE_PORT", "9000")
    assert load_settings(ServiceSettings).port == 9000
    assert load_settings(ServiceSettings, port=9100).port == 9100
    with pytest.raises(ConfigError, match="port: expected an integer <= 65535"):
        load_settings(ServiceSettings, port=70000)
