"""Fixtures of the store and API tests: every test runs on SQLite and on PostgreSQL.

PostgreSQL is a throwaway server run by pytest-postgresql's executor (the process behind
its ``postgresql_proc`` fixture), started once per session (per xdist worker) from the
local binaries on a free loopback port, and stopped by its own pid (``pg_ctl stop``) at the
end. ``scripts/ensure-postgres.sh`` finds those binaries, installing Debian's
``postgresql`` when they are missing. Each test gets a database of its own.

PostgreSQL refuses to run as root, and the tests run as root on the project's machines:
then pg_ctl is called through a two-line wrapper that runs it as the postgres user, and the
server's directory (data, socket, log) is a private directory of postgres's in /tmp. It
cannot live under pytest's basetemp as ``postgresql_proc`` puts it: every pytest session
that starts resets /tmp/pytest-of-root to 0700, and the server, no longer able to reach its
own files, panics.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import port_for
import pytest
from fastapi.testclient import TestClient
from pytest_postgresql.executors import PostgreSQLExecutor
from service_helpers import ServiceFactory

from driftwise.config.settings import ServiceSettings
from driftwise.service.server import build_app
from driftwise.store import open_store

REPO = Path(__file__).resolve().parents[2]
ENSURE_POSTGRES = REPO / "scripts" / "ensure-postgres.sh"
PG_OS_USER = "postgres"
# Durability is not under test against PostgreSQL here: no flushes to disk.
PG_OPTIONS = ("-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
              "-c listen_addresses=127.0.0.1")
_databases = itertools.count()


def _pg_ctl() -> str:
    """The real pg_ctl (installing PostgreSQL first when it is missing)."""
    found = subprocess.run(["bash", str(ENSURE_POSTGRES)], capture_output=True, text=True,
                           timeout=900)
    if found.returncode != 0 or not found.stdout.strip():
        pytest.fail(f"scripts/ensure-postgres.sh failed:\n{found.stderr}", pytrace=False)
    return found.stdout.strip().splitlines()[-1]


def _as_postgres(pg_ctl: str, directory: Path) -> str:
    """A pg_ctl that runs the real one as the postgres user (a root-owned script)."""
    wrapper = directory / "pg_ctl"
    wrapper.write_text("#!/bin/sh\n"
                       "cd / || exit 1  # the caller's directory may be closed to postgres\n"
                       f'exec runuser -u {PG_OS_USER} -- "{pg_ctl}" "$@"\n')
    wrapper.chmod(stat.S_IRWXU)
    return str(wrapper)


def _wait_until_accepting(server: PostgreSQLExecutor, timeout: float = 60.0) -> None:
    """The port opens before the server accepts sessions ("the database system is
    starting up"): wait for a session."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(**_admin(server)).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _admin(server: PostgreSQLExecutor) -> dict[str, Any]:
    return {"host": server.host, "port": server.port, "user": server.user,
            "dbname": server.maintenance_dbname, "autocommit": True}


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgreSQLExecutor]:
    """The session's PostgreSQL (started on first use, stopped at the end)."""
    pg_ctl = _pg_ctl()
    tools = Path(tempfile.mkdtemp(prefix="driftwise-pgctl-"))
    base = Path(tempfile.mkdtemp(prefix="driftwise-pg-"))
    if os.geteuid() == 0:
        pg_ctl = _as_postgres(pg_ctl, tools)
        shutil.chown(base, PG_OS_USER)
    server = PostgreSQLExecutor(
        executable=pg_ctl, host="127.0.0.1", port=port_for.get_port(None) or 0,
        datadir=str(base / "data"), unixsocketdir=str(base),
        logfile=str(base / "postgresql.log"), startparams="-w", dbname="tests",
        postgres_options=PG_OPTIONS)
    try:
        server.start()
        _wait_until_accepting(server)
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(tools, ignore_errors=True)


@contextlib.contextmanager
def _database(server: PostgreSQLExecutor, template: str | None = None) -> Iterator[str]:
    """A new database on ``server`` (a copy of ``template``), dropped on leaving; its URL."""
    import psycopg

    name = f"dw_{os.getpid()}_{next(_databases)}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(**_admin(server)) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield f"postgresql+psycopg://{server.user}@{server.host}:{server.port}/{name}"
    finally:
        with psycopg.connect(**_admin(server)) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrated(url: str) -> None:
    open_store(url).dispose()


@pytest.fixture(scope="session")
def postgresql_template(postgresql_server: PostgreSQLExecutor) -> Iterator[str]:
    """A database migrated to the head, the template of each test's (a copy is 3x faster
    than migrating)."""
    with _database(postgresql_server) as url:
        _migrated(url)
        yield url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated to the head, copied for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "driftwise.db"
    _migrated(f"sqlite:///{path}")
    return path


@pytest.fixture
def postgresql_url(postgresql_server: PostgreSQLExecutor,
                   postgresql_template: str) -> Iterator[str]:
    """A new database at the head migration on the session's server (dropped after)."""
    with _database(postgresql_server, postgresql_template) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store's database URL, at the head migration and empty: a SQLite file in
    ``tmp_path``, or a database of its own on the session's PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "store" / "driftwise.db"
        path.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgresql_url")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def new_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Like ``store_url`` but never migrated: no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new' / 'driftwise.db'}"
        return
    with _database(request.getfixturevalue("postgresql_server")) as url:
        yield url


@pytest.fixture
def make_service(store_url: str, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceFactory]:
    """``make_service(**settings)``: a started TestClient over the service on ``store_url``
    with a thread evaluator (stopped at the end of the test)."""
    for name in list(os.environ):
        if name.startswith("DRIFTWISE_") and name != "DRIFTWISE_REAL_PG_CTL":
            monkeypatch.delenv(name)
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        values: dict[str, Any] = {"data_dir": tmp_path / "data", "database_url": store_url,
                                  "evaluator": "thread", "poll_interval_s": 0.05}
        client = TestClient(build_app(ServiceSettings(**{**values, **overrides})))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def service(make_service: ServiceFactory) -> TestClient:
    """A started TestClient over the service (default settings)."""
    return make_service()
