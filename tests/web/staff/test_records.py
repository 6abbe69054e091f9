"""Records officers file records made elsewhere (scanned signed originals) from the
certificate's page; each is archived write-once and logged as theirs."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from certdesk.store.blobs import BlobStore
from certdesk.store.db import session_scope
from certdesk.store.models import Disposal, Record
from certdesk.store.records import Filing, add_record
from tests.shipped import SHIPPED
from tests.store.conftest import add_certificate, make_pdf, make_uscc
from tests.web.staff.conftest import MAIN, logged


def test_a_records_officer_files_scans_under_a_certificate_as_themself(signed_in, engine,
                                                                        certificate_row):
    rhea = signed_in("records_officer")
    files = [("files", ("决定记录.pdf", make_pdf("decision"), "application/pdf")),
             ("files", ("签到表.pdf", make_pdf("attendance"), "application/pdf"))]
    response = rhea.post("/staff/records", {"record_type": "decision", "certificate": MAIN},
                         files=files)
    assert response.status_code == 303
    assert response.headers["location"] == f"/staff/certificates/{MAIN}"
    page = rhea.get(f"/staff/certificates/{MAIN}").text
    assert "已归档 2 份认证决定记录" in page
    assert "决定记录.pdf" in page and "签到表.pdf" in page
    added = logged(engine, "record.added")
    assert [e.actor for e in added] == ["rhea", "rhea"]


def test_a_file_that_cannot_be_archived_is_listed_and_the_others_are_kept(signed_in, engine,
                                                                          certificate_row):
    rhea = signed_in("records_officer")
    files = [("files", ("报告.pdf", make_pdf("report"), "application/pdf")),
             ("files", ("notes.txt", b"just text", "text/plain"))]
    rhea.post("/staff/records", {"record_type": "report", "certificate": MAIN}, files=files)
    page = rhea.get(f"/staff/certificates/{MAIN}").text
    assert "已归档 1 份评价报告；1 份未归档" in page
    assert "无法归档 notes.txt" in page
    assert len(logged(engine, "record.added")) == 1


def test_an_archived_record_downloads_as_the_same_bytes(signed_in, certificate_row):
    dora = signed_in("decision_maker")
    rhea = signed_in("records_officer")
    pdf = make_pdf("onsite")
    rhea.post("/staff/records", {"record_type": "onsite_record", "certificate": MAIN},
              files=[("files", ("现场记录.pdf", pdf, "application/pdf"))])
    page = dora.get(f"/staff/certificates/{MAIN}").text
    sha = page.split("/staff/documents/")[1][:64]
    response = dora.get(f"/staff/documents/{sha}")
    assert response.content == pdf
    assert "filename*=UTF-8''%E7%8E%B0%E5%9C%BA" in response.headers["content-disposition"]


@pytest.fixture
def due_records(engine, settings):
    """Two reports of a CACQ certificate that expired in 2020: due for disposal since 2022."""
    store = BlobStore(settings.blob_dir)
    number = add_certificate(engine, "cacq", make_uscc(31), date(2017, 6, 1), date(2020, 5, 31))
    ids = []
    for text in ("旧评价报告", "旧审查计划"):
        with session_scope(engine) as s:
            row, _ = add_record(s, store, settings, make_pdf(text), record_type="report",
                                filename=f"{text}.pdf",
                                filing=Filing(SHIPPED.get("cacq"), make_uscc(31), None, number),
                                signer=None, actor="test")
            ids.append(row.id)
    return ids


def test_the_retention_page_lists_records_whose_period_ended_with_the_rule(signed_in,
                                                                           due_records):
    page = signed_in("records_officer").get("/staff/retention").text
    assert "旧评价报告.pdf" in page and "旧审查计划.pdf" in page
    assert "2 years after the expiry of" in page and "kept until 2022-05-31 [CACQ 11.1]" in page


def test_disposal_from_the_desk_takes_two_officers_and_leaves_a_signed_certificate(
        signed_in, engine, due_records):
    rhea, adam = signed_in("records_officer"), signed_in("admin")
    response = rhea.post("/staff/retention/propose",
                         {"records": [str(i) for i in due_records], "reason": "保存期满"})
    assert response.status_code == 303
    with Session(engine) as s:
        proposal = s.exec(select(Disposal)).one()
    own = rhea.post(f"/staff/retention/{proposal.id}/approve")
    assert own.status_code == 409 and "提出申请的人不能批准" in own.text
    assert adam.post(f"/staff/retention/{proposal.id}/approve").status_code == 303
    with Session(engine) as s:
        rows = s.exec(select(Record).where(Record.id.in_(due_records))).all()
        certificate = s.exec(select(Record).where(
            Record.record_type == "disposal_certificate")).one()
    assert all(r.disposed_at is not None for r in rows)
    assert [e.actor for e in logged(engine, "disposal.proposed")] == ["rhea"]
    assert [e.actor for e in logged(engine, "disposal.approved")] == ["adam"]
    assert "销毁证明已签名归档" in adam.get("/staff/retention").text
    assert certificate.signer


def test_an_issuer_does_not_see_the_retention_page(signed_in):
    assert signed_in("issuer").get("/staff/retention").status_code == 403
