"""The automated response of the service: actions bound to alert rules run when an alert
opens, once per incident, and each incident's trail, impact and export.

When a window opens an alert whose rule lists ``actions`` (or says ``policy: true``), the
evaluator queues them for the alert's incident in the transaction that stores the window
(``store.response.queue_actions``); a runner thread (``run_pending``) claims each, runs it
and records the result in the incident's trail:

- ``webhook`` / ``flag_http`` / ``flag_file`` / ``command``: ``driftwise.act.actions``, with
  the incident and action as the idempotency key, dry run, retries and a timeout;
- ``block_client`` / ``block_segment``: a block that ``/screen`` enforces (the records of
  that client key, or of that segment, are quarantined with signal ``blocked``);
- ``policy``: the retraining decision (``driftwise.act.policy``) on the evidence of the
  window that opened the alert; the decision and its reasons go to the trail, and the
  actions the configuration lists for it (``policy.retrain``, ``policy.recalibrate``) are
  queued in turn, with the decision in their context (a retraining job told
  ``waiting_for_labels`` schedules itself for when enough labels arrived).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from driftwise.act.actions import ActionLedger, run_action
from driftwise.act.policy import evidence_from_window
from driftwise.app.models import fitted_monitor
from driftwise.app.screening import forget_blocks
from driftwise.config.monitor import MonitorConfig, parse_monitor_config
from driftwise.errors import NotFoundError
from driftwise.store import evaluation as ev
from driftwise.store import incidents as incident_store
from driftwise.store import registry
from driftwise.store import response as store
from driftwise.store.alerts import AlertChange, RespondFor
from driftwise.store.db import writing

__all__ = ["add_note", "block_by_hand", "incident_report", "lift", "respond_for", "run_pending",
           "visible_report"]

log = logging.getLogger("driftwise.response")

#: How long a runner holds a claimed action: longer than any action can take (timeout
#: 600 s at most, retried): a runner that died is replaced after this.
LEASE_S = 900.0


def respond_for(cfg: MonitorConfig) -> RespondFor | None:
    """The actions each rule's opening alert asks for (none when no rule binds any)."""
    bound: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {}
    for rule in cfg.alert_rules:  # the alerts and each SLO's breach rule
        items = [(name, cfg.action(name).described(), {"rule": rule.name,
                                                        "bound_by": "actions"})
                 for name in rule.actions]
        if rule.policy and cfg.policy is not None:
            items.append(("policy", {"kind": "policy", **cfg.policy.model_dump()},
                          {"rule": rule.name, "bound_by": "policy"}))
        if items:
            bound[rule.name] = items
    if not bound:
        return None

    def respond(change: AlertChange) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        return [(name, spec, {**why, "severity": change.severity,
                              "value": change.event.get("value")})
                for name, spec, why in bound.get(change.rule, [])]
    return respond


def run_pending(engine: Engine, limit: int = 20) -> int:
    """Run due actions (one claimed at a time); how many finished."""
    done = 0
    for _ in range(limit):
        jobs = store.claim_actions(engine, LEASE_S, limit=1)
        if not jobs:
            break
        job = jobs[0]
        try:
            status, result = _run(engine, job)
        except Exception as exc:  # an action's bug must not stop the others
            log.exception("action %s of incident %s failed", job.action, job.incident_id)
            status, result = "failed", {"detail": f"{type(exc).__name__}: {exc}"}
        store.finish_action(engine, job, status, result)
        done += 1
    return done


def _run(engine: Engine, job: store.ActionJob) -> tuple[str, dict[str, Any]]:
    if job.attempts > store.MAX_CLAIMS:
        return "failed", {"detail": f"given up: claimed {job.attempts - 1} times by runners "
                                    "that stopped before finishing it"}
    kind = job.spec.get("kind")
    if kind == "policy":
        return _decide(engine, job)
    if kind in ("block_client", "block_segment"):
        return _block(engine, job)
    # The action as configured when its window was evaluated (the stored spec leaves the
    # header values out of the trail); without that window, what was queued.
    cfg = _config(engine, job)
    try:
        spec = cfg.action(job.action).spec() if cfg is not None else None
    except KeyError:
        spec = None
    if spec is None:
        from driftwise.config.response import ActionConfig

        queued = {k: v for k, v in job.spec.items() if k != "headers"}
        spec = ActionConfig.model_validate(queued).spec()
    context = {"model": job.model, "alert_id": job.alert_id, "window": job.window,
               "incident": job.incident_id, **job.why}
    result = run_action(spec, job.incident_id, ActionLedger(), context)
    return result.status, {"detail": result.detail, "attempts": result.attempts,
                           "started_at": result.started_at,
                           "finished_at": result.finished_at}


def _config(engine: Engine, job: store.ActionJob) -> MonitorConfig | None:
    window = ev.window(engine, job.model_id, job.window)
    if window is None:
        return None
    return parse_monitor_config(registry.config_of(engine, job.model_id,
                                                   window.config_version), "config")


def _metrics(engine: Engine, model_id: int, window: int) -> dict[str, Any]:
    return {r["metric"]: r["value"] for r in ev.results(engine, model_id, windows=[window])}


def _decide(engine: Engine, job: store.ActionJob) -> tuple[str, dict[str, Any]]:
    from driftwise.config.response import PolicyConfig

    spec = PolicyConfig.model_validate({k: v for k, v in job.spec.items() if k != "kind"})
    window = ev.window(engine, job.model_id, job.window)
    reference: Mapping[str, float] = {}
    if window is not None:
        monitor = fitted_monitor(engine, job.model_id, window.config_version,
                                 window.reference_version)
        reference = getattr(monitor, "reference_performance_", {}) or {}
    evidence = evidence_from_window(_metrics(engine, job.model_id, job.window), reference,
                                    spec.metric)
    decision = spec.thresholds().decide(evidence)
    follow = list(getattr(spec, decision.action, [])) if decision.action != "none" else []
    cfg = _config(engine, job)
    items = []
    for name in follow:
        try:
            described = cfg.action(name).described() if cfg is not None else None
        except KeyError:
            described = None
        if described is None:
            continue
        items.append((name, described, {
            "rule": job.why.get("rule"), "bound_by": f"policy.{decision.action}",
            "decision": decision.action,
            "waiting_for_labels": decision.waiting_for_labels,
            "labels": decision.evidence.get("labels")}))
    body = {"model_id": job.model_id, "decision": decision.action, "reasons": decision.reasons,
            "waiting_for_labels": decision.waiting_for_labels,
            "evidence": decision.evidence, "metric": spec.metric,
            "reference": {k: reference[k] for k in (spec.metric, "roc_auc", "ece")
                          if k in reference}, "then": [n for n, _, _ in items]}
    with writing(engine) as conn:
        store.append(conn, job.incident_id, "decision", "driftwise (policy)", body)
        if items:
            store.queue_actions(conn, job.incident_id, job.model_id, job.alert_id,
                                job.window, items, actor="driftwise (policy)")
    return "decided", body


def _block(engine: Engine, job: store.ActionJob) -> tuple[str, dict[str, Any]]:
    spec = job.spec
    until = time.time() + float(spec.get("duration_s", 86_400.0))
    reason = {"action": job.action, "incident": job.incident_id, "rule": job.why.get("rule"),
              "window": job.window}
    if spec["kind"] == "block_segment":
        items = [{"segment": spec["segment"], "until": until, "reason": reason}]
    else:
        keys = list(spec.get("client_keys") or [])
        source = "configured"
        if not keys:
            window = ev.window(engine, job.model_id, job.window)
            found = (window.evidence.get("screen") or {}) if window is not None else {}
            keys = sorted(found.get("probing_keys") or {})
            source = "the window's evidence (client keys /screen held for probing)"
        if not keys:
            return "skipped", {"detail": "no client key to block: none configured and the "
                                         "window's evidence names none"}
        items = [{"client_key": k, "until": until, "reason": {**reason, "source": source}}
                 for k in keys]
    what = ", ".join(f"client key {i['client_key']!r}" if "client_key" in i
                     else f"segment {i['segment']}" for i in items)
    if spec.get("dry_run"):
        return "dry_run", {"detail": f"would block {what} until {until:.0f}"}
    done = store.add_blocks(engine, job.model_id, items, job.incident_id, "driftwise")
    forget_blocks(engine, job.model_id)  # this server enforces it at once, others in 1 s
    return "done", {"detail": f"blocked {what} until {until:.0f}",
                    "blocks": [b.id for b in done]}


def incident_report(engine: Engine, incident_id: int, now: float | None = None
                    ) -> dict[str, Any]:
    """The incident's export: what it is, its alerts, the trail (every event with who,
    what, why and when), the actions and their results, the blocks, the impact, and how
    it ended."""
    found = incident_store.incident(engine, incident_id)
    if found is None:
        raise NotFoundError(f"no incident {incident_id}")
    at = time.time() if now is None else now
    # The actions before the trail: a result is in the trail once its action reads finished
    # (both are written in one transaction), so an export never shows an action done whose
    # result its trail lacks.
    actions = store.incident_actions(engine, incident_id)
    trail = store.trail(engine, incident_id)
    resolved = next((e for e in reversed(trail) if e["kind"] == "resolved"), None)
    end = float(resolved["at"]) if resolved is not None and found.state == "resolved" \
        else at
    out = found.to_dict()
    out["trail"] = trail
    out["actions"] = actions
    out["impact"] = _impact(engine, found, end)
    out["explanations"] = _explanations(trail)
    out["resolution"] = None if found.state == "open" else {
        "state": found.state, "at": end if resolved is not None else found.updated_at,
        "by": None if resolved is None else resolved["actor"],
        "why": None if resolved is None else resolved.get("why"),
        "merged_into": found.body.get("merged_into")}
    out["exported_at"] = at
    return out


def _explanations(trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model of the incident, the plain-words explanation of its latest window that
    moved one of its alerts (``driftwise.monitor.explain``), the root's first."""
    latest: dict[str, dict[str, Any]] = {}
    for e in trail:
        story = e.get("explanation")
        if e.get("kind") == "alert" and isinstance(story, dict) and e.get("model"):
            latest[str(e["model"])] = {"model": e["model"], "window": e.get("window"),
                                       "at": e.get("at"), "event": e.get("event"),
                                       "summary": story.get("summary"),
                                       "text": story.get("text")}
    roles = {str(e.get("model")): e.get("role") for e in trail if e.get("kind") == "alert"}
    return sorted(latest.values(), key=lambda x: (roles.get(str(x["model"])) != "root",
                                                  str(x["model"])))


def _impact(engine: Engine, found: incident_store.IncidentRow, end: float
            ) -> dict[str, Any]:
    """Per affected model: the windows evaluated from the one that opened its first alert
    in the incident until the incident ended, the records (predictions) they held, the
    performance measured or estimated in them (row-weighted) against the reference, and
    what ``/screen`` held back meanwhile."""
    first: dict[str, float] = {}
    for m in found.members:
        first[m["model"]] = min(first.get(m["model"], float("inf")), float(m["joined_at"]))
    models = []
    for name, since in first.items():
        try:
            model = registry.get_model(engine, name)
        except NotFoundError:
            continue
        windows = ev.windows(engine, model.id, since=since - 1e-6, until=end, limit=10_000)
        rows = sum(w.rows for w in windows)
        perf: dict[str, float] = {}
        if windows:
            metrics = ev.results(engine, model.id, windows=[w.seq for w in windows])
            weight = {w.seq: w.rows for w in windows}
            sums: dict[str, list[float]] = {}
            for r in metrics:
                name_ = r["metric"]
                if not name_.startswith(("performance.", "estimated.")) or \
                        name_.endswith((".lower", ".upper", ".labelled_rows")):
                    continue
                if isinstance(r["value"], int | float) and not isinstance(r["value"], bool):
                    acc = sums.setdefault(name_, [0.0, 0.0])
                    acc[0] += float(r["value"]) * weight[r["window"]]
                    acc[1] += weight[r["window"]]
            perf = {k: v[0] / v[1] for k, v in sums.items() if v[1] > 0}
        reference: dict[str, float] = {}
        if model.reference_version:
            try:
                monitor = fitted_monitor(engine, model.id, model.config_version,
                                         model.reference_version)
                reference = dict(getattr(monitor, "reference_performance_", {}) or {})
            except Exception:  # a reference that cannot be fitted: no baseline to show
                reference = {}
        held = store.quarantined_between(engine, model.id, since - 1e-6, end)
        models.append({
            "model": name, "since": since, "until": end,
            "windows": [w.seq for w in windows], "records": rows, "predictions": rows,
            "performance": perf,
            "reference_performance": {k: v for k, v in reference.items()
                                      if f"performance.{k}" in perf
                                      or f"estimated.{k}" in perf},
            "quarantined": held["count"], "quarantined_by_signal": held["by_signal"],
            "blocked_now": [b.to_dict() for b in store.active_blocks(engine, model.id)
                            if b.incident_id == found.id]})
    return {"models": models, "records": sum(m["records"] for m in models),
            "predictions": sum(m["predictions"] for m in models),
            "quarantined": sum(m["quarantined"] for m in models)}


def visible_report(engine: Engine, report: dict[str, Any], only: list[str] | None
                   ) -> dict[str, Any]:
    """The export as a key limited to ``only`` may see it: nothing about other models."""
    if only is None:
        return report
    allowed = set(only)
    ids = {m.id: m.name for m in registry.list_models(engine)}
    out = dict(report)
    out["members"] = [m for m in report["members"] if m["model"] in allowed]
    out["models"] = [m for m in report["models"] if m in allowed]

    def shown(event: Mapping[str, Any]) -> bool:
        """Events about a model (an alert, an action, a decision, a block) are shown to a
        key that reads it; the incident's own (opened elsewhere: no; notes, resolved) to
        every key that reads one of its models."""
        if "model" in event:
            return event["model"] in allowed
        if "model_id" in event:
            return ids.get(event["model_id"]) in allowed
        return True

    out["trail"] = [e for e in report["trail"] if shown(e) and not (
        e["kind"] == "absorbed" and e.get("root_model") not in allowed)]
    out["actions"] = [a for a in report["actions"] if a["model"] in allowed]
    out["explanations"] = [x for x in report.get("explanations", [])
                           if x["model"] in allowed]
    impact = dict(report["impact"])
    impact["models"] = [m for m in impact["models"] if m["model"] in allowed]
    for total in ("records", "predictions", "quarantined"):
        impact[total] = sum(m[total] for m in impact["models"])
    out["impact"] = impact
    if out["root_alert"].get("model") not in allowed:
        out["root_alert"] = {"model": None}
    return out


def add_note(engine: Engine, incident_id: int, by: str, text: str) -> None:
    """A person's note in the incident's trail."""
    with writing(engine) as conn:
        store.append(conn, incident_id, "note", by, {"text": text})


def block_by_hand(engine: Engine, name: str, body: Mapping[str, Any]) -> store.Block:
    """Block a client key or a segment of model ``name`` by hand."""
    model = registry.get_model(engine, name)
    incident_id = body.get("incident_id")
    if incident_id is not None and incident_store.incident(engine, incident_id) is None:
        raise NotFoundError(f"no incident {incident_id}")
    item: dict[str, Any] = {"until": time.time() + float(body.get("duration_s", 86_400.0)),
                            "reason": {"by": body["by"], "text": body.get("reason", "")}}
    if body.get("client_key") is not None:
        item["client_key"] = str(body["client_key"])
    else:
        item["segment"] = dict(body["segment"])
    found = store.add_blocks(engine, model.id, [item], incident_id, str(body["by"]))[0]
    forget_blocks(engine, model.id)
    return found


def lift(engine: Engine, name: str, block_id: int, by: str) -> store.Block:
    """End a block of model ``name`` now."""
    model = registry.get_model(engine, name)
    found = store.lift_block(engine, model.id, block_id, by)
    forget_blocks(engine, model.id)
    return found
