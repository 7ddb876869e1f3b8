"""Prometheus and Alertmanager for the service demo, when they are installed.

The demo starts its own servers on free loopback ports, with configurations written to
its scratch folder: Prometheus scrapes the demo service's ``/metrics`` (with a ``metrics``
key) and evaluates the shipped rules (``deploy/prometheus/rules``, when the demo runs from
a checkout), and Alertmanager receives driftwise's alerts through its route. Both are
stopped by their own PID. Nothing is installed here: :func:`how_to_install` says how.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Stack", "free_port", "how_to_install", "installed", "stop_process"]

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules" / \
    "driftwise.rules.yml"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary(*names: str) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


def installed() -> dict[str, str | None]:
    """The Prometheus and Alertmanager binaries found on PATH (``None``: missing)."""
    return {"prometheus": _binary("prometheus"),
            "alertmanager": _binary("prometheus-alertmanager", "alertmanager")}


def how_to_install() -> str:
    """What to run to get them (Debian's packages, as ``make test`` installs them)."""
    return ("sudo apt-get install prometheus prometheus-alertmanager (or: bash "
            "scripts/ensure-prometheus.sh), then run `make demo` again")


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Stack:
    """The demo's Prometheus and Alertmanager (either may be absent)."""

    folder: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    alertmanager_url: str | None = None
    prometheus_url: str | None = None

    def start_alertmanager(self, binary: str) -> str:
        """Start Alertmanager; its base URL."""
        folder = self.folder / "alertmanager"
        folder.mkdir(parents=True, exist_ok=True)
        # One receiver that notifies nobody: the demo reads the alerts from the API.
        (folder / "alertmanager.yml").write_text(
            "route:\n  receiver: demo\n  group_by: [alertname, model]\n"
            "  group_wait: 1s\n  group_interval: 5s\nreceivers:\n  - name: demo\n")
        port = free_port()
        self.processes.append(self._spawn(folder, [
            binary, f"--config.file={folder / 'alertmanager.yml'}",
            f"--storage.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address="]))
        self.alertmanager_url = f"http://127.0.0.1:{port}"
        _wait_http(f"{self.alertmanager_url}/-/ready", self.processes[-1])
        return self.alertmanager_url

    def start_prometheus(self, binary: str, target: str, metrics_key: str) -> str:
        """Start Prometheus scraping ``target`` (host:port) with ``metrics_key``; its URL."""
        folder = self.folder / "prometheus"
        folder.mkdir(parents=True, exist_ok=True)
        key_file = folder / "metrics.key"
        key_file.write_text(metrics_key)
        key_file.chmod(0o600)
        lines = ["global:", "  scrape_interval: 2s", "  evaluation_interval: 2s"]
        if RULES.is_file():
            lines += ["rule_files:", f"  - {RULES}"]
        if self.alertmanager_url:
            lines += ["alerting:", "  alertmanagers:", "    - static_configs:",
                      f"        - targets: ['{self.alertmanager_url.removeprefix('http://')}']"]
        lines += ["scrape_configs:", "  - job_name: driftwise",
                  "    authorization:", f"      credentials_file: {key_file}",
                  "    static_configs:", f"      - targets: ['{target}']"]
        (folder / "prometheus.yml").write_text("\n".join(lines) + "\n")
        port = free_port()
        self.processes.append(self._spawn(folder, [
            binary, f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}"]))
        self.prometheus_url = f"http://127.0.0.1:{port}"
        _wait_http(f"{self.prometheus_url}/-/ready", self.processes[-1])
        return self.prometheus_url

    @staticmethod
    def _spawn(folder: Path, argv: list[str]) -> subprocess.Popen[bytes]:
        with open(folder / "server.log", "wb") as log:  # the child keeps its own copy
            return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds (its v2 API)."""
        import httpx

        if self.alertmanager_url is None:
            return []
        found: list[dict[str, Any]] = httpx.get(f"{self.alertmanager_url}/api/v2/alerts",
                                                timeout=5).json()
        return found

    def prometheus_query(self, query: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        import httpx

        if self.prometheus_url is None:
            return []
        answer = httpx.get(f"{self.prometheus_url}/api/v1/query", params={"query": query},
                           timeout=5).json()
        result: list[dict[str, Any]] = answer.get("data", {}).get("result", [])
        return result

    def stop(self) -> None:
        """Stop every server started, by its PID."""
        for process in reversed(self.processes):
            stop_process(process)
        self.processes.clear()


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    """Stop a server by its PID: SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
