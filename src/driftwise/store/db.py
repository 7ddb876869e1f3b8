"""Opening the store: the engine, its transactions, and the migrations applied on start.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``, so a committed
transaction survives a crash of the process and of the machine; writes take the database
lock at ``BEGIN IMMEDIATE`` so two writers queue instead of failing half-way. PostgreSQL is
used through psycopg 3. Migrations run under a lock (an advisory lock on PostgreSQL, a file
lock beside the SQLite file) so several servers starting together migrate once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from driftwise.errors import ConfigError, StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 847_011  # the advisory-lock key of driftwise migrations on PostgreSQL


def default_url(data_dir: Path) -> str:
    """The embedded store: ``driftwise.db`` in ``data_dir``."""
    return f"sqlite:///{(data_dir / 'driftwise.db').resolve()}"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///…`` or ``postgresql+psycopg://…``)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"DRIFTWISE_DATABASE_URL: cannot read {url!r} as a database URL, "
                          "e.g. postgresql+psycopg://user@host/db") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigError("DRIFTWISE_DATABASE_URL: the store needs a SQLite file, not an "
                              "in-memory database")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False,
                                                     "timeout": 30},
                               pool_size=8, max_overflow=8)
        _sqlite_setup(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(parsed, pool_size=8, max_overflow=8, pool_pre_ping=True)
        except ModuleNotFoundError:
            raise ConfigError("PostgreSQL needs psycopg 3: pip install 'driftwise[postgres]'"
                              ) from None
    raise ConfigError(f"DRIFTWISE_DATABASE_URL: driftwise stores data in SQLite or "
                      f"PostgreSQL, not {backend!r}")


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # transactions are begun below, explicitly
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       "busy_timeout=30000"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextlib.contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction, committed on leaving (rolled back on an exception).

    On SQLite the writers of every process queue on a lock file beside the database
    before ``BEGIN IMMEDIATE``: a writer that finds SQLite's lock taken sleeps 1, 2, 5,
    10, 15… ms between tries (its busy handler), so one held for 8 ms cost a waiter some
    18 ms; on the lock file it goes on at most a fraction of a millisecond after release.
    """
    with _sqlite_writer(engine), engine.connect().execution_options(write=True) as conn, \
            conn.begin():
        yield conn


class _WriterLock:
    """One SQLite file's writers: a lock for this process's threads, then ``flock`` on
    ``<db>-writer.lock`` for the processes (the lock goes with its holder's death)."""

    def __init__(self, path: str) -> None:
        self.path, self.owner = path, os.getpid()
        self.threads = threading.RLock()
        self.fd: int | None = None
        self.depth = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if not self.threads.acquire(timeout=_WRITER_WAIT_S):
            raise StoreError(f"no write access to {self.path} for {_WRITER_WAIT_S:g} s: "
                             "another writer of this process holds it")
        try:
            if self.depth == 0:
                self._flock()
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
                if self.depth == 0 and self.fd is not None:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()

    def _flock(self) -> None:
        if self.fd is None:
            self.fd = os.open(self.path + "-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        deadline, pause = time.monotonic() + _WRITER_WAIT_S, 0.0002
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(f"no write access to {self.path} for "
                                     f"{_WRITER_WAIT_S:g} s: another process holds it"
                                     ) from None
                time.sleep(pause)
                pause = min(2 * pause, 0.002)


_WRITER_WAIT_S = 30.0
_WRITERS: dict[str, _WriterLock] = {}
_WRITERS_LOCK = threading.Lock()


def _sqlite_writer(engine: Engine) -> contextlib.AbstractContextManager[None]:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return contextlib.nullcontext()
    path = os.path.abspath(engine.url.database)
    with _WRITERS_LOCK:
        lock = _WRITERS.get(path)
        if lock is None or lock.owner != os.getpid():  # a forked child has its own
            lock = _WRITERS[path] = _WriterLock(path)
    return lock.held()


@contextlib.contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read transaction (a consistent snapshot)."""
    with engine.connect() as conn, conn.begin():
        yield conn


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this driftwise."""
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    """The migration the database is at (``None``: not created)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_ID})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_ID})
                conn.commit()
        return
    database = engine.url.database
    assert database is not None
    with open(f"{database}.migrate-lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the database to the head migration (a no-op when it is there)."""
    from alembic import command

    try:
        with _migration_lock(engine), engine.connect() as conn:
            if current_revision(conn) == head_revision():
                return
            conn.rollback()
            with conn.begin():
                command.upgrade(_alembic_config(conn), "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the store at {_safe(engine)}: "
                         f"{str(getattr(exc, 'orig', None) or exc).splitlines()[0]}") from None


def _safe(engine: Engine) -> str:
    """The URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def ready(engine: Engine) -> tuple[bool, str]:
    """Whether the store answers and is at the head migration, and why not."""
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
    except (SQLAlchemyError, OSError) as exc:
        return False, f"store unreachable: {type(exc).__name__}"
    if revision != head_revision():
        return False, f"store at migration {revision}, expected {head_revision()}"
    return True, "ok"


def ensure_dir(path: Path) -> None:
    """Create the data directory (private to the user)."""
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700)
