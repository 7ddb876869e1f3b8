"""A restarted ``driftwise serve`` continues exactly where it stopped.

The same eight windows (the last five drifted) go to three fresh stores: to one server that
runs throughout; to one stopped with SIGTERM after the first drifted window and restarted;
to one SIGKILLed half-way through a window and restarted. Every window must come out
identical in all three: every metric (the CUSUM's alarms over ``drift.dataset.share``
included), the alert evidence of a ``for: 2`` rule (its streak must survive the restart to
fire on the second drifted window), and, read from the store, the persisted state of the
stream detector and the alert streaks, and the alert the lifecycle opened with its trail.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

from live_helpers import LiveServer, records, register

from driftwise.client import Client

WINDOW = 400
WINDOWS = 8
DRIFT_FROM = 3  # windows 4.. have feature `a` shifted
CONFIG = {
    "windows": {"rows": WINDOW},
    "checks": {
        "stream": [{"name": "share", "metric": "drift.dataset.share",
                    "detector": {"type": "cusum", "k": 0.5, "h": 3.0, "mean": 0.0,
                                 "std": 0.1}}],
    },
    "alerts": [{"name": "drift twice", "metric": "drift.dataset.drift_detected",
                "condition": "== true", "severity": "warning", "for": 2}],
}
VOLATILE = ("evaluated_at", "duration_s")


def _window_records(w: int) -> list[dict[str, Any]]:
    return records(f"w{w}r", WINDOW, seed=100 + w, shift=1.5 if w >= DRIFT_FROM else 0.0,
                   start=w * WINDOW)


def _send(client: Client, windows: range) -> None:
    for w in windows:
        answer = client.log_batch("m", _window_records(w))
        assert answer["accepted"] == WINDOW, answer


def _collect(client: Client) -> list[dict[str, Any]]:
    found = client.wait_windows("m", WINDOWS, timeout=120)
    assert [w["window"] for w in found] == list(range(WINDOWS))
    out = []
    for w in found:
        detail = client.window("m", w["window"])
        out.append({k: v for k, v in detail.items() if k not in VOLATILE})
    return out


def _alerts(client: Client) -> list[Any]:
    """The alerts and their trails, without their times (which differ between runs)."""
    out = []
    for a in client.request("GET", "/v1/models/m/alerts"):
        detail = client.request("GET", f"/v1/models/m/alerts/{a['alert_id']}")
        out.append((a["alert_id"], a["rule"], a["state"], detail["alert"]["opened_window"],
                    [(e["kind"], e["window"]) for e in detail["events"]]))
    return out


def _cursor_state(data_dir: Path) -> dict[str, Any]:
    with sqlite3.connect(data_dir / "driftwise.db") as conn:
        (state,) = conn.execute("SELECT state FROM cursors").fetchone()
    conn.close()
    parsed: dict[str, Any] = json.loads(state)
    return parsed


def _start(servers: Any, data_dir: Path) -> LiveServer:
    server: LiveServer = servers(data_dir, env={"DRIFTWISE_EVALUATOR": "thread"}).start()
    return server


def test_restart_between_and_within_windows_changes_no_result(servers: Any,
                                                                tmp_path: Path) -> None:
    # A: uninterrupted.
    a_dir = tmp_path / "a"
    a = _start(servers, a_dir)
    with a.client() as client:
        register(client, "m", CONFIG)
        _send(client, range(WINDOWS))
        uninterrupted = _collect(client)
        alerts_a = _alerts(client)
    a.sigterm()
    # One alert, opened on the second drifted window and firing on to the last.
    assert alerts_a == [(1, "drift twice", "open", DRIFT_FROM + 1,
                         [("opened", DRIFT_FROM + 1)] + [("still_firing", w) for w in
                                                         range(DRIFT_FROM + 2, WINDOWS)])]

    # The run is worth comparing: the drift, the stream alarms and the streak all happen.
    metrics = [w["metrics"] for w in uninterrupted]
    assert [m["drift.dataset.drift_detected"] for m in metrics[DRIFT_FROM:]] == \
        [True] * (WINDOWS - DRIFT_FROM)
    assert any(m["stream.share.alarm"] for m in metrics[DRIFT_FROM:])
    assert not any(m["stream.share.alarm"] for m in metrics[:DRIFT_FROM])
    fired = [[a["name"] for a in w["evidence"]["alerts"]] for w in uninterrupted]
    assert "drift twice" not in fired[DRIFT_FROM], "for: 2 fired on the first drifted window"
    assert all("drift twice" in names for names in fired[DRIFT_FROM + 1:]), fired
    state_a = _cursor_state(a_dir)

    # B: SIGTERM after the first drifted window, restart, the rest.
    b_dir = tmp_path / "b"
    b = _start(servers, b_dir)
    with b.client() as client:
        register(client, "m", CONFIG)
        _send(client, range(DRIFT_FROM + 1))
        client.wait_windows("m", DRIFT_FROM + 1, timeout=120)
    assert b.sigterm() in (0, -signal.SIGTERM)
    b = _start(servers, b_dir)
    with b.client() as client:
        _send(client, range(DRIFT_FROM + 1, WINDOWS))
        restarted = _collect(client)
        alerts_b = _alerts(client)
    b.sigterm()

    # C: SIGKILL with half of a window stored, restart, the rest.
    c_dir = tmp_path / "c"
    c = _start(servers, c_dir)
    with c.client() as client:
        register(client, "m", CONFIG)
        _send(client, range(DRIFT_FROM + 1))
        half = _window_records(DRIFT_FROM + 1)
        assert client.log_batch("m", half[:WINDOW // 2])["accepted"] == WINDOW // 2
        client.wait_windows("m", DRIFT_FROM + 1, timeout=120)
    assert c.sigkill() == []
    c = _start(servers, c_dir)
    with c.client() as client:
        assert client.log_batch("m", half[WINDOW // 2:])["accepted"] == WINDOW - WINDOW // 2
        _send(client, range(DRIFT_FROM + 2, WINDOWS))
        killed = _collect(client)
        alerts_c = _alerts(client)
    c.sigterm()

    for name, run in (("SIGTERM", restarted), ("SIGKILL", killed)):
        for w, (expected, got) in enumerate(zip(uninterrupted, run, strict=True)):
            assert got["metrics"] == expected["metrics"], f"{name}: window {w} metrics"
            assert got["evidence"] == expected["evidence"], f"{name}: window {w} evidence"
            assert got == expected, f"{name}: window {w}"
    assert _cursor_state(b_dir) == state_a
    assert _cursor_state(c_dir) == state_a
    assert alerts_b == alerts_a and alerts_c == alerts_a
