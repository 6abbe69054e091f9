"""Issuing from a file on the desk: the upload shows one row per record (real line, state,
the number and dates it would get, or its error with the column, or the certificate held),
is kept for the confirmation, and "签发这 N 个组织" issues exactly those rows once; the
template sheet comes from the loader's own columns (issue 17)."""

from __future__ import annotations

import io
import re
import shutil
from datetime import date

from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import col

from certdesk.services.inputs import COLUMNS, OrganisationInput, load_organisations
from certdesk.store.staging import StagedUpload
from tests.web.staff.conftest import CLIENT, MAIN, StaffClient, finished_job, logged
from tests.web.staff.test_actions import HIDDEN_RE, confirm, form_token

HEADER = "组织名称,统一社会信用代码,注册地址,认证范围,等级,决定日期,签发日期,场所地址,场所范围"
SECOND = "91330106MA2H3N7L5D"
SECOND_MAIN = "027326FWF0002R000"


def _gbk_csv() -> bytes:
    c = CLIENT
    head = f"{c['name']},{c['uscc']},{c['registered_address']},{c['scope']},五星级,2026/3/10,"
    lines = [HEADER,
             *(head + f"2026-03-15,{s['address']},{s['scope']}" for s in c["sites"]),
             ",,,,,,,,",  # line 4: what Excel leaves of an emptied row
             f"杭州　智联家居服务有限公司,{SECOND},杭州市文三路90号,家居产品的维修,五星级,"
             "2026-03-12,,,",
             "坏公司,91110108MA01CD3E6X,北京市,维修,五星级,2026-03-12,,,"]
    return "\r\n".join(lines).encode("gbk")


def _upload(client, data: bytes, name: str = "机构.csv", token: str | None = None):
    response = client.post("/staff/issue", {"profile": "xbht",
                                            "form_token": token or form_token(client)},
                           files={"file": (name, data, "text/csv")})
    assert response.status_code == 303, response.text
    return response.headers["location"], client.get(response.headers["location"]).text


def _rows(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    return [" ".join(row.split()) for row in body.split("</tr>")[:-1]]


def test_a_gbk_csv_is_previewed_row_by_row_with_its_real_lines(signed_in, today):
    today(date(2026, 3, 20))
    _, page = _upload(signed_in("issuer"), _gbk_csv())
    main, second, bad = _rows(page)  # the blank line 4 is no row
    assert "第 2 行" in main and "可签发" in main and MAIN in main
    assert "及分证书 2 份" in main and "有效期 2026-03-15 至 2029-03-14" in main
    assert "第 5 行" in second and "杭州智联家居服务有限公司" in second and SECOND_MAIN in second
    assert "空白已规范" in second  # the full-width space, as a warning
    assert "第 6 行" in bad and "有错误" in bad and "列 uscc" in bad
    assert "机构.csv：第 6 行（坏公司）" in bad
    # the place is said in the page's language: no English word in the row's text
    assert not re.search(r"\bline\b", re.sub(r"<[^>]*>", " ", bad))
    assert "统一社会信用代码 &#39;91110108MA01CD3E6X&#39; 的校验码为 &#39;X&#39;" in bad
    assert "签发这 2 个组织" in page


def test_confirming_issues_exactly_the_rows_previewed_once(signed_in, engine, today):
    today(date(2026, 3, 20))
    ivy = signed_in("issuer")
    _, page = _upload(ivy, _gbk_csv())
    response = confirm(ivy, page)
    assert finished_job(ivy, response)["total"] == 2
    assert "已签发 2 张证书（含分证书共 4 份）" in ivy.get(response.headers["location"]).text
    assert {e.subject for e in logged(engine, "certificate.issued")} == {
        MAIN, f"{MAIN}-1", f"{MAIN}-2", SECOND_MAIN}
    again = confirm(ivy, page)  # a reload or a second click
    assert again.status_code == 400 and "这份预览已失效" in again.text
    assert len(logged(engine, "number.drawn")) == 2


def test_an_organisation_already_certified_is_shown_with_its_certificate(signed_in, today):
    today(date(2026, 3, 20))
    ivy = signed_in("issuer")
    confirm(ivy, _upload(ivy, _gbk_csv())[1])
    _, page = _upload(ivy, _gbk_csv())
    main, second, _bad = _rows(page)
    assert "已持证" in main and f'href="/staff/certificates/{MAIN}">{MAIN}</a>' in main
    assert "已持证" in second and "没有可签发的记录" in page and "签发这" not in page


def test_a_staging_that_changed_after_the_preview_is_refused(signed_in, engine, today):
    today(date(2026, 3, 20))
    ivy = signed_in("issuer")
    _, page = _upload(ivy, _gbk_csv())
    key = dict(HIDDEN_RE.findall(page))["key"]
    with engine.begin() as conn:  # the staged bytes changed behind the preview
        conn.execute(update(StagedUpload).where(col(StagedUpload.key) == key)
                     .values(data=_gbk_csv() + b"\r\n"))
    response = confirm(ivy, page)
    assert response.status_code == 400 and "暂存的文件已改变，未签发" in response.text
    assert logged(engine, "number.drawn") == []


def test_a_preview_left_behind_by_a_newer_issue_form_is_refused(signed_in, engine, today):
    today(date(2026, 3, 20))
    ivy = signed_in("issuer")
    _, page = _upload(ivy, _gbk_csv())
    ivy.get("/staff/issue")  # another issue form: the first form's token is void
    response = confirm(ivy, page)
    assert response.status_code == 400 and "已经提交过或已过期" in response.text
    assert logged(engine, "number.drawn") == []


def test_rows_other_than_those_previewed_are_refused(signed_in, engine, today):
    today(date(2026, 3, 20))
    ivy = signed_in("issuer")
    _, page = _upload(ivy, _gbk_csv())
    form = {**dict(HIDDEN_RE.findall(page)), "rows": "1,2,3"}
    response = ivy.post("/staff/issue/confirm", form)
    assert response.status_code == 400 and "提交的记录与预览不一致" in response.text
    assert logged(engine, "number.drawn") == []


def test_another_session_can_neither_see_nor_confirm_an_upload(signed_in, engine, today):
    today(date(2026, 3, 20))
    location, page = _upload(signed_in("issuer"), _gbk_csv())
    other = signed_in("issuer")
    assert other.get(location).status_code == 400
    form = {k: v for k, v in HIDDEN_RE.findall(page) if k != "csrf"}  # with its own CSRF
    response = other.post("/staff/issue/confirm", form)
    assert response.status_code == 400 and "这份预览已失效" in response.text
    assert logged(engine, "number.drawn") == []


def test_the_template_sheets_have_the_loaders_chinese_headers_and_read_back(signed_in,
                                                                             tmp_path):
    ivy = signed_in("issuer")
    assert "/staff/issue/template.xlsx" in ivy.get("/staff/issue").text
    xlsx = ivy.get("/staff/issue/template.xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    header, example = sheet.iter_rows(values_only=True)
    assert list(header) == [c.zh[0] for c in COLUMNS]
    csv = ivy.get("/staff/issue/template.csv")
    assert csv.content.startswith(b"\xef\xbb\xbf" + "组织名称,".encode())
    for suffix, data in (("xlsx", xlsx.content), ("csv", csv.content)):
        path = tmp_path / f"t.{suffix}"
        path.write_bytes(data)
        (org,) = load_organisations(path)
        assert isinstance(org, OrganisationInput) and org.uscc == example[1], suffix
    assert ivy.get("/staff/issue/template.pdf").status_code == 404


def test_a_preview_uploaded_on_one_web_host_is_confirmed_on_another(
        signed_in, settings, engine, office_or_fake, key_material, tmp_path, today):
    """Two web hosts behind one address share the database, not their homes: the file kept
    for the confirmation is in the database, so the confirmation may land on either."""
    from certdesk.common.files import private_dir
    from certdesk.web.staff.router import mount

    today(date(2026, 3, 20))
    other = settings.model_copy(update={"home": tmp_path / "other-host",
                                        "database_url": settings.db_url})
    shutil.copytree(key_material, private_dir(other.home) / "keys")
    host_b = FastAPI()
    mount(host_b, other, engine, pool=office_or_fake)
    ivy = signed_in("issuer")
    _, page = _upload(ivy, _gbk_csv())  # on this host
    there = StaffClient(TestClient(host_b))
    there.http.cookies = ivy.http.cookies  # the same browser, routed to the other host
    response = confirm(there, page)
    assert finished_job(there, response)["total"] == 2
    assert {e.subject for e in logged(engine, "certificate.issued")} == {
        MAIN, f"{MAIN}-1", f"{MAIN}-2", SECOND_MAIN}
    assert not (settings.home / "staging").exists()
    again = confirm(ivy, page)  # confirming removed it for every host
    assert again.status_code == 400 and "这份预览已失效" in again.text
