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
import os
import shutil
import signal
import socket
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
from rich.table import Table

from driftwise.demo import PERIOD_DAYS, START, load_elec2

__all__ = ["run_service_demo"]

FEATURES = ["nswprice", "nswdemand", "vicprice", "vicdemand", "transfer"]
WINDOW = 500
MODEL = "elec2-updown"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def _start_server(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DRIFTWISE_EVALUATOR": "process", "DRIFTWISE_POLL_INTERVAL_S": "0.2"}
    env.pop("DRIFTWISE_API_KEY", None)
    env.pop("DRIFTWISE_DATABASE_URL", None)
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
    scratch = None
    if data_dir is None:
        scratch = Path(tempfile.mkdtemp(prefix="driftwise-demo-"))
        data_dir = scratch
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    console.print(f"[bold]driftwise demo[/]: the service on {url}, store in {data_dir}")
    console.print(f"Data: Elec2 ({source}); model: logistic regression, UP/DOWN")
    server = _start_server(port, data_dir)
    try:
        with Client(url, timeout=60) as client:
            try:
                client.wait_ready(60)
            except TimeoutError:
                err = server.stderr.read().decode() if server.poll() is not None and \
                    server.stderr else ""
                raise RuntimeError(f"the demo service did not start: {err[-2000:]}"
                                   ) from None
            _replay(console, client, model, reference, phases)
            window = _window_of(phases)
            console.print(_summary(client, [("clean", 4 * window), ("drifting", 4 * window),
                                            ("attack", window)], window))
            console.print(
                "Expected: clean windows without drift; drifting windows flag vicprice, "
                "vicdemand and transfer (the imputed Victorian data end in May 1997); the "
                "attack window shows confidence collapsing towards 0.5.")
            console.print(f"Look at: {url}/docs (the API), {url}/v1/models/{MODEL}/windows, "
                          f"{url}/v1/models/{MODEL}/windows/0, "
                          f"{url}/v1/models/{MODEL}/results?prefix=estimated.")
            if interactive:
                console.print("The service stays up: press Ctrl-C to stop it.")
                with contextlib.suppress(KeyboardInterrupt):
                    while server.poll() is None:
                        time.sleep(0.5)
    finally:
        _stop(server)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    console.print("Service stopped.")


def _replay(console: Console, client: Any, model: Any, reference: pa.Table,
            phases: dict[str, pa.Table]) -> None:
    client.register_model(MODEL, task="binary", columns={
        "features": FEATURES, "probabilities": "p_up", "prediction": None,
        "target": "label"}, config={"model": {"positive_class": "UP"},
                                     "windows": {"rows": _window_of(phases)}})
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
