"""The alert lifecycle: one incident is one alert, and an alert does not flap.

A :class:`LifecycleRule` watches one metric, one evaluated window at a time. Its state moves

``inactive`` -> ``pending`` (the condition held, fewer than ``for`` windows in a row)
-> ``firing`` (an alert is open) <-> ``resolving`` (the clear condition held, fewer than
``clear_for`` windows in a row) -> ``inactive`` (the alert resolved).

Three things keep the alerts few and honest:

- **Persistence**: an alert opens only when the condition holds ``for`` consecutive windows.
- **Hysteresis**: it resolves only when a separate clear condition, which no firing value can
  meet, holds ``clear_for`` consecutive windows; a value between the two thresholds keeps it
  open and starts the clear count again.
- **Deduplication**: when the condition fires again less than ``cooldown_s`` seconds after the
  alert resolved, the same alert (same id) is reopened instead of a new one being opened.

Everything here is pure: :func:`step` and the human actions (:func:`acknowledge`,
:func:`silence`, :func:`resolve_by_hand`) take an :class:`AlertState` and return a new one with
the :class:`AlertEvent` they produced; nothing is read, written or sent. An
:class:`AlertState` is plain data whose :meth:`~AlertState.to_dict` is JSON and comes back
equal through :meth:`~AlertState.from_dict`.

Decisions where a choice had to be made:

- A missing value (``None``, NaN, or a metric absent from the window) is no evidence either
  way: it resets the firing streak (``for`` means consecutive *observed* windows) and leaves
  the clear streak where it was (it neither counts as recovery nor restarts it, so a flaky
  feed cannot hold an alert open for ever).
- Windows are processed in increasing order; a window at or before the last one processed is
  ignored, so replaying windows after a crash changes nothing.
- ``notify`` is true for ``opened``, ``reopened`` and ``resolved`` unless the alert is
  acknowledged or silenced (``silenced_until > at``); ``still_firing``, ``acknowledged`` and
  ``silenced`` never notify. An acknowledgement lasts as long as the alert (its id), through
  a reopen: the incident has an owner. A silence lasts until its end, through a reopen too.
- ``still_firing`` is emitted for every window an alert stays open, whatever its value, so
  the events are the incident's complete trail.
- A hand-resolved alert is closed for good: when the condition fires again a new alert opens
  after a new ``for``-window streak; the cooldown reopens only alerts that resolved by
  condition.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

import numpy as np
from pydantic import Field, field_validator, model_validator

from driftwise.config._model import StrictModel
from driftwise.config.monitor import AlertRule, parse_condition
from driftwise.errors import (
    ConfigError,
    ConflictError,
    NotFoundError,
    SchemaError,
    StateError,
    UsageError,
)
from driftwise.monitor.result import MetricValue

__all__ = ["EVENT_KINDS", "PHASES", "Alert", "AlertEvent", "AlertState", "LifecycleRule",
           "RuleState", "acknowledge", "error_budget", "resolve_by_hand", "retire", "silence",
           "step"]

Phase = Literal["inactive", "pending", "firing", "resolving"]
EventKind = Literal["opened", "reopened", "resolved", "still_firing", "acknowledged",
                    "silenced"]
Severity = Literal["warning", "critical"]
ResolvedBy = Literal["condition", "hand", "rule_removed"]
Condition = tuple[str, float | bool]

PHASES: tuple[str, ...] = get_args(Phase)
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
_NOTIFYING = ("opened", "reopened", "resolved")
_STATE_VERSION = 1

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}
_NEGATION = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _holds(condition: Condition, value: float | int | bool) -> bool:
    op, threshold = condition
    return _OPS[op](float(value), float(threshold))


def _text(condition: Condition) -> str:
    op, threshold = condition
    shown = str(threshold).lower() if isinstance(threshold, bool) else repr(threshold)
    return f"{op} {shown}"


def _negation(condition: Condition) -> Condition:
    op, threshold = condition
    if isinstance(threshold, bool):  # "== true" clears on "== false", not "!= true"
        return "==", (not threshold) if op == "==" else threshold
    return _NEGATION[op], threshold


def _common_value(first: Condition, second: Condition) -> float | None:
    """A value satisfying both conditions, or ``None`` when none does.

    Each condition is a union of intervals ending at its threshold, so their intersection
    is empty or contains a threshold, a point beyond both, or the midpoint between them.
    """
    if isinstance(first[1], bool):
        candidates = [0.0, 1.0]
    else:
        low, high = sorted((float(first[1]), float(second[1])))
        candidates = [low, high, (low + high) / 2, low - 1.0, high + 1.0]
    return next((x for x in candidates if _holds(first, x) and _holds(second, x)), None)


class LifecycleRule(StrictModel):
    """Open an alert when ``condition`` holds ``for`` windows; resolve it on ``clear_for``.

    Parameters
    ----------
    name : str
        The rule's name (default: its metric); alerts and events are named by it.
    metric : str
        The key of the window's metrics the rule reads.
    condition : str
        When the metric is in trouble: an operator and a number or true/false (``">= 0.3"``).
    severity : {"warning", "critical"}
    for_windows : int
        Consecutive windows the condition must hold to open an alert (key ``for``).
    clear_condition : str, optional
        When the metric has recovered; no value may satisfy both it and ``condition``.
        Default: the negation of ``condition`` (``"== false"`` for ``"== true"``).
    clear_for : int
        Consecutive windows the clear condition must hold to resolve the alert.
    cooldown_s : float
        An alert that fires again less than this many seconds after resolving is reopened
        (same id) rather than opened anew.

    Example
    -------
    >>> rule = LifecycleRule(name="drift", metric="psi", condition=">= 0.3",
    ...                      clear_condition="< 0.2", clear_for=3)
    >>> rule.fires(0.35), rule.clears(0.25), rule.clears(0.1)
    (True, False, True)
    """

    name: str = ""
    metric: str
    condition: str
    severity: Severity = "warning"
    for_windows: int = Field(1, ge=1, alias="for")
    clear_condition: str | None = None
    clear_for: int = Field(1, ge=1)
    cooldown_s: float = Field(0.0, ge=0)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ConfigError as exc:
            named = data.get("name") or data.get("metric")
            raise ConfigError(f"lifecycle rule {named!r}: {exc}") from None

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data.get("name") and isinstance(
                data.get("metric"), str):
            return {**data, "name": data["metric"]}
        return data

    @field_validator("condition", "clear_condition", mode="after")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        if value is not None:
            op, threshold = parse_condition(value)
            if isinstance(threshold, bool) and op not in ("==", "!="):
                raise ValueError(f"{value!r}: compare true/false with == or !=")
        return value

    @model_validator(mode="after")
    def _disjoint(self) -> LifecycleRule:
        fire = parse_condition(self.condition)
        clear = self.clear
        if isinstance(fire[1], bool) != isinstance(clear[1], bool):
            raise ValueError(f"condition {self.condition!r} and clear_condition "
                             f"{self.clear_condition!r} must both compare with a number or "
                             f"both with true/false")
        both = _common_value(fire, clear)
        if both is not None:
            shown = str(bool(both)).lower() if isinstance(fire[1], bool) else f"{both:g}"
            raise ValueError(f"clear_condition {self.clear_condition!r} overlaps condition "
                             f"{self.condition!r} ({shown} satisfies both), so a window could "
                             f"fire and clear at once; give a clear condition that no firing "
                             f"value meets, e.g. {_text(_negation(fire))!r} or one further "
                             f"from the threshold")
        return self

    @property
    def clear(self) -> Condition:
        """The clear condition as ``(operator, threshold)`` (given, or the negation)."""
        if self.clear_condition is not None:
            return parse_condition(self.clear_condition)
        return _negation(parse_condition(self.condition))

    @property
    def effective_clear_condition(self) -> str:
        """The clear condition as text, e.g. ``'< 0.3'`` for the default of ``'>= 0.3'``."""
        return self.clear_condition or _text(self.clear)

    def fires(self, value: float | int | bool) -> bool:
        """Whether ``value`` satisfies the firing condition."""
        return _holds(parse_condition(self.condition), value)

    def clears(self, value: float | int | bool) -> bool:
        """Whether ``value`` satisfies the clear condition."""
        return _holds(self.clear, value)

    @classmethod
    def from_alert_rule(cls, rule: AlertRule, *, clear_condition: str | None = None,
                        clear_for: int = 1, cooldown_s: float = 0.0) -> LifecycleRule:
        """A lifecycle rule with the name, metric, condition, severity and ``for`` of a
        Monitor :class:`~driftwise.config.monitor.AlertRule`."""
        return cls(name=rule.name, metric=rule.metric, condition=rule.condition,
                   severity=rule.severity, for_windows=rule.for_windows,
                   clear_condition=clear_condition, clear_for=clear_for,
                   cooldown_s=cooldown_s)


@dataclass(frozen=True)
class Alert:
    """One incident of one rule: when it opened, what it saw, who acted, how it ended.

    ``peak_value`` is the firing value farthest from the threshold over the alert's life;
    ``last_value`` the last value observed while it was open. ``resolved_window`` of a
    hand-resolved alert is the last window processed before the resolution; ``resolver``
    names who resolved it by hand.
    """

    id: int
    rule: str
    severity: Severity
    opened_at: float
    opened_window: int
    last_value: MetricValue = None
    peak_value: MetricValue = None
    reopened: int = 0
    acknowledged_by: str | None = None
    acknowledged_at: float | None = None
    silenced_by: str | None = None
    silenced_at: float | None = None
    silenced_until: float | None = None
    resolved_at: float | None = None
    resolved_window: int | None = None
    resolved_by: ResolvedBy | None = None
    resolver: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether the alert has not been resolved."""
        return self.resolved_at is None

    def silenced(self, at: float) -> bool:
        """Whether a silence covers the instant ``at``."""
        return self.silenced_until is not None and self.silenced_until > at

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (an infinite value is written ``"inf"`` / ``"-inf"``)."""
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["last_value"] = _encode(self.last_value)
        out["peak_value"] = _encode(self.peak_value)
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "alert") -> Alert:
        """The alert of :meth:`to_dict`; :class:`StateError` names a malformed key."""
        d = _keys(data, where, set(cls.__dataclass_fields__))
        return cls(
            id=_int(d, "id", where), rule=_str(d, "rule", where),
            severity=_choice(d, "severity", get_args(Severity), where),
            opened_at=_number(d, "opened_at", where),
            opened_window=_int(d, "opened_window", where),
            last_value=_decode(d["last_value"], f"{where}.last_value"),
            peak_value=_decode(d["peak_value"], f"{where}.peak_value"),
            reopened=_int(d, "reopened", where),
            acknowledged_by=_str(d, "acknowledged_by", where, optional=True),
            acknowledged_at=_number(d, "acknowledged_at", where, optional=True),
            silenced_by=_str(d, "silenced_by", where, optional=True),
            silenced_at=_number(d, "silenced_at", where, optional=True),
            silenced_until=_number(d, "silenced_until", where, optional=True),
            resolved_at=_number(d, "resolved_at", where, optional=True),
            resolved_window=_int(d, "resolved_window", where, optional=True),
            resolved_by=_choice(d, "resolved_by", get_args(ResolvedBy), where, optional=True),
            resolver=_str(d, "resolver", where, optional=True),
        )


@dataclass(frozen=True)
class RuleState:
    """Where one rule stands: its phase, its two streaks, and its open or last alert."""

    phase: Phase = "inactive"
    fire_streak: int = 0
    clear_streak: int = 0
    alert: Alert | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {"phase": self.phase, "fire_streak": self.fire_streak,
                "clear_streak": self.clear_streak,
                "alert": None if self.alert is None else self.alert.to_dict()}

    @classmethod
    def from_dict(cls, data: Any, where: str = "rule") -> RuleState:
        """The rule state of :meth:`to_dict`; :class:`StateError` names a malformed key."""
        d = _keys(data, where, {"phase", "fire_streak", "clear_streak", "alert"})
        alert = None if d["alert"] is None else Alert.from_dict(d["alert"], f"{where}.alert")
        phase = _choice(d, "phase", PHASES, where)
        if (phase in ("firing", "resolving")) != (alert is not None and alert.is_open):
            raise StateError(f"{where}: phase {phase!r} contradicts its alert (an open "
                             f"alert is 'firing' or 'resolving', and only an open one)")
        return cls(phase, _int(d, "fire_streak", where), _int(d, "clear_streak", where), alert)


@dataclass(frozen=True)
class AlertState:
    """The lifecycle state of a set of rules: per rule, plus the alert-id counter.

    ``alerts_created`` counts the alerts ever opened (the last id given); ``last_window``
    is the last window :func:`step` processed. Treat it as immutable: every function here
    returns a new state and leaves the one it was given as it was.
    """

    rules: dict[str, RuleState] = field(default_factory=dict)
    alerts_created: int = 0
    last_window: int | None = None

    def rule(self, name: str) -> RuleState:
        """The state of rule ``name`` (a fresh one when it has never been stepped)."""
        return self.rules.get(name, RuleState())

    def open_alerts(self) -> tuple[Alert, ...]:
        """The alerts that are open now, in the rules' order."""
        return tuple(r.alert for r in self.rules.values() if r.alert is not None
                     and r.alert.is_open)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form, versioned."""
        return {"version": _STATE_VERSION, "alerts_created": self.alerts_created,
                "last_window": self.last_window,
                "rules": {name: r.to_dict() for name, r in self.rules.items()}}

    @classmethod
    def from_dict(cls, data: Any) -> AlertState:
        """The state of :meth:`to_dict`; :class:`StateError` says what is malformed."""
        d = _keys(data, "alert state", {"version", "alerts_created", "last_window", "rules"})
        if d["version"] != _STATE_VERSION:
            raise StateError(f"alert state: version {d['version']!r} is not the version "
                             f"{_STATE_VERSION} this driftwise reads")
        rules = d["rules"]
        if not isinstance(rules, Mapping):
            raise StateError(f"alert state.rules: expected a mapping, got {rules!r}")
        return cls({str(k): RuleState.from_dict(v, f"rules.{k}") for k, v in rules.items()},
                   _int(d, "alerts_created", "alert state"),
                   _int(d, "last_window", "alert state", optional=True))


@dataclass(frozen=True)
class AlertEvent:
    """Something that happened to an alert: for notifications and the incident trail.

    ``value`` is the window's value (for a human action, the alert's last value); ``by``
    names who acted, for a human action; ``window`` of a human action is the last window
    processed.
    """

    kind: EventKind
    rule: str
    severity: Severity
    alert_id: int
    window: int
    at: float
    value: MetricValue
    notify: bool
    by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (an infinite value is written ``"inf"`` / ``"-inf"``)."""
        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["value"] = _encode(self.value)
        return out


def step(rules: Sequence[LifecycleRule], state: AlertState, window: int, at: float,
         metrics: Mapping[str, MetricValue]) -> tuple[AlertState, tuple[AlertEvent, ...]]:
    """Advance every rule by one evaluated window.

    Parameters
    ----------
    rules : sequence of LifecycleRule
        The rules, with distinct names. A rule the state has not seen starts inactive; the
        state of a rule not given is kept as it was.
    state : AlertState
    window : int
        The window's number. One at or before ``state.last_window`` is ignored (the state
        comes back unchanged, with no events): replaying windows after a crash is safe.
    at : float
        The window's time, in seconds (e.g. since the epoch); the cooldown and silences
        are measured on it.
    metrics : mapping
        The window's values by metric name; ``None``, NaN or an absent key is missing.

    Returns
    -------
    (AlertState, tuple of AlertEvent)
        The new state, and the events in the rules' order.

    Example
    -------
    >>> rule = LifecycleRule(name="drift", metric="psi", condition=">= 0.3", for_windows=2)
    >>> state = AlertState()
    >>> state, events = step([rule], state, 1, 60.0, {"psi": 0.4})
    >>> state.rule("drift").phase, events
    ('pending', ())
    >>> state, events = step([rule], state, 2, 120.0, {"psi": 0.5})
    >>> [(e.kind, e.alert_id, e.notify) for e in events]
    [('opened', 1, True)]
    """
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise ConfigError(f"lifecycle rules: give each a distinct name (got {names})")
    if not isinstance(window, int) or isinstance(window, bool):
        raise UsageError(f"window: expected an integer, got {window!r}")
    if state.last_window is not None and window <= state.last_window:
        return state, ()
    at = _instant(at, "at")
    created = state.alerts_created
    per_rule = dict(state.rules)
    events: list[AlertEvent] = []
    event: AlertEvent | None
    for rule in rules:
        value = _observed(rule, metrics.get(rule.metric))
        current = state.rule(rule.name)
        if current.alert is not None and current.alert.is_open:
            new, event = _advance_open(rule, current, current.alert, value, window, at)
        else:
            new, event, created = _advance_closed(rule, current, value, window, at, created)
        per_rule[rule.name] = new
        if event is not None:
            events.append(event)
    return AlertState(per_rule, created, window), tuple(events)


def _advance_closed(rule: LifecycleRule, current: RuleState, value: MetricValue, window: int,
                    at: float, created: int) -> tuple[RuleState, AlertEvent | None, int]:
    """A rule with no open alert: count the firing streak; open or reopen at ``for``."""
    if value is None or not rule.fires(value):
        return RuleState("inactive", 0, 0, current.alert), None, created
    streak = current.fire_streak + 1
    if streak < rule.for_windows:
        return RuleState("pending", streak, 0, current.alert), None, created
    last = current.alert
    if last is not None and last.resolved_by == "condition" and last.resolved_at is not None \
            and at - last.resolved_at < rule.cooldown_s:
        alert = replace(last, severity=rule.severity, reopened=last.reopened + 1,
                        last_value=value, peak_value=_peak(rule, last.peak_value, value),
                        resolved_at=None, resolved_window=None, resolved_by=None)
        kind: EventKind = "reopened"
    else:
        created += 1
        alert = Alert(id=created, rule=rule.name, severity=rule.severity, opened_at=at,
                      opened_window=window, last_value=value, peak_value=value)
        kind = "opened"
    return RuleState("firing", streak, 0, alert), _event(kind, alert, window, at, value), \
        created


def _advance_open(rule: LifecycleRule, current: RuleState, alert: Alert, value: MetricValue,
                  window: int, at: float) -> tuple[RuleState, AlertEvent]:
    """A rule with an open alert: count the clear streak; resolve at ``clear_for``."""
    if value is None:
        new = replace(current, fire_streak=0)
    elif rule.fires(value):
        alert = replace(alert, last_value=value,
                        peak_value=_peak(rule, alert.peak_value, value))
        new = RuleState("firing", current.fire_streak + 1, 0, alert)
    elif rule.clears(value):
        alert = replace(alert, last_value=value)
        streak = current.clear_streak + 1
        if streak >= rule.clear_for:
            alert = replace(alert, resolved_at=at, resolved_window=window,
                            resolved_by="condition")
            return RuleState("inactive", 0, 0, alert), _event("resolved", alert, window, at,
                                                              value)
        new = RuleState("resolving", 0, streak, alert)
    else:  # between the thresholds: not recovered, so the clear count starts again
        alert = replace(alert, last_value=value)
        new = RuleState("firing", 0, 0, alert)
    return new, _event("still_firing", alert, window, at, value)


def _peak(rule: LifecycleRule, peak: MetricValue, value: float | int | bool) -> MetricValue:
    """The firing value farther from the threshold (the earlier one on a tie)."""
    threshold = float(parse_condition(rule.condition)[1])
    if peak is None or abs(float(value) - threshold) > abs(float(peak) - threshold):
        return value
    return peak


def _event(kind: EventKind, alert: Alert, window: int, at: float, value: MetricValue,
           by: str | None = None) -> AlertEvent:
    # An acknowledgement stops the alert paging its owner again (a reopening), not its end:
    # receivers (Alertmanager above all) must learn that it resolved. A silence stops all.
    notify = kind in _NOTIFYING and not alert.silenced(at) and (
        kind == "resolved" or alert.acknowledged_by is None)
    return AlertEvent(kind, alert.rule, alert.severity, alert.id, window, at, value, notify,
                      by)


def acknowledge(state: AlertState, rule: str, alert_id: int, by: str,
                at: float) -> tuple[AlertState, AlertEvent]:
    """Record that ``by`` owns open alert ``alert_id``: it stops notifying until it closes.

    Raises :class:`NotFoundError` for an alert the rule does not have, and
    :class:`ConflictError` for one already resolved or already acknowledged.
    """
    at = _instant(at, "at")
    current, alert = _open_alert(state, rule, alert_id, "acknowledge", by)
    if alert.acknowledged_by is not None:
        raise ConflictError(f"alert {alert_id} of rule {rule!r} is already acknowledged by "
                            f"{alert.acknowledged_by!r} (at {alert.acknowledged_at})")
    alert = replace(alert, acknowledged_by=by, acknowledged_at=at)
    return _with(state, rule, replace(current, alert=alert)), \
        _event("acknowledged", alert, _window_of(state, alert), at, alert.last_value, by)


def silence(state: AlertState, rule: str, alert_id: int, until: float, by: str,
            at: float) -> tuple[AlertState, AlertEvent]:
    """Stop open alert ``alert_id`` notifying until the instant ``until`` (a later silence
    replaces an earlier one). Raises as :func:`acknowledge` does, and :class:`UsageError`
    when ``until`` is not after ``at``."""
    at = _instant(at, "at")
    current, alert = _open_alert(state, rule, alert_id, "silence", by)
    until = _instant(until, "until")
    if until <= at:
        raise UsageError(f"silence of alert {alert_id}: until ({until}) must be after "
                         f"at ({at})")
    alert = replace(alert, silenced_by=by, silenced_at=at, silenced_until=until)
    return _with(state, rule, replace(current, alert=alert)), \
        _event("silenced", alert, _window_of(state, alert), at, alert.last_value, by)


def resolve_by_hand(state: AlertState, rule: str, alert_id: int, by: str,
                    at: float) -> tuple[AlertState, AlertEvent]:
    """Close open alert ``alert_id`` now, whatever its metric says.

    The rule starts again inactive: if its condition still holds, the next windows build a
    new pending streak towards a new alert (a hand resolution is never reopened). Raises as
    :func:`acknowledge` does.
    """
    at = _instant(at, "at")
    _current, alert = _open_alert(state, rule, alert_id, "resolve", by)
    window = _window_of(state, alert)
    alert = replace(alert, resolved_at=at, resolved_window=window, resolved_by="hand",
                    resolver=by)
    return _with(state, rule, RuleState("inactive", 0, 0, alert)), \
        _event("resolved", alert, window, at, alert.last_value, by)


def retire(state: AlertState, kept: Collection[str], window: int, at: float
           ) -> tuple[AlertState, tuple[AlertEvent, ...]]:
    """Resolve the open alert of every rule not in ``kept`` (a configuration that dropped
    or renamed the rule): nothing will ever clear it otherwise. The events notify (unless
    silenced), so receivers close it too."""
    at = _instant(at, "at")
    events = []
    for name, current in sorted(state.rules.items()):
        alert = current.alert
        if name in kept or alert is None or not alert.is_open:
            continue
        alert = replace(alert, resolved_at=at, resolved_window=window,
                        resolved_by="rule_removed")
        state = _with(state, name, RuleState("inactive", 0, 0, alert))
        events.append(_event("resolved", alert, window, at, alert.last_value))
    return state, tuple(events)


def _open_alert(state: AlertState, rule: str, alert_id: int, verb: str,
                by: str) -> tuple[RuleState, Alert]:
    """The rule's state and its open alert ``alert_id``, or a clear error."""
    if not isinstance(by, str) or not by.strip():
        raise UsageError(f"{verb} alert {alert_id}: name who acts (by), got {by!r}")
    current = state.rules.get(rule)
    if current is None or current.alert is None:
        known = sorted(n for n, r in state.rules.items() if r.alert is not None)
        raise NotFoundError(f"rule {rule!r} has no alert to {verb}; rules with alerts: "
                            f"{', '.join(known) or 'none'}")
    alert = current.alert
    if alert.id != alert_id:
        raise NotFoundError(f"rule {rule!r} has no alert {alert_id!r} to {verb}; its "
                            f"latest alert is {alert.id} "
                            f"({'open' if alert.is_open else 'resolved'})")
    if not alert.is_open:
        how = "by its condition" if alert.resolved_by == "condition" else \
            f"by hand ({alert.resolver})"
        raise ConflictError(f"alert {alert_id} of rule {rule!r} was already resolved "
                            f"{how} at {alert.resolved_at}; there is nothing to {verb}")
    return current, alert


def _with(state: AlertState, rule: str, rule_state: RuleState) -> AlertState:
    return replace(state, rules={**state.rules, rule: rule_state})


def _window_of(state: AlertState, alert: Alert) -> int:
    return state.last_window if state.last_window is not None else alert.opened_window


def error_budget(objective: float, good: int, total: int) -> dict[str, float | int | None]:
    """The error budget of an SLO over ``total`` events of which ``good`` met it.

    Returns ``objective``, ``good``, ``bad``, ``total``, ``budget`` (``1 - objective``: the
    share of events allowed to be bad), ``error_rate`` (``bad / total``), ``consumed``
    (``error_rate / budget``: the share of the budget these events used, when they are the
    SLO's whole period), ``remaining`` (``1 - consumed``, negative once overspent) and
    ``burn_rate``. With ``total == 0`` the shares and the rate are ``None``.

    Example
    -------
    >>> b = error_budget(0.99, good=9_950, total=10_000)
    >>> round(b["consumed"], 6), round(b["remaining"], 6), round(b["burn_rate"], 6)
    (0.5, 0.5, 0.5)
    """
    if not isinstance(objective, numbers.Real) or isinstance(objective, bool) \
            or not 0.0 < float(objective) < 1.0:
        raise ConfigError(f"SLO objective: expected a number strictly between 0 and 1 "
                          f"(0.999 for 99.9%), got {objective!r}")
    for key, count in (("good", good), ("total", total)):
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise UsageError(f"error budget: {key} must be a count (an integer >= 0), "
                             f"got {count!r}")
    if good > total:
        raise UsageError(f"error budget: good ({good}) cannot exceed total ({total})")
    budget = 1.0 - float(objective)
    out: dict[str, float | int | None] = {
        "objective": float(objective), "good": good, "bad": total - good, "total": total,
        "budget": budget, "error_rate": None, "consumed": None, "remaining": None,
        "burn_rate": None}
    if total > 0:
        error_rate = (total - good) / total
        consumed = error_rate / budget
        # Burn rate as in the Google SRE Workbook, ch. 5 "Alerting on SLOs": how fast,
        # relative to the SLO, the budget is being spent, i.e. the observed error rate over
        # the allowed one. 1 spends exactly the budget by the end of the SLO period; counts
        # from a short alerting window (1 h, 6 h) give the rate its thresholds (14.4, 6) are
        # compared with. It equals `consumed` for counts of the whole period.
        out.update(error_rate=error_rate, consumed=consumed, remaining=1.0 - consumed,
                   burn_rate=error_rate / budget)
    return out


def _observed(rule: LifecycleRule, raw: object) -> MetricValue:
    """A window's value as a plain number or bool, ``None`` when missing (NaN included)."""
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, np.bool_):
        return bool(raw)
    if isinstance(raw, numbers.Integral):
        return int(raw)
    if isinstance(raw, numbers.Real):
        value = float(raw)
        return None if math.isnan(value) else value
    raise SchemaError(f"lifecycle rule {rule.name!r}: metric {rule.metric!r} is {raw!r}; "
                      f"expected a number, true/false or None")


def _instant(at: object, key: str) -> float:
    if not isinstance(at, numbers.Real) or isinstance(at, bool) or not math.isfinite(at):
        raise UsageError(f"{key}: expected a finite time in seconds, got {at!r}")
    return float(at)


def _encode(value: MetricValue) -> MetricValue | str:
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _decode(value: object, where: str) -> MetricValue:
    if value in ("inf", "-inf"):
        return math.inf if value == "inf" else -math.inf
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise StateError(f"{where}: expected a number, true/false, 'inf', '-inf' or null, "
                     f"got {value!r}")


def _keys(data: object, where: str, expected: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise StateError(f"{where}: expected a mapping, got {type(data).__name__}")
    missing, extra = expected - set(data), set(data) - expected
    if missing or extra:
        raise StateError(f"{where}: missing keys {sorted(missing)}, unknown keys "
                         f"{sorted(map(str, extra))}")
    return data


def _get(d: Mapping[str, Any], key: str, where: str, ok: Callable[[Any], bool],
         expected: str, optional: bool) -> Any:
    value = d[key]
    if (value is None and optional) or (value is not None and ok(value)):
        return value
    raise StateError(f"{where}.{key}: expected {expected}{' or null' * optional}, "
                     f"got {value!r}")


def _int(d: Mapping[str, Any], key: str, where: str, optional: bool = False) -> Any:
    return _get(d, key, where, lambda v: isinstance(v, int) and not isinstance(v, bool),
                "an integer", optional)


def _number(d: Mapping[str, Any], key: str, where: str, optional: bool = False) -> Any:
    value = _get(d, key, where, lambda v: isinstance(v, int | float) and not isinstance(
        v, bool) and math.isfinite(v), "a finite number", optional)
    return None if value is None else float(value)


def _str(d: Mapping[str, Any], key: str, where: str, optional: bool = False) -> Any:
    return _get(d, key, where, lambda v: isinstance(v, str), "a string", optional)


def _choice(d: Mapping[str, Any], key: str, choices: tuple[str, ...], where: str,
            optional: bool = False) -> Any:
    return _get(d, key, where, lambda v: v in choices, f"one of {', '.join(choices)}",
                optional)
