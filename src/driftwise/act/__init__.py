"""Acting on what the Monitor measured: the alert lifecycle and SLO error budgets.

:mod:`driftwise.act.lifecycle` turns per-window metric values into alerts that open after
``for`` windows, resolve with hysteresis, reopen within a cooldown instead of duplicating,
and can be acknowledged, silenced or resolved by hand; all of it pure functions on a
JSON-serialisable :class:`AlertState`.
"""

from driftwise.act.lifecycle import (
    EVENT_KINDS,
    PHASES,
    Alert,
    AlertEvent,
    AlertState,
    LifecycleRule,
    RuleState,
    acknowledge,
    error_budget,
    resolve_by_hand,
    retire,
    silence,
    step,
)

__all__ = [
    "EVENT_KINDS",
    "PHASES",
    "Alert",
    "AlertEvent",
    "AlertState",
    "LifecycleRule",
    "RuleState",
    "acknowledge",
    "error_budget",
    "resolve_by_hand",
    "retire",
    "silence",
    "step",
]
