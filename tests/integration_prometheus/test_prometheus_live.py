"""Real Prometheus and Alertmanager: the shipped configuration and rules pass their own
checkers, and a Prometheus started here scrapes a running ``driftwise serve`` (two uvicorn
workers, a ``metrics``-scoped key) and evaluates the shipped rules on its answers.

The binaries come from Debian's ``prometheus`` and ``prometheus-alertmanager``, which
``make test`` installs (scripts/ensure-prometheus.sh); without them these tests fail.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driftwise.client import Client
from driftwise.store import keys, open_store
from tests.conftest import LiveServer, free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "driftwise.rules.yml"
ADMIN = "prometheus-test-admin-key-0123456789"


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"{' or '.join(names)} is missing: `make test` installs it "
                "(bash scripts/ensure-prometheus.sh)")


def _run(*args: str | Path) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_shipped_rules_pass_promtool_and_their_unit_tests() -> None:
    promtool = _binary("promtool")
    out = _run(promtool, "check", "rules", RULES)
    assert "SUCCESS" in out
    out = _run(promtool, "test", "rules", RULES.with_name("driftwise.rules.test.yml"))
    assert "SUCCESS" in out


def test_the_shipped_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    """The shipped prometheus.yml as it is, beside its rules and a key file where it
    expects one."""
    promtool = _binary("promtool")
    folder = tmp_path / "prometheus"
    shutil.copytree(DEPLOY / "prometheus", folder)
    text = (folder / "prometheus.yml").read_text()
    key = tmp_path / "driftwise-metrics.key"
    key.write_text("dw_test_secret\n")
    text = text.replace("/etc/prometheus/driftwise-metrics.key", str(key))
    (folder / "prometheus.yml").write_text(text)
    assert "SUCCESS" in _run(promtool, "check", "config", folder / "prometheus.yml")


def test_the_shipped_alertmanager_config_passes_amtool() -> None:
    amtool = _binary("amtool")
    out = _run(amtool, "check-config", DEPLOY / "alertmanager" / "alertmanager.yml")
    assert "SUCCESS" in out


def _reference(n: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    proba = 1 / (1 + np.exp(-2 * a))
    table = pa.table({"a": a, "b": b, "c": np.where(rng.random(n) < 0.6, "u", "v"),
                      "proba": proba, "label": (rng.random(n) < proba).astype(np.int64)})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _records(n: int, start: int, shift: float, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n) + shift, rng.normal(size=n)
    c = np.where(rng.random(n) < 0.6, "u", "v")
    return [{"id": f"r{start + i}", "features": {"a": float(a[i]), "b": float(b[i]),
                                                 "c": str(c[i])},
             "probabilities": float(1 / (1 + np.exp(-2 * (a[i] - shift)))),
             "latency_ms": 20.0 + i % 50, "client_key": f"client-{i % 3}"}
            for i in range(n)]


class Prometheus:
    """``prometheus`` on a free loopback port with its own data folder, stopped by PID."""

    def __init__(self, folder: Path, config: str) -> None:
        binary = _binary("prometheus")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "prometheus.yml").write_text(config)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(folder / "prometheus.log", "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [binary, f"--config.file={folder / 'prometheus.yml'}",
             f"--storage.tsdb.path={folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (folder / "prometheus.log").read_text()
            try:
                if httpx.get(self.url + "/-/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail("prometheus did not become ready in 60 s")

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = httpx.get(self.url + "/api/v1/query", params={"query": expr}, timeout=10)
        answer.raise_for_status()
        body = answer.json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait(self, expr: str, check: Callable[[list[dict[str, Any]]], bool],
             timeout: float = 90.0, explain: str = "up") -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            found = self.query(expr)
            if check(found):
                return found
            time.sleep(0.5)
        pytest.fail(f"{expr}: {found} after {timeout:g} s; {explain}: {self.query(explain)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[Callable[[str], Prometheus]]:
    started: list[Prometheus] = []

    def start(config: str) -> Prometheus:
        started.append(Prometheus(tmp_path / f"prometheus-{len(started)}", config))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_prometheus_scrapes_a_live_service_and_the_rules_fire_on_drift(
        start_server: Callable[..., LiveServer], prometheus_factory: Callable[[str], Any],
        tmp_path: Path) -> None:
    server = start_server(env={"DRIFTWISE_API_KEY": ADMIN, "DRIFTWISE_WORKERS": "2"})
    engine = open_store(f"sqlite:///{server.data_dir / 'driftwise.db'}")
    try:
        scrape_key, _ = keys.create_key(engine, "prometheus", ("metrics",))
    finally:
        engine.dispose()
    client = Client(server.url, api_key=ADMIN)
    client.register_model("credit", task="binary",
                          columns={"probabilities": "proba", "target": "label"},
                          config={"model": {"positive_class": "1"},
                                  "windows": {"rows": 200, "min_rows": 50}})
    client.upload_reference("credit", _reference(2000))
    key_file = tmp_path / "metrics.key"
    key_file.write_text(scrape_key + "\n")
    target = server.url.removeprefix("http://")
    config = f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {RULES}
scrape_configs:
  - job_name: driftwise
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: {key_file}
    static_configs:
      - targets: ["{target}"]
"""
    prometheus = prometheus_factory(config)
    # Traffic while Prometheus scrapes (its rates need counters seen growing): once the
    # target is up a clean window, and once Prometheus has seen it a drifting one.
    up = prometheus.wait('up{job="driftwise"}', lambda r: bool(r) and r[0]["value"][1] == "1")
    assert up[0]["metric"]["instance"] == target
    with client:
        client.log_batch("credit", _records(200, 0, 0.0, seed=1))
        client.wait_windows("credit", 1)
        prometheus.wait('driftwise_windows_evaluated_total{model="credit"}',
                        lambda r: bool(r) and r[0]["value"][1] == "1")
        client.log_batch("credit", _records(200, 200, 3.0, seed=2))
        windows = client.wait_windows("credit", 2)
    prometheus.wait('driftwise_records_ingested_total{model="credit"}',
                    lambda r: bool(r) and r[0]["value"][1] == "400")
    prometheus.wait('driftwise_windows_evaluated_total{model="credit"}',
                    lambda r: bool(r) and r[0]["value"][1] == str(len(windows)))
    # The shipped recording rule over the latency histogram: 20..69 ms, p99 within 100 ms.
    p99 = prometheus.wait("model:driftwise_model_server_latency_seconds:p99_5m",
                          lambda r: bool(r) and r[0]["value"][1] != "NaN", timeout=20,
                          explain="rate(driftwise_model_server_latency_seconds_bucket[5m])")
    assert 0.025 <= float(p99[0]["value"][1]) <= 0.1
    # The newest window drifted: the shipped warning rules fire for the model and feature a.
    alerts = prometheus.wait('ALERTS{alertstate="firing",model="credit"}',
                             lambda r: {"DriftwiseDatasetDrift", "DriftwiseFeatureDrift"}
                             <= {a["metric"]["alertname"] for a in r})
    feature = [a["metric"] for a in alerts if a["metric"]["alertname"] ==
               "DriftwiseFeatureDrift"]
    assert {"a"} <= {m["feature"] for m in feature}
    assert all(a["metric"]["severity"] == "warning" for a in alerts
               if a["metric"]["alertname"].startswith("DriftwiseD"))
    # No label Prometheus stored carries a record id or a client key.
    series = httpx.get(prometheus.url + "/api/v1/series",
                       params={"match[]": '{__name__=~"driftwise_.*"}'}, timeout=10).json()
    values = {v for s in series["data"] for v in s.values()}
    assert not any(v.startswith(("r1", "client-")) for v in values if v != "credit")
