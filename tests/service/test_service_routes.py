"""Alert routes: deliveries through the persisted outbox to a real HTTP receiver on
loopback, HMAC-signed, retried while the receiver is down, each attempt logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import records, register, wait_windows

from tests.conftest import free_port

RULE = {"name": "share", "metric": "drift.dataset.share", "condition": ">= 0.3",
        "clear": "< 0.1", "severity": "critical"}
SECRET = "route-secret-0123"
FAST = {"alert_retry_base_s": 0.05, "alert_retry_max_s": 0.2, "poll_interval_s": 0.05}


class Receiver:
    """An HTTP server on loopback that records every POST (and answers 204)."""

    def __init__(self, port: int) -> None:
        self.requests: list[dict[str, Any]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's hook name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                received.append({"path": self.path, "headers": dict(self.headers.items()),
                                 "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[Callable[[int], Receiver]]:
    started: list[Receiver] = []

    def start(port: int) -> Receiver:
        started.append(Receiver(port))
        return started[-1]

    yield start
    for r in started:
        r.close()


def _window(client: TestClient, n: int, shift: float) -> None:
    batch = records(200, start=200 * n, shift=shift, seed=200 + n)
    assert client.post("/v1/models/m/records/batch",
                       json={"records": batch}).json()["accepted"] == 200
    wait_windows(client, "m", n + 1)


def _until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_signed_webhook_gets_each_notifying_event_once(
        make_service: Any, receivers: Callable[[int], Receiver]) -> None:
    port = free_port()
    receiver = receivers(port)
    route = {"name": "hook", "type": "webhook", "url": f"http://127.0.0.1:{port}/alerts",
             "secret": SECRET}
    client = make_service(alert_routes=[route], **FAST)
    register(client, alerts=[RULE])
    for n, shift in enumerate([3.0, 3.0, 0.0]):
        _window(client, n, shift)
    _until(lambda: len(receiver.requests) >= 2)
    time.sleep(0.3)  # nothing more comes: still_firing never notifies
    kinds = [json.loads(r["body"])["kind"] for r in receiver.requests]
    assert kinds == ["opened", "resolved"]
    for request in receiver.requests:
        h = {k.lower(): v for k, v in request["headers"].items()}
        expected = hmac.new(SECRET.encode(), h["x-driftwise-timestamp"].encode() + b"." +
                            request["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(h["x-driftwise-signature"], "sha256=" + expected)
        assert abs(int(h["x-driftwise-timestamp"]) - time.time()) < 60
        body = json.loads(request["body"])
        assert (body["model"], body["rule"], body["severity"], body["alert_id"]) == \
            ("m", "share", "critical", 1)
    assert len({r["headers"]["x-driftwise-delivery"] for r in receiver.requests}) == 2
    detail = client.get("/v1/models/m/alerts/1").json()
    assert [(d["kind"], d["status"], d["attempts"]) for d in detail["deliveries"]] == [
        ("opened", "delivered", 1), ("resolved", "delivered", 1)]


def test_a_receiver_that_is_down_gets_the_alert_once_it_is_back(
        make_service: Any, receivers: Callable[[int], Receiver]) -> None:
    port = free_port()  # nothing listens there yet
    route = {"name": "hook", "type": "webhook", "url": f"http://127.0.0.1:{port}/a"}
    client = make_service(alert_routes=[route], **FAST)
    register(client, alerts=[RULE])
    _window(client, 0, 3.0)

    def failed_twice() -> Any:
        found = client.get("/v1/models/m/alerts/1").json()["deliveries"]
        return found and found[0]["attempts"] >= 2 and found[0]

    down = _until(failed_twice)
    assert down["status"] == "pending" and down["delivered_at"] is None
    assert all(t["error"] and t["status_code"] is None for t in down["tries"])
    assert not any(route["url"] in t["error"] for t in down["tries"])
    receiver = receivers(port)
    _until(lambda: receiver.requests)
    delivered = _until(lambda: [d for d in client.get("/v1/models/m/alerts/1").json()
                                ["deliveries"] if d["status"] == "delivered"])
    assert delivered[0]["attempts"] >= 3 and delivered[0]["tries"][-1]["status_code"] == 204
    time.sleep(0.3)
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0]["body"])["kind"] == "opened"
    assert "x-driftwise-signature" not in {k.lower() for k in receiver.requests[0]["headers"]}


def test_slack_text_and_severity_filter(make_service: Any,
                                        receivers: Callable[[int], Receiver]) -> None:
    port = free_port()
    receiver = receivers(port)
    routes = [{"name": "slack", "type": "slack", "url": f"http://127.0.0.1:{port}/slack"},
              {"name": "pager", "type": "webhook", "url": f"http://127.0.0.1:{port}/pager",
               "min_severity": "critical"},
              {"name": "elsewhere", "type": "webhook", "models": ["other"],
               "url": f"http://127.0.0.1:{port}/other"}]
    client = make_service(alert_routes=routes, **FAST)
    register(client, alerts=[{**RULE, "severity": "warning"}])
    _window(client, 0, 3.0)
    _until(lambda: receiver.requests)
    time.sleep(0.3)
    assert [r["path"] for r in receiver.requests] == ["/slack"]
    text = json.loads(receiver.requests[0]["body"])["text"]
    assert text.startswith("[WARNING] m: alert 1 (share) opened at window 0")


def test_an_unknown_route_field_is_refused() -> None:
    from pydantic import ValidationError

    from driftwise.config.settings import ServiceSettings

    with pytest.raises(ValidationError, match="alert_routes"):
        ServiceSettings(alert_routes=[{"name": "x", "type": "pagerduty",
                                       "url": "http://127.0.0.1:1/"}])
