"""What the service benchmarks share: the data, a server on loopback, a throwaway PostgreSQL.

Not a benchmark itself; ``service_ingest.py``, ``service_latency.py`` and
``service_window.py`` import it (run them from the repository root with driftwise's venv).

The model is a binary classifier with 20 features (15 numeric, 5 categorical, like the
columns of the batch benchmark's tables, generated here so the service benchmarks need no
data files) and a 10,000-row reference; each record carries what ``ModelLogger`` sends: an
id, an ISO 8601 timestamp, the 20 features, the positive-class probability and the model
server's latency.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PG_BIN = Path("/usr/lib/postgresql/15/bin")
ENSURE_PG = ROOT / "scripts" / "ensure-postgres.sh"
ARROW = "application/vnd.apache.arrow.stream"

NUMERIC = [f"num_{i:02d}" for i in range(15)]
CATEGORICAL = [f"cat_{k:02d}" for k in (3, 5, 10, 20, 50)]
FEATURES = NUMERIC + CATEGORICAL


# -- data --------------------------------------------------------------------------------
def _categories(k: int) -> list[str]:
    return [f"c{j}" for j in range(k)]


def feature_columns(n: int, seed: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    """``n`` rows of the 20 features (``shift``: a mean shift of the first three, in sd)."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for i, name in enumerate(NUMERIC):
        kind = i % 5
        if kind == 0:
            x = rng.normal(0.0, 1.0, n)
        elif kind == 1:
            x = rng.lognormal(0.0, 0.5, n)
        elif kind == 2:
            x = rng.uniform(-1.0, 1.0, n)
        elif kind == 3:
            x = rng.exponential(1.0, n)
        else:
            x = rng.poisson(4.0, n).astype(np.float64)
        if i < 3:
            x = x + shift * float(np.std(x) or 1.0)
        out[name] = x
    for name in CATEGORICAL:
        k = int(name.split("_")[1])
        weights = 1.0 / np.arange(1, k + 1)
        out[name] = np.array(_categories(k), dtype=object)[
            rng.choice(k, n, p=weights / weights.sum())]
    return out


def probabilities(cols: dict[str, np.ndarray]) -> np.ndarray:
    """The model's positive-class probability of each row (a logistic of three features)."""
    z = 0.8 * cols["num_00"] - 0.5 * cols["num_02"] + 0.3 * (cols["cat_03"] == "c0")
    return 1.0 / (1.0 + np.exp(-z))


def reference_parquet(n: int = 10_000, seed: int = 1) -> bytes:
    """The reference: features, probability and label, as a Parquet body."""
    cols = feature_columns(n, seed)
    p = probabilities(cols)
    label = (np.random.default_rng(seed + 1).random(n) < p).astype(np.int64)
    table = pa.table({**{k: (pa.array(v) if v.dtype != object else pa.array(v.tolist()))
                         for k, v in cols.items()}, "proba": p, "label": label})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def model_body(name: str, window_rows: int, **checks: Any) -> dict[str, Any]:
    """The registration body of a benchmark model (``checks``: its ``checks:`` section)."""
    config: dict[str, Any] = {"windows": {"rows": window_rows}}
    if checks:
        config["checks"] = checks
    return {"name": name, "task": "binary",
            "columns": {"probabilities": "proba", "target": "label"}, "config": config}


@dataclass
class RecordPool:
    """Pre-generated record payloads; ids are made unique per use by a prefix."""

    rows: list[dict[str, Any]]  # each without "id"
    table: pa.Table  # the same rows as flat columns (the Arrow body), without "id"

    @classmethod
    def make(cls, n: int, seed: int = 2, shift: float = 0.0) -> RecordPool:
        cols = feature_columns(n, seed, shift)
        p = probabilities(cols)
        latency = np.random.default_rng(seed + 7).gamma(2.0, 2.5, n)
        # One record a millisecond, ending now: ISO 8601 with the offset, as ModelLogger.
        micros = (time.time() - n / 1000) * 1e6 + np.arange(n) * 1000
        stamps = pa.array(micros.astype(np.int64), pa.timestamp("us", tz="UTC"))
        iso = [t.isoformat() for t in stamps.to_pylist()]
        feats = [dict(zip(FEATURES, vals, strict=True)) for vals in zip(
            *[cols[f].tolist() for f in FEATURES], strict=True)]
        rows = [{"timestamp": ts, "features": f, "probabilities": float(pi),
                 "latency_ms": float(li)}
                for ts, f, pi, li in zip(iso, feats, p.tolist(), latency.tolist(),
                                         strict=True)]
        table = pa.table({"timestamp": stamps, "probabilities": p, "latency_ms": latency,
                          **{f: (pa.array(cols[f]) if cols[f].dtype != object else
                                 pa.array(cols[f].tolist())) for f in FEATURES}})
        return cls(rows, table)

    def json_template(self, start: int, size: int) -> bytes:
        """A JSON batch body of ``size`` rows from ``start`` whose ids read ``@@-<i>``:
        replace ``@@`` by a unique prefix per send."""
        rows = [{"id": f"@@-{i}", **self.rows[(start + i) % len(self.rows)]}
                for i in range(size)]
        return json.dumps({"records": rows}, separators=(",", ":")).encode()

    def arrow_body(self, start: int, size: int, prefix: str) -> bytes:
        """An Arrow IPC stream body of ``size`` rows with ids ``<prefix>-<i>``."""
        idx = pa.array([(start + i) % self.table.num_rows for i in range(size)], pa.int64())
        table = self.table.take(idx)
        table = table.add_column(0, "id", pa.array([f"{prefix}-{i}" for i in range(size)]))
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue()

    def single(self, i: int, rid: str) -> bytes:
        """One record's JSON body."""
        return json.dumps({"id": rid, **self.rows[i % len(self.rows)]},
                          separators=(",", ":")).encode()


# -- PostgreSQL ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL 15 on a free loopback port; yields its SQLAlchemy URL.

    Runs ``scripts/ensure-postgres.sh`` first when the project has one; the server is run
    as the ``postgres`` user (``runuser``) when we are root, in a temporary directory, and
    stopped by its PID at the end.
    """
    if ENSURE_PG.is_file():
        subprocess.run(["bash", str(ENSURE_PG)], check=False, stdout=subprocess.DEVNULL)
    if not (PG_BIN / "initdb").is_file():
        raise SystemExit(f"PostgreSQL 15 not found in {PG_BIN}")
    root = os.geteuid() == 0
    as_pg = ["runuser", "-u", "postgres", "--"] if root else []
    tmp = Path(tempfile.mkdtemp(prefix="driftwise-bench-pg-"))
    data = tmp / "data"
    if root:
        shutil.chown(tmp, "postgres")
    port = free_port()
    subprocess.run([*as_pg, str(PG_BIN / "initdb"), "-D", str(data), "-U", "bench",
                    "--auth=trust", "-E", "UTF8", "--no-sync"], check=True,
                   stdout=subprocess.DEVNULL)
    log = tmp / "server.log"
    # Durable commits (fsync, synchronous_commit on: the defaults) as in production.
    opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={tmp}"
            " -c max_connections=100 -c shared_buffers=256MB")
    subprocess.run([*as_pg, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log),
                    "-o", opts, "-w", "start"], check=True, stdout=subprocess.DEVNULL)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    try:
        subprocess.run([*as_pg, str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                        "-U", "bench", "driftwise"], check=True)
        yield f"postgresql+psycopg://bench@127.0.0.1:{port}/driftwise"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)  # fast shutdown
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def store_url(backend: str, data_dir: Path) -> Iterator[str | None]:
    """The store URL for ``backend`` (``None``: SQLite in the data dir)."""
    if backend == "sqlite":
        yield None
    elif backend == "postgresql":
        with postgres() as url:
            yield url
    else:
        raise SystemExit(f"--backend: sqlite or postgresql, not {backend!r}")


def reset_postgres(url: str) -> None:
    """Drop every table of the benchmark database (a fresh store for the next run)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# -- the server ----------------------------------------------------------------------------
class Server:
    """``python -m driftwise serve`` on a free loopback port, in its own process group."""

    def __init__(self, data_dir: Path, database_url: str | None, evaluator: str = "off",
                 poll_interval_s: float = 0.2, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DRIFTWISE_EVALUATOR": evaluator,
               "DRIFTWISE_POLL_INTERVAL_S": str(poll_interval_s),
               "DRIFTWISE_WORKERS": str(workers)}
        env.pop("DRIFTWISE_API_KEY", None)
        if database_url:
            env["DRIFTWISE_DATABASE_URL"] = database_url
        else:
            env.pop("DRIFTWISE_DATABASE_URL", None)
        self.log = open(data_dir.parent / f"server-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "driftwise", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--data-dir", str(data_dir)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait()

    def _wait(self, timeout: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"driftwise serve exited with {self.process.returncode}; "
                                 f"see {self.log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"driftwise serve not ready after {timeout:g} s")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's processes (its process group: uvicorn
        workers and the evaluator child too) have used so far."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid:  # the process group
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def wait_quiet(self, timeout: float = 60.0, busy: float = 0.05) -> float:
        """Wait until the server's processes use under ``busy`` of a CPU (the evaluator
        child imports its libraries for some seconds after a start); the seconds waited."""
        start = last = time.monotonic()
        used = self.cpu_seconds()
        calm = 0
        while time.monotonic() - start < timeout and calm < 2:
            time.sleep(0.5)
            now, cpu = time.monotonic(), self.cpu_seconds()
            calm = calm + 1 if cpu - used < busy * (now - last) else 0
            last, used = now, cpu
        return time.monotonic() - start

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def setup_model(url: str, name: str, window_rows: int, reference: bytes,
                **checks: Any) -> None:
    """Register ``name`` (with ``checks``) and upload its reference."""
    import httpx

    with httpx.Client(base_url=url, timeout=120) as http:
        r = http.post("/v1/models", json=model_body(name, window_rows, **checks))
        r.raise_for_status()
        r = http.put(f"/v1/models/{name}/reference", content=reference,
                     headers={"content-type": "application/vnd.apache.parquet"})
        r.raise_for_status()


# -- reporting -----------------------------------------------------------------------------
def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def machine() -> dict[str, Any]:
    """Where it ran (the load average says whether the machine was shared)."""
    from driftwise import __version__

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "driftwise": __version__, "loadavg": [round(x, 2) for x in os.getloadavg()],
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def emit(result: dict[str, Any]) -> None:
    """The one JSON line a benchmark prints."""
    print(json.dumps(result, separators=(",", ":")), flush=True)
