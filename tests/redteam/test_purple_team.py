"""The purple-team scorecard: detections, delays and harm are measured on paired replays,
the honesty checks hold, gaps are found and closed by the check they name."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from driftwise.errors import ConfigError, InsufficientDataError, SchemaError
from driftwise.monitor import parse_monitor_config
from driftwise.redteam.purple import PurpleTeam
from driftwise.redteam.scenario import Change, Scenario, replace_column, rows_hit
from driftwise.redteam.signals import oracle_config

FEATURES = ["x1", "x2", "x3", "x4"]


def _data(n: int = 12_000, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    p = 1 / (1 + np.exp(-(2.0 * x[:, 0] + 1.0 * x[:, 1] - 0.5)))
    y = (rng.random(n) < p).astype(np.int64)
    cols = {name: x[:, i] for i, name in enumerate(FEATURES)}
    return pa.table({**cols, "y": y})


def _model(table: pa.Table) -> LogisticRegression:
    frame = table.select(FEATURES).to_pandas()
    return LogisticRegression().fit(frame, table.column("y").to_numpy())


class _Shift(Scenario):
    """x1 shifted by 2 × intensity sd from the onset."""

    name, kind, summary, intensity_means = "t_shift", "covariate", "shift x1", "2 × sd"

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, **_: Any) -> Change:
        x = table.column("x1").to_numpy().copy()
        x[onset:] += 2 * intensity * x.std()
        return Change(replace_column(table, "x1", pa.array(x)), ("x1",),
                      np.arange(onset, table.num_rows), "x1 shifted")


class _Flip(Scenario):
    """An intensity share of the post-onset labels inverted (prior kept: both ways)."""

    name, kind, summary, intensity_means = "t_flip", "concept", "flip labels", "share"
    needs_target = True

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, *, target: str | None, **_: Any) -> Change:
        assert target is not None
        y = table.column(target).to_numpy().copy()
        hit = rows_hit(table.num_rows, onset, intensity, rng)
        y[hit] = 1 - y[hit]
        return Change(replace_column(table, target, pa.array(y)), (target,), hit, "flipped")


class _Drop(Scenario):
    """x3 removed."""

    name, kind, summary, intensity_means = "t_drop", "pipeline", "drop x3", "unused"

    def _change(self, table: pa.Table, intensity: float, onset: int,
                rng: np.random.Generator, **_: Any) -> Change:
        return Change(table.drop(["x3"]), ("x3",), np.arange(onset, table.num_rows), "drop")


def _config(alerts: list[dict[str, Any]] | None = None, **checks: Any) -> dict[str, Any]:
    return {"model": {"name": "toy", "task": "binary", "positive_class": "1"},
            "columns": {"probabilities": "proba", "prediction": "pred", "target": "y"},
            "windows": {"min_rows": 100},
            "checks": {"estimated_performance": False, "performance": False,
                       "bootstrap": 50, **checks},
            "alerts": alerts if alerts is not None else [
                {"name": "input drift", "metric": "drift.dataset.drift_detected",
                 "condition": "== true"}]}


@pytest.fixture(scope="module")
def toy() -> tuple[pa.Table, LogisticRegression]:
    table = _data()
    return table.slice(4000), _model(table.slice(0, 4000))


def test_intensity_zero_is_never_detected_and_does_no_harm(toy: Any) -> None:
    reference, model = toy
    team = PurpleTeam(model, _config(), windows=6, onset_window=2, window_rows=400,
                      repeats=3).fit(reference)
    card = team.run([_Shift(), _Flip()], [0.0])
    assert len(card.scores) == 2
    for score in card.scores:
        assert score.detection_rate == 0.0 and not score.gap
        assert score.harm == 0.0  # the same rows, the same model: computed, exactly zero


def test_a_shift_is_caught_at_its_onset_and_its_harm_is_recomputed(toy: Any) -> None:
    reference, model = toy
    team = PurpleTeam(model, _config(), windows=6, onset_window=2, window_rows=400,
                      repeats=2).fit(reference)
    score = team.run([_Shift()], [1.0]).scores[0]
    assert score.detected and score.detection_rate == 1.0
    assert score.median_delay == 0.0 and score.first_check == "alert:input drift"
    # Harm, recomputed here from the same rows: the model's AUC on the shifted rows against
    # the same rows unshifted.
    rep = team._repeat(0)
    onset = 2 * 400
    post = rep.rows.slice(onset)
    y = post.column("y").to_numpy()
    x = post.select(FEATURES).to_pandas()
    clean_auc = roc_auc_score(y, model.predict_proba(x)[:, 1])
    x["x1"] += 2 * rep.rows.column("x1").to_numpy().std()
    shifted_auc = roc_auc_score(y, model.predict_proba(x)[:, 1])
    assert score.replays[0].harm == pytest.approx((clean_auc - shifted_auc) / clean_auc,
                                                  abs=1e-9)


def test_a_harmful_miss_is_a_gap_listed_first_and_the_named_check_closes_it(
        toy: Any) -> None:
    reference, model = toy
    thin = _config()
    team = PurpleTeam(model, thin, windows=6, onset_window=2, window_rows=400,
                      repeats=2).fit(reference)
    card = team.run([_Shift(), _Flip()], [1.0])
    flip = next(s for s in card.scores if s.scenario == "t_flip")
    assert flip.harmful and not flip.detected and flip.gap
    assert card.to_dict()["gaps"][0]["scenario"] == "t_flip"
    assert card.to_dict()["scores"][0]["scenario"] == "t_flip"  # gaps first
    catch = flip.would_catch
    assert catch is not None and catch.detection_rate == 1.0
    # Add the rule the scorecard suggests (and turn its check on): the gap closes.
    fixed = _config(alerts=[*thin["alerts"], catch.rule])
    section = catch.section.removeprefix("checks.")
    fixed["checks"][section] = True if section != "performance" else {}
    again = PurpleTeam(model, fixed, windows=6, onset_window=2, window_rows=400,
                       repeats=2).fit(reference).run([_Flip()], [1.0])
    assert again.scores[0].detected and not again.gaps
    assert again.scores[0].first_check == f"alert:{catch.rule['name']}"


def test_a_window_the_monitor_rejects_counts_as_caught(toy: Any) -> None:
    reference, model = toy
    team = PurpleTeam(model, _config(), windows=5, onset_window=2, window_rows=300,
                      repeats=1).fit(reference)
    score = team.run([_Drop()], [1.0]).scores[0]
    assert score.detected and score.first_check == "schema"
    # The model was served the reference median for the missing feature: harm measured.
    assert score.harm is not None


@pytest.mark.slow
def test_clean_replays_false_alarm_near_the_nominal_level() -> None:
    """The feature-drift decision at alpha = 0.05 (FDR over 4 columns) fires on clean
    windows at no more than its level: 20 repeats × 10 windows."""
    table = _data(30_000, seed=3)
    model = _model(table.slice(0, 3000))
    cfg = _config(feature_drift={"alpha": 0.05, "correction": "fdr"})
    cfg["checks"]["prediction_drift"] = False
    team = PurpleTeam(model, cfg, windows=10, onset_window=5, window_rows=200,
                      repeats=20, fit_share=0.3).fit(table.slice(3000))
    card = team.run([_Shift()], [0.0])
    rate = card.clean.alarmed_windows / card.clean.windows
    assert card.clean.windows == 200
    # Binomial(200, 0.05): mean 10, sd 3.1; the FDR decision is at most the level.
    assert rate <= 0.05 + 3 * (0.05 * 0.95 / 200) ** 0.5


def test_signals_without_alert_rules_are_the_enabled_checks_decisions(toy: Any) -> None:
    reference, model = toy
    team = PurpleTeam(model, _config(alerts=[]), windows=5, onset_window=2,
                      window_rows=300, repeats=1).fit(reference)
    card = team.run([_Shift()], [1.0])
    assert card.signals_from == "checks"
    assert card.scores[0].first_check == "drift.dataset.drift_detected"


def test_bad_settings_are_refused_by_name(toy: Any) -> None:
    reference, model = toy
    with pytest.raises(ConfigError, match="onset_window"):
        PurpleTeam(model, _config(), windows=4, onset_window=4).fit(reference)
    no_target = _config()
    del no_target["columns"]["target"]
    with pytest.raises(ConfigError, match=r"columns\.target"):
        PurpleTeam(model, no_target).fit(reference)
    with pytest.raises(InsufficientDataError, match="held-out"):
        PurpleTeam(model, _config(), windows=50, window_rows=1000).fit(reference)
    with pytest.raises(SchemaError, match="x4"):
        PurpleTeam(model, _config()).fit(reference.drop(["x4"]))
    with pytest.raises(ConfigError, match="--metric"):
        PurpleTeam(model, _config(), metric="mae").fit(reference)


def test_the_oracle_turns_on_every_applicable_check_and_drops_alerts() -> None:
    cfg = parse_monitor_config(_config(feature_drift=None))
    oracle = oracle_config(cfg)
    assert oracle.alerts == [] and oracle.checks.feature_drift is not None
    assert oracle.concept_features is not None and oracle.checks.confidence is not None
    assert oracle.performance_metrics and oracle.estimated_metrics
    assert oracle.checks.outliers is not None


def test_a_regression_model_and_a_monitored_column_the_model_does_not_read() -> None:
    from sklearn.linear_model import LinearRegression

    from driftwise.redteam import make_scenario

    rng = np.random.default_rng(5)
    n = 5000
    a, b = rng.normal(size=n), rng.normal(size=n)
    seg = rng.choice(["north", "south", "east"], n)
    y = 2 * a + b + 0.5 * rng.normal(size=n)
    table = pa.table({"a": a, "b": b, "seg": seg, "y": y})
    model = LinearRegression().fit(table.select(["a", "b"]).slice(0, 1500).to_pandas(),
                                   y[:1500])
    cfg = {"model": {"task": "regression"},
           "columns": {"prediction": "pred", "target": "y", "features": ["a", "b", "seg"]},
           "checks": {"bootstrap": 20, "estimated_performance": False},
           "windows": {"min_rows": 100}}
    card = PurpleTeam(model, cfg, repeats=1, windows=5, onset_window=2,
                      window_rows=300).fit(table.slice(1500)).run(
        [make_scenario("segment_shift", segment="seg", columns=["a"]),
         make_scenario("stale_feature", column="a")], [1.0])
    assert card.metric == "mae" and not card.not_applicable
    shift, stale = card.scores
    assert shift.detected and shift.harm is not None and shift.harm > 0.02
    # A stale feature leaves the inputs' distributions alone but breaks the relation: the
    # realized error grows, which the default checks' decision sees.
    assert stale.harm is not None and stale.harm > 0.5
    assert stale.detected and stale.first_check == "realized_performance"
    # A model fitted without column names must be told exactly what it reads.
    unnamed = LinearRegression().fit(np.c_[a, b][:1500], y[:1500])
    with pytest.raises(SchemaError, match="reads 2 features"):
        PurpleTeam(unnamed, cfg).fit(table.slice(1500))
