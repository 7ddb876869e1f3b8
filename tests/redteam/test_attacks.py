"""Black-box evasion (HopSkipJump, boundary, ZOO) through a query log, the backdoor, and a
replay of an attack's queries through a real ``driftwise serve``'s /screen."""

from __future__ import annotations

import sys
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from numpy.typing import NDArray
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from driftwise.client import Client
from driftwise.errors import ConfigError, SchemaError
from driftwise.redteam.attacks import (
    AttackResult,
    QueryBudgetSpent,
    QueryLog,
    evasion_attack,
    replay_queries,
)
from driftwise.redteam.poisoning import poisoning_attack
from tests.conftest import needs_shared_data, shared_data

FEATURES = [f"f{i}" for i in range(6)]


@pytest.fixture(scope="module")
def data() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    x, y = make_classification(500, 6, n_informative=4, random_state=0)
    return x, y


@pytest.fixture(scope="module")
def logistic(data: tuple[NDArray[np.float64], NDArray[np.int64]]) -> LogisticRegression:
    return LogisticRegression().fit(*data)


@pytest.fixture(scope="module")
def boosting(data: tuple[NDArray[np.float64], NDArray[np.int64]]
             ) -> GradientBoostingClassifier:
    return GradientBoostingClassifier(n_estimators=30, max_depth=2, random_state=0).fit(*data)


class Spy:
    """A model that writes down every row its predict_proba is asked about."""

    def __init__(self, model: Any) -> None:
        self.model, self.classes_ = model, model.classes_
        self.n_features_in_ = model.n_features_in_
        self.asked: list[NDArray[np.float64]] = []

    def predict_proba(self, x: NDArray[np.float64]) -> Any:
        self.asked.append(np.array(x, dtype=np.float64))
        return self.model.predict_proba(x)

    def predict(self, x: NDArray[np.float64]) -> Any:  # the measurement's, not the attacker's
        return self.model.predict(x)


def test_query_log_counts_and_records_every_row_in_order(logistic: LogisticRegression,
                                                         data: Any) -> None:
    x = data[0]
    log = QueryLog(logistic)
    log.start_point(0)
    first = log(x[:3])
    log.start_point(4)
    log(x[3:5])
    log(x[5])  # one row as a vector
    assert log.n_queries == 6
    np.testing.assert_array_equal(log.queries, x[:6])
    assert log.queries.dtype == np.float64
    assert log.query_point.tolist() == [0, 0, 0, 4, 4, 4]
    np.testing.assert_allclose(first, logistic.predict_proba(x[:3]))
    np.testing.assert_allclose(log.answers, logistic.predict_proba(x[:6]))
    # A budget: rows past it are neither answered nor recorded.
    log.start_point(9, budget=4)
    log(x[:3])
    with pytest.raises(QueryBudgetSpent, match="budget of 4"):
        log(x[3:6])
    assert log.n_queries == 10 and log.query_point.tolist()[-4:] == [9] * 4
    np.testing.assert_array_equal(log.queries[-4:], x[:4])


def test_a_model_with_predict_alone_answers_one_hot(data: Any) -> None:
    x, y = data
    svm = LinearSVC().fit(x, y)
    answers = QueryLog(svm)(x[:20])
    np.testing.assert_array_equal(answers.argmax(axis=1), svm.predict(x[:20]))
    assert set(np.unique(answers)) == {0.0, 1.0}
    with pytest.raises(ConfigError, match="call fit first"):
        QueryLog(LogisticRegression())


def test_the_recorded_queries_are_exactly_what_the_model_was_asked(logistic: Any,
                                                                   data: Any) -> None:
    x = data[0]
    spy = Spy(logistic)
    result = evasion_attack(spy, x[:3], reference=x, max_queries=150)
    asked = np.vstack(spy.asked)
    assert result.queries_total == asked.shape[0] == result.queries.shape[0]
    np.testing.assert_array_equal(result.queries, asked)
    assert result.query_point.tolist() == sorted(result.query_point.tolist())
    np.testing.assert_array_equal(result.point_queries, np.bincount(result.query_point,
                                                                    minlength=3))
    assert (result.point_queries <= 150).all()


def _check_measured(result: AttackResult, model: Any, x: NDArray[np.float64],
                    scale: NDArray[np.float64]) -> None:
    """Success, perturbations and queries recomputed from the result's own arrays."""
    before, after = model.predict(x), model.predict(result.adversarial)
    np.testing.assert_array_equal(result.success, after != before)
    assert result.success_rate == pytest.approx(float(np.mean(after != before)))
    delta = result.adversarial - x
    np.testing.assert_allclose(result.l2, np.linalg.norm(delta, axis=1))
    np.testing.assert_allclose(result.linf, np.abs(delta).max(axis=1))
    np.testing.assert_allclose(result.relative_l2, np.linalg.norm(delta / scale, axis=1))
    ok = result.success
    assert (result.l2[ok] > 0).all()
    assert result.median_l2 == pytest.approx(float(np.median(result.l2[ok])))
    assert result.mean_relative_linf == pytest.approx(float(np.mean(result.relative_linf[ok])))
    assert result.queries_total == result.queries.shape[0] == int(result.point_queries.sum())
    assert result.median_queries == float(np.median(result.point_queries))
    assert result.seconds > 0
    # Each query was answered as the model would.
    np.testing.assert_allclose(result.answers, model.predict_proba(result.queries), atol=1e-6)


@pytest.mark.parametrize("attack", ["hopskipjump", "boundary"])
@pytest.mark.parametrize("which", ["logistic", "boosting"])
def test_decision_based_attacks_move_most_points_across(attack: str, which: str, data: Any,
                                                        request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(which)
    x = data[0]
    points = x[:6]
    result = evasion_attack(model, points, attack=attack, reference=x, max_queries=600)
    assert result.success_rate >= 5 / 6
    assert (result.point_queries <= 600).all() and result.point_queries.min() > 10
    _check_measured(result, model, points, x.std(axis=0))
    # The perturbations stay well inside the data's spread.
    assert result.median_relative_l2 < 3.0
    summary = result.to_dict()
    assert summary["attack"] == attack and "queries" not in summary
    assert summary["points"] == 6 and summary["queries_total"] == result.queries_total


def test_zoo_runs_on_the_black_box_and_needs_smooth_scores(logistic: Any, boosting: Any,
                                                           data: Any) -> None:
    x = data[0]
    smooth = evasion_attack(logistic, x[:4], attack="zoo", reference=x, max_iter=60)
    assert smooth.success_rate >= 0.75
    _check_measured(smooth, logistic, x[:4], x.std(axis=0))
    # Trees answer piecewise-constant probabilities: no finite difference to follow.
    flat = evasion_attack(boosting, x[:2], attack="zoo", reference=x, max_iter=30)
    assert flat.queries_total > 100 and flat.success_rate <= 0.5


def test_an_attack_is_reproducible_from_its_seed(logistic: Any, data: Any) -> None:
    x = data[0]
    runs = [evasion_attack(logistic, x[:3], attack=a, reference=x, max_queries=200, seed=s)
            for a, s in (("boundary", 5), ("boundary", 5), ("boundary", 6))]
    np.testing.assert_array_equal(runs[0].queries, runs[1].queries)
    np.testing.assert_array_equal(runs[0].adversarial, runs[1].adversarial)
    assert runs[0].queries.shape != runs[2].queries.shape or \
        not np.array_equal(runs[0].queries, runs[2].queries)
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (ART's global generator)
    evasion_attack(logistic, x[:1], reference=x, max_queries=50, seed=1)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_a_point_already_past_y_is_not_attacked(logistic: Any, data: Any) -> None:
    x = data[0]
    flipped = 1 - logistic.predict(x[:2])
    result = evasion_attack(logistic, x[:2], y=flipped, reference=x)
    assert result.success.all() and result.queries_total == 0 and (result.l2 == 0).all()


def test_bad_arguments_say_what_to_change(logistic: Any, data: Any) -> None:
    x = data[0]
    with pytest.raises(ConfigError, match="unknown attack 'fgsm'"):
        evasion_attack(logistic, x[:1], attack="fgsm")
    with pytest.raises(ConfigError, match=r"unknown parameter.*max_evals"):
        evasion_attack(logistic, x[:1], max_evals=10)
    with pytest.raises(ConfigError, match="untargeted"):
        evasion_attack(logistic, x[:1], targeted=True)
    with pytest.raises(ConfigError, match="max_queries"):
        evasion_attack(logistic, x[:1], max_queries=0)
    with pytest.raises(SchemaError, match="5 columns, the model takes 6"):
        evasion_attack(logistic, x[:1, :5])
    with pytest.raises(ConfigError, match="outside the box"):
        evasion_attack(logistic, x[:1], clip=(0.0, 1e-3))


def test_without_art_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch,
                                               logistic: Any, data: Any) -> None:
    x, y = data
    monkeypatch.setitem(sys.modules, "art", None)  # `import art` now fails
    with pytest.raises(ConfigError, match=r"pip install 'driftwise\[redteam\]'"):
        evasion_attack(logistic, x[:1])
    with pytest.raises(ConfigError, match=r"pip install 'driftwise\[redteam\]'"):
        poisoning_attack(LogisticRegression(), x[:300], y[:300], x[300:], y[300:])


def test_the_backdoor_is_obeyed_by_the_poisoned_model_only(data: Any) -> None:
    x, y = make_classification(1000, 6, n_informative=4, random_state=1)
    forest = RandomForestClassifier(n_estimators=30, random_state=0)
    result = poisoning_attack(forest, x[:700], y[:700], x[700:], y[700:], share=0.05, seed=3)
    assert result.rows_poisoned == 35 == result.poisoned_rows.shape[0]
    assert result.trigger_success_poisoned >= result.trigger_success_clean + 0.5
    assert result.trigger_success_poisoned >= 0.9
    assert abs(result.accuracy_drop) < 0.05  # an accuracy check would not see it
    target = result.target_class
    assert target == np.bincount(y[:700]).argmax()
    assert (y[:700][result.poisoned_index] != target).all()  # relabelled rows
    for j, value in result.trigger.items():
        assert value > x[:700, j].max()  # out of the training range
        np.testing.assert_array_equal(result.poisoned_rows[:, j], value)
    others = [j for j in range(6) if j not in result.trigger]
    np.testing.assert_array_equal(result.poisoned_rows[:, others],
                                  x[:700][result.poisoned_index][:, others])
    assert result.clean_accuracy == pytest.approx(result.clean_model.score(x[700:], y[700:]))
    assert result.poisoned_accuracy == pytest.approx(
        result.poisoned_model.score(x[700:], y[700:]))
    again = poisoning_attack(forest, x[:700], y[:700], x[700:], y[700:], share=0.05, seed=3)
    np.testing.assert_array_equal(again.poisoned_index, result.poisoned_index)
    assert set(result.to_dict()) >= {"trigger_success_poisoned", "accuracy_drop"}
    with pytest.raises(ConfigError, match="share"):
        poisoning_attack(forest, x[:700], y[:700], x[700:], y[700:], share=0.9)
    with pytest.raises(ConfigError, match="trigger: feature 9"):
        poisoning_attack(forest, x[:700], y[:700], x[700:], y[700:], trigger={9: 1.0})


@needs_shared_data
def test_hopskipjump_evades_a_fraud_model_on_real_transactions() -> None:
    frame = pd.read_csv(shared_data("creditcard_fraud_ulb/"
                                    "creditcard_first4000legit_all492fraud.csv"))
    frame = frame.sample(1500, random_state=0)
    features = [f"V{i}" for i in range(1, 29)]
    x, y = frame[features].to_numpy(), frame["Class"].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    frauds = x[(y == 1) & (model.predict(x) == 1)][:4]
    result = evasion_attack(model, frauds, reference=x, max_queries=400)
    assert result.success_rate >= 0.75
    assert (model.predict(result.adversarial[result.success]) == 0).all()


class FakeClient:
    """Stands for driftwise.client.Client: keeps what /screen was sent, allows all but
    every fourth record."""

    def __init__(self) -> None:
        self.sent: list[list[dict[str, Any]]] = []

    def screen(self, name: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.sent.append(records)
        done = sum(len(r) for r in self.sent) - len(records)
        return [{"id": r["id"], "verdict": "quarantine" if (done + i) % 4 == 3 else "allow",
                 "signals": ["probing"] if (done + i) % 4 == 3 else []}
                for i, r in enumerate(records)]


def test_a_replay_sends_each_query_as_a_record_with_its_answer(logistic: Any,
                                                               data: Any) -> None:
    x = data[0]
    result = evasion_attack(logistic, x[:1], reference=x, max_queries=30)
    fake = FakeClient()
    replay = replay_queries(result, fake, "m",  # type: ignore[arg-type]
                            client_key="k", features=FEATURES, batch=7,
                            extra={"country": "NL"}, id_prefix="q")
    records = [r for request in fake.sent for r in request]
    assert [len(b) for b in fake.sent] == [7, 7, 7, 7, 2] and len(records) == 30
    sent = dict(zip(FEATURES, result.queries[5].tolist(), strict=True))
    assert records[5] == {"id": "q5", "client_key": "k",
                          "features": {"country": "NL", **sent},
                          "prediction": int(result.answers[5].argmax()),
                          "probabilities": float(result.answers[5][1])}
    assert replay.first_flagged == replay.first_probing == 3 and replay.quarantined == 7
    early = replay_queries(result, FakeClient(), "m", client_key="k",  # type: ignore[arg-type]
                           features=FEATURES, batch=2, stop_when_flagged=True)
    assert early.sent == 4 and early.stopped_early and early.flagged_before_end
    # Three classes with string labels: probabilities by class name.
    x3, y3 = make_classification(300, 6, n_informative=4, n_redundant=0, n_classes=3,
                                 random_state=0)
    model = LogisticRegression().fit(x3, np.array(["a", "b", "c"])[y3])
    three = evasion_attack(model, x3[:1], reference=x3, max_queries=10)
    fake = FakeClient()
    replay_queries(three, fake, "m", client_key="k", features=FEATURES)  # type: ignore[arg-type]
    first = fake.sent[0][0]
    assert set(first["probabilities"]) == {"a", "b", "c"} and first["prediction"] in "abc"
    with pytest.raises(SchemaError, match="5 feature names"):
        replay_queries(result, fake, "m", client_key="k",  # type: ignore[arg-type]
                       features=FEATURES[:5])


def test_replayed_queries_are_flagged_before_the_attack_ends(live_server_session: str,
                                                             logistic: Any, data: Any) -> None:
    x, y = data
    name = f"redteam-{uuid.uuid4().hex[:8]}"
    p = logistic.predict_proba(x)[:, 1]
    reference = pa.table({**{f: x[:, i] for i, f in enumerate(FEATURES)}, "proba": p,
                          "pred": (p >= 0.5).astype(int), "label": y})
    result = evasion_attack(logistic, x[:2], reference=x, max_queries=150)
    with Client(live_server_session, timeout=30) as client:
        client.register_model(name, task="binary", columns={
            "probabilities": "proba", "prediction": "pred", "target": "label"},
            config={"checks": {"outliers": {"alpha": 0.01}, "probing": True}})
        client.upload_reference(name, reference)
        # Ordinary rows from one key: not probing.
        ordinary = replay_queries(x[:40], client, name, client_key="shop", features=FEATURES,
                                  batch=10)
        assert ordinary.sent == 40 and ordinary.first_probing is None
        replay = replay_queries(result, client, name, client_key="attacker",
                                features=FEATURES, id_prefix="atk-")
        assert replay.sent == replay.total == result.queries_total
        assert replay.first_probing is not None and replay.first_probing < replay.total - 1
        assert replay.flagged_before_end and replay.first_flagged is not None
        assert replay.first_flagged <= replay.first_probing
        held = [h for h in client.quarantine(name, limit=1000) if h["client_key"] == "attacker"]
        assert len(held) == replay.quarantined == replay.verdicts.count("quarantine")
        assert {h["record_id"] for h in held} <= {f"atk-{i}" for i in range(replay.total)}
        assert any("probing" in h["reason"]["signals"] for h in held)
        stopped = replay_queries(result, client, name, client_key="attacker-2",
                                 features=FEATURES, batch=5, stop_when_flagged=True)
        assert stopped.stopped_early and stopped.sent < stopped.total
        assert stopped.verdicts.count("quarantine") >= 1
    summary = replay.to_dict()
    assert summary["verdicts"]["quarantine"] == replay.quarantined
