"""The register in a real headless Chromium: filter by expiring certificates, export the
view and read the .xlsx its job page offers back with openpyxl, download the selection as
a zip (a job too); on a phone the status stays on screen. UPDATE_DOC_SCREENSHOTS=1 writes
docs/img."""

from __future__ import annotations

import re
import zipfile

import pytest
from openpyxl import load_workbook

from certdesk.store.blobs import open_store
from tests.register.support import seed
from tests.web.staff.test_browser import browser, open_page, server, shoot  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_a_clerk_filters_expiring_certificates_and_exports_them_to_excel(
        open_page, engine, settings, tmp_path):  # noqa: F811 (the imported fixtures)
    made = seed(engine, open_store(settings))
    page = open_page("ivy")
    page.click("nav >> text=证书登记")
    assert page.locator("#register tbody tr").count() == 8
    page.fill("input[name=expiring_within]", "400")
    page.select_option("select[name=sort]", "expiry_date")
    page.click("button:has-text('筛选')")
    rows = page.locator("#register tbody tr")
    assert rows.count() == 2 and page.inner_text("#total") == "2"
    assert made["soon"] in rows.nth(0).inner_text()
    assert "暂停" in rows.nth(1).inner_text()
    shoot(page, "register", tmp_path)

    register = page.url
    page.click("#export-xlsx")  # a job: its page offers the file once written
    page.wait_for_url(re.compile(r".*/staff/jobs/\d+$"))
    page.wait_for_selector("#job-file")
    with page.expect_download() as got:
        page.click("#job-file")
    path = tmp_path / got.value.suggested_filename
    got.value.save_as(path)
    assert path.suffix == ".xlsx"
    sheet = load_workbook(path)["证书登记"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        made["soon"], made["suspended"]]

    page.goto(register)
    page.check(f"input[name=numbers][value='{made['soon']}']")
    page.click("button:has-text('下载所选证书 PDF')")
    page.wait_for_selector("#job-file")
    with page.expect_download() as got:
        page.click("#job-file")
    bundle = tmp_path / "selected.zip"
    got.value.save_as(bundle)
    with zipfile.ZipFile(bundle) as z:
        assert z.namelist() == [f"{made['soon']}.pdf"]


def test_on_a_phone_register_rows_become_cards_and_the_status_stays_on_screen(
        open_page, engine):  # noqa: F811
    seed(engine)
    page = open_page("adam", PHONE)  # the admin: the users page too
    page.goto(page.url.rstrip("/") + "/certificates")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    badge = page.locator("#register tbody tr").first.locator("td.status-cell .badge")
    box = badge.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    base = page.url.split("/staff/")[0]
    for path in ("/staff/", "/staff/due"):  # the home's table, the due list
        page.goto(base + path)
        badges = page.locator("table .badge")
        assert badges.count() > 0, path
        for i in range(badges.count()):
            box = badges.nth(i).bounding_box()
            assert box["x"] + box["width"] <= PHONE["width"], path
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto(base + "/staff/users")
    rows = page.locator("#users tbody tr")
    assert rows.count() == 4
    for i in range(rows.count()):  # every cell, the last (the actions) included
        for cell in (rows.nth(i).locator("td").nth(2), rows.nth(i).locator("td").last):
            box = cell.bounding_box()
            assert box["x"] + box["width"] <= PHONE["width"]
