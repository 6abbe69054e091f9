"""Engine and sessions. SQLite file by default, PostgreSQL by URL.

SQLite write transactions start with ``BEGIN IMMEDIATE`` so that two processes never both
read and then fail to upgrade; the busy timeout lets concurrent issuers queue instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from archive import models  # noqa: F401 - registers the tables
from common.settings import get_settings


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine)
    # The log head row exists before any append, so appends only ever UPDATE it.
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO loghead (id, seq, hash) VALUES (1, 0, :h) "
                          "ON CONFLICT DO NOTHING"), {"h": "0" * 64})


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    engine = make_engine(url or get_settings().db_url)
    init_db(engine)
    return engine


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
