"""Shared fixtures: where the project's real data sets live, small synthetic tables."""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

# Under ``pytest -n``, each worker is one of the machine's cores. OpenMP (scikit-learn's
# gradient boosting) and OpenBLAS would otherwise start a thread per core in every worker
# and spin-wait against each other: on a 2-core machine a 10 s model fit took 80 s. The
# environment reaches libraries loaded later and the CLIs and servers the tests start;
# threadpoolctl limits those already loaded (a plugin imports NumPy before this file).
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _THREADS = str(max(len(os.sched_getaffinity(0)) // _WORKERS, 1))
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, _THREADS)
    threadpool_limits(limits=int(os.environ["OMP_NUM_THREADS"]))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """Path of a file in ../shared/data; tests using it need the shared folder beside the repo."""
    return SHARED_DATA / relative


needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason="../shared/data (the project's real data sets) is absent"
)


def load_example(name: str, script: str = "run.py") -> ModuleType:
    """``examples/<name>/<script>`` as a module (the examples are scripts, not a package)."""
    path = REPO / "examples" / name / script
    spec = importlib.util.spec_from_file_location(f"{name}_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered, as an import would: Pydantic and FastAPI resolve annotations through it.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def make_pair(n_ref: int = 2000, n_cur: int = 2000, shift: float = 0.0, seed: int = 0) -> (
    tuple[pd.DataFrame, pd.DataFrame]
):
    """A reference/current pair; ``shift`` moves ``x_shift`` and the ``cat_shift`` mix."""
    rng = np.random.default_rng(seed)

    def frame(n: int, s: float) -> pd.DataFrame:
        p = np.array([0.5, 0.3, 0.2]) + s * np.array([-0.3, 0.0, 0.3])
        return pd.DataFrame({
            "x_shift": rng.normal(s, 1.0, n),
            "x_same": rng.lognormal(0.0, 1.0, n),
            "cat_shift": rng.choice(["a", "b", "c"], n, p=p / p.sum()),
            "cat_same": rng.choice(["u", "v"], n),
            "code": rng.integers(0, 4, n),
        })

    return frame(n_ref, 0.0), frame(n_cur, shift)


@pytest.fixture
def drifted_pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_pair(shift=1.0, seed=1)


@pytest.fixture
def same_pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_pair(shift=0.0, seed=2)


# -- a real `driftwise serve` -------------------------------------------------------------
# ``live_server`` (the URL of a fresh server), ``start_server`` (a factory for tests that
# kill, restart or configure servers) and ``live_server_session`` (one server shared by a
# whole run; give each test its own model names). Every server is a child process
# ``python -m driftwise serve`` on a free loopback port, stopped by its own PID.

# One OpenMP thread: the evaluator's scikit-learn models otherwise spin on every core,
# which on a small shared machine (or under pytest -n) makes each server crawl.
SERVE_DEFAULTS = {"DRIFTWISE_EVALUATOR": "thread", "DRIFTWISE_POLL_INTERVAL_S": "0.1",
                  "OMP_NUM_THREADS": "1"}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 (now; a server started on it soon is very likely to
    get it, and ``launch_server`` retries when it does not)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A ``driftwise serve`` child process."""

    url: str
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    started: list[LiveServer] | None = None  # where restarts are recorded (for cleanup)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        """What the server wrote (stdout and stderr)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (a clean shutdown), SIGKILL after ``timeout`` s; the exit status
        (uvicorn re-raises SIGTERM once it has shut down cleanly: -15, or -9 when killed)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return self.kill()
        self._reap_group()
        return int(self.process.returncode)

    def kill(self) -> int:
        """SIGKILL (a crash); the exit status."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reap_group()
        return int(self.process.returncode)

    def group(self) -> list[int]:
        """Live processes of the server's group (the server, its evaluator process,
        multiprocessing's tracker); exited ones that nobody reaped yet are not counted."""
        found = []
        for entry in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = entry.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.pid and fields[0] not in ("Z", "X"):
                    found.append(int(entry.parent.name))
        return found

    def _reap_group(self) -> None:
        # The server runs in a session of its own (its id is the server's PID): whatever it
        # spawned goes with it (the evaluator exits with its parent; this waits for that).
        deadline = time.monotonic() + 5.0
        while self.group():
            if time.monotonic() > deadline:
                for pid in self.group():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    def restart(self, env: dict[str, str | None] | None = None,
                ready_timeout: float = 60.0) -> LiveServer:
        """A new server on the same port and data dir (stop or kill this one first)."""
        if self.alive():
            self.stop()
        merged: dict[str, str | None] = {**self.env, **(env or {})}
        return launch_server(self.data_dir, port=self.port, env=merged,
                             ready_timeout=ready_timeout, started=self.started)


_LOGS = itertools.count()


def launch_server(data_dir: Path, *, port: int | None = None,
                  env: dict[str, str | None] | None = None,
                  ready_timeout: float = 60.0, wait: bool = True,
                  started: list[LiveServer] | None = None) -> LiveServer:
    """Start ``python -m driftwise serve`` on loopback over ``data_dir`` and wait for
    /readyz. ``env`` adds to (``None``: removes from) the defaults: no ``DRIFTWISE_*``
    variable of this process, the evaluator in a thread, polling every 0.1 s, one OpenMP
    thread (``SERVE_DEFAULTS``). The server is
    appended to ``started`` (and so is every restart of it)."""
    import httpx

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    chosen: dict[str, str] = {k: v for k, v in os.environ.items()
                              if not k.startswith("DRIFTWISE_")}
    chosen.update(SERVE_DEFAULTS)
    for key, value in (env or {}).items():
        if value is None:
            chosen.pop(key, None)
        else:
            chosen[key] = value
    own_port = port is None
    for _attempt in range(3):
        bound = free_port() if own_port else port
        assert bound is not None
        log_path = data_dir.parent / f"{data_dir.name}.serve-{bound}-{next(_LOGS)}.log"
        with log_path.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "driftwise", "serve", "--host", "127.0.0.1",
                 "--port", str(bound), "--data-dir", str(data_dir)],
                env=chosen, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                cwd=data_dir.parent, start_new_session=True)
        server = LiveServer(f"http://127.0.0.1:{bound}", bound, data_dir, log_path, process,
                            chosen, started)
        if started is not None:
            started.append(server)
        if not wait:
            return server
        deadline = time.monotonic() + ready_timeout
        while server.alive() and time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/readyz", timeout=2.0).status_code == 200:
                    return server
            time.sleep(0.05)
        if server.alive():
            server.kill()
            raise TimeoutError(f"driftwise serve not ready after {ready_timeout:g} s:\n"
                               f"{server.log()[-3000:]}")
        server.stop()
        if not (own_port and "address already in use" in server.log().lower()):
            raise RuntimeError(f"driftwise serve exited with {server.process.returncode}:\n"
                               f"{server.log()[-3000:]}")
    raise RuntimeError("driftwise serve found no free port in 3 tries")


@pytest.fixture
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        Callable[..., LiveServer]]:
    """A factory: ``start_server(env=None, data_dir=None, port=None, ready_timeout=60,
    wait=True) -> LiveServer`` (``.url``, ``.pid``, ``.port``, ``.data_dir``, ``.stop()``,
    ``.kill()``, ``.restart()``, ``.log()``). Every server it started is stopped at the
    end of the test (also those made by ``restart``)."""
    started: list[LiveServer] = []

    def start(env: dict[str, str | None] | None = None, data_dir: Path | None = None,
              port: int | None = None, ready_timeout: float = 60.0,
              wait: bool = True) -> LiveServer:
        folder = data_dir if data_dir is not None else \
            tmp_path_factory.mktemp("driftwise-serve") / "data"
        return launch_server(folder, port=port, env=env, ready_timeout=ready_timeout,
                             wait=wait, started=started)

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture
def live_server(start_server: Callable[..., LiveServer]) -> str:
    """The base URL of a fresh ``driftwise serve`` (its own data dir), stopped after."""
    return start_server().url


@pytest.fixture(scope="session")
def live_server_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of one ``driftwise serve`` for the whole run (use unique model names)."""
    server = launch_server(tmp_path_factory.mktemp("driftwise-serve-session") / "data")
    try:
        yield server.url
    finally:
        server.stop()


# --doctest-modules would import every conftest.py as a module named "conftest" to look
# for doctests, and the second one clashes with the first; they hold no doctests.
collect_ignore_glob = ["conftest.py", "*/conftest.py"]
