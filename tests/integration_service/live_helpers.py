"""Real ``driftwise serve`` processes for the live tests: start, wait, kill, clean up.

Each server runs in its own session (process group), its output goes to a log file that a
failing test prints, and :meth:`LiveServer.close` kills whatever is left of it by its ids.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from driftwise.client import Client

MODEL_COLUMNS = {"probabilities": "proba", "target": "label"}


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc; empty when it is gone)."""
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
                out += [int(p) for p in text.split()]
    return out


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class LiveServer:
    """One ``python -m driftwise serve`` subprocess on a free loopback port."""

    def __init__(self, data_dir: Path, log_path: Path, *, env: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        self.data_dir, self.log_path = data_dir, log_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTWISE_")}
        # A short lease: a server restarted after a SIGKILL takes over within seconds.
        self.env.update({"DRIFTWISE_POLL_INTERVAL_S": "0.1", "DRIFTWISE_LEASE_S": "5",
                         **(env or {})})
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.seen_children: set[int] = set()

    def start(self, timeout: float = 60.0) -> LiveServer:
        """Start it and wait until /readyz answers."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "driftwise", "serve", "--host", "127.0.0.1",
             "--port", str(self.port), "--data-dir", str(self.data_dir)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        with Client(self.url, timeout=2.0) as client:
            while not client.ready():
                if self.process.poll() is not None:
                    raise RuntimeError(f"driftwise serve exited {self.process.returncode}:"
                                       f"\n{self.log_tail()}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {timeout} s:\n{self.log_tail()}")
                time.sleep(0.05)
        self.seen_children.update(children(self.process.pid))
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def client(self, timeout: float = 30.0) -> Client:
        return Client(self.url, timeout=timeout)

    def log_tail(self, chars: int = 4000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def sigkill(self, children_timeout: float = 15.0) -> list[int]:
        """SIGKILL the server (only the server's pid) and wait for it; returns its children
        that were still alive ``children_timeout`` seconds later (they should die with it)."""
        assert self.process is not None
        kids = set(children(self.pid)) | self.seen_children
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + children_timeout
        while time.monotonic() < deadline and any(alive(k) for k in kids):
            time.sleep(0.05)
        return [k for k in kids if alive(k)]

    def sigterm(self, timeout: float = 45.0) -> int:
        """SIGTERM (a clean shutdown); returns the exit code (uvicorn re-raises the signal
        after its graceful shutdown, so a clean stop is ``-SIGTERM``)."""
        assert self.process is not None
        self.seen_children.update(children(self.pid))
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def close(self) -> None:
        """Kill what is left of this server (its process group and children, by id)."""
        if self.process is None:
            return
        kids = set(children(self.pid)) | self.seen_children
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        for kid in kids:
            if alive(kid):
                with contextlib.suppress(OSError):
                    os.kill(kid, signal.SIGKILL)


def reference(n: int = 3000, seed: int = 0) -> pa.Table:
    """A labelled reference: two numeric features, one categorical, a probability."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    p = 1 / (1 + np.exp(-x[:, 0]))
    y = (rng.random(n) < p).astype(int)
    return pa.table({"a": x[:, 0], "b": x[:, 1], "c": np.where(x[:, 2] > 0, "u", "v"),
                     "proba": p, "label": y})


def records(prefix: str, n: int, *, seed: int = 1, shift: float = 0.0, t0: float = 1.7e9,
            start: int = 0) -> list[dict[str, Any]]:
    """``n`` JSON records with ids ``{prefix}{start}`` ..., explicit timestamps one second
    apart (so every metric is a function of the data alone), ``a`` shifted by ``shift``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    p = 1 / (1 + np.exp(-x[:, 0]))
    return [{"id": f"{prefix}{start + i}",
             "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + start + i)),
             "features": {"a": float(x[i, 0] + shift), "b": float(x[i, 1]),
                          "c": "u" if x[i, 2] > 0 else "v"},
             "probabilities": float(p[i]), "latency_ms": float(1 + (i % 7))}
            for i in range(n)]


def register(client: Client, name: str, config: dict[str, Any] | None = None,
             seed: int = 0) -> None:
    """Register ``name`` with the reference of ``seed``."""
    client.register_model(name, task="binary", columns=MODEL_COLUMNS,
                          config=config or {"windows": {"rows": 1000}})
    client.upload_reference(name, reference(seed=seed))
