"""The staff desk's reporting pages: records officers see what the regulator must still hear
of, make a batch, download it and mark it sent; they chase revoked certificates back; the
home page warns of what is overdue. Other roles may not."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlmodel import Session, select

from certdesk.store import events
from certdesk.store.db import session_scope
from certdesk.store.models import CertificateReturn, ReportItem
from tests.shipped import SHIPPED
from tests.web.staff.conftest import MAIN, logged


@pytest.fixture
def ledger(engine, certificate_row):
    """MAIN issued 2026-03-15 (report due 2026-03-20) and revoked 2026-06-01."""
    with session_scope(engine) as s:
        events.append(s, "certificate.issued", MAIN, {"issue_date": date(2026, 3, 15)}, "ivy",
                      profiles=SHIPPED)
        events.append(s, "certificate.revoke", MAIN,
                      {"on": date(2026, 6, 1), "reason": "违规使用证书"}, "ivy", profiles=SHIPPED)
    return MAIN


def _items(engine) -> list[ReportItem]:
    with Session(engine) as s:
        return list(s.exec(select(ReportItem).order_by(ReportItem.id)))


def test_only_records_officers_and_admins_see_the_reporting_pages(signed_in, ledger):
    assert signed_in("issuer").get("/staff/reporting").status_code == 403
    assert signed_in("issuer").get("/staff/returns").status_code == 403
    page = signed_in("records_officer").get("/staff/reporting")
    assert page.status_code == 200
    assert page.text.count("已逾期") == 2 and "违规使用证书" in page.text


def test_a_batch_is_made_downloaded_as_xlsx_and_marked_sent(signed_in, ledger, engine):
    from openpyxl import load_workbook

    rhea = signed_in("records_officer")
    assert rhea.post("/staff/reporting/export").status_code == 303
    got = rhea.get("/staff/reporting/batches/1.xlsx")
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(got.content))["上报清单"].iter_rows(values_only=True))
    assert [(r[1], r[12]) for r in rows[1:]] == [(MAIN, "issued"), (MAIN, "revoked")]
    assert rhea.get("/staff/reporting/batches/1.pdf").status_code == 404

    assert rhea.post("/staff/reporting/batches/1/sent").status_code == 303
    assert [(i.status, i.sent_by, i.batch_id) for i in _items(engine)] == [("sent", "rhea", 1)] * 2
    assert logged(engine, "report.sent")[0].actor == "rhea"
    page = rhea.get("/staff/reporting").text
    assert "没有待报送的事项" in page
    again = rhea.post("/staff/reporting/batches/1/sent")
    assert again.status_code == 409 and "已报送" in again.text


def test_exporting_with_nothing_to_report_says_so(signed_in, certificate_row):
    page = signed_in("admin").post("/staff/reporting/export")
    assert page.status_code == 409 and "没有待报送的事项" in page.text


def test_a_revoked_certificate_is_recorded_returned_from_the_returns_page(
        signed_in, ledger, engine):
    rhea = signed_in("records_officer")
    assert MAIN in rhea.get("/staff/returns").text
    refused = rhea.post("/staff/returns/record", {"numbers": MAIN, "on": "2026-05-01",
                                                  "how": "邮寄收回"})
    assert refused.status_code == 400 and "早于" in refused.text
    forged = rhea.post("/staff/returns/record", {"numbers": MAIN, "on": "2026-06-10",
                                                 "how": "邮寄收回"}, csrf="forged")
    assert forged.status_code == 403
    done = rhea.post("/staff/returns/record", {"numbers": MAIN, "on": "2026-06-10",
                                               "how": "邮寄收回", "outcome": "returned"})
    assert done.status_code == 303
    with Session(engine) as s:
        row = s.exec(select(CertificateReturn)).one()
    assert (row.status, row.closed_on, row.recorded_by) == ("returned", date(2026, 6, 10), "rhea")
    assert "没有待收回的证书" in rhea.get("/staff/returns").text


def test_the_home_page_warns_of_overdue_reports_and_certificates_not_returned(
        signed_in, ledger):
    home = signed_in("records_officer").get("/staff/").text
    assert "2 项认监委报送已逾期" in home and "1 张撤销或注销的证书尚未收回" in home
    assert 'href="/staff/reporting"' in home
    issuer_home = signed_in("issuer").get("/staff/").text
    assert "2 项认监委报送已逾期" in issuer_home and 'href="/staff/reporting"' not in issuer_home
