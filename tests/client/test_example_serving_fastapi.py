"""The FastAPI serving example with fastapi's TestClient against a real ``driftwise
serve``: the middleware logs every prediction, the lifespan's close delivers them, and the
windows carry label-free estimates (then realized metrics, from outcomes sent later)."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient

from driftwise.client import Client
from tests.conftest import SHARED_DATA, load_example

SMALL = {"windows": {"rows": 100, "min_rows": 50}}


def test_windows_get_estimated_then_realized_performance(live_server_session: str) -> None:
    example = load_example("serving_fastapi", "app.py")
    frame, source = example.load_data()
    assert ("Taiwan" in source) == SHARED_DATA.is_dir()
    model, reference, traffic = example.train(frame)
    name = f"{example.MODEL}-{uuid.uuid4().hex[:8]}"
    rows = traffic.head(300)
    with Client(live_server_session) as client:
        assert example.ensure_registered(client, reference, name, SMALL) is True
        assert example.ensure_registered(client, reference, name, SMALL) is False

        app = example.create_app(model, live_server_session, name, flush_interval=0.1)
        with TestClient(app) as http:
            for i, row in rows.iterrows():
                body = {"id": f"client-{i}", **row[example.FEATURES].to_dict()}
                answer = http.post("/predict", json=body,
                                   headers={"traceparent": f"00-{i + 1:032x}-{i + 1:016x}-01"})
                assert answer.status_code == 200, answer.text
                decision = answer.json()
                assert decision["id"] == f"client-{i}"
                assert decision["default"] == int(decision["probability_of_default"] >= 0.5)
            invalid = http.post("/predict", json={"AGE": 3})
            assert invalid.status_code == 422  # refused by the app: nothing to log
            logger = app.state.logger
        # Leaving the TestClient ran the lifespan's shutdown: the logger is closed, flushed.
        assert (logger.stats.sent, logger.stats.rejected, logger.stats.dropped) == (300, 0, 0)
        assert client.model(name)["records"] == 300

        windows = client.wait_windows(name, 3, timeout=60)
        assert [w["status"] for w in windows[:3]] == ["ok"] * 3
        for w in windows[:3]:
            metrics = client.window(name, w["window"])["metrics"]
            for metric in ("roc_auc", "accuracy", "precision", "recall", "f1"):
                assert 0.0 <= metrics[f"estimated.{metric}"] <= 1.0, metric
            assert metrics["performance.labelled_rows"] == 0
            assert 0.5 <= metrics["ops.confidence.mean"] <= 1.0
            assert metrics["ops.latency_ms.p50"] > 0
        # The first window's estimate is near what the model does on such clients.
        estimated = client.window(name, 0)["metrics"]["estimated.accuracy"]
        assert abs(estimated - 0.8) < 0.15

        # Outcomes come later, through the same app and logger.
        app = example.create_app(model, live_server_session, name, flush_interval=0.1)
        with TestClient(app) as http:
            outcomes = [{"id": f"client-{i}", "default": int(rows.loc[i, example.TARGET])}
                        for i in rows.index[:100]]
            assert http.post("/outcomes", json=outcomes).json() == {"queued": 100}
            logger = app.state.logger
        assert logger.stats.labels_sent == 100
        deadline = time.monotonic() + 60
        while True:
            metrics = client.window(name, 0)["metrics"]
            if metrics.get("performance.labelled_rows") == 100:
                break
            assert time.monotonic() < deadline, metrics
            time.sleep(0.1)
        assert 0.5 < metrics["performance.roc_auc"] <= 1.0
        assert 0.0 <= metrics["estimated.roc_auc"] <= 1.0  # kept beside the realized one


def test_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("serving_fastapi", "app.py")
    with pytest.raises(SystemExit) as done:
        example.main(["--help"])
    assert done.value.code == 0
    assert "--driftwise-url" in capsys.readouterr().out
