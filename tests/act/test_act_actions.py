"""Response actions against a real loopback HTTP server, files and commands: dry run,
retries on 5xx and timeouts, no retry on 4xx, once per incident (also across a restart via
the ledger file)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from driftwise.act.actions import ActionLedger, ActionSpec, run_action
from driftwise.errors import ConfigError


class _Receiver(BaseHTTPRequestHandler):
    plan: ClassVar[list[int]] = []  # status codes to answer, in order (then 200)
    seen: ClassVar[list[dict[str, Any]]] = []
    slow_s: ClassVar[float] = 0.0

    def _answer(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        type(self).seen.append({"method": self.command, "body": body,
                                "key": self.headers.get("idempotency-key")})
        if type(self).slow_s:
            time.sleep(type(self).slow_s)
        status = type(self).plan.pop(0) if type(self).plan else 200
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.plan, _Receiver.seen, _Receiver.slow_s = [], [], 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/rollback"
    server.shutdown()
    server.server_close()


def test_a_webhook_retries_5xx_then_runs_once_per_incident(receiver: str) -> None:
    _Receiver.plan = [503, 502]
    ledger = ActionLedger()
    spec = ActionSpec("rollback", "webhook", url=receiver, retries=3, backoff_s=0.01)
    result = run_action(spec, 7, ledger, {"alert": "accuracy"})
    assert (result.status, result.attempts) == ("done", 3)
    assert [s["key"] for s in _Receiver.seen] == ["7:rollback"] * 3
    assert _Receiver.seen[0]["body"]["context"] == {"alert": "accuracy"}
    again = run_action(spec, 7, ledger)
    assert again.status == "duplicate" and again.first["status"] == "done"
    assert len(_Receiver.seen) == 3  # nothing sent the second time
    assert run_action(spec, 8, ledger).status == "done"  # another incident acts


def test_a_4xx_is_not_retried_and_a_slow_receiver_times_out(receiver: str) -> None:
    _Receiver.plan = [400]
    refused = run_action(ActionSpec("rollback", "webhook", url=receiver, retries=3,
                                    backoff_s=0.01), 1, ActionLedger())
    assert (refused.status, refused.attempts) == ("failed", 1) and "HTTP 400" in refused.detail
    _Receiver.slow_s = 0.5
    slow = run_action(ActionSpec("rollback", "webhook", url=receiver, retries=1, backoff_s=0.01,
                                 timeout_s=0.1), 2, ActionLedger())
    assert (slow.status, slow.attempts) == ("failed", 2) and "Timeout" in slow.detail


def test_dry_run_does_nothing_but_records(receiver: str, tmp_path: Path) -> None:
    ledger = ActionLedger(tmp_path / "actions.jsonl")
    result = run_action(ActionSpec("rollback", "webhook", url=receiver, dry_run=True), 3, ledger)
    assert result.status == "dry_run" and "would POST" in result.detail
    assert _Receiver.seen == []
    # The ledger file survives a restart: the action is not run again for incident 3.
    reopened = ActionLedger(tmp_path / "actions.jsonl")
    assert run_action(ActionSpec("rollback", "webhook", url=receiver), 3,
                      reopened).status == "duplicate"
    assert _Receiver.seen == []


def test_feature_flags_in_a_file_and_over_http(receiver: str, tmp_path: Path) -> None:
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({"other": 1}))
    done = run_action(ActionSpec("disable model", "flag_file", path=str(flags),
                                 flag="use_model_v2", value=False), 4, ActionLedger())
    assert done.status == "done"
    assert json.loads(flags.read_text()) == {"other": 1, "use_model_v2": False}
    run_action(ActionSpec("canary off", "flag_http", url=receiver, flag="canary", value=0),
               4, ActionLedger())
    assert _Receiver.seen[-1]["method"] == "PUT"
    assert _Receiver.seen[-1]["body"] == {"flag": "canary", "value": 0, "incident": "4"}


def test_a_retraining_command(tmp_path: Path) -> None:
    marker = tmp_path / "retrained"
    code = (f"import os, pathlib; pathlib.Path({str(marker)!r}).write_text("
            "os.environ['DRIFTWISE_INCIDENT'] + ' ' + os.environ['DRIFTWISE_ACTION'])")
    done = run_action(ActionSpec("retrain", "command", argv=(sys.executable, "-c", code)),
                      5, ActionLedger())
    assert done.status == "done" and marker.read_text() == "5 retrain"
    failing = run_action(ActionSpec("retrain", "command", argv=(sys.executable, "-c",
                                                               "raise SystemExit(3)"),
                                    retries=1, backoff_s=0.01), 6, ActionLedger())
    assert (failing.status, failing.attempts) == ("failed", 2) and "exit 3" in failing.detail


def test_bad_specs_are_named() -> None:
    with pytest.raises(ConfigError, match="'r' \\(webhook\\) needs url"):
        ActionSpec("r", "webhook")
    with pytest.raises(ConfigError, match="url must be http"):
        ActionSpec("r", "webhook", url="file:///etc/passwd")
    with pytest.raises(ConfigError, match="kind must be one of"):
        ActionSpec("r", "email")  # type: ignore[arg-type]
