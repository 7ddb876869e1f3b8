"""The alert use cases of the service: rules from a model's configuration, a window's step
of their lifecycle, and the human actions (acknowledge, silence, resolve by hand).

The lifecycle itself is pure (:mod:`driftwise.act.lifecycle`); here it meets the store,
which runs each transition inside the transaction that holds the model's cursor.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from driftwise.act.lifecycle import (
    AlertEvent,
    AlertState,
    LifecycleRule,
    acknowledge,
    resolve_by_hand,
    retire,
    silence,
    step,
)
from driftwise.config.monitor import MonitorConfig
from driftwise.errors import NotFoundError
from driftwise.store import alerts as store
from driftwise.store.alerts import AlertChange, RouteFor, Transition

__all__ = ["act", "lifecycle_rules", "routing", "window_transition"]

_RANK = {"warning": 0, "critical": 1}


def routing(routes: Sequence[Any], model: str) -> RouteFor | None:
    """Which of ``routes`` (AlertRoute settings) an alert change of ``model`` goes to:
    those of its model and severity, when the event notifies (not while the alert is
    acknowledged or silenced; never for ``still_firing``)."""
    if not routes:
        return None

    def route_for(change: AlertChange) -> list[str]:
        if not change.event.get("notify"):
            return []
        rank = _RANK.get(change.severity, 0)
        return [r.name for r in routes if rank >= _RANK[r.min_severity]
                and (r.models is None or model in r.models)]
    return route_for


def lifecycle_rules(cfg: MonitorConfig) -> list[LifecycleRule]:
    """The lifecycle rules of a configuration's ``alerts`` (raises ``ConfigError`` naming a
    rule whose clear condition overlaps its firing condition)."""
    return [LifecycleRule.from_alert_rule(rule, clear_condition=rule.clear,
                                          clear_for=rule.clear_for,
                                          cooldown_s=rule.cooldown_s)
            for rule in cfg.alert_rules]


def _state(stored: Mapping[str, Any]) -> AlertState:
    return AlertState.from_dict(stored) if stored else AlertState()


def _changes(state: AlertState, events: Sequence[AlertEvent]) -> list[AlertChange]:
    out = []
    for event in events:
        found = state.rule(event.rule).alert
        if found is None or found.id != event.alert_id:
            continue  # cannot happen: an event is about its rule's current alert
        out.append(AlertChange(found.id, found.rule, found.severity, found.is_open,
                               found.opened_at, found.to_dict(), event.to_dict()))
    return out


def window_transition(rules: Sequence[LifecycleRule], window: int, at: float,
                      metrics: Mapping[str, Any],
                      explanation: Mapping[str, Any] | None = None) -> Transition:
    """The step of one evaluated window, for the store to run under the model's lock;
    ``explanation``: the window's plain-words explanation, carried by the events of this
    window (and so by their deliveries: webhook, Slack, Alertmanager annotations)."""
    kept = {rule.name for rule in rules}

    def transition(stored: dict[str, Any]) -> tuple[dict[str, Any], list[AlertChange]]:
        state, events = step(rules, _state(stored), window, at, metrics)
        state, retired = retire(state, kept, window, at)
        changes = _changes(state, [*events, *retired])
        if explanation is not None:
            for change in changes:
                change.event["explanation"] = {"summary": explanation.get("summary"),
                                               "text": explanation.get("text")}
        return state.to_dict(), changes
    return transition


def act(engine: Engine, model_id: int, alert_id: int, action: str, by: str,
        until: float | None = None, routes: Sequence[Any] = ()) -> store.AlertRow:
    """Acknowledge, silence (until ``until``) or resolve alert ``alert_id`` by hand; the
    alert as it then stands. Unknown alert: ``NotFoundError``; one already resolved or
    acknowledged: ``ConflictError``."""
    row = store.alert(engine, model_id, alert_id)
    if row is None:
        raise NotFoundError(f"no alert {alert_id} for this model")
    now = time.time()

    def transition(stored: dict[str, Any]) -> tuple[dict[str, Any], list[AlertChange]]:
        state = _state(stored)
        if action == "acknowledge":
            state, event = acknowledge(state, row.rule, alert_id, by, now)
        elif action == "silence":
            if until is None:
                raise ValueError("silence needs an end")
            state, event = silence(state, row.rule, alert_id, until, by, now)
        else:
            state, event = resolve_by_hand(state, row.rule, alert_id, by, now)
        return state.to_dict(), _changes(state, [event])

    store.act(engine, model_id, transition, routing(routes, row.model))
    done = store.alert(engine, model_id, alert_id)
    assert done is not None
    return done
