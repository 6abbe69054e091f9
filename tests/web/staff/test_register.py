"""The register page: filters as a URL, keyset pages, exports of the view, the print view
and the selected PDFs as one logged zip."""

from __future__ import annotations

import io
import re
import zipfile

from openpyxl import load_workbook

from certdesk.store.blobs import open_store
from tests.register.support import seed
from tests.web.staff.conftest import logged


def test_the_register_shows_every_certificate_with_its_status_today(signed_in, engine):
    made = seed(engine)
    page = signed_in("decision_maker").get("/staff/certificates")
    assert page.status_code == 200
    for number in made.values():
        assert number in page.text
    assert 'id="total">8<' in page.text
    assert '<span class="badge not_yet_valid">尚未生效</span>' in page.text


def test_filters_in_the_url_narrow_the_view_and_pages_follow_the_cursor(signed_in, engine):
    made = seed(engine)
    client = signed_in("issuer")
    soon = client.get("/staff/certificates", params={"expiring_within": "30"})
    assert made["soon"] in soon.text and made["valid"] not in soon.text
    assert 'id="total">1<' in soon.text
    both = client.get("/staff/certificates", params=[("status", "revoked"),
                                                      ("status", "cancelled")])
    assert made["revoked"] in both.text and made["cancelled"] in both.text
    assert made["valid"] not in both.text
    first = client.get("/staff/certificates", params={"limit": "5"})
    link = re.search(r'<a href="([^"]+)" id="next-page"', first.text).group(1)
    link = link.replace("&amp;", "&")
    assert "after=" in link and "limit=5" in link
    second = client.get(link)
    shown_first = [n for n in made.values() if n in first.text]
    shown_second = [n for n in made.values() if n in second.text]
    assert len(shown_first) == 5 and len(shown_second) == 3
    assert not set(shown_first) & set(shown_second)
    assert 'id="first-page"' in second.text and 'id="next-page"' not in second.text


def test_a_bad_filter_is_a_400_page_naming_the_field(signed_in, engine):
    client = signed_in("issuer")
    page = client.get("/staff/certificates", params={"expiring_within": "soon"})
    assert page.status_code == 400 and "到期天数“soon”应为整数" in page.text
    page = client.get("/staff/certificates", params={"issued_from": "2026-13-01"})
    assert page.status_code == 400 and "发证日期起" in page.text
    page = client.get("/staff/certificates", params={"after": "xyz"})
    assert page.status_code == 400 and "翻页位置" in page.text


def _export(client, page_text: str, fmt: str):
    """Press an export button of a register page: the job's page, then its file."""
    action = re.search(r'<form method="post" action="([^"]+)"[^>]*id="export"', page_text)
    started = client.post(action.group(1).replace("&amp;", "&"), {"fmt": fmt})
    assert started.status_code == 303
    job = client.get(started.headers["location"])
    assert job.status_code == 200 and 'id="job-file"' in job.text
    link = re.search(r'<a href="([^"]+)" id="job-file"', job.text).group(1)
    return job, client.get(link)


def test_the_export_is_a_job_writing_the_whole_filtered_view_not_only_the_page(
        signed_in, engine):
    made = seed(engine)
    client = signed_in("records_officer")
    page = client.get("/staff/certificates", params={"profile": "xbht", "limit": "2"})
    job, response = _export(client, page.text, "xlsx")
    assert "已导出 5 张证书。" in job.text and 'id="job-count">5 / 5<' in job.text
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["content-type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(response.content))["证书登记"]
    got = {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert got == {made[k] for k in ("valid", "suspended", "expired", "not_yet_valid",
                                     "superseded")}


def test_a_csv_export_is_utf8_with_a_bom_sorted_as_the_view(signed_in, engine):
    made = seed(engine)
    client = signed_in("issuer")
    page = client.get("/staff/certificates", params=[("status", "revoked"),
                                                      ("status", "cancelled"),
                                                      ("sort", "number"),
                                                      ("descending", "true")])
    _, response = _export(client, page.text, "csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("证书编号,")
    assert [line.split(",")[0] for line in lines[1:-1]] == \
        sorted([made["revoked"], made["cancelled"]], reverse=True)


def test_an_export_needs_the_csrf_token_and_a_known_format(signed_in, engine):
    seed(engine)
    client = signed_in("issuer")
    assert client.post("/staff/register/export", {"fmt": "xlsx"},
                       csrf="forged").status_code == 403
    assert client.post("/staff/register/export", {"fmt": "pdf"}).status_code == 404
    bad = client.post("/staff/register/export?expiring_within=soon", {"fmt": "csv"})
    assert bad.status_code == 400 and "到期天数" in bad.text
    assert client.get("/staff/jobs").text.count("导出证书登记") == 0


def test_an_export_jobs_file_is_for_the_signed_in_desk_only(signed_in, anonymous, engine):
    seed(engine)
    clerk = signed_in("issuer")
    started = clerk.post("/staff/register/export", {"fmt": "csv"})
    job_url = started.headers["location"]
    # every role reads the register, so every role may fetch its export
    other = signed_in("decision_maker")
    assert other.get(job_url + "/file").status_code == 200
    gone = anonymous.get(job_url + "/file", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/staff/login")
    # a job that writes no file has none to download
    assert other.get("/staff/jobs/999/file").status_code == 404


def test_the_print_view_lists_the_view_without_menus_or_forms(signed_in, engine):
    made = seed(engine)
    page = signed_in("issuer").get("/staff/register/print", params={"search": "恒信"})
    assert page.status_code == 200
    assert made["valid"] in page.text and made["soon"] in page.text
    assert made["revoked"] not in page.text
    assert "<form" not in page.text and "<nav" not in page.text
    assert "检索：恒信" in page.text


def test_selected_pdfs_download_as_one_zip_and_the_download_is_logged(signed_in, engine,
                                                                      settings):
    store = open_store(settings)
    made = seed(engine, store)
    client = signed_in("decision_maker")
    picked = [made["valid"], made["revoked"]]
    started = client.post("/staff/register/pdfs", {"numbers": picked})
    assert started.status_code == 303  # a job: its page offers the zip
    job = client.get(started.headers["location"])
    assert "已打包 2 份证书 PDF。" in job.text and 'id="job-count">2 / 2<' in job.text
    assert not logged(engine, "register.pdfs_downloaded")  # written, not yet taken out
    link = re.search(r'<a href="([^"]+)" id="job-file"', job.text).group(1)
    response = signed_in("issuer").get(link)  # whoever downloads it is on record
    assert response.status_code == 200 and response.headers["content-type"] == \
        "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        assert sorted(bundle.namelist()) == sorted(f"{n}.pdf" for n in picked)
        assert bundle.read(f"{picked[0]}.pdf").startswith(b"%PDF-")
    [entry] = logged(engine, "register.pdfs_downloaded")
    assert entry.actor == "ivy" and picked[1] in entry.data


def test_the_zip_needs_the_forms_csrf_token_and_a_selection(signed_in, engine, settings):
    made = seed(engine, open_store(settings))
    client = signed_in("issuer")
    assert client.post("/staff/register/pdfs", {"numbers": [made["valid"]]},
                       csrf="forged").status_code == 403
    nothing = client.post("/staff/register/pdfs", {})
    assert nothing.status_code == 400 and "请至少选择一张证书" in nothing.text
    assert not logged(engine, "register.pdfs_downloaded")


def test_the_register_needs_a_sign_in(anonymous):
    response = anonymous.get("/staff/certificates?status=valid", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=")
