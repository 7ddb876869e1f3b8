"""The Flask serving example, run as its README says (``main()``), against a real
``driftwise serve``: it registers the model, every prediction reaches the service with
its latency and trace context, stopping the server flushes the logger, and windows are
evaluated."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest
import werkzeug.serving

from driftwise.client import Client
from tests.conftest import SHARED_DATA, load_example


@contextlib.contextmanager
def running(example: ModuleType, argv: list[str],
            monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The example's ``main(argv)`` in a thread, as ``python app.py`` runs it; its URL.
    At the end its server is shut down, as Ctrl-C would: ``main`` then closes the logger."""
    servers: list[Any] = []

    def make_server(*args: Any, **kwargs: Any) -> Any:
        servers.append(werkzeug.serving.make_server(*args, **kwargs))
        return servers[-1]

    monkeypatch.setattr(example, "make_server", make_server)
    failed: list[BaseException] = []

    def run() -> None:
        try:
            example.main(argv)
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not servers:
        assert not failed and thread.is_alive(), failed
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{servers[0].port}"
    finally:
        servers[0].shutdown()
        thread.join(timeout=60)
    assert not failed and not thread.is_alive(), failed


def test_main_serves_logs_every_prediction_and_windows_are_evaluated(
        live_server_session: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("serving_flask", "app.py")
    frame, source = example.load_data()
    assert ("NOAA" in source) == SHARED_DATA.is_dir()
    name = f"{example.MODEL}-{uuid.uuid4().hex[:8]}"
    argv = ["--driftwise-url", live_server_session, "--model", name, "--port", "0",
            "--window-rows", "100"]
    with running(example, argv, monkeypatch) as url:
        traces = example.replay(url, frame.tail(300).reset_index(drop=True), 300)
        bad = httpx.post(f"{url}/predict", json={"dew_point": "warm"},
                         headers={"x-request-id": "oops", "traceparent": "not-a-trace"})
        assert bad.status_code == 400 and bad.json()["id"] == "oops"
        health = httpx.get(f"{url}/healthz").json()
        assert health["logger"]["queued"] == 301
    printed = capsys.readouterr().out
    # The logger was closed on the way out and had sent everything.
    assert f"registered {name}" in printed and "'sent': 301" in printed, printed
    assert "'dropped': 0" in printed and "'rejected': 0" in printed, printed

    with Client(live_server_session) as client:
        model = client.model(name)
        assert model["records"] == 301 and model["reference_version"] == 1
        assert model["config"]["windows"] == {"rows": 100, "min_rows": 50}
        windows = client.wait_windows(name, 3, timeout=60)
        assert [w["status"] for w in windows[:3]] == ["ok"] * 3
        first = client.window(name, 0)
        metrics = first["metrics"]
        assert 0 < metrics["estimated.mae"] <= metrics["estimated.rmse"]
        assert metrics["ops.latency_ms.p50"] > 0 and metrics["ops.error_share"] == 0.0
        sample = first["evidence"]["sample"]
        assert sample and all(traces[s["id"]] == s["trace"] for s in sample)
        # Registered once: a second start finds the model and uploads nothing.
        assert example.ensure_registered(client, frame.head(0), name) is False


def test_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example("serving_flask", "app.py")
    with pytest.raises(SystemExit) as done:
        example.main(["--help"])
    assert done.value.code == 0
    assert "--driftwise-url" in capsys.readouterr().out
