"""The reporting ledger with real documents: every event the regulator must hear of leaves
exactly one report item — also when the transaction that logs it fails half-way and is run
again — and revocations and cancellations open a return to chase."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from certdesk.common.errors import InputError, NotFound
from certdesk.services.cycle import Changes, recertify, record_surveillance, reissue, sweep
from certdesk.services.inputs import OrganisationInput
from certdesk.services.transitions import change_status
from certdesk.store import ledger, reporting
from certdesk.store.db import session_scope
from certdesk.store.models import Certificate, CertificateReturn, Event, ReportItem
from tests.services.conftest import TWO_SITES
from tests.shipped import SHIPPED

ONE_SITE = OrganisationInput(
    name="另一家公司", uscc="91440300MA5FQ1R27X", registered_address="深圳",
    scope="通信设备的维修", decision_date=date(2026, 3, 10), grade="达标级")


def _items(engine) -> list[ReportItem]:
    with Session(engine) as s:
        return list(s.exec(select(ReportItem).order_by(ReportItem.id)))


def _ledger(engine) -> list[tuple[str, str, date]]:
    return [(i.certificate_number, i.event_kind, i.event_date) for i in _items(engine)]


def _reported_events(engine) -> list[tuple[int, str]]:
    with Session(engine) as s:
        rows = s.exec(select(Event).where(Event.kind.in_(tuple(ledger.REPORTED)))
                      .order_by(Event.seq))
        return [(e.seq, e.subject) for e in rows]


def _returns(engine) -> list[CertificateReturn]:
    with Session(engine) as s:
        return list(s.exec(select(CertificateReturn).order_by(CertificateReturn.id)))


def test_each_event_of_a_whole_cycle_yields_exactly_one_report_item(issuer, today):
    main, sub1, sub2 = (c.number for c in issuer.issue(TWO_SITES))
    change_status(issuer, main, "suspend", "未按期接受监督审查", on=today(date(2027, 1, 5)))
    change_status(issuer, main, "restore", "纠正措施已验证", on=today(date(2027, 2, 1)))
    reissue(issuer, main, Changes(name="测试家电服务（集团）有限公司"), "名称变更",
            on=today(date(2027, 5, 6)))
    change_status(issuer, sub2, "cancel", "场所关闭", on=today(date(2027, 6, 1)))
    new_main, *new_subs = (c.number for c in recertify(issuer, main,
                                                         today(date(2029, 2, 20))))
    change_status(issuer, new_main, "revoke", "违规使用证书", on=today(date(2029, 4, 1)))

    issued = [(n, "issued", date(2026, 3, 15)) for n in (main, sub1, sub2)]
    assert _ledger(issuer.engine) == [
        *issued,
        *((n, "suspended", date(2027, 1, 5)) for n in (main, sub1, sub2)),
        *((n, "restored", date(2027, 2, 1)) for n in (main, sub1, sub2)),
        *((n, "reissued", date(2027, 5, 6)) for n in (main, sub1, sub2)),
        (sub2, "cancelled", date(2027, 6, 1)),
        *((n, "recertified", date(2029, 2, 20)) for n in (new_main, *new_subs)),
        *((n, "revoked", date(2029, 4, 1)) for n in (new_main, *new_subs)),
    ]
    # one item per logged event, each pointing at its own entry of the hash-chained log
    assert [(i.event_seq, i.certificate_number) for i in _items(issuer.engine)] == \
        _reported_events(issuer.engine)
    items = _items(issuer.engine)
    assert items[0].main_number is None and items[1].main_number == main
    assert items[0].due_date == date(2026, 3, 20)  # xbht [reporting] due_days = 5
    assert items[9].reason == "名称变更"
    # what must come back: the cancelled site's certificate and the revoked ones
    assert [(r.certificate_number, r.event_kind, r.status) for r in _returns(issuer.engine)] \
        == [(sub2, "cancelled", "outstanding"),
            *((n, "revoked", "outstanding") for n in (new_main, *new_subs))]


def test_the_sweep_run_twice_reports_an_expiry_once(issuer, today):
    other = issuer.issue(ONE_SITE)[0].number
    record_surveillance(issuer.engine, issuer.profiles, other, today(date(2027, 1, 1)))
    record_surveillance(issuer.engine, issuer.profiles, other, today(date(2027, 12, 1)))
    assert [a.action for a in sweep(issuer, today(date(2029, 3, 11)))] == ["expire"]
    assert sweep(issuer, date(2029, 3, 11)) == []
    assert _ledger(issuer.engine) == [(other, "issued", date(2026, 3, 10)),
                                      (other, "expired", date(2029, 3, 11))]
    assert _items(issuer.engine)[1].reason == "有效期至 2029-03-09"


def test_a_revocation_that_fails_half_way_leaves_no_item_and_its_rerun_leaves_one_each(
        issuer, monkeypatch, today):
    today(date(2026, 6, 1))
    numbers = [c.number for c in issuer.issue(TWO_SITES)]
    import certdesk.services.transitions as transitions

    real_void, calls = transitions.void, []

    def void_then_crash(s, number, why):
        calls.append(number)
        if len(calls) == 2:  # the main certificate's event is logged; its first sub's is not
            raise RuntimeError("simulated crash")
        real_void(s, number, why)

    monkeypatch.setattr(transitions, "void", void_then_crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        change_status(issuer, numbers[0], "revoke", "违规使用证书", on=date(2026, 6, 1))
    assert [k for _, k, _ in _ledger(issuer.engine)] == ["issued"] * 3
    assert _returns(issuer.engine) == []
    monkeypatch.setattr(transitions, "void", real_void)

    change_status(issuer, numbers[0], "revoke", "违规使用证书", on=date(2026, 6, 1))
    revoked = [n for n, k, _ in _ledger(issuer.engine) if k == "revoked"]
    assert revoked == numbers
    assert [r.certificate_number for r in _returns(issuer.engine)] == numbers


def test_an_issue_that_fails_after_logging_leaves_no_item_and_the_retry_leaves_one_each(
        issuer, monkeypatch):
    def crash(filename):
        raise RuntimeError("disk full")

    monkeypatch.setattr(issuer, "out_path", crash)  # runs after the main's event was appended
    with pytest.raises(RuntimeError):
        issuer.issue(TWO_SITES)
    assert _items(issuer.engine) == []
    monkeypatch.undo()
    numbers = [c.number for c in issuer.issue(TWO_SITES)]
    assert [(n, k) for n, k, _ in _ledger(issuer.engine)] == [(n, "issued") for n in numbers]


def test_the_ledger_refuses_a_second_item_for_the_same_event(issuer):
    issuer.issue(ONE_SITE)
    first = _items(issuer.engine)[0]
    with pytest.raises(IntegrityError), session_scope(issuer.engine) as s:
        s.add(ReportItem(**first.model_dump(exclude={"id"})))


def test_backfill_restores_the_items_of_events_logged_before_the_ledger_only_once(issuer,
                                                                                    today):
    today(date(2026, 6, 1))
    numbers = [c.number for c in issuer.issue(TWO_SITES)]
    change_status(issuer, numbers[2], "cancel", "场所关闭", on=date(2026, 6, 1))
    before = _ledger(issuer.engine)
    with session_scope(issuer.engine) as s:  # an archive from before the ledger existed
        s.execute(text("DELETE FROM reportitem"))
        s.execute(text("DELETE FROM certificatereturn"))
    with session_scope(issuer.engine) as s:
        assert ledger.backfill(s, SHIPPED) == (4, 1)
    with session_scope(issuer.engine) as s:
        assert ledger.backfill(s, SHIPPED) == (0, 0)
    assert _ledger(issuer.engine) == before
    assert [r.certificate_number for r in _returns(issuer.engine)] == [numbers[2]]


def test_a_return_is_recorded_once_and_never_before_the_revocation(issuer, today):
    today(date(2026, 6, 1))
    main, sub1, sub2 = (c.number for c in issuer.issue(TWO_SITES))
    change_status(issuer, main, "revoke", "违规使用证书", on=date(2026, 6, 1))
    with session_scope(issuer.engine) as s, pytest.raises(InputError, match="早于"):
        reporting.record_return(s, [main], date(2026, 5, 1), "邮寄", "rhea")
    with session_scope(issuer.engine) as s:
        reporting.record_return(s, [main, sub1], date(2026, 6, 20), "邮寄收回", "rhea")
        reporting.record_return(s, [sub2], date(2026, 7, 1), "公司网站公告作废", "rhea",
                                outcome="declared_void")
    with session_scope(issuer.engine) as s, pytest.raises(NotFound, match="没有待收回"):
        reporting.record_return(s, [main], date(2026, 6, 21), "邮寄", "rhea")
    assert [(r.certificate_number, r.status, r.closed_on, r.recorded_by)
            for r in _returns(issuer.engine)] == [
        (main, "returned", date(2026, 6, 20), "rhea"),
        (sub1, "returned", date(2026, 6, 20), "rhea"),
        (sub2, "declared_void", date(2026, 7, 1), "rhea")]
    with Session(issuer.engine) as s:
        assert reporting.returns(s) == []
        kinds = [e.kind for e in s.exec(select(Event).where(Event.subject == sub2))]
        status = s.exec(select(Certificate.status).where(Certificate.number == sub2)).one()
    assert kinds[-1] == "certificate.declared_void" and status == "revoked"
