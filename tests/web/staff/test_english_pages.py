"""Every staff page, for every role, read in English: no message left in Chinese — pages,
the messages after a form, refusals and error pages. Chinese certificate data stays."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.untranslated import HOW_TO_FIX, page_data, untranslated
from tests.web.staff.conftest import ACCOUNTS, CLIENT, MAIN, PASSWORD, StaffClient
from tests.web.staff.test_actions import confirm, form_token, issue, one_site_file  # noqa: F401
from tests.web.staff.test_import_preview import SECOND

SEARCH = "恒信达"
PARAMS = {"number": MAIN, "org_id": "1", "job_id": "1", "key": "k" * 22}
"""The job the ``issued`` fixture ran; an upload key no session staged."""
NOT_PAGES = ("/staff/static/", "/staff/documents/", "/staff/reporting/batches/",
             "/staff/logout", "/staff/register/export")
"""Downloads and the sign-out post: no page to read."""


def staff_pages() -> list[str]:
    """Every GET page of the desk's areas — also those added after this test was written."""
    from certdesk.web.staff.router import AREAS

    pages = ["/staff/no-such-page"]
    for route in (r for area in AREAS for r in area.router.routes):
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        names = re.findall(r"{(\w+)(?::\w+)?}", route.path)
        path = "/staff" + re.sub(r"{(\w+)(?::\w+)?}", lambda m: PARAMS.get(m.group(1), ""),
                                 route.path)
        if all(n in PARAMS for n in names) and not path.startswith(NOT_PAGES):
            pages.append(path)
    return pages + [f"/staff/search?q={SEARCH}", "/staff/due?on=bad-date"]


def english(client: StaffClient) -> StaffClient:
    client.http.headers["Accept-Language"] = "en-GB,en;q=0.9,zh-CN;q=0.5"
    return client


@pytest.fixture
def issued(signed_in, one_site_file):  # noqa: F811 (the fixture imported above)
    """MAIN issued through the desk, as an English-reading issuer: returns the page the
    issuing form's message is shown on."""
    ivy = english(signed_in("issuer"))
    response = issue(ivy, one_site_file)
    assert response.status_code == 303
    return ivy.get(response.headers["location"]).text


def assert_english(page: str, data: list[str], where: str) -> None:
    left = untranslated(page, data)
    assert not left, f"{where}: {HOW_TO_FIX}:\n" + "\n".join(left)
    assert '<html lang="en">' in page, where


def test_every_page_of_every_role_is_english_with_only_certificate_data_in_chinese(
        signed_in, issued, engine, settings):
    from certdesk.domain.profiles import installed_profiles

    data = page_data(engine, installed_profiles(settings), SEARCH)
    assert_english(issued, data, "the issuing form's message")
    pages = staff_pages()
    assert f"/staff/certificates/{MAIN}" in pages and "/staff/users" in pages
    assert "/staff/jobs" in pages and "/staff/jobs/1" in pages
    for role in ACCOUNTS:
        client = english(signed_in(role))
        for path in pages:
            response = client.get(path)
            assert response.status_code in (200, 400, 403, 404), (role, path)
            if not response.headers["content-type"].startswith("text/html"):
                continue  # a download (CSV, xlsx): its columns are the register's own
            assert_english(response.text, data, f"{role} {path} ({response.status_code})")


def test_messages_and_refusals_after_a_form_are_english(signed_in, issued, engine, settings):
    from certdesk.domain.profiles import installed_profiles

    ivy = english(signed_in("issuer"))
    data = page_data(engine, installed_profiles(settings), "x")
    preview = ivy.post(f"/staff/certificates/{MAIN}/status",
                       {"action": "suspend", "reason": "x", "preview": "1"})
    shown = ivy.get(preview.headers["location"]).text
    assert "Preview (nothing saved)" in shown
    assert_english(shown, data, "a status change's preview")
    refused = ivy.post(f"/staff/certificates/{MAIN}/status", {"action": "restore", "reason": "x"})
    assert refused.status_code == 409 and "cannot be restored" in refused.text
    assert_english(refused.text, data, "a refused status change")
    bad_date = ivy.post(f"/staff/certificates/{MAIN}/status",
                        {"action": "suspend", "reason": "x", "on": "2026-13-01"})
    assert bad_date.status_code == 400 and "is not a date" in bad_date.text
    assert_english(bad_date.text, data, "a malformed date")
    adam = english(signed_in("admin"))
    added = adam.post("/staff/users", {"name": "eve", "role": "issuer",
                                        "password": "long-enough-pw"})
    assert_english(adam.get(added.headers["location"]).text, data, "a user added")


def test_the_sign_in_page_and_its_refusal_follow_the_browser(anonymous, accounts):
    english(anonymous)
    page = anonymous.get("/staff/login").text
    assert '<html lang="en">' in page and "Staff sign-in" in page
    refused = anonymous.login(accounts["issuer"], "wrong-password-here")
    assert refused.status_code == 401 and "Wrong user name or password" in refused.text
    assert_english(refused.text, [CLIENT["name"]], "a refused sign-in")


def test_the_accounts_own_language_wins_over_the_browser_and_lang(signed_in, accounts):
    ivy = signed_in("issuer")
    ivy.http.headers["Accept-Language"] = "zh-CN"
    assert '<html lang="zh-CN">' in ivy.get("/staff/").text
    assert '<html lang="en">' in ivy.get("/staff/?lang=en").text  # no setting: ?lang= wins
    saved = ivy.post("/staff/language", {"language": "en"})
    assert "Language saved." in ivy.get(saved.headers["location"]).text
    assert '<html lang="en">' in ivy.get("/staff/?lang=zh").text  # the setting wins
    ivy.post("/staff/language", {"language": ""})
    assert '<html lang="zh-CN">' in ivy.get("/staff/").text  # back to the browser's
    assert ivy.post("/staff/language", {"language": "fr"}).status_code == 400


def test_a_new_account_signs_in_to_its_browsers_language(staff_app, accounts):
    client = StaffClient(TestClient(staff_app))
    client.http.headers["Accept-Language"] = "en"
    assert client.login(accounts["admin"], PASSWORD).status_code == 303
    assert "Sign out" in client.get("/staff/").text


def test_the_import_preview_and_the_job_it_starts_are_english(signed_in, issued, tmp_path,
                                                               engine, settings):
    """A file with a row to issue, one already certified and one refused: its preview, the
    finished job's page with its skipped and failed lines, and the jobs list."""
    from certdesk.domain.profiles import installed_profiles

    ivy = english(signed_in("issuer"))
    second = {**CLIENT, "name": "杭州智联家居服务有限公司", "uscc": SECOND, "sites": []}
    path = tmp_path / "three.json"
    path.write_text(json.dumps([second, {**CLIENT, "sites": []}, {**second, "name": ""}],
                               ensure_ascii=False), "utf-8")
    with path.open("rb") as fh:
        uploaded = ivy.post("/staff/issue", {"profile": "xbht", "form_token": form_token(ivy)},
                            files={"file": (path.name, fh, "application/json")})
    preview = ivy.get(uploaded.headers["location"]).text
    assert "Issue these 1 organisation(s)" in preview and "already certified" in preview
    assert_english(preview, page_data(engine, installed_profiles(settings), second["name"]),
                   "the import preview")
    job = ivy.get(confirm(ivy, preview).headers["location"]).text
    assert "1 certificate(s) issued" in job and "is missing or empty" in job
    data = page_data(engine, installed_profiles(settings))
    assert_english(job, data, "a finished job with skipped and failed lines")
    assert_english(ivy.get("/staff/jobs").text, data, "the jobs list")


def test_an_export_jobs_page_and_its_file_name_are_english(signed_in, issued, engine,
                                                            settings):
    from certdesk.domain.profiles import installed_profiles

    rhea = english(signed_in("records_officer"))
    started = rhea.post("/staff/register/export?status=valid", {"fmt": "xlsx"})
    job = rhea.get(started.headers["location"]).text
    assert "certificates exported." in job and 'id="job-file"' in job
    assert_english(job, page_data(engine, installed_profiles(settings)), "an export job")
    link = re.search(r'<a href="([^"]+)" id="job-file"', job).group(1)
    name = rhea.get(link).headers["content-disposition"]
    assert 'filename="register-' in name and name.endswith(".xlsx")


def test_the_template_sheet_downloads_with_an_english_name_and_guide_and_chinese_headers(
        signed_in):
    import io

    from openpyxl import load_workbook

    ivy = english(signed_in("issuer"))
    sheet = ivy.get("/staff/issue/template.xlsx")
    assert 'filename="organisations-template.xlsx"' in sheet.headers["content-disposition"]
    book = load_workbook(io.BytesIO(sheet.content))
    assert book.sheetnames == ["Organisations", "Guide"]
    assert book.worksheets[0]["A1"].value == "组织名称"  # what the loader reads, in any language
    assert book.worksheets[1]["A1"].value == "Header"
