"""The staff actions through the web, with real LibreOffice: each one is done as the signed-in
account and written to the event log with that account as the actor."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from certdesk.store.models import Record
from tests.conftest import REPO
from tests.store.conftest import make_pdf
from tests.web.staff.conftest import CLIENT, MAIN, finished_job, logged

R1 = "027329FWF0001R100"
CERT = f"/staff/certificates/{MAIN}"


@pytest.fixture
def one_site_file(tmp_path):
    """One site: a main certificate only, so each step converts a single document."""
    path = tmp_path / "one-site.json"
    path.write_text(json.dumps({**CLIENT, "sites": []}, ensure_ascii=False), encoding="utf-8")
    return path


def form_token(client, page: str = "/staff/issue") -> str:
    """Opening an upload page hands out the form's one-time token."""
    return client.get(page).text.split('name="form_token" value="')[1].split('"')[0]


def issue(client, path, token: str | None = None, page: str = "/staff/issue"):
    """Upload as the page does; on the issue page, then confirm what the preview offers."""
    token = token or form_token(client, page)
    with path.open("rb") as fh:
        response = client.post(page, {"profile": "xbht", "form_token": token},
                               files={"file": (path.name, fh, "application/json")})
    if page != "/staff/issue" or response.status_code != 303:
        return response
    return confirm(client, client.get(response.headers["location"]).text)


HIDDEN_RE = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def confirm(client, preview_page: str):
    """Press "签发这 N 个组织" on a preview page."""
    return client.post("/staff/issue/confirm", dict(HIDDEN_RE.findall(preview_page)))


def case_file(tmp_path, **decision) -> Path:
    """The example initial-certification case, with ``decision`` fields changed."""
    case = json.loads((REPO / "examples/certification/case.json").read_text(encoding="utf-8"))
    case["decision"].update(decision)
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case, ensure_ascii=False), encoding="utf-8")
    return path


def test_every_staff_action_is_logged_with_the_staff_user_as_actor(signed_in, engine,
                                                                    one_site_file, today):
    ivy = signed_in("issuer")
    assert finished_job(ivy, issue(ivy, one_site_file))["result"]["mains"] == [MAIN]
    steps = [
        (f"{CERT}/surveillance", {"held": "2027-02-01"}),
        (f"{CERT}/status", {"action": "suspend", "reason": "未按期整改", "on": "2027-06-01"}),
        (f"{CERT}/status", {"action": "restore", "reason": "整改完成", "on": "2027-06-10"}),
        (f"{CERT}/reissue", {"reason": "名称变更", "name": "北京恒信达家电服务有限公司",
                             "on": "2027-07-01"}),
        (f"{CERT}/recertify", {"decision": "2029-02-20"}),
        ("/staff/sweep", {"on": "2029-03-01"}),
    ]
    for path, form in steps:
        today(date.fromisoformat(next(v for k, v in form.items()
                                      if k in ("held", "on", "decision"))))
        response = ivy.post(path, form)
        assert response.status_code == 303, (path, response.text)
    sweep = finished_job(ivy, response)  # the sweep ran as a job
    assert sweep["kind"] == "sweep" and sweep["account"] == "ivy"

    rhea = signed_in("records_officer")
    page = rhea.get(f"/staff/certificates/{R1}").text
    sha = page.split("/staff/documents/")[1][:64]
    pdf = rhea.get(f"/staff/documents/{sha}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert rhea.post("/staff/records", {"record_type": "decision", "certificate": R1},
                     files=[("files", ("决定.pdf", make_pdf("d"), "application/pdf"))]
                     ).status_code == 303
    with Session(engine) as s:
        record_id = s.exec(select(Record.id).where(Record.filename == "决定.pdf")).one()
        downloaded_id = s.exec(select(Record.id).where(Record.sha256 == sha)).one()

    adam = signed_in("admin")
    assert adam.post("/staff/users", {"name": "wang.fang", "role": "issuer",
                                      "password": "a-long-password"}).status_code == 303
    assert adam.post("/staff/users/wang.fang/active", {"active": "false"}).status_code == 303

    expected = {
        ("number.drawn", MAIN): "ivy", ("certificate.issued", MAIN): "ivy",
        ("certificate.surveillance", MAIN): "ivy", ("certificate.suspend", MAIN): "ivy",
        ("certificate.restore", MAIN): "ivy", ("certificate.reissued", MAIN): "ivy",
        ("certificate.superseded", MAIN): "ivy", ("certificate.issued", R1): "ivy",
        ("staff.sweep", "sweep:2029-03-01"): "ivy",
        ("record.downloaded", f"record:{downloaded_id}"): "rhea",
        ("record.added", f"record:{record_id}"): "rhea",
        ("staff.user_added", "staff:wang.fang"): "adam",
        ("staff.user_disabled", "staff:wang.fang"): "adam",
        ("staff.login", "staff:ivy"): "ivy", ("staff.login", "staff:rhea"): "rhea",
        ("staff.login", "staff:adam"): "adam",
    }
    for (kind, subject), actor in expected.items():
        assert [e.actor for e in logged(engine, kind, subject)] == [actor], (kind, subject)


def test_the_timeline_and_documents_show_on_the_certificate_page(signed_in, one_site_file,
                                                                 today):
    ivy = signed_in("issuer")
    issue(ivy, one_site_file)
    today(date(2026, 9, 1))
    ivy.post(f"{CERT}/status", {"action": "suspend", "reason": "未按期整改", "on": "2026-09-01"})
    page = ivy.get(CERT).text
    assert "暂停：未按期整改（2026-09-01 起，至 2027-02-28）" in page
    assert "签发（R0），有效期 2026-03-15 至 2029-03-14" in page
    assert f"{MAIN}.pdf" in page and "XBHT-SUSPEND-20260901" in page
    assert page.index("暂停：") < page.index("签发（R0）")  # newest first


def test_submitting_the_same_issue_form_twice_issues_once(signed_in, engine, one_site_file):
    ivy = signed_in("issuer")
    token = form_token(ivy)
    previews = []
    for _ in range(2):  # the form sent twice (back, send again): two previews, one token
        with one_site_file.open("rb") as fh:
            sent = ivy.post("/staff/issue", {"profile": "xbht", "form_token": token},
                            files={"file": (one_site_file.name, fh, "application/json")})
        previews.append(ivy.get(sent.headers["location"]).text)
    assert confirm(ivy, previews[0]).status_code == 303
    again = confirm(ivy, previews[1])
    assert again.status_code == 400 and "已经提交过" in again.text
    assert len(logged(engine, "number.drawn")) == 1


def test_a_refused_transition_is_a_409_page_naming_the_rule(signed_in, one_site_file):
    ivy = signed_in("issuer")
    issue(ivy, one_site_file)
    response = ivy.post(f"{CERT}/status", {"action": "restore", "reason": "误操作"})
    assert response.status_code == 409
    assert "只有暂停的证书可以恢复" in response.text


def test_bad_records_in_an_upload_are_listed_and_the_good_ones_issued(signed_in, tmp_path):
    path = tmp_path / "batch.json"
    bad = {**CLIENT, "uscc": "91110105MA01XB8H2X", "sites": []}
    path.write_text(json.dumps([{**CLIENT, "sites": []}, bad], ensure_ascii=False),
                    encoding="utf-8")
    ivy = signed_in("issuer")
    with path.open("rb") as fh:
        response = ivy.post("/staff/issue", {"profile": "xbht", "form_token": form_token(ivy)},
                            files={"file": (path.name, fh, "application/json")})
    preview = ivy.get(response.headers["location"]).text
    assert "batch.json：第 2 条记录" in preview and "有错误" in preview
    assert "签发这 1 个组织" in preview
    response = confirm(ivy, preview)
    finished_job(ivy, response)
    page = ivy.get(response.headers["location"]).text
    assert "已签发 1 张证书" in page and f"/staff/certificates/{MAIN}" in page


def test_a_decision_maker_certifies_a_case_and_lands_on_the_new_certificate(signed_in, engine,
                                                                             tmp_path):
    dora = signed_in("decision_maker")
    response = issue(dora, case_file(tmp_path), page="/staff/certify")
    assert finished_job(dora, response)["result"]["mains"] == [MAIN]
    assert "已作出 1 项认证决定" in dora.get(response.headers["location"]).text
    page = dora.get(CERT).text
    assert "批准认证注册" in page
    assert "XBHT-DEC-20261120-001" in page and "XBHT-RPT-20261020-001" in page
    assert [e.actor for e in logged(engine, "certification.decided")] == ["dora"]


def test_an_issuer_may_not_take_the_certification_decision(signed_in):
    assert signed_in("issuer").get("/staff/certify").status_code == 403


def test_a_case_whose_decision_maker_audited_is_a_failed_line_and_stores_nothing(signed_in,
                                                                                 engine,
                                                                                 tmp_path):
    dora = signed_in("decision_maker")
    response = issue(dora, case_file(tmp_path, decision_makers=["张伟"]), page="/staff/certify")
    [line] = finished_job(dora, response)["result"]["failed"]
    assert "XBHT 7.5.1" in line
    assert "XBHT 7.5.1" in dora.get(response.headers["location"]).text
    with Session(engine) as s:
        assert s.exec(select(Record)).all() == []
    assert logged(engine, "number.drawn") == []


def test_a_surveillance_recorded_with_its_report_archives_the_report(signed_in, engine,
                                                                      tmp_path, today):
    issue(signed_in("decision_maker"), case_file(tmp_path), page="/staff/certify")
    today(date(2027, 6, 1))
    report = tmp_path / "监督报告.json"
    report.write_bytes((REPO / "examples/certification/surveillance-report.json").read_bytes())
    ivy = signed_in("issuer")
    with report.open("rb") as fh:
        response = ivy.post(f"{CERT}/surveillance", {"held": "2027-06-01"},
                            files={"report": (report.name, fh, "application/json")})
    assert response.status_code == 303
    page = ivy.get(CERT).text
    assert "已记录第 1 次监督审查（2027-06-01），审查报告" in page and "已签名归档" in page
    [held] = logged(engine, "certificate.surveillance")
    assert held.actor == "ivy" and json.loads(held.data)["report"]


def test_the_preview_step_of_each_staff_form_stores_nothing(signed_in, settings, one_site_file,
                                                            tmp_path, today):
    from tests.services.test_safe_by_default import snapshot

    def records(snap: dict) -> dict:  # the flash lives in the staff session: not a record
        return {**snap, "rows": {t: n for t, n in snap["rows"].items()
                                 if not t.startswith("staff")}}

    ivy = signed_in("issuer")
    today(date(2026, 11, 29))
    with one_site_file.open("rb") as fh:
        preview = ivy.post("/staff/issue", {"profile": "xbht", "preview": "1"},
                           files={"file": (one_site_file.name, fh, "application/json")})
    assert preview.status_code == 303
    page = ivy.get(preview.headers["location"]).text
    assert "签发预览" in page and MAIN in page and "可签发" in page
    assert issue(ivy, one_site_file).status_code == 303  # the form token was not spent
    before = records(snapshot(settings))
    posts = [
        (f"{CERT}/surveillance", {"held": "2026-11-28"}, "可记录第 1 次监督审查"),
        (f"{CERT}/status", {"action": "suspend", "reason": "未按期整改"}, "将暂停"),
        (f"{CERT}/reissue", {"reason": "名称变更", "name": "恒信达（集团）"}, "将换证"),
        (f"{CERT}/recertify", {"decision": "2026-11-28"}, "下一个编号 027326FWF0002R100"),
        ("/staff/sweep", {"on": "2028-06-01"}, f"暂停 {MAIN}"),
    ]
    for path, form, shown in posts:
        response = ivy.post(path, {**form, "preview": "1"})
        assert response.status_code == 303, (path, response.text)
        assert shown in ivy.get(response.headers["location"]).text, path
        assert records(snapshot(settings)) == before, path
    # without the preview step, a sweep on another day is refused naming the rule
    refused = ivy.post("/staff/sweep", {"on": "2028-06-01"})
    assert refused.status_code == 409 and "sweep.today_only" in refused.text
    assert records(snapshot(settings)) == before


def test_the_desk_reduces_a_scope_site_by_site_and_warns_of_a_late_suspension(signed_in, engine,
                                                                                tmp_path, today):
    from certdesk.store.models import Certificate
    from tests.web.staff.conftest import CLIENT

    path = tmp_path / "two-sites.json"
    path.write_text(json.dumps(CLIENT, ensure_ascii=False), encoding="utf-8")
    ivy = signed_in("issuer")
    today(date(2027, 8, 10))
    assert issue(ivy, path).status_code == 303
    # CACQ 8.4.1 9), XBHT 7.8.2(6)b: each site is given its new scope or removed
    refused = shown(ivy, ivy.post(f"{CERT}/reissue", {
        "reason": "缩小认证范围", "scope": "家用电器的维修", "on": "2027-07-01"}))
    assert "请为场所 1 给出新范围" in refused
    done = ivy.post(f"{CERT}/reissue", {"reason": "缩小认证范围", "scope": "家用电器的维修",
                                       "site_scopes": "1=家用电器的维修", "remove_sites": "2",
                                       "on": "2027-07-01"})
    assert done.status_code == 303
    with Session(engine) as s:
        rows = {c.number: c for c in s.exec(select(Certificate))}
    assert rows[f"{MAIN}-1"].scope == "家用电器的维修" and rows[f"{MAIN}-2"].status == "cancelled"
    # XBHT 8.2.1: within 5 days of verification; later is applied with a warning
    late = shown(ivy, ivy.post(f"{CERT}/status", {
        "action": "suspend", "reason": "未按期整改", "on": "2027-08-10",
        "verified": "2027-08-01"}))
    assert "已超过规定时限" in late and "XBHT 8.2.1" in late


def shown(client, response) -> str:
    """The page the browser ends on after a form post (errors come back directly)."""
    if response.status_code == 303:
        return client.get(response.headers["location"]).text
    return response.text
