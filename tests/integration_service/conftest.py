"""Fixtures of the live-service tests: a throwaway PostgreSQL, and servers that are always
cleaned up (killed by their ids) when a test ends, passed or failed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_helpers import LiveServer, free_port

REPO = Path(__file__).resolve().parents[2]
ENSURE_POSTGRES = REPO / "scripts" / "ensure-postgres.sh"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _pg_bin() -> Path:
    """Where initdb and pg_ctl are: scripts/ensure-postgres.sh says (installing them when
    missing), else Debian's PostgreSQL 15."""
    if ENSURE_POSTGRES.exists():
        found = subprocess.run(["bash", str(ENSURE_POSTGRES)], capture_output=True,
                               text=True, timeout=900)
        if found.returncode == 0 and found.stdout.strip():
            return Path(found.stdout.strip().splitlines()[-1]).parent
    return PG_BIN


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@pytest.fixture(scope="session")
def postgres() -> Iterator[dict[str, Any]]:
    """A PostgreSQL cluster of its own on a free loopback port (initdb + pg_ctl), stopped by
    its postmaster's pid at the end of the session. The binaries are installed by
    scripts/ensure-postgres.sh when missing; if they still are, the tests fail (a skip
    would hide that the durability and two-server tests never ran).

    Its directory is made in the system's temporary directory, not under pytest's
    (private to root, and reset by any pytest session that starts meanwhile), so that the
    postgres user can reach it when the tests run as root.
    """
    bin_dir = _pg_bin()
    if not (bin_dir / "initdb").exists():
        pytest.fail(f"no PostgreSQL binaries in {bin_dir}: scripts/ensure-postgres.sh "
                    "could not install them")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.fail("running as root without runuser (util-linux) to start PostgreSQL as "
                    "the postgres user")
    base = Path(tempfile.mkdtemp(prefix="driftwise-live-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    port = free_port()
    subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust",
                                 "-U", "postgres", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True, timeout=120)
    options = (f"-F -p {port} -k {base} -c listen_addresses=127.0.0.1 "
               "-c max_connections=200 -c shared_buffers=32MB")
    subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                                 "-l", str(base / "postgres.log"), "-w", "-t", "60",
                                 "start"]), check=True, capture_output=True, timeout=90)
    pid = int((data / "postmaster.pid").read_text().split()[0])
    try:
        yield {"host": "127.0.0.1", "port": port, "user": "postgres"}
    finally:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGINT)  # fast shutdown
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.1)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(postgres: dict[str, Any]) -> str:
    """A fresh, empty database in the session's PostgreSQL; its SQLAlchemy URL."""
    import psycopg

    name = f"dw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=postgres["host"], port=postgres["port"],
                         user=postgres["user"], dbname="postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return (f"postgresql+psycopg://{postgres['user']}@{postgres['host']}:"
            f"{postgres['port']}/{name}")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Any]:
    """``make(data_dir, env=...)``: a not yet started LiveServer, killed at the end."""
    made: list[LiveServer] = []

    def make(data_dir: Path | None = None, env: dict[str, str] | None = None,
             port: int | None = None) -> LiveServer:
        index = len(made)
        server = LiveServer(data_dir or tmp_path / "data", tmp_path / f"server-{index}.log",
                            env=env, port=port)
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed live test shows the tail of each server's log."""
    report = yield
    if report.failed and call.when == "call":
        path = getattr(item, "funcargs", {}).get("tmp_path")
        if path is not None:
            for log in sorted(Path(path).glob("server-*.log")):
                report.sections.append((f"{log.name}", log.read_text(errors="replace")[-3000:]))
    return report
