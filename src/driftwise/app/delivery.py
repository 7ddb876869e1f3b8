"""Alert delivery: what a route receives, and one sender's pass over the outbox.

A delivery is written to the outbox in the transaction that produced its event
(``store.alerts.advance``), so a crash or a receiver that is down loses nothing; a sender
(any server: the outbox is leased) posts it, logs the attempt, and retries failures with
exponential backoff and jitter until it succeeds or ``alert_max_attempts`` is spent.

Routes:

- ``webhook``: the event and the alert as JSON. With a ``secret``, the request carries
  ``X-Driftwise-Timestamp`` (Unix seconds) and ``X-Driftwise-Signature: sha256=<hex>``, the
  HMAC-SHA256 of ``<timestamp>.<body>`` under the secret: a receiver recomputes it, compares
  in constant time and refuses old timestamps (a replay). ``X-Driftwise-Delivery`` is the
  delivery's id, the same on every retry: a receiver can drop duplicates by it.
- ``slack``: ``{"text": ...}``, what a Slack-compatible incoming webhook takes.
- ``alertmanager``: ``POST <url>/api/v2/alerts`` with one alert: labels ``alertname`` (the
  rule), ``model``, ``severity``, ``alert_id``, ``source="driftwise"``; ``startsAt`` when it
  opened, ``endsAt`` when it resolved. Alertmanager resolves an alert that is not sent again
  within its ``resolve_timeout``, so open alerts are sent again every ``alert_refresh_s``
  (:func:`refresh_alertmanager`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from driftwise.store import alerts as alerts_store
from driftwise.store import outbox
from driftwise.store.incidents import downstream_alerts

__all__ = ["deliver_pending", "refresh_alertmanager", "render", "signature"]

log = logging.getLogger("driftwise.delivery")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def render(route: Any, delivery: outbox.Delivery, now: float) -> tuple[bytes, dict[str, str]]:
    """The body and headers ``route`` receives for ``delivery``."""
    event, alert = delivery.body["event"], delivery.body["alert"]
    headers = {"content-type": "application/json", "user-agent": "driftwise",
               "x-driftwise-delivery": str(delivery.id)}
    if route.type == "alertmanager":
        return json.dumps([_alertmanager_alert(delivery.model, alert,
                                               event.get("explanation"))]).encode(), headers
    if route.type == "slack":
        value = event.get("value")
        text = (f"[{event['severity'].upper()}] {delivery.model}: alert {delivery.alert_id} "
                f"({event['rule']}) {event['kind'].replace('_', ' ')} at window "
                f"{event['window']}" + (f", value {value:.4g}"
                                        if isinstance(value, int | float) else ""))
        story = event.get("explanation") or {}
        if story.get("summary"):
            text += f"\n{story['summary']}"
        return json.dumps({"text": text}).encode(), headers
    body = json.dumps({"source": "driftwise", "model": delivery.model,
                       "alert_id": delivery.alert_id, "kind": event["kind"],
                       "rule": event["rule"], "severity": event["severity"],
                       "window": event["window"], "at": event["at"], "value": event["value"],
                       "by": event.get("by"), "alert": alert,
                       "explanation": event.get("explanation"),
                       "incident": delivery.body.get("incident")},
                      separators=(",", ":"), allow_nan=False).encode()
    if route.secret is not None:
        stamp = str(int(now))
        headers["x-driftwise-timestamp"] = stamp
        headers["x-driftwise-signature"] = signature(route.secret.get_secret_value(), stamp,
                                                     body)
    return body, headers


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _alertmanager_alert(model: str, alert: Mapping[str, Any],
                        story: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One alert in Alertmanager's v2 API form (``story``: the window's explanation, as the
    ``explanation`` annotation)."""
    value = alert.get("last_value")
    out: dict[str, Any] = {
        "labels": {"alertname": alert["rule"], "model": model,
                   "severity": alert["severity"], "alert_id": str(alert["id"]),
                   "source": "driftwise"},
        "annotations": {"summary": f"{model}: {alert['rule']} ({alert['severity']})",
                        "description": f"driftwise alert {alert['id']} of model {model}, "
                                       f"opened at window {alert['opened_window']}; last "
                                       f"value {value}"},
        "startsAt": _iso(float(alert["opened_at"]))}
    if story and story.get("text"):
        out["annotations"]["explanation"] = str(story["text"])
    if alert.get("resolved_at") is not None:
        out["endsAt"] = _iso(float(alert["resolved_at"]))
    return out


def refresh_alertmanager(engine: Engine, routes: Sequence[Any], client: Any) -> int:
    """Send every open alert again to the Alertmanager routes (best effort: a failure is
    logged, the next refresh tries again); the alerts sent."""
    targets = [r for r in routes if r.type == "alertmanager"]
    if not targets:
        return 0
    rank = {"warning": 0, "critical": 1}
    sent = 0
    grouped = downstream_alerts(engine)  # paged once, through their incident's root
    for route in targets:
        batch = [_alertmanager_alert(a.model, a.body) for a in
                 alerts_store.list_alerts(engine, state="open", limit=10_000)
                 if (a.model, a.alert_id) not in grouped
                 and rank.get(a.severity, 0) >= rank[route.min_severity]
                 and (route.models is None or a.model in route.models)]
        if not batch:
            continue
        try:
            answer = client.post(route.url.rstrip("/") + "/api/v2/alerts", json=batch)
            answer.raise_for_status()
            sent += len(batch)
        except Exception as exc:  # best effort: the next refresh tries again
            log.warning("refreshing %d open alerts at %s failed: %s", len(batch),
                        route.name, exc)
    return sent


def _retry_delay(attempts: int, base: float, most: float) -> float:
    # Exponential backoff with "equal jitter": half the capped delay fixed, half random,
    # so retries of many deliveries spread out and each still waits a while.
    capped = min(most, base * 2.0 ** min(attempts, 60))
    return capped / 2 + random.uniform(0, capped / 2)


def deliver_pending(engine: Engine, routes: Sequence[Any], *, base_s: float, max_s: float,
                    max_attempts: int, timeout_s: float = 10.0, client: Any = None) -> int:
    """One pass: post every due delivery; the number delivered."""
    import httpx

    by_name: Mapping[str, Any] = {r.name: r for r in routes}
    claimed = outbox.claim(engine, lease_s=timeout_s * 3)
    if not claimed:
        return 0
    done = 0
    own = client is None
    http = client or httpx.Client(timeout=timeout_s, follow_redirects=False)
    try:
        for delivery in claimed:
            route = by_name.get(delivery.route)
            started = time.perf_counter()
            status, error = None, None
            if route is None:
                error = f"route {delivery.route!r} is no longer configured"
            else:
                body, headers = render(route, delivery, time.time())
                url = route.url.rstrip("/") + "/api/v2/alerts" \
                    if route.type == "alertmanager" else route.url
                try:
                    answer = http.post(url, content=body, headers=headers)
                    status = answer.status_code
                    if not 200 <= status < 300:
                        error = f"HTTP {status}: {answer.text[:200]}"
                except httpx.HTTPError as exc:
                    # The route's URL can hold a token (Slack's do): never in the log or the
                    # stored attempt, which readers of the API see.
                    error = f"{type(exc).__name__}: {exc}".replace(url, f"<{route.name}>")
            ok = error is None
            attempts = delivery.attempts + 1
            retry_at = None if ok or attempts >= max_attempts else \
                time.time() + _retry_delay(attempts - 1, base_s, max_s)
            outbox.record_attempt(engine, delivery, ok=ok,
                                  duration_s=time.perf_counter() - started,
                                  status_code=status, error=error, retry_at=retry_at)
            if ok:
                done += 1
            else:
                log.warning("alert delivery %d to %s failed (attempt %d): %s", delivery.id,
                            delivery.route, attempts, error)
    finally:
        if own:
            http.close()
    return done
