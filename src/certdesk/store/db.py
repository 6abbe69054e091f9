"""Engine and sessions. SQLite file by default, PostgreSQL by URL.

SQLite write transactions start with ``BEGIN IMMEDIATE`` so that two processes never both
read and then fail to upgrade; the busy timeout lets concurrent issuers queue instead.
The schema is Alembic's (``archive/migrations``): ``init_db`` upgrades to the head revision.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.schema import SchemaItem, Table
from sqlmodel import Session, SQLModel, create_engine

from certdesk.common.failures import is_transient
from certdesk.common.files import private_file
from certdesk.common.settings import get_settings
from certdesk.store import jobs, limits, models, staff, staging

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")

READ_ONLY = "certdesk_read_only"
"""Execution option of connections that only read (see ``reader``)."""


def reader(engine: Engine) -> Engine:
    """``engine`` for sessions that never write (the public pages): on SQLite their
    transactions start with a plain ``BEGIN``, so readers neither queue behind writers nor
    behind each other for the write lock."""
    return engine.execution_options(**{READ_ONLY: True})


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url.removeprefix("sqlite:///"))
    return None


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if (path := sqlite_file(url)) is not None:
            private_file(path)  # before SQLite makes it with the umask's mode
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # A reader takes no write lock: WAL gives it a snapshot from its first SELECT.
            read_only = conn.get_execution_options().get(READ_ONLY)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


MIGRATIONS = Path(__file__).with_name("migrations")
ARCHIVE_TABLES = frozenset(
    t.__table__.name for module in (models, staff, jobs, limits, staging)
    for t in vars(module).values()
    if isinstance(t, type) and issubclass(t, SQLModel) and hasattr(t, "__table__"))
"""Every table certdesk keeps: the archive's, the staff desk's (with its staged uploads) and
the shared rate limit's, all under Alembic."""
FIRST_REVISION = "0001"
"""The schema ``create_all`` made before migrations existed: such databases are stamped."""


def include_object(obj: SchemaItem, name: str | None, type_: str, reflected: bool,
                   compare_to: SchemaItem | None) -> bool:
    """Migrations cover certdesk's tables; anything else in the same database is not
    ours to compare."""
    table = obj if isinstance(obj, Table) else getattr(obj, "table", None)
    return table is None or table.name in ARCHIVE_TABLES


def alembic_config(connection: Connection | None = None) -> Config:
    # lazy: alembic costs ~0.5 s to import (measured) and every command opens the database
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    """Revisions are numbered 0001, 0002, … in one line of history (a test checks that this
    is Alembic's head); reading names keeps Alembic's import off every command's start."""
    return max(p.name.split("_", 1)[0]
               for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def init_db(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision``. Concurrent first runs queue on a lock (SQLite's
    write lock, a PostgreSQL advisory lock) and the later ones find nothing to do."""
    target = head_revision() if revision == "head" else revision
    with engine.connect() as conn:
        if current_revision(conn) == target:
            return
    # lazy, as in alembic_config: needed only when the schema is behind
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('certdesk-migrate'))")
        cfg = alembic_config(conn)
        if current_revision(conn) is None and inspect(conn).has_table("loghead"):
            command.stamp(cfg, FIRST_REVISION)
        command.upgrade(cfg, revision)


def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: the settings' database), migrated, one per URL.

    The default is resolved before the cache so a changed CERTDESK_HOME is honoured."""
    return _engine(url or get_settings().db_url)


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    engine = make_engine(url)
    init_db(engine)
    refresh_statistics(engine)
    return engine


def refresh_statistics(engine: Engine) -> None:
    """ANALYZE a SQLite database whose planner statistics are missing or stale (the table
    grew or shrank twofold): without them SQLite cannot tell a selective filter from a
    broad one, and the register's filtered pages go from milliseconds to a table scan.
    PostgreSQL's autovacuum keeps its own."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT max(rowid) FROM certificate").scalar() or 0
        if rows < 1000:
            return
        has_stats = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar()
        stat = conn.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'certificate' LIMIT 1").scalar() \
            if has_stats else None
    known = int(stat.split()[0]) if stat else 0
    if known and known / 2 <= rows <= known * 2:
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)
"""Waits between attempts of a step that met a transient database error (7.7 s in all:
a database restart or a failover fits, a real outage then fails with one clear line)."""


def retrying(step: Callable[[], T], delays: Sequence[float] = RETRY_DELAYS,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """``step()``, again after each transient database error (dropped connection,
    serialization failure, SQLite busy) while ``delays`` last. ``step`` must be a whole
    unit of work (its own transaction), so a retry never repeats half of one."""
    for delay in delays:
        try:
            return step()
        except Exception as exc:
            if not is_transient(exc):
                raise
        sleep(delay)
    return step()
