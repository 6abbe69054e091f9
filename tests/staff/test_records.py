"""Records officers file records made elsewhere (scanned signed originals) from the
certificate's page; each is archived write-once and logged as theirs."""

from __future__ import annotations

from tests.staff.conftest import MAIN, logged, make_pdf


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
    assert "cannot archive notes.txt" in page
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
