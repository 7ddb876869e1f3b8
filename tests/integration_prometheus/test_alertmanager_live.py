"""A drift alert travels driftwise -> its Alertmanager route -> a real Alertmanager -> a
webhook receiver on loopback; Alertmanager is down when the alert opens and gets it once it
is up (driftwise's outbox retries), and the resolution follows the same way. A restarted
Alertmanager gets the open alert again from driftwise's periodic refresh.

The binary is Debian's ``prometheus-alertmanager``, which ``make test`` installs
(scripts/ensure-prometheus.sh); without it this test fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from driftwise.client import Client
from driftwise.demo_stack import stop_process
from tests.conftest import LiveServer, free_port
from tests.integration_prometheus.test_prometheus_live import _records, _reference

RULE = {"name": "inputs-drifted", "metric": "drift.dataset.share", "condition": ">= 0.3",
        "clear": "< 0.1", "severity": "critical"}


class Receiver:
    """Records the JSON bodies POSTed to it (Alertmanager's webhook notifications)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's hook name
                size = int(self.headers.get("content-length", 0))
                bodies.append(json.loads(self.rfile.read(size)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _alertmanager(folder: Path, port: int, receiver: str) -> subprocess.Popen[bytes]:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.fail("prometheus-alertmanager is missing: `make test` installs it "
                    "(bash scripts/ensure-prometheus.sh)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alertmanager.yml").write_text(f"""
route:
  receiver: hook
  group_by: [alertname, model]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {receiver}
        send_resolved: true
""")
    log = open(folder / "alertmanager.log", "wb")  # closed with the process, by the OS
    return subprocess.Popen(
        [binary, f"--config.file={folder / 'alertmanager.yml'}",
         f"--storage.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="], stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        stop_process(process)


def _alertnames(port: int) -> list[str] | None:
    try:
        found = httpx.get(f"http://127.0.0.1:{port}/api/v2/alerts", timeout=5).json()
    except httpx.HTTPError:
        return None
    return [a["labels"]["alertname"] for a in found]


def _until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_a_drift_alert_reaches_alertmanager_and_its_receiver_after_an_outage(
        start_server: Callable[..., LiveServer], processes: list[Any],
        tmp_path: Path) -> None:
    port = free_port()  # Alertmanager's, not started yet
    routes = [{"name": "am", "type": "alertmanager", "url": f"http://127.0.0.1:{port}"}]
    server = start_server(env={"DRIFTWISE_ALERT_ROUTES": json.dumps(routes),
                               "DRIFTWISE_ALERT_RETRY_BASE_S": "0.2",
                               "DRIFTWISE_ALERT_RETRY_MAX_S": "1",
                               "DRIFTWISE_ALERT_REFRESH_S": "1"})
    receiver = Receiver()
    try:
        with Client(server.url) as client:
            client.register_model("credit", task="binary",
                                  columns={"probabilities": "proba", "target": "label"},
                                  config={"model": {"positive_class": "1"},
                                          "windows": {"rows": 200, "min_rows": 50},
                                          "alerts": [RULE]})
            client.upload_reference("credit", _reference(2000))
            client.log_batch("credit", _records(200, 0, 3.0, seed=2))
            client.wait_windows("credit", 1)

            def failed() -> Any:
                found = client.request("GET", "/v1/models/credit/alerts/1")["deliveries"]
                return found and found[0]["attempts"] >= 2 and found[0]

            down = _until(failed, "failed deliveries while Alertmanager is down")
            assert down["status"] == "pending"

            processes.append(_alertmanager(tmp_path / "am", port, receiver.url))
            firing = _until(lambda: [b for b in receiver.bodies if b["status"] == "firing"],
                            "Alertmanager's firing notification")
            (alert,) = firing[0]["alerts"]
            assert alert["labels"] == {"alertname": "inputs-drifted", "model": "credit",
                                       "severity": "critical", "alert_id": "1",
                                       "source": "driftwise"}
            stored = httpx.get(f"http://127.0.0.1:{port}/api/v2/alerts", timeout=10).json()
            assert [a["labels"]["alertname"] for a in stored] == ["inputs-drifted"]
            delivered = client.request("GET", "/v1/models/credit/alerts/1")["deliveries"]
            assert delivered[0]["status"] == "delivered"

            # An Alertmanager that lost its state (restarted without storage) gets the open
            # alert again from the periodic refresh, the outbox having delivered it already.
            processes[-1].terminate()
            processes[-1].wait(20)
            processes.append(_alertmanager(tmp_path / "am-again", port, receiver.url))
            _until(lambda: _alertnames(port) == ["inputs-drifted"],
                   "the open alert sent again to a restarted Alertmanager")

            # Clean traffic resolves it; Alertmanager passes the resolution on.
            client.log_batch("credit", _records(200, 200, 0.0, seed=3))
            client.wait_windows("credit", 2)
            assert client.request("GET", "/v1/models/credit/alerts/1")["state"] == "resolved"
            _until(lambda: [b for b in receiver.bodies if b["status"] == "resolved"],
                   "Alertmanager's resolved notification")
    finally:
        receiver.close()
