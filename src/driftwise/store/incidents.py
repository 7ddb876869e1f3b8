"""The fleet's incidents: alerts of dependent models grouped under their upstream cause.

Models declare the models they consume (``model.upstream`` in their configuration). When an
alert opens on a model, it joins the open incident of an alert of one of its upstream
models (directly or further up) that opened at most ``model.upstream_window_s`` before;
otherwise it opens an incident of its own, as its root. A joined ("downstream") alert is
recorded and shown but never paged: the incident paged once, through its root. When the
root's alert opens after the downstream ones (the upstream model was evaluated later), the
downstream incidents opened within the window are merged into it, and their pages not yet
sent are withdrawn: a model that declares upstream models holds its own first page for
``model.upstream_wait_s`` (30 s by default, like Alertmanager's ``group_wait``) for that.

It runs inside the transaction that stores the alert changes (``alerts.advance``). On
PostgreSQL a transaction-scoped advisory lock serialises the decisions, so two models'
alerts evaluated at once by two servers cannot both open an incident for one cause; SQLite
writers are serialised already.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, text, update

from driftwise.store import schema as s
from driftwise.store.db import reading
from driftwise.store.outbox import withdraw
from driftwise.store.response import append

__all__ = ["IncidentRow", "Placement", "depths", "downstream_alerts", "fleet_graph",
           "incident", "incident_of", "list_incidents", "place"]

#: The key of PostgreSQL's advisory lock for incident decisions ("dw-inc" in ASCII).
_LOCK = 0x64772D696E63
_DEFAULT_WINDOW_S = 3600.0
_DEFAULT_WAIT_S = 30.0


@dataclass(frozen=True)
class IncidentRow:
    """One incident: its root model, state, and the alerts it holds."""

    id: int
    root_model: str
    state: str  # open | resolved | merged
    opened_at: float
    updated_at: float
    members: list[dict[str, Any]]  # model, alert_id, role (root|downstream), joined_at
    body: dict[str, Any]

    @property
    def models(self) -> list[str]:
        """The affected models, root first."""
        seen: list[str] = []
        for m in sorted(self.members, key=lambda m: (m["role"] != "root", m["joined_at"])):
            if m["model"] not in seen:
                seen.append(m["model"])
        return seen

    def to_dict(self) -> dict[str, Any]:
        """The incident as JSON-ready values."""
        return {"id": self.id, "root_model": self.root_model, "state": self.state,
                "opened_at": self.opened_at, "updated_at": self.updated_at,
                "models": self.models, "members": self.members, **self.body}


@dataclass(frozen=True)
class Placement:
    """Where an alert change went: its incident and its role there (a ``downstream``
    alert is not paged)."""

    incident_id: int
    role: str
    root_model: str
    hold_s: float = 0.0  # how long the root's first page waits for an upstream cause

    @property
    def pages(self) -> bool:
        """Whether the change may notify (only the incident's root does)."""
        return self.role == "root"


@dataclass(frozen=True)
class _Node:
    id: int
    upstream: tuple[str, ...]
    window_s: float
    wait_s: float


def _nodes(conn: Any) -> dict[str, _Node]:
    m, c = s.models.c, s.model_configs.c
    rows = conn.execute(select(m.id, m.name, c.config).join(
        s.model_configs, (c.model_id == m.id) & (c.version == m.config_version))).all()
    out = {}
    for model_id, name, config in rows:
        spec = json.loads(config).get("model", {})
        upstream = spec.get("upstream") or []
        if isinstance(upstream, str):
            upstream = [upstream]
        out[name] = _Node(int(model_id), tuple(upstream),
                          float(spec.get("upstream_window_s", _DEFAULT_WINDOW_S)),
                          float(spec.get("upstream_wait_s", _DEFAULT_WAIT_S)))
    return out


def _reach(nodes: Mapping[str, _Node], start: str, down: bool) -> set[str]:
    """The models upstream of ``start`` (``down``: downstream of it), transitively."""
    edges: dict[str, set[str]] = {}
    for name, node in nodes.items():
        for up in node.upstream:
            if down:
                edges.setdefault(up, set()).add(name)
            else:
                edges.setdefault(name, set()).add(up)
    found: set[str] = set()
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in found and nxt != start:
                found.add(nxt)
                todo.append(nxt)
    return found


def fleet_graph(engine: Engine) -> dict[str, list[str]]:
    """Every registered model and the upstream models it declares (names as declared; one
    not registered is kept, so a typo shows)."""
    with reading(engine) as conn:
        return {name: list(node.upstream) for name, node in sorted(_nodes(conn).items())}


def depths(engine: Engine) -> dict[int, int]:
    """Each model's depth in the dependency graph, by model id: 0 for a model that consumes
    no registered model, else one more than its deepest upstream. Evaluating in this order
    lets an upstream model's alert open before those it causes."""
    with reading(engine) as conn:
        nodes = _nodes(conn)
    memo: dict[str, int] = {}

    def depth(name: str, seen: frozenset[str]) -> int:
        if name not in memo:
            ups = [u for u in nodes[name].upstream if u in nodes and u not in seen]
            memo[name] = 1 + max((depth(u, seen | {name}) for u in ups), default=-1)
        return memo[name]

    return {node.id: depth(name, frozenset()) for name, node in nodes.items()}


def place(conn: Any, model_id: int, changes: Sequence[Any], now: float | None = None
          ) -> dict[int, Placement]:
    """Put each alert change of ``model_id`` (``alerts.AlertChange``, stored already) in an
    incident; the placement of each changed alert, by alert id."""
    if not changes:
        return {}
    at = time.time() if now is None else now
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    nodes = _nodes(conn)
    name = next((n for n, node in nodes.items() if node.id == model_id), None)
    if name is None:
        return {}
    out: dict[int, Placement] = {}
    for change in changes:
        found = _membership(conn, model_id, change.alert_id)
        if found is None and change.event.get("kind") == "opened":
            found = _join_upstream(conn, nodes, name, change, at) or \
                _open(conn, nodes, name, change, at)
        if found is None:
            continue  # an alert from before incidents existed
        event = change.event
        actor = str(event.get("by") or "driftwise")
        if event.get("kind") != "still_firing":  # the trail keeps transitions
            entry = {"model": name, "alert_id": change.alert_id, "rule": change.rule,
                     "severity": change.severity, "event": event.get("kind"),
                     "window": event.get("window"), "value": event.get("value"),
                     "role": found.role}
            if isinstance(event.get("explanation"), dict):  # the window in plain words
                entry["explanation"] = event["explanation"]
            append(conn, found.incident_id, "alert", actor, entry,
                   float(event.get("at") or at))  # when it happened
        if not change.open:  # resolved as of the event (the window that cleared it)
            _maybe_resolve(conn, found.incident_id, float(event.get("at") or at), actor)
        elif event.get("kind") == "reopened":  # within its cooldown: the same incident
            reopened = conn.execute(update(s.incidents).where(
                s.incidents.c.id == found.incident_id,
                s.incidents.c.state == "resolved").values(state="open", updated_at=at))
            if reopened.rowcount:
                append(conn, found.incident_id, "reopened", actor, {
                    "model": name, "alert_id": change.alert_id,
                    "why": "its alert fired again within the rule's cooldown"},
                    float(event.get("at") or at))
        out[change.alert_id] = found
    return out


def _membership(conn: Any, model_id: int, alert_id: int) -> Placement | None:
    ia, i = s.incident_alerts.c, s.incidents.c
    row = conn.execute(select(ia.incident_id, ia.role, i.root_model).join(
        s.incidents, i.id == ia.incident_id).where(
        ia.model_id == model_id, ia.alert_id == alert_id)).first()
    return None if row is None else Placement(int(row.incident_id), row.role, row.root_model)


def _join_upstream(conn: Any, nodes: Mapping[str, _Node], name: str, change: Any,
                   at: float) -> Placement | None:
    upstream = _reach(nodes, name, down=False)
    if not upstream:
        return None
    ia, i = s.incident_alerts.c, s.incidents.c
    ids = [nodes[u].id for u in upstream if u in nodes]
    since = change.opened_at - nodes[name].window_s
    row = conn.execute(select(ia.incident_id, i.root_model).join(
        s.incidents, i.id == ia.incident_id).where(
        ia.model_id.in_(ids), ia.joined_at >= since, ia.joined_at <= change.opened_at + 1.0,
        i.state == "open").order_by(ia.joined_at.desc()).limit(1)).first()
    if row is None:
        return None
    _add(conn, int(row.incident_id), nodes[name].id, change.alert_id, "downstream",
         change.opened_at, at)
    return Placement(int(row.incident_id), "downstream", row.root_model)


def _open(conn: Any, nodes: Mapping[str, _Node], name: str, change: Any,
          at: float) -> Placement:
    body = {"root_alert": {"model": name, "alert_id": change.alert_id, "rule": change.rule,
                           "severity": change.severity}}
    incident_id = int(conn.execute(insert(s.incidents).values(
        root_model=name, state="open", opened_at=change.opened_at, updated_at=at,
        body=json.dumps(body)).returning(s.incidents.c.id)).scalar_one())
    append(conn, incident_id, "opened", "driftwise", {
        "model": name, "alert_id": change.alert_id, "rule": change.rule,
        "severity": change.severity, "window": change.event.get("window")}, at)
    _add(conn, incident_id, nodes[name].id, change.alert_id, "root", change.opened_at, at)
    _absorb_downstream(conn, nodes, name, incident_id, change.opened_at, at)
    # A model that consumes others waits before its first page: an upstream alert that
    # opens meanwhile takes this incident in, and the page is withdrawn.
    hold = nodes[name].wait_s if nodes[name].upstream else 0.0
    return Placement(incident_id, "root", name, hold)


def _absorb_downstream(conn: Any, nodes: Mapping[str, _Node], name: str, incident_id: int,
                       opened_at: float, at: float) -> None:
    """Merge the open incidents rooted at models downstream of ``name`` that opened within
    their window before this one: they were caused by it, only seen first."""
    i, ia = s.incidents.c, s.incident_alerts.c
    for down in sorted(_reach(nodes, name, down=True)):
        rows = conn.execute(select(i.id, i.body).where(
            i.root_model == down, i.state == "open",
            i.opened_at >= opened_at - nodes[down].window_s)).all()
        for old_id, old_body in rows:
            for model_id, alert_id in conn.execute(select(ia.model_id, ia.alert_id).where(
                    ia.incident_id == old_id)).all():
                withdraw(conn, model_id, alert_id, f"grouped under incident {incident_id} "
                         f"(root cause: upstream model {name})")
            conn.execute(update(s.incident_alerts).where(ia.incident_id == old_id).values(
                incident_id=incident_id, role="downstream"))
            append(conn, old_id, "merged", "driftwise", {
                "into": incident_id, "why": f"caused by upstream model {name}"}, at)
            append(conn, incident_id, "absorbed", "driftwise", {
                "incident": int(old_id), "root_model": down}, at)
            merged = {**json.loads(old_body), "merged_into": incident_id}
            conn.execute(update(s.incidents).where(i.id == old_id).values(
                state="merged", updated_at=at, body=json.dumps(merged)))


def _add(conn: Any, incident_id: int, model_id: int, alert_id: int, role: str,
         joined_at: float, at: float) -> None:
    conn.execute(insert(s.incident_alerts).values(
        incident_id=incident_id, model_id=model_id, alert_id=alert_id, role=role,
        joined_at=joined_at))
    conn.execute(update(s.incidents).where(s.incidents.c.id == incident_id).values(
        updated_at=at))


def _maybe_resolve(conn: Any, incident_id: int, at: float, actor: str) -> None:
    """Resolve the incident once none of its alerts is open."""
    ia, a = s.incident_alerts.c, s.alerts.c
    still = conn.execute(select(ia.alert_id).join(
        s.alerts, (a.model_id == ia.model_id) & (a.alert_id == ia.alert_id)).where(
        ia.incident_id == incident_id, a.state == "open").limit(1)).first()
    if still is None:
        done = conn.execute(update(s.incidents).where(
            s.incidents.c.id == incident_id, s.incidents.c.state == "open").values(
            state="resolved", updated_at=at))
        if done.rowcount:
            append(conn, incident_id, "resolved", actor,
                   {"why": "none of its alerts is open"}, at)


def _rows(conn: Any, query: Any) -> list[IncidentRow]:
    ia, m = s.incident_alerts.c, s.models.c
    found = conn.execute(query).all()
    ids = [int(r.id) for r in found]
    members: dict[int, list[dict[str, Any]]] = {k: [] for k in ids}
    if ids:
        for r in conn.execute(select(ia.incident_id, m.name, ia.alert_id, ia.role,
                                     ia.joined_at).join(s.models, m.id == ia.model_id)
                              .where(ia.incident_id.in_(ids))
                              .order_by(ia.joined_at, ia.model_id)):
            members[int(r.incident_id)].append({"model": r.name, "alert_id": r.alert_id,
                                                "role": r.role, "joined_at": r.joined_at})
    return [IncidentRow(int(r.id), r.root_model, r.state, r.opened_at, r.updated_at,
                        members[int(r.id)], json.loads(r.body)) for r in found]


def list_incidents(engine: Engine, state: str | None = None, limit: int = 100,
                   offset: int = 0, models: Collection[str] | None = None
                   ) -> list[IncidentRow]:
    """Incidents, newest first (``state``: open, resolved or merged; ``models``: only those
    rooted at or holding an alert of one of these models)."""
    i, ia, m = s.incidents.c, s.incident_alerts.c, s.models.c
    query = select(s.incidents)
    if state is not None:
        query = query.where(i.state == state)
    if models is not None:
        names = list(models)
        holding = select(ia.incident_id).join(s.models, m.id == ia.model_id).where(
            m.name.in_(names))
        query = query.where(i.root_model.in_(names) | i.id.in_(holding))
    query = query.order_by(i.opened_at.desc(), i.id.desc()).offset(offset).limit(limit)
    with reading(engine) as conn:
        return _rows(conn, query)


def incident(engine: Engine, incident_id: int) -> IncidentRow | None:
    """One incident."""
    with reading(engine) as conn:
        found = _rows(conn, select(s.incidents).where(s.incidents.c.id == incident_id))
    return found[0] if found else None


def downstream_alerts(engine: Engine) -> set[tuple[str, int]]:
    """``(model, alert_id)`` of every alert grouped under another model's incident (never
    paged on its own)."""
    ia, m = s.incident_alerts.c, s.models.c
    with reading(engine) as conn:
        return {(r.name, int(r.alert_id)) for r in conn.execute(
            select(m.name, ia.alert_id).join(s.models, m.id == ia.model_id).where(
                ia.role == "downstream"))}


def incident_of(engine: Engine, model_id: int, alert_id: int) -> Placement | None:
    """The incident an alert belongs to, and its role there."""
    with reading(engine) as conn:
        return _membership(conn, model_id, alert_id)
