"""Current state lives in typed columns written with their log entries; the migration that
introduced them fills them from a real log; ``log verify`` and ``archive audit`` name a
column changed behind the log's back."""

from __future__ import annotations

import json
from datetime import date

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from certdesk.domain.status import CertStatus
from certdesk.services.cycle import Changes, recertify, record_surveillance, reissue, sweep
from certdesk.services.issuing import Issuer
from certdesk.services.transitions import change_status
from certdesk.store.db import alembic_config, current_revision, init_db
from certdesk.store.models import Certificate, Surveillance
from certdesk.store.state import disagreements
from tests.conftest import run_cli
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED

pytestmark = pytest.mark.office

MAIN = "027326FWF0001R000"
NEW = "027329FWF0001R100"


def make_history(issuer: Issuer, today) -> None:
    """Issue (main and two subs), a surveillance visiting site 2, a suspension and its
    restoration, a re-issue that removes site 2 (its sub cancelled), re-certification (the
    old certificates superseded) and a suspension of the new main that stays."""
    today(date(2026, 3, 15))
    issuer.issue(TWO_SITES)
    today(date(2027, 2, 1))
    record_surveillance(issuer.engine, issuer.profiles, MAIN, date(2027, 2, 1), sites=(2,))
    today(date(2027, 5, 1))
    change_status(issuer, MAIN, "suspend", "监督审查发现不符合")
    today(date(2027, 5, 10))
    change_status(issuer, MAIN, "restore", "整改完成")
    today(date(2027, 6, 1))
    reissue(issuer, MAIN, Changes(removed_sites=(2,)), "场所二停业")
    today(date(2029, 2, 20))
    recertify(issuer, MAIN, date(2029, 2, 20))
    change_status(issuer, NEW, "suspend", "投诉核实")


STATE = "SELECT number, status, status_reason, suspended_on, suspended_until, superseded_by, " \
        "next_surveillance_due FROM certificate ORDER BY number"
HELD = "SELECT certificate_number, number, held_on, sites_json, event_seq FROM surveillance " \
       "ORDER BY certificate_number, number"


def snapshot(engine: Engine) -> tuple[list, list]:
    with engine.connect() as conn:
        return ([tuple(map(str, r)) for r in conn.execute(text(STATE))],
                [tuple(map(str, r)) for r in conn.execute(text(HELD))])


@pytest.fixture
def issuer(settings, pool):
    with Issuer(SHIPPED.get("xbht"), pool=pool) as iss:
        yield iss


@pytest.fixture
def history_engine(empty_engine, settings):
    init_db(empty_engine)
    return empty_engine


def test_the_columns_agree_with_the_log_and_the_migration_rebuilds_them_from_it(
        history_engine, pool, today):
    with Issuer(SHIPPED.get("xbht"), engine=history_engine, pool=pool) as issuer:
        make_history(issuer, today)
    with Session(history_engine) as s:
        assert disagreements(s, SHIPPED) == []
        rows = {c.number: c for c in s.exec(select(Certificate))}
        held = list(s.exec(select(Surveillance)))
    old, new = rows[MAIN], rows[NEW]
    assert (old.status, old.superseded_by, rows[f"{MAIN}-1"].superseded_by) == (
        CertStatus.SUPERSEDED, NEW, NEW)
    assert rows[f"{MAIN}-2"].status == CertStatus.CANCELLED  # withdrawn by the re-issue
    assert (new.status, new.suspended_on) == (CertStatus.SUSPENDED, date(2029, 2, 20))
    assert new.suspended_until is not None and new.next_surveillance_due is not None
    assert old.next_surveillance_due is not None and old.next_surveillance_due > date(2027, 2, 1)
    assert rows[f"{MAIN}-1"].next_surveillance_due is None  # a sub has no surveillance of its own
    assert [(h.certificate_number, h.number, h.held_on, json.loads(h.sites_json))
            for h in held] == [(MAIN, 1, date(2027, 2, 1), [2])]
    before = snapshot(history_engine)

    with history_engine.begin() as conn:  # back to the previous head: the columns are gone
        command.downgrade(alembic_config(conn), "0007")
    with history_engine.connect() as conn:
        assert current_revision(conn) == "0007"
        columns = list(conn.execute(text("SELECT * FROM certificate LIMIT 1")).keys())
        assert "superseded_by" not in columns and "next_surveillance_due" not in columns
    init_db(history_engine)

    assert snapshot(history_engine) == before
    with Session(history_engine) as s:
        assert disagreements(s, SHIPPED) == []


def test_the_sweep_suspends_from_the_due_date_column(issuer, today):
    today(date(2026, 3, 15))
    issuer.issue(TWO_SITES)
    with Session(issuer.engine) as s:
        due = s.exec(select(Certificate.next_surveillance_due)
                     .where(Certificate.number == MAIN)).one()
    today(due)
    assert sweep(issuer, due) == []  # due that day, not yet overdue
    later = date.fromordinal(due.toordinal() + 1)
    today(later)
    (action,) = sweep(issuer, later)
    assert (action.number, action.action) == (MAIN, "suspend")
    assert action.reason == f"第1次监督审查逾期（应于{due}前完成）"


TAMPERED = {(MAIN, "status"): "UPDATE certificate SET status = 'revoked' WHERE number = :m",
            (f"{MAIN}-1", "superseded_by"):
                "UPDATE certificate SET superseded_by = 'X' WHERE number = :m || '-1'",
            (NEW, "suspended_until"):
                "UPDATE certificate SET suspended_until = '2030-01-01' WHERE number = :n",
            (NEW, "next_surveillance_due"):
                "UPDATE certificate SET next_surveillance_due = NULL WHERE number = :n",
            (MAIN, "surveillance"): "DELETE FROM surveillance WHERE certificate_number = :m"}


def test_columns_changed_behind_the_logs_back_are_named_by_log_verify_and_archive_audit(
        issuer, today, home):
    make_history(issuer, today)
    for r in (run_cli("log", "verify", "--json", home=home),
              run_cli("archive", "audit", "--json", home=home)):
        assert r.returncode == 0 and json.loads(r.stdout)["state"] == [], r.stdout + r.stderr
    with issuer.engine.begin() as conn:
        for sql in TAMPERED.values():
            conn.execute(text(sql), {"m": MAIN, "n": NEW})
    for command_ in (("log", "verify"), ("archive", "audit")):
        r = run_cli(*command_, "--json", home=home)
        assert r.returncode == 1, r.stdout + r.stderr
        state = json.loads(r.stdout)["state"]
        assert {(d["number"], d["column"]) for d in state} == set(TAMPERED)
        assert {(d["column"], d["stored"], d["logged"]) for d in state
                if d["column"] in ("status", "superseded_by")} == {
            ("status", "revoked", "superseded"), ("superseded_by", "X", NEW)}
        human = run_cli(*command_, home=home)
        assert human.returncode == 1
        for number, column in TAMPERED:
            assert f"{number} {column} is" in human.stdout
