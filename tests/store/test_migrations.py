"""The schema is Alembic's: upgrades from empty and from older databases, models and
migrations agree, and the store works the same on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from certdesk.services.audit import audit
from certdesk.store.db import (
    current_revision,
    head_revision,
    include_object,
    init_db,
    make_engine,
    session_scope,
)
from certdesk.store.events import verify_chain
from certdesk.store.records import Filing, add_record, find_records
from tests.conftest import replay_schema
from tests.shipped import SHIPPED
from tests.store.conftest import make_pdf, make_uscc

pytestmark = pytest.mark.migrations


def differences(conn):
    """Where the database's schema differs from the models."""
    ctx = MigrationContext.configure(conn, opts={"include_object": include_object,
                                                 "compare_type": True})
    return compare_metadata(ctx, SQLModel.metadata)


def test_the_numbered_head_is_alembics_head_and_history_is_one_line():
    from alembic.script import ScriptDirectory

    from certdesk.store.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [head_revision()]


def test_an_empty_database_is_upgraded_to_the_head_and_matches_the_models(empty_engine):
    init_db(empty_engine)
    with empty_engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert differences(conn) == []
        assert conn.execute(text("SELECT seq, hash FROM loghead")).one() == (0, "0" * 64)


def test_the_suites_schema_template_replays_exactly_what_alembic_makes(tmp_path,
                                                                      _schema_template):
    """The fast tier's fresh SQLite databases are replayed from a template
    (tests/conftest.py)."""
    migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    init_db(migrated)
    replayed = make_engine("sqlite://")
    with replayed.begin() as conn:
        replay_schema(conn, _schema_template)

    def schema(engine):
        with engine.connect() as conn:
            return (sorted(conn.exec_driver_sql("SELECT type, name, sql FROM sqlite_master")),
                    {t: sorted(conn.exec_driver_sql(f'SELECT * FROM "{t}"'))
                     for t in inspect(conn).get_table_names()})

    assert schema(replayed) == schema(migrated)


def test_a_database_at_the_first_revision_keeps_its_data_through_the_upgrade(empty_engine):
    init_db(empty_engine, "0001")
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO record (sha256, size, record_type, filename, media_type, "
                          "created) VALUES (:h, 1, 'report', 'r.pdf', 'application/pdf', "
                          "CURRENT_TIMESTAMP)"), {"h": "a" * 64})
    init_db(empty_engine)
    with session_scope(empty_engine) as s:
        (row,) = find_records(s, record_type="report")
        assert (row.sha256, row.client_uscc, row.disposed_at) == ("a" * 64, None, None)


def test_a_database_made_before_migrations_is_adopted_not_recreated(empty_engine):
    init_db(empty_engine, "0001")
    with empty_engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))  # what create_all used to leave
    init_db(empty_engine)
    with empty_engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert inspect(conn).has_table("disposal")


def test_concurrent_first_runs_migrate_once(empty_engine):
    errors = []

    def run():
        try:
            init_db(empty_engine)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with empty_engine.connect() as conn:
        assert current_revision(conn) == head_revision()


def test_records_are_stored_logged_and_audited_the_same_way(empty_engine, settings, store):
    init_db(empty_engine)
    with session_scope(empty_engine) as s:
        row, new = add_record(s, store, settings, make_pdf("pg"), record_type="contract",
                              filename="c.pdf",
                              filing=Filing(SHIPPED.get("zpic"), make_uscc(7), None, None),
                              signer="kid", actor="test")
    assert new
    with session_scope(empty_engine) as s:
        report = audit(s, store, SHIPPED)
        assert report.ok and report.records == 1, report.as_dict()
        assert verify_chain(s).head_seq == 1


def test_suspended_certificates_get_their_period_from_the_log_when_upgraded(empty_engine):
    """0005 (i15) moves the suspension period from the event data into typed columns."""
    init_db(empty_engine, "0002")
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO organisation (id, uscc, name, registered_address, created) "
                          "VALUES (1, :u, 'o', 'a', CURRENT_TIMESTAMP)"), {"u": make_uscc(1)})
        for number, status in (("N1", "suspended"), ("N2", "valid")):
            conn.execute(text(
                "INSERT INTO certificate (number, profile, organisation_id, cycle, holder_name, "
                "scope, sites_json, decision_date, issue_date, effective_from, expiry_date, "
                "status, status_changed, created) VALUES (:n, 'xbht', 1, 0, 'o', 's', '[]', "
                "'2026-01-01', '2026-01-01', '2026-01-01', '2028-12-31', :st, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"n": number, "st": status})
        for seq, (number, until) in enumerate((("N1", "2027-03-09"), ("N2", "2026-08-01"),
                                               ("N1", "2027-04-09")), start=1):
            conn.execute(text(
                "INSERT INTO event (seq, at, kind, subject, actor, data, prev_hash, hash) "
                "VALUES (:seq, CURRENT_TIMESTAMP, 'certificate.suspend', :n, 't', :d, 'x', 'y')"),
                {"seq": seq, "n": number,
                 "d": f'{{"on": "2027-01-10", "until": "{until}"}}'})
    init_db(empty_engine)
    with empty_engine.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT number, suspended_until FROM certificate ORDER BY number")).all())
    assert {k: str(v) if v else None for k, v in rows.items()} == {"N1": "2027-04-09",
                                                                   "N2": None}


def test_a_status_outside_the_stored_ones_is_refused_by_the_database(empty_engine):
    """0007 (s16state) keeps ``certificate.status`` to its five stored values (CHECK)."""
    init_db(empty_engine)
    insert = text(
        "INSERT INTO certificate (number, profile, organisation_id, cycle, holder_name, "
        "scope, sites_json, decision_date, issue_date, effective_from, expiry_date, "
        "status, status_changed, created) VALUES (:n, 'xbht', 1, 0, 'o', 's', '[]', "
        "'2026-01-01', '2026-01-01', '2026-01-01', '2028-12-31', :st, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO organisation (id, uscc, name, registered_address, "
                          "created) VALUES (1, :u, 'o', 'a', CURRENT_TIMESTAMP)"),
                     {"u": make_uscc(1)})
        conn.execute(insert, {"n": "N1", "st": "superseded"})
    with pytest.raises(IntegrityError, match="ck_certificate_status"), \
            empty_engine.begin() as conn:
        conn.execute(insert, {"n": "N2", "st": "expired"})


def test_a_desk_whose_staff_tables_create_all_made_keeps_them_and_its_accounts(empty_engine):
    """0009 (s16state) puts the staff tables under Alembic; a desk that already has them
    (``create_all`` made them before) keeps them, rows and all."""
    from certdesk.store.staff import StaffUser

    init_db(empty_engine, "0008")
    staff = [t for t in SQLModel.metadata.sorted_tables if t.name.startswith("staff")]
    SQLModel.metadata.create_all(empty_engine, tables=staff)  # what ensure_tables did
    with session_scope(empty_engine) as s:
        s.add(StaffUser(name="adam", role="admin", password_hash="x"))
    init_db(empty_engine)
    with empty_engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert differences(conn) == []
        assert conn.execute(text("SELECT name FROM staffuser")).scalars().all() == ["adam"]


def test_an_empty_database_gets_the_staff_tables_from_the_migrations(empty_engine):
    init_db(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert {"staffuser", "staffsession", "stafflogincounter", "staffosuser",
            "staffpasswordreset"} <= tables
