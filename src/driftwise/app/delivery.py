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
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine

from driftwise.store import outbox

__all__ = ["deliver_pending", "render", "signature"]

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
    if route.type == "slack":
        value = event.get("value")
        text = (f"[{event['severity'].upper()}] {delivery.model}: alert {delivery.alert_id} "
                f"({event['rule']}) {event['kind'].replace('_', ' ')} at window "
                f"{event['window']}" + (f", value {value:.4g}"
                                        if isinstance(value, int | float) else ""))
        return json.dumps({"text": text}).encode(), headers
    body = json.dumps({"source": "driftwise", "model": delivery.model,
                       "alert_id": delivery.alert_id, "kind": event["kind"],
                       "rule": event["rule"], "severity": event["severity"],
                       "window": event["window"], "at": event["at"], "value": event["value"],
                       "by": event.get("by"), "alert": alert},
                      separators=(",", ":"), allow_nan=False).encode()
    if route.secret is not None:
        stamp = str(int(now))
        headers["x-driftwise-timestamp"] = stamp
        headers["x-driftwise-signature"] = signature(route.secret.get_secret_value(), stamp,
                                                     body)
    return body, headers


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
                try:
                    answer = http.post(route.url, content=body, headers=headers)
                    status = answer.status_code
                    if not 200 <= status < 300:
                        error = f"HTTP {status}: {answer.text[:200]}"
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
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
