"""The service demo (``make demo``): a live ``driftwise serve`` watching a real model.

A logistic-regression model predicts whether the NSW electricity price goes UP or DOWN
(Elec2, from ../shared/data when present, else the sample shipped in the package). The demo
starts the service on loopback, registers the model with its reference (the first 13 weeks:
features, the model's probabilities, the true class), and replays traffic through the
Python client, as a model server would: clean traffic from the reference period (rows
the reference does not hold), then drifting traffic from May 1997 on (when the imputed
Victorian columns end, a documented break), then an attack-like burst: one client key
sending near-duplicate queries that walk towards the decision boundary. The service
evaluates the windows as they close.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from driftwise.demo import PERIOD_DAYS, START, load_elec2
from driftwise.demo_stack import Stack, free_port, how_to_install, installed
from driftwise.store import keys, open_store, sessions

__all__ = ["run_service_demo"]

FEATURES = ["nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]
WINDOW = 500
MODEL = "elec2-updown"
# Page on dataset drift in two windows in a row; resolve after two windows without it.
DRIFT_RULE = {"name": "input drift", "metric": "drift.dataset.drift_detected",
              "condition": "== true", "for": 2, "clear_for": 2, "severity": "warning"}
LATENCY_SLO = {"name": "latency-p99", "metric": "ops.latency_ms.p99", "objective": "<= 100",
               "target": 0.9, "period_windows": 8}


def _model_and_data() -> tuple[Any, pa.Table, dict[str, pa.Table], str]:
    from sklearn.linear_model import LogisticRegression

    table, day, source = load_elec2()
    period = day // PERIOD_DAYS
    x = np.column_stack([table[c].to_numpy() for c in FEATURES])
    y = (pc.equal(table["class"], "UP")).to_numpy(zero_copy_only=False).astype(int)
    # The reference and the clean traffic are a random split of the first 13 weeks: both
    # are samples of one distribution (consecutive half-hours are not: prices follow the
    # day and the week).
    first = np.random.default_rng(0).permutation(np.flatnonzero(period == 0))
    half = len(first) // 2
    ref_rows, clean_rows = np.sort(first[:half]), first[half:]
    model = LogisticRegression(max_iter=500).fit(x[ref_rows], y[ref_rows])
    proba = model.predict_proba(x)[:, 1]

    def frame(rows: np.ndarray) -> pa.Table:
        cols: dict[str, Any] = {c: x[rows, i] for i, c in enumerate(FEATURES)}
        cols["p_up"] = proba[rows]
        cols["label"] = np.where(y[rows] == 1, "UP", "DOWN")
        cols["day"] = day[rows]
        return pa.table(cols)

    later = np.random.default_rng(1).permutation(np.flatnonzero(period >= 4))  # May 1997 on
    # Four windows of each; the shipped sample (every 4th row) has fewer clean rows than
    # 4 x WINDOW, so its windows are smaller.
    size = min(WINDOW, len(clean_rows) // 4)
    phases = {"clean": frame(clean_rows[:4 * size]),
              "drifting": frame(later[:4 * size])}
    return model, frame(ref_rows).drop_columns(["day"]), phases, source


def _records(phase: str, frame: pa.Table, start: int) -> list[dict[str, Any]]:
    rows = frame.to_pylist()
    out = []
    for i, row in enumerate(rows):
        ts = START + timedelta(days=float(row["day"]), minutes=i % 48 * 30)
        out.append({"id": f"{phase}-{start + i}", "timestamp": ts.replace(tzinfo=UTC),
                    "features": {c: row[c] for c in FEATURES},
                    "probabilities": row["p_up"],
                    "prediction": "UP" if row["p_up"] >= 0.5 else "DOWN",
                    "latency_ms": float(3 + (i * 7919) % 11),
                    "client_key": f"client-{i % 25}",
                    "traceparent": f"00-{(start + i):032x}-{i + 1:016x}-01"})
    return out


def _attack(model: Any, clean: pa.Table, n: int) -> list[dict[str, Any]]:
    """Near-duplicate queries walking one sample towards the decision boundary (the
    footprint of a black-box evasion attack)."""
    rng = np.random.default_rng(7)
    base = np.array([clean[c][0].as_py() for c in FEATURES], dtype=float)
    # The direction that moves the score towards 0.5 fastest: along the model's weights.
    w = model.coef_[0] / np.linalg.norm(model.coef_[0])
    score = model.decision_function(base[None])[0]
    out = []
    for i in range(n):
        step = -score / np.linalg.norm(model.coef_[0]) * (i / n)
        point = np.clip(base + step * w + rng.normal(0, 0.002, len(base)), 0, 1)
        p = float(model.predict_proba(point[None])[0, 1])
        out.append({"id": f"attack-{i}", "features": dict(zip(FEATURES, point.tolist(),
                                                                strict=True)),
                    "probabilities": p, "prediction": "UP" if p >= 0.5 else "DOWN",
                    "latency_ms": 4.0, "client_key": "attacker-7",
                    "timestamp": datetime(1997, 9, 1, tzinfo=UTC) + timedelta(seconds=i)})
    return out


def _start_server(port: int, data_dir: Path, admin_key: str,
                  alertmanager: str | None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTWISE_")}
    env.update(DRIFTWISE_EVALUATOR="process", DRIFTWISE_POLL_INTERVAL_S="0.2",
               DRIFTWISE_API_KEY=admin_key, DRIFTWISE_ALERT_REFRESH_S="10")
    if alertmanager is not None:
        env["DRIFTWISE_ALERT_ROUTES"] = json.dumps(
            [{"name": "alertmanager", "type": "alertmanager", "url": alertmanager}])
    return subprocess.Popen([sys.executable, "-m", "driftwise", "serve", "--host",
                             "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _window_of(phases: dict[str, pa.Table]) -> int:
    """The demo's window size: a quarter of the clean phase."""
    return int(phases["clean"].num_rows) // 4


def _summary(client: Any, phases: list[tuple[str, int]], window: int) -> Table:
    table = Table(title=f"Windows of {MODEL} ({window} records each), evaluated by the service")
    for header in ("window", "traffic", "status", "dataset drift", "drifted columns (effect)",
                   "est. accuracy", "mean confidence", "p99 latency ms"):
        table.add_column(header)
    bounds = []
    total = 0
    for name, count in phases:
        bounds.append((total, total + count, name))
        total += count
    for w in client.windows(MODEL):
        detail = client.window(MODEL, w["window"])
        m = detail["metrics"]
        lo = w["seq_range"][0] if w["seq_range"] else 0
        traffic = next((n for a, b, n in bounds if a <= lo < b), "?")
        drifted = detail["evidence"].get("drifted_columns", [])
        cols = ", ".join(f"{d['name']} ({d['effect']:.2f})" for d in drifted[:3]) or "–"
        drift = m.get("drift.dataset.drift_detected")
        table.add_row(str(w["window"]), traffic, w["status"],
                      "[red]yes[/]" if drift else "[green]no[/]", cols,
                      _num(m.get("estimated.accuracy")), _num(m.get("ops.confidence.mean")),
                      _num(m.get("ops.latency_ms.p99"), "{:.0f}"))
    return table


def _num(value: Any, fmt: str = "{:.3f}") -> str:
    return "–" if value is None else fmt.format(value)


def run_service_demo(console: Console, *, port: int = 0, data_dir: Path | None = None,
                     interactive: bool = False) -> None:
    """Run the demo; stay up until Ctrl-C when ``interactive``."""
    from driftwise.client import Client

    model, reference, phases, source = _model_and_data()
    scratch = Path(tempfile.mkdtemp(prefix="driftwise-demo-"))
    data_dir = data_dir or scratch / "store"
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    console.print(f"[bold]driftwise demo[/]: the service on {url}, store in {data_dir}")
    console.print(f"Data: Elec2 ({source}); model: logistic regression, UP/DOWN")
    stack = Stack(scratch / "stack")
    found = installed()
    admin_key = secrets.token_urlsafe(24)
    server = None
    try:
        if found["alertmanager"]:
            console.print(f"Alertmanager on {stack.start_alertmanager(found['alertmanager'])}")
        server = _start_server(port, data_dir, admin_key, stack.alertmanager_url)
        with Client(url, api_key=admin_key, timeout=60) as client:
            try:
                client.wait_ready(60)
            except TimeoutError:
                err = server.stderr.read().decode() if server.poll() is not None and \
                    server.stderr else ""
                raise RuntimeError(f"the demo service did not start: {err[-2000:]}"
                                   ) from None
            engine = open_store(data_dir=data_dir)
            try:
                _, reader = keys.create_key(engine, "demo dashboard", ("read",))
                metrics_key, _ = keys.create_key(engine, "demo prometheus", ("metrics",))
                login = sessions.create_link(engine, reader.id, ttl_s=3600)
                check_link = sessions.create_link(engine, reader.id, ttl_s=600)
            finally:
                engine.dispose()
            if found["prometheus"]:
                console.print("Prometheus on " + stack.start_prometheus(
                    found["prometheus"], f"127.0.0.1:{port}", metrics_key))
            _replay(console, client, model, reference, phases)
            window = _window_of(phases)
            console.print(_summary(client, [("clean", 4 * window), ("drifting", 4 * window),
                                            ("attack", window)], window))
            console.print(
                "Expected: clean windows without drift; drifting windows flag vicprice, "
                "vicdemand and transfer (the imputed Victorian data end in May 1997); the "
                "attack window shows confidence collapsing towards 0.5.")
            _show_alerts(console, client, url, check_link, stack, found)
            console.print(f"Dashboard: open {url}/login/link?token={login} (logs in once, "
                          f"as a read-only key); the API: {url}/docs")
            if interactive:
                console.print("The service stays up: press Ctrl-C to stop it.")
                with contextlib.suppress(KeyboardInterrupt):
                    while server.poll() is None:
                        time.sleep(0.5)
    finally:
        if server is not None:
            _stop(server)
        stack.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    console.print("Service stopped.")


def _until(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            found = check()
            if found:
                return found
        if time.monotonic() > deadline:
            return None
        time.sleep(0.5)


def _show_alerts(console: Console, client: Any, url: str, check_link: str, stack: Stack,
                 found: dict[str, str | None]) -> None:
    """The drift alert as the service, its dashboard, Alertmanager and Prometheus see it."""
    import httpx

    alerts = [a for a in client.request("GET", "/v1/alerts") if a["state"] == "open"]
    for a in alerts:
        console.print(f"[bold red]Alert[/] {a['alert_id']} open on {a['model']}: rule "
                      f"{escape(a['rule'])} ({a['severity']}), since window "
                      f"{a['alert']['opened_window']}")
    if not alerts:
        console.print("No alert is open (the drifting windows did not alert).")
        return
    # The dashboard, as a browser sees it: sign in with a one-time link, read the page.
    with httpx.Client(base_url=url, timeout=30) as web:
        signed = web.get("/login/link", params={"token": check_link}, follow_redirects=False)
        cookie = signed.headers.get("set-cookie", "").split(";")[0]
        page = web.get("/", headers={"cookie": cookie}).text if cookie else ""
    shown = [a["rule"] for a in alerts if html.escape(a["rule"]) in page]
    console.print(f"Dashboard {url}/ shows the open alert(s): {', '.join(shown)}" if shown
                  else f"The dashboard at {url}/ did not show the alert.")
    if stack.alertmanager_url is None:
        console.print(f"Alertmanager is not installed, so the alert goes nowhere else: "
                      f"{how_to_install()}.")
    else:
        held = _until(lambda: [a for a in stack.alertmanager_alerts()
                               if a["labels"].get("source") == "driftwise"], 45) or []
        for a in held:
            console.print(f"Alertmanager {stack.alertmanager_url}/api/v2/alerts holds "
                          f"{a['labels']['alertname']} (model {a['labels']['model']}, "
                          f"{a['labels']['severity']}, {a['status']['state']})")
        if not held:
            console.print("Alertmanager did not receive the alert within 45 s.")
    if found["prometheus"] is None:
        console.print(f"Prometheus is not installed: {how_to_install()}.")
    else:
        firing = _until(lambda: stack.prometheus_query('ALERTS{alertstate="firing"}'), 30)
        names = sorted({r["metric"].get("alertname", "?") for r in firing or []})
        console.print(f"Prometheus {stack.prometheus_url} scrapes /metrics; its shipped "
                      f"rules fire: {', '.join(names) or 'none yet'}")


def _replay(console: Console, client: Any, model: Any, reference: pa.Table,
            phases: dict[str, pa.Table]) -> None:
    client.register_model(MODEL, task="binary", columns={
        "features": FEATURES, "probabilities": "p_up", "prediction": None,
        "target": "label"}, config={"model": {"positive_class": "UP"},
                                     "windows": {"rows": _window_of(phases)},
                                     "alerts": [DRIFT_RULE], "slos": [LATENCY_SLO]})
    ref = client.upload_reference(MODEL, reference)
    console.print(f"Registered {MODEL}; reference version {ref['version']}, "
                  f"{ref['rows']:,} rows (fitted once, stored)")
    sent = 0
    for name in ("clean", "drifting"):
        records = _records(name, phases[name], sent)
        for start in range(0, len(records), 250):
            client.log_batch(MODEL, records[start:start + 250])
        sent += len(records)
        console.print(f"Replayed {len(records):,} {name} records")
    window = _window_of(phases)
    attack = _attack(model, phases["clean"], window)
    for start in range(0, len(attack), 100):
        client.log_batch(MODEL, attack[start:start + 100])
    console.print(f"Replayed {len(attack)} attack-like queries from one client key")
    sent += len(attack)
    # Every window of what was sent: four clean, four drifting, the attack.
    client.wait_windows(MODEL, sent // window, timeout=120)
