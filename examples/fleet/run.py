"""A fleet of 12 interdependent models, a fault at one upstream model, ONE page.

A payments company runs two feature providers (customer and merchant features) and ten
models that consume them, directly or through each other (embeddings, risk scores, the
fraud score and the queues fed by it). Each model declares the models it consumes
(``model.upstream``) and pages on dataset drift. The customer feature pipeline breaks (one
of its outputs shifts); every model downstream of it sees its inputs move and alerts.

driftwise groups those alerts under the upstream model's incident ("root cause: upstream
customer-features"), so the on-call engineer gets one page, not nine; the merchant side,
untouched, stays quiet. Traffic reaches the models in a random order, as it does in
production: a downstream model may alert before its upstream one, and then its page,
held for ``upstream_wait_s``, is withdrawn when the upstream alert takes it in.

Run it from the repository root::

    .venv/bin/python examples/fleet/run.py

It starts ``driftwise serve`` on loopback with a webhook route to a receiver in this
process, and prints the incident and the pages received.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from driftwise.client import Client

#: model -> the models it consumes.
FLEET: dict[str, list[str]] = {
    "customer-features": [],
    "merchant-features": [],
    "customer-embedding": ["customer-features"],
    "merchant-risk": ["merchant-features"],
    "txn-anomaly": ["customer-features", "merchant-features"],
    "fraud-score": ["customer-embedding", "merchant-risk", "txn-anomaly"],
    "credit-limit": ["customer-embedding"],
    "churn": ["customer-embedding"],
    "fraud-review-queue": ["fraud-score"],
    "collections": ["credit-limit"],
    "retention-offer": ["churn"],
    "marketing-uplift": ["merchant-risk"],
}
FAULT_AT = "customer-features"
FEATURES = ["x1", "x2", "x3"]
WINDOW = 200
WAIT_S = 3.0  # how long a downstream model's own first page waits for an upstream cause


def downstream_of(model: str) -> set[str]:
    """Every model that consumes ``model``, directly or further down."""
    found: set[str] = set()
    todo = [model]
    while todo:
        current = todo.pop()
        for name, ups in FLEET.items():
            if current in ups and name not in found:
                found.add(name)
                todo.append(name)
    return found


def _table(rng: np.random.Generator, n: int, shift: float) -> dict[str, np.ndarray]:
    x = rng.normal(size=(n, 3))
    x[:, 0] += shift
    score = 1 / (1 + np.exp(-(x[:, 0] - shift + 0.5 * x[:, 1])))
    return {"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "p": score,
            "pred": np.where(score >= 0.5, "1", "0")}


def _records(model: str, phase: str, cols: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    return [{"id": f"{model}-{phase}-{i}",
             "features": {f: float(cols[f][i]) for f in FEATURES},
             "probabilities": float(cols["p"][i]), "prediction": str(cols["pred"][i]),
             "latency_ms": 4.0}
            for i in range(len(cols["p"]))]


class Pager:
    """A webhook receiver on loopback standing in for the on-call pager."""

    def __init__(self) -> None:
        self.pages: list[dict[str, Any]] = []
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's hook name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                pages.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/page"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, data_dir: Path, pager: Pager) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTWISE_")}
    env.update(DRIFTWISE_POLL_INTERVAL_S="0.1", DRIFTWISE_ALERT_RETRY_BASE_S="0.2",
               DRIFTWISE_ALERT_ROUTES=json.dumps([{"name": "pager", "type": "webhook",
                                                   "url": pager.url}]))
    return subprocess.Popen([sys.executable, "-m", "driftwise", "serve", "--host",
                             "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def replay(client: Client, seed: int = 11) -> None:
    """Register the fleet, then send each model a clean window and a window after the
    fault, the models in a random order."""
    rng = np.random.default_rng(seed)
    for name, ups in FLEET.items():
        client.register_model(name, task="binary", columns={
            "features": FEATURES, "probabilities": "p", "prediction": "pred"}, config={
            "model": {"positive_class": "1", "upstream": ups, "upstream_wait_s": WAIT_S},
            "windows": {"rows": WINDOW, "min_rows": 50},
            "alerts": [{"name": "input drift", "metric": "drift.dataset.drift_detected",
                        "condition": "== true", "severity": "critical"}]})
        client.upload_reference(name, pa.table(_table(rng, 2000, 0.0)))
    hit = {FAULT_AT} | downstream_of(FAULT_AT)
    for phase in ("clean", "fault"):
        for name in rng.permutation(list(FLEET)):
            shift = 1.5 if phase == "fault" and name in hit else 0.0
            client.log_batch(str(name), _records(str(name), phase,
                                                 _table(rng, WINDOW, shift)))
        for name in FLEET:
            client.wait_windows(name, 1 if phase == "clean" else 2, timeout=120)


def main(quiet: bool = False) -> dict[str, Any]:
    """Run the example; the incidents, every model's alerts and the pages received."""
    pager = Pager()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="driftwise-fleet-") as scratch:
        server = _serve(port, Path(scratch), pager)
        try:
            with Client(f"http://127.0.0.1:{port}", timeout=60) as client:
                client.wait_ready(60)
                replay(client)
                # Let every held page come due (or be withdrawn) and be delivered.
                time.sleep(WAIT_S + 2.0)
                incidents = client.request("GET", "/v1/incidents")
                alerts = {m: client.request("GET", f"/v1/models/{m}/alerts") for m in FLEET}
                fleet = client.request("GET", "/v1/fleet")
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            pager.close()
    result = {"incidents": incidents, "alerts": alerts, "pages": list(pager.pages),
              "fleet": fleet}
    if not quiet:
        _show(result)
    return result


def _show(result: dict[str, Any]) -> None:
    alerting = sorted(m for m, a in result["alerts"].items() if a)
    print(f"{len(alerting)} of {len(FLEET)} models alerted: {', '.join(alerting)}")
    for inc in result["incidents"]:
        print(f"incident {inc['id']} ({inc['state']}): root cause {inc['root_model']}, "
              f"{len(inc['models'])} models: {', '.join(inc['models'])}")
    print(f"pages sent: {len(result['pages'])}")
    for page in result["pages"]:
        print(f"  {page['kind']}: {page['model']} alert {page['alert_id']} "
              f"({page['rule']}), incident {page['incident']['id']}")


if __name__ == "__main__":
    main()
