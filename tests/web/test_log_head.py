"""The log head the certificate page checks its kept answers against is read on a connection
each server thread keeps: it must see every commit made before the read, by any
connection, on SQLite and PostgreSQL alike, and outlive a database server that dropped it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from certdesk.store import events
from certdesk.store.db import init_db, make_engine, session_scope
from certdesk.web.answers import LogHead


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'certdesk.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    if request.param == "postgresql":
        start_clean(engine)
    init_db(engine)
    yield engine
    engine.dispose()


def start_clean(engine) -> None:
    """The session's server is shared: an empty schema (a head connection left in a
    transaction by a failed test would hold its lock: fail, do not wait)."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '10s'"))
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


def append(engine) -> None:
    with session_scope(engine) as s:
        events.append(s, "staff.sweep", "-", {}, "tester")


def test_each_read_sees_every_commit_made_before_it(engine):
    head = LogHead(engine)
    before = head.seq()
    append(make_engine(engine.url.render_as_string(hide_password=False)))  # another writer
    after = head.seq()
    assert after is not None and after == (before or 0) + 1
    append(engine)
    assert head.seq() == after + 1


def test_the_kept_connection_holds_no_pool_slot_and_no_open_transaction(engine):
    head = LogHead(engine)
    head.seq()
    assert engine.pool.checkedout() == 0
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            idle_in_transaction = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' "
                "AND pid <> pg_backend_pid()")).scalar()
        assert idle_in_transaction == 0


@pytest.mark.postgres
def test_a_connection_the_server_dropped_is_replaced_on_the_next_read(postgres_url):
    engine = make_engine(postgres_url)
    start_clean(engine)
    init_db(engine)
    head = LogHead(engine)
    seen = head.seq()
    with engine.connect() as conn:  # what a restart of the server does to it
        dropped = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    assert dropped >= 1
    assert head.seq() == seen
    append(engine)
    assert head.seq() == (seen or 0) + 1
    engine.dispose()
