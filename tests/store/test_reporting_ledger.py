"""The reporting ledger on both databases (rows written directly, no LibreOffice): the log
writes one item per reportable event in the event's transaction, a rolled-back transaction
leaves neither, a second item for one event is refused, and a batch is marked sent once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from certdesk.common.errors import RuleViolation
from certdesk.store import events, ledger, reporting
from certdesk.store.db import init_db, make_engine, session_scope
from certdesk.store.models import Certificate, CertificateReturn, Event, ReportItem
from tests.shipped import SHIPPED
from tests.store.conftest import add_certificate, make_uscc


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    else:
        engine = make_engine(request.getfixturevalue("postgres_url"))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    init_db(engine)
    yield engine
    engine.dispose()


def _kinds(engine) -> list[tuple[str, str, date]]:
    with Session(engine) as s:
        return [(i.certificate_number, i.event_kind, i.due_date)
                for i in s.exec(select(ReportItem).order_by(ReportItem.id))]


def test_reportable_events_get_one_item_each_and_others_none(db):
    number = add_certificate(db, "cacq", make_uscc(1), date(2026, 1, 10), date(2029, 1, 9),
                             logged=False)
    with session_scope(db) as s:
        events.append(s, "certificate.issued", number, {"issue_date": date(2026, 1, 10)},
                      profiles=SHIPPED)
        events.append(s, "certificate.surveillance", number, {"held_on": date(2026, 12, 1)})
        events.append(s, "certificate.superseded", number, {"by": "x"})
        events.append(s, "certificate.cancel", number, {"on": date(2027, 2, 1), "reason": "申请"},
                      profiles=SHIPPED)
    assert _kinds(db) == [(number, "issued", date(2026, 1, 15)),
                          (number, "cancelled", date(2027, 2, 6))]
    with Session(db) as s:
        assert [r.certificate_number for r in s.exec(select(CertificateReturn))] == [number]


def test_an_expiry_logged_for_a_main_certificate_reports_its_sub_certificates_too(db):
    number = add_certificate(db, "xbht", make_uscc(4), date(2026, 1, 10), date(2029, 1, 9),
                             logged=False)
    with session_scope(db) as s:
        main = s.exec(select(Certificate).where(Certificate.number == number)).one()
        for sub, status in ((1, "valid"), (2, "cancelled")):
            s.add(Certificate(**main.model_dump(exclude={"id", "number", "main_number", "sub",
                                                         "status"}),
                              number=f"{number}-{sub}", main_number=number, sub=sub,
                              status=status))
    with session_scope(db) as s:
        events.append(s, "certificate.expired", number, {"on": date(2029, 1, 10)}, "sweep",
                      profiles=SHIPPED)
    assert _kinds(db) == [(number, "expired", date(2029, 1, 15)),
                          (f"{number}-1", "expired", date(2029, 1, 15))]  # -2 was withdrawn
    with session_scope(db) as s:
        s.execute(text("DELETE FROM reportitem"))
        assert ledger.backfill(s, SHIPPED) == (2, 0)
    with session_scope(db) as s:
        assert ledger.backfill(s, SHIPPED) == (0, 0)


def test_a_rolled_back_event_leaves_no_item_and_a_duplicate_is_refused(db):
    number = add_certificate(db, "zpic", make_uscc(2), date(2026, 1, 10), date(2029, 1, 9),
                             logged=False)
    with pytest.raises(RuntimeError), session_scope(db) as s:
        events.append(s, "certificate.revoke", number, {"on": date(2026, 5, 1)}, profiles=SHIPPED)
        raise RuntimeError("crash before the commit")
    with Session(db) as s:
        assert s.exec(select(Event)).all() == []
    assert _kinds(db) == []
    with session_scope(db) as s:
        events.append(s, "certificate.revoke", number, {"on": date(2026, 5, 1)}, profiles=SHIPPED)
    with Session(db) as s:
        item = s.exec(select(ReportItem)).one()
    with pytest.raises(IntegrityError), session_scope(db) as s:
        s.add(ReportItem(**item.model_dump(exclude={"id"})))
    assert len(_kinds(db)) == 1


def test_a_batch_is_marked_sent_once_and_then_leaves_the_next_export(db):
    number = add_certificate(db, "xbht", make_uscc(3), date(2026, 1, 10), date(2029, 1, 9),
                             logged=False)
    with session_scope(db) as s:
        events.append(s, "certificate.issued", number, {"issue_date": date(2026, 1, 10)},
                      profiles=SHIPPED)
    with session_scope(db) as s:
        batch, items = reporting.new_batch(s, "rhea")
    with session_scope(db) as s:
        assert reporting.mark_sent(s, batch.id, "rhea").marked == (items[0].id,)
    with session_scope(db) as s, pytest.raises(RuleViolation, match="已报送"):
        reporting.mark_sent(s, batch.id, "adam")
    with session_scope(db) as s, pytest.raises(RuleViolation, match="没有待报送的事项"):
        reporting.new_batch(s, "rhea")
    with Session(db) as s:
        assert reporting.overdue(s, date(2030, 1, 1)) == []


def test_a_reported_event_appended_without_the_profiles_is_refused_and_nothing_is_logged(db):
    """The ledger's due dates are the caller's profiles' rules, never looked up behind its
    back from the settings."""
    number = add_certificate(db, "cacq", make_uscc(5), date(2026, 1, 10), date(2029, 1, 9),
                             logged=False)
    with pytest.raises(TypeError, match="certificate.revoke is reported"), \
            session_scope(db) as s:
        events.append(s, "certificate.revoke", number, {"on": date(2026, 5, 1)})
    with Session(db) as s:
        assert s.exec(select(Event)).all() == []
    assert _kinds(db) == []
