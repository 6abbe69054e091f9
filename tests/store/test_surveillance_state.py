"""One source for the surveillance state: the products each surveillance covered and
whether its report is archived are columns of ``surveillance``, written with their log
entries; the due list reads them; ``log verify``/``archive audit`` name a column the log
does not bear out; migration 0010 fills them from a real log."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, select

from certdesk.services.cycle import due_list, record_surveillance
from certdesk.services.issuing import Issuer
from certdesk.store.db import alembic_config, current_revision, init_db
from certdesk.store.models import Surveillance
from certdesk.store.state import Disagreement, disagreements
from tests.conftest import run_cli
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED

PRODUCTS = ("空调", "冰箱", "洗衣机")
REPORT_SHA = "ab" * 32


@pytest.fixture
def history(keyed_home, converter, today):
    """A CACQ certificate of three products; its first surveillance (air conditioners and
    fridges) recorded without its report, the report archived later; the second (air
    conditioners) with its report."""
    today(date(2026, 3, 15))
    with Issuer(SHIPPED.get("cacq"), pool=converter) as cacq:
        number = cacq.issue(replace(TWO_SITES, products=PRODUCTS))[0].number
        today(date(2027, 3, 1))
        record_surveillance(cacq.engine, cacq.profiles, number, date(2027, 3, 1),
                            products="1、冰箱")
        with Session(cacq.engine) as s:
            assert [r.report for r in s.exec(select(Surveillance))] == ["pending"]
        record_surveillance(cacq.engine, cacq.profiles, number, date(2027, 3, 1),
                            keep=lambda s, cert: REPORT_SHA)
        today(date(2028, 3, 1))
        record_surveillance(cacq.engine, cacq.profiles, number, date(2028, 3, 1),
                            products="空调", keep=lambda s, cert: REPORT_SHA)
        yield cacq.engine, number


def _rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(map(str, r)) for r in conn.execute(text(
            "SELECT certificate_number, number, held_on, sites_json, products_json, report, "
            "event_seq FROM surveillance ORDER BY certificate_number, number"))]


def test_products_and_report_state_are_stored_with_their_log_entries(history):
    engine, number = history
    with Session(engine) as s:
        rows = list(s.exec(select(Surveillance).order_by(Surveillance.number)))
        assert disagreements(s, SHIPPED) == []
    assert [(json.loads(r.products_json), r.report) for r in rows] == [
        (["空调", "冰箱"], "archived"), (["空调"], "archived")]


def test_the_due_list_reads_the_surveillance_rows(history):
    engine, number = history
    ((kind, warning),) = [(i.kind, i.warning) for i in due_list(engine, SHIPPED,
                                                                 date(2028, 4, 1))
                          if i.number == number and i.warning]
    assert kind == "coverage" and "洗衣机" in warning
    with engine.begin() as conn:  # the rows, not the log, are what the due list reads
        conn.execute(text("UPDATE surveillance SET products_json = :p WHERE number = 2"),
                      {"p": json.dumps(["洗衣机"], ensure_ascii=False)})
    assert not [i for i in due_list(engine, SHIPPED, date(2028, 4, 1)) if i.warning]


def test_a_pending_report_is_owed_on_the_due_list_until_it_is_archived(keyed_home, converter,
                                                                       today):
    today(date(2026, 3, 15))
    with Issuer(SHIPPED.get("cacq"), pool=converter) as cacq:
        number = cacq.issue(TWO_SITES)[0].number
        today(date(2027, 3, 1))
        record_surveillance(cacq.engine, cacq.profiles, number, date(2027, 3, 1))
        owed = [i for i in due_list(cacq.engine, SHIPPED, date(2027, 3, 2))
                if i.number == number and i.kind == "report"]
        record_surveillance(cacq.engine, cacq.profiles, number, date(2027, 3, 1),
                            keep=lambda s, cert: REPORT_SHA)
        after = [i for i in due_list(cacq.engine, SHIPPED, date(2027, 3, 2))
                 if i.number == number and i.kind == "report"]
    assert owed and not after


def test_log_verify_and_the_audit_name_a_surveillance_column_changed_behind_the_logs_back(
        history, keyed_home):
    engine, number = history
    with engine.begin() as conn:
        conn.execute(text("UPDATE surveillance SET report = 'pending', products_json = '[]' "
                          "WHERE number = 1"))
    with Session(engine) as s:
        assert disagreements(s, SHIPPED) == [
            Disagreement(number, "surveillance.products_json", [[], ["空调"]],
                         [["空调", "冰箱"], ["空调"]]),
            Disagreement(number, "surveillance.report", ["pending", "archived"],
                         ["archived", "archived"])]
    verify = run_cli("log", "verify", "--json", home=keyed_home)
    assert verify.returncode == 1
    assert {d["column"] for d in json.loads(verify.stdout)["state"]} == {
        "surveillance.products_json", "surveillance.report"}
    audit = run_cli("archive", "audit", "--json", home=keyed_home)
    assert audit.returncode == 1 and "surveillance.report" in audit.stdout


def test_migration_0013_fills_the_columns_from_the_log_and_downgrades(history):
    engine, _ = history
    before = _rows(engine)
    with engine.begin() as conn:  # back to the previous head: the columns are gone
        command.downgrade(alembic_config(conn), "0012")
    with engine.connect() as conn:
        assert current_revision(conn) == "0012"
        columns = list(conn.execute(text("SELECT * FROM surveillance LIMIT 1")).keys())
        assert "products_json" not in columns and "report" not in columns
    init_db(engine)
    assert _rows(engine) == before
    with Session(engine) as s:
        assert disagreements(s, SHIPPED) == []
