"""The alert lifecycle: persistence, hysteresis, deduplication, human actions, exact state."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from typing import Any, get_args

import numpy as np
import pytest

from driftwise.act import (
    AlertEvent,
    AlertState,
    LifecycleRule,
    acknowledge,
    error_budget,
    resolve_by_hand,
    retire,
    silence,
    step,
)
from driftwise.config.monitor import SEVERITIES, AlertRule
from driftwise.errors import (
    ConfigError,
    ConflictError,
    DriftwiseError,
    NotFoundError,
    SchemaError,
    StateError,
    UsageError,
)

DT = 60.0  # seconds between windows: window w is evaluated at w * DT
FIRE, BETWEEN, CLEAR = 0.5, 0.25, 0.1  # for ">= 0.3" firing and "< 0.2" clearing


def rule(**overrides: Any) -> LifecycleRule:
    settings: dict[str, Any] = {"name": "drift", "metric": "psi", "condition": ">= 0.3",
                                "clear_condition": "< 0.2"}
    settings.update(overrides)
    return LifecycleRule(**settings)


def json_round_trip(state: AlertState) -> AlertState:
    return AlertState.from_dict(json.loads(json.dumps(state.to_dict(), allow_nan=False)))


def run(rules: Sequence[LifecycleRule], values: Sequence[Any], state: AlertState | None = None,
        start: int = 1) -> tuple[AlertState, list[AlertEvent]]:
    """Step window ``start + i`` at ``(start + i) * DT`` with ``{"psi": values[i]}``, checking
    after every step that the state survives JSON unchanged."""
    state = AlertState() if state is None else state
    events: list[AlertEvent] = []
    for i, value in enumerate(values):
        window = start + i
        state, new = step(rules, state, window, window * DT, {"psi": value})
        assert json_round_trip(state) == state
        events.extend(new)
    return state, events


def kinds(events: Sequence[AlertEvent]) -> list[str]:
    return [e.kind for e in events if e.kind != "still_firing"]


# -- persistence: `for` consecutive windows ---------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_an_alert_opens_on_the_nth_consecutive_window_not_before(n: int) -> None:
    r = rule(for_windows=n)
    state, events = run([r], [FIRE] * (n - 1))
    assert events == []
    assert state.rule("drift").phase == ("pending" if n > 1 else "inactive")
    assert state.rule("drift").fire_streak == n - 1
    state, events = run([r], [FIRE], state, start=n)
    assert [(e.kind, e.window, e.alert_id, e.notify) for e in events] == [("opened", n, 1, True)]
    assert state.rule("drift").phase == "firing"


@pytest.mark.parametrize("interruption", [BETWEEN, CLEAR, None, math.nan])
def test_a_broken_streak_starts_again(interruption: float | None) -> None:
    state, events = run([rule(for_windows=3)], [FIRE, FIRE, interruption, FIRE, FIRE])
    assert events == []
    assert state.rule("drift").fire_streak == 2
    _, events = run([rule(for_windows=3)], [FIRE], state, start=6)
    assert kinds(events) == ["opened"]


@pytest.mark.parametrize("seed", range(5))
def test_every_opening_follows_exactly_n_firing_windows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    values = list(np.where(rng.random(400) < 0.7, FIRE, CLEAR))
    _, events = run([rule(for_windows=n, clear_condition=None)], values)
    # with the default clear condition every non-firing window resolves, so an alert opens
    # on the nth window of each run of at least n firing windows, and only there
    expected, streak = [], 0
    for window, value in enumerate(values, start=1):
        streak = streak + 1 if value >= 0.3 else 0
        if streak == n:
            expected.append(window)
    assert len(expected) > 5
    assert [e.window for e in events if e.kind == "opened"] == expected
    assert [e.alert_id for e in events if e.kind == "opened"] == list(
        range(1, len(expected) + 1))


# -- hysteresis: no flapping -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_oscillating_without_clear_for_clear_windows_never_resolves(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 6))
    values, clear_run = [FIRE], 0
    for _ in range(1_000):
        zone = int(rng.integers(0, 3))
        if zone == 2 and clear_run == m - 1:
            zone = int(rng.integers(0, 2))  # a clear run of m would resolve: interrupt it
        clear_run = clear_run + 1 if zone == 2 else 0
        low, high = [(0.3, 1.0), (0.2, 0.3), (0.0, 0.2)][zone]
        values.append(float(rng.uniform(low, high)))
    state, events = run([rule(clear_for=m)], values)
    assert kinds(events) == ["opened"]
    assert [e.kind for e in events[1:]] == ["still_firing"] * (len(values) - 1)
    assert not any(e.notify for e in events[1:])
    assert state.rule("drift").phase in ("firing", "resolving")
    assert state.alerts_created == 1


def alert_counts(values: Sequence[float], r: LifecycleRule) -> tuple[list[AlertEvent], int]:
    _, events = run([r], values)
    return events, sum(e.kind in ("opened", "reopened") for e in events)


@pytest.mark.parametrize("seed", range(5))
def test_a_random_walk_opens_and_resolves_in_turn_and_hysteresis_never_adds_alerts(
        seed: int) -> None:
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.05, 3_000)
    values, x = [], 0.25
    for s in steps:
        x = float(np.clip(x + s, 0.0, 0.6))
        values.append(x)
    n, m = 2, 3
    events, with_hysteresis = alert_counts(values, rule(for_windows=n, clear_for=m))
    _, naive = alert_counts(values, rule(for_windows=n, clear_condition=None))
    assert with_hysteresis >= 2, "the walk should cross the thresholds a few times"
    assert with_hysteresis <= naive

    changes = [e for e in events if e.kind != "still_firing"]
    assert [e.kind for e in changes] == ["opened", "resolved"] * (len(changes) // 2) + \
        ["opened"] * (len(changes) % 2)
    assert [e.alert_id for e in changes if e.kind == "opened"] == \
        list(range(1, with_hysteresis + 1))
    for e in changes:  # window w holds values[w - 1]
        if e.kind == "opened":
            assert all(v >= 0.3 for v in values[e.window - n:e.window])
        else:
            assert all(v < 0.2 for v in values[e.window - m:e.window])
    open_windows = {e.window for e in events if e.kind == "still_firing"}
    assert open_windows.isdisjoint({e.window for e in changes})


def test_a_value_between_the_thresholds_restarts_the_clear_count() -> None:
    state, events = run([rule(clear_for=3)], [FIRE, CLEAR, CLEAR, BETWEEN, CLEAR, CLEAR])
    assert kinds(events) == ["opened"]
    assert (state.rule("drift").phase, state.rule("drift").clear_streak) == ("resolving", 2)
    state, events = run([rule(clear_for=3)], [CLEAR], state, start=7)
    assert [(e.kind, e.window, e.notify) for e in events] == [("resolved", 7, True)]
    alert = state.rule("drift").alert
    assert alert is not None
    assert (alert.resolved_window, alert.resolved_at, alert.resolved_by) == (7, 7 * DT,
                                                                            "condition")


def test_missing_values_reset_the_firing_streak_but_keep_the_clear_streak() -> None:
    r = rule(clear_for=3)
    state, _ = run([r], [FIRE, CLEAR, CLEAR, None, math.nan])
    assert (state.rule("drift").phase, state.rule("drift").clear_streak) == ("resolving", 2)
    state, events = step([r], state, 6, 6 * DT, {})  # an absent metric is missing too
    assert [e.kind for e in events] == ["still_firing"] and events[0].value is None
    state, events = run([r], [CLEAR], state, start=7)
    assert kinds(events) == ["resolved"]


def test_peak_and_last_value_follow_the_open_alert() -> None:
    state, _ = run([rule(clear_for=2)], [0.4, 0.9, 0.5, CLEAR])
    alert = state.rule("drift").alert
    assert alert is not None and alert.is_open
    assert (alert.peak_value, alert.last_value) == (0.9, CLEAR)
    below = rule(condition="< 0.75", clear_condition=">= 0.8")
    state, _ = run([below], [0.7, 0.2, 0.6])
    alert = state.rule("drift").alert
    assert alert is not None and alert.peak_value == 0.2


# -- deduplication: the cooldown -------------------------------------------------------


def test_firing_again_within_the_cooldown_reopens_the_same_alert() -> None:
    r = rule(cooldown_s=5 * DT)
    # opened at window 1, resolved at 2, fires again at 4 (2 windows = 120 s later)
    state, events = run([r], [FIRE, CLEAR, CLEAR, FIRE])
    assert kinds(events) == ["opened", "resolved", "reopened"]
    assert {e.alert_id for e in events} == {1}
    reopened = events[-1]
    assert (reopened.window, reopened.notify) == (4, True)
    alert = state.rule("drift").alert
    assert alert is not None
    assert (alert.id, alert.reopened, alert.opened_window, alert.is_open) == (1, 1, 1, True)
    assert (alert.resolved_at, alert.resolved_window, alert.resolved_by) == (None, None, None)
    assert state.alerts_created == 1


def test_firing_again_after_the_cooldown_opens_a_new_alert() -> None:
    r = rule(cooldown_s=5 * DT)
    # resolved at window 2; window 7 is exactly 5 windows later: the cooldown has passed
    _, events = run([r], [FIRE, CLEAR, CLEAR, CLEAR, CLEAR, CLEAR, FIRE])
    assert [(e.kind, e.alert_id) for e in events if e.kind != "still_firing"] == \
        [("opened", 1), ("resolved", 1), ("opened", 2)]


def test_no_cooldown_never_reopens() -> None:
    _, events = run([rule()], [FIRE, CLEAR, FIRE, CLEAR, FIRE])
    assert [(e.kind, e.alert_id) for e in events] == [
        ("opened", 1), ("resolved", 1), ("opened", 2), ("resolved", 2), ("opened", 3)]


# -- human actions ------------------------------------------------------------------------


def test_an_acknowledged_alert_records_events_but_does_not_notify() -> None:
    r = rule(cooldown_s=10 * DT)
    state, events = run([r], [FIRE])
    state, ack = acknowledge(state, "drift", 1, by="ana", at=70.0)
    assert (ack.kind, ack.by, ack.notify, ack.alert_id, ack.window) == \
        ("acknowledged", "ana", False, 1, 1)
    alert = state.rule("drift").alert
    assert alert is not None and (alert.acknowledged_by, alert.acknowledged_at) == ("ana", 70.0)
    state, events = run([r], [FIRE, CLEAR, FIRE], state, start=2)
    # The owner is not paged again when it flaps back within the cooldown, but receivers
    # learn that it resolved.
    assert [(e.kind, e.notify) for e in events] == [
        ("still_firing", False), ("resolved", True), ("reopened", False)]
    # a new incident, after the cooldown, has no owner yet and notifies
    _, events = run([r], [CLEAR] + [CLEAR] * 11 + [FIRE], state, start=5)
    assert [(e.kind, e.alert_id, e.notify) for e in events if e.kind != "still_firing"] == \
        [("resolved", 1, True), ("opened", 2, True)]


def test_a_silenced_alert_does_not_notify_until_the_silence_ends() -> None:
    r = rule(cooldown_s=100 * DT)
    state, _ = run([r], [FIRE])
    state, muted = silence(state, "drift", 1, until=4 * DT, by="bo", at=65.0)
    assert (muted.kind, muted.notify, muted.by) == ("silenced", False, "bo")
    alert = state.rule("drift").alert
    assert alert is not None and (alert.silenced_until, alert.silenced_by) == (4 * DT, "bo")
    # resolved at window 2 and reopened at window 3, both inside the silence
    state, events = run([r], [CLEAR, FIRE], state, start=2)
    assert [(e.kind, e.notify) for e in events] == [("resolved", False), ("reopened", False)]
    # window 4 is evaluated at the silence's end: it has expired
    state, events = run([r], [CLEAR, FIRE], state, start=4)
    assert [(e.kind, e.notify) for e in events] == [("resolved", True), ("reopened", True)]


def test_resolving_by_hand_closes_the_alert_and_a_new_streak_must_build() -> None:
    r = rule(for_windows=2, cooldown_s=1_000 * DT)
    state, _ = run([r], [FIRE, FIRE, FIRE])
    state, closed = resolve_by_hand(state, "drift", 1, by="cy", at=190.0)
    assert (closed.kind, closed.by, closed.notify, closed.window) == ("resolved", "cy", True, 3)
    alert = state.rule("drift").alert
    assert alert is not None and not alert.is_open
    assert (alert.resolved_by, alert.resolver, alert.resolved_window) == ("hand", "cy", 3)
    assert state.rule("drift").phase == "inactive"
    state, events = run([r], [FIRE], state, start=4)
    assert events == [] and state.rule("drift").phase == "pending"
    state, events = run([r], [FIRE], state, start=5)
    assert [(e.kind, e.alert_id) for e in events] == [("opened", 2)]


def test_acting_on_an_unknown_or_resolved_alert_is_a_clear_error() -> None:
    state, _ = run([rule()], [FIRE, CLEAR, FIRE])  # alert 1 resolved, alert 2 open
    with pytest.raises(NotFoundError, match="rule 'nope' has no alert"):
        acknowledge(state, "nope", 2, by="ana", at=1.0)
    with pytest.raises(NotFoundError, match=r"no alert 7.*latest alert is 2"):
        silence(state, "drift", 7, until=1e9, by="ana", at=1.0)
    state, _ = resolve_by_hand(state, "drift", 2, by="ana", at=200.0)
    with pytest.raises(ConflictError, match="alert 2 of rule 'drift' was already resolved"):
        resolve_by_hand(state, "drift", 2, by="bo", at=201.0)
    state, _ = run([rule()], [FIRE], state, start=4)
    state, _ = acknowledge(state, "drift", 3, by="ana", at=250.0)
    with pytest.raises(ConflictError, match="already acknowledged by 'ana'"):
        acknowledge(state, "drift", 3, by="bo", at=251.0)
    with pytest.raises(UsageError, match="must be after"):
        silence(state, "drift", 3, until=250.0, by="bo", at=251.0)
    with pytest.raises(UsageError, match="name who acts"):
        resolve_by_hand(state, "drift", 3, by=" ", at=251.0)
    assert issubclass(NotFoundError, DriftwiseError) and issubclass(ConflictError,
                                                                   DriftwiseError)


def test_human_actions_leave_the_state_they_were_given_alone() -> None:
    state, _ = run([rule()], [FIRE])
    before = copy.deepcopy(state)
    acknowledge(state, "drift", 1, by="ana", at=61.0)
    silence(state, "drift", 1, until=1e6, by="ana", at=61.0)
    resolve_by_hand(state, "drift", 1, by="ana", at=61.0)
    step([rule()], state, 2, 120.0, {"psi": CLEAR})
    assert state == before


# -- order, replay and state ------------------------------------------------------------


def test_replaying_a_window_is_a_no_op() -> None:
    state, _ = run([rule()], [FIRE, FIRE])
    for window in (2, 1, -5):
        again, events = step([rule()], state, window, 999.0, {"psi": CLEAR})
        assert again is state and events == ()


@pytest.mark.parametrize("seed", range(3))
def test_replaying_windows_after_a_crash_gives_the_same_state(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = list(rng.choice([FIRE, BETWEEN, CLEAR, None], size=200))
    r = rule(for_windows=2, clear_for=2, cooldown_s=3 * DT)
    once, events_once = run([r], values)
    crashed, events_before = run([r], values[:120])
    resumed, events_after = run([r], values[80:], crashed, start=81)
    assert resumed == once
    assert events_before + events_after == events_once


def test_rules_are_independent_and_ids_are_shared() -> None:
    a = rule(name="a")
    b = LifecycleRule(name="b", metric="late", condition="== true", severity="critical")
    state, events = step([a, b], AlertState(), 1, 60.0, {"psi": FIRE, "late": True})
    assert [(e.rule, e.alert_id, e.severity) for e in events] == [("a", 1, "warning"),
                                                                 ("b", 2, "critical")]
    state, events = step([a, b], state, 2, 120.0, {"psi": FIRE, "late": False})
    assert [(e.rule, e.kind) for e in events] == [("a", "still_firing"), ("b", "resolved")]
    assert [x.rule for x in state.open_alerts()] == ["a"]
    # a rule left out keeps its state
    state, _ = step([b], state, 3, 180.0, {"late": True})
    assert state.rule("a").phase == "firing"


def test_the_state_round_trips_with_infinite_boolean_and_integer_values() -> None:
    r = rule(clear_for=2)
    state, _ = run([r], [math.inf, 1, CLEAR])
    state, _ = acknowledge(state, "drift", 1, by="ana", at=200.0)
    state, _ = silence(state, "drift", 1, until=1_000.0, by="bo", at=201.0)
    flag = LifecycleRule(name="flag", metric="late", condition="== true")
    state, _ = step([flag], state, 4, 240.0, {"late": np.bool_(True)})
    text = json.dumps(state.to_dict(), allow_nan=False)
    assert '"inf"' in text
    assert json_round_trip(state) == state
    alert = state.rule("drift").alert
    assert alert is not None and alert.peak_value == math.inf and alert.last_value == CLEAR


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.update(version=99), "version 99"),
    (lambda d: d.pop("last_window"), "missing keys \\['last_window'\\]"),
    (lambda d: d["rules"]["drift"].update(phase="inactive"), "contradicts its alert"),
    (lambda d: d["rules"]["drift"].update(fire_streak="2"), "fire_streak: expected an int"),
    (lambda d: d["rules"]["drift"]["alert"].update(peak_value="high"), "peak_value"),
    (lambda d: d["rules"]["drift"]["alert"].update(colour="red"), "unknown keys \\['colour'\\]"),
])
def test_a_malformed_state_is_refused(mutate: Any, message: str) -> None:
    state, _ = run([rule()], [FIRE])
    data = state.to_dict()
    mutate(data)
    with pytest.raises(StateError, match=message):
        AlertState.from_dict(data)


def test_bad_window_inputs_are_refused() -> None:
    with pytest.raises(SchemaError, match="metric 'psi' is 'high'"):
        step([rule()], AlertState(), 1, 60.0, {"psi": "high"})
    with pytest.raises(UsageError, match="at: expected a finite time"):
        step([rule()], AlertState(), 1, math.nan, {"psi": FIRE})
    with pytest.raises(ConfigError, match="distinct name"):
        step([rule(), rule()], AlertState(), 1, 60.0, {"psi": FIRE})


# -- rule validation -----------------------------------------------------------------------


@pytest.mark.parametrize(("condition", "clear"), [
    (">= 0.3", ">= 0.2"), (">= 0.3", "> 0.29"), (">= 0.3", "<= 0.3"), ("> 0.3", "!= 0.1"),
    ("< 0.75", "< 0.9"), ("== 0.5", "<= 0.5"), ("!= 0", "== 1"), ("== true", "!= false"),
])
def test_a_clear_condition_overlapping_the_condition_is_refused(condition: str,
                                                                clear: str) -> None:
    with pytest.raises(ConfigError, match=r"lifecycle rule 'drift'.*overlaps condition"):
        rule(condition=condition, clear_condition=clear)


@pytest.mark.parametrize(("condition", "clear", "effective"), [
    (">= 0.3", "< 0.2", "< 0.2"), (">= 0.3", "< 0.3", "< 0.3"), ("> 0.3", None, "<= 0.3"),
    ("< 0.75", None, ">= 0.75"), ("== true", None, "== false"), ("!= true", None, "== true"),
    ("== 1", "== 0", "== 0"),
])
def test_separate_clear_conditions_are_accepted(condition: str, clear: str | None,
                                               effective: str) -> None:
    r = rule(condition=condition, clear_condition=clear)
    assert r.effective_clear_condition == effective


@pytest.mark.parametrize(("overrides", "message"), [
    ({"clear_condition": "below 0.2"}, "clear_condition: cannot read condition"),
    ({"for_windows": 0}, "for_windows: expected an integer >= 1"),
    ({"clear_for": 0}, "clear_for: expected an integer >= 1"),
    ({"cooldown_s": -1.0}, "cooldown_s: expected a number >= 0"),
    ({"severity": "page"}, "severity: expected one of"),
    ({"condition": "< true", "clear_condition": None}, "compare true/false with == or !="),
    ({"condition": "== true", "clear_condition": "< 0.5"}, "both compare with a number"),
])
def test_invalid_rules_are_refused_naming_the_rule(overrides: dict[str, Any],
                                                   message: str) -> None:
    with pytest.raises(ConfigError, match=f"lifecycle rule 'drift': .*{message}"):
        rule(**overrides)


def test_rules_follow_the_monitor_alert_rules() -> None:
    assert set(get_args(LifecycleRule.model_fields["severity"].annotation)) == set(SEVERITIES)
    source = AlertRule.model_validate({"metric": "psi", "condition": "> 0.2", "for": 3,
                                       "severity": "critical"})
    r = LifecycleRule.from_alert_rule(source, clear_condition="< 0.1", clear_for=2)
    assert (r.name, r.metric, r.condition, r.severity, r.for_windows, r.clear_for) == \
        ("psi", "psi", "> 0.2", "critical", 3, 2)
    assert LifecycleRule(metric="psi", condition="> 1", **{"for": 2}).name == "psi"


# -- SLO error budget ----------------------------------------------------------------------


def test_error_budget_worked_example() -> None:
    # 99.9% over 30 days; one hour held 10,000 requests of which 144 failed. The SRE
    # workbook's page threshold: burn rate 14.4 for an hour spends 2% of the 30-day budget.
    hour = error_budget(0.999, good=9_856, total=10_000)
    assert hour["budget"] == pytest.approx(0.001)
    assert hour["bad"] == 144
    assert hour["error_rate"] == pytest.approx(0.0144)
    assert hour["burn_rate"] == pytest.approx(14.4)
    assert hour["burn_rate"] * 1 / (30 * 24) == pytest.approx(0.02)
    # the whole period: 1,000,000 requests, 400 bad -> 40% of the budget spent
    period = error_budget(0.999, good=999_600, total=1_000_000)
    assert period["consumed"] == pytest.approx(0.4)
    assert period["remaining"] == pytest.approx(0.6)
    over = error_budget(0.99, good=97, total=100)
    assert over["consumed"] == pytest.approx(3.0) and over["remaining"] == pytest.approx(-2.0)


def test_error_budget_without_events_is_undefined_and_bad_inputs_are_refused() -> None:
    empty = error_budget(0.99, good=0, total=0)
    assert empty["budget"] == pytest.approx(0.01)
    assert [empty[k] for k in ("error_rate", "consumed", "remaining", "burn_rate")] == \
        [None] * 4
    with pytest.raises(ConfigError, match="strictly between 0 and 1"):
        error_budget(1.0, good=1, total=1)
    with pytest.raises(UsageError, match="cannot exceed total"):
        error_budget(0.99, good=5, total=4)
    with pytest.raises(UsageError, match="good must be a count"):
        error_budget(0.99, good=-1, total=4)


def test_a_rule_dropped_from_the_configuration_resolves_its_open_alert() -> None:
    kept, dropped = rule(name="kept"), rule(name="dropped")
    state, _ = run([kept, dropped], [FIRE])
    assert {a.rule for a in state.open_alerts()} == {"kept", "dropped"}
    state, events = retire(state, {"kept"}, window=2, at=2 * DT)
    assert [(e.kind, e.rule, e.notify, e.window) for e in events] == [
        ("resolved", "dropped", True, 2)]
    gone = state.rule("dropped").alert
    assert gone is not None and gone.resolved_by == "rule_removed" and not gone.is_open
    assert [a.rule for a in state.open_alerts()] == ["kept"]
    assert AlertState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    again, events = retire(state, {"kept"}, window=3, at=3 * DT)
    assert events == () and again == state
