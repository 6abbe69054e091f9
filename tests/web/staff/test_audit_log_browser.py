"""The audit trail in real Chromium: a records officer finds what an account did from the
menu, and on a phone the entries become cards with the hash still on screen.
UPDATE_DOC_SCREENSHOTS=1 writes docs/img."""

from __future__ import annotations

import pytest

from tests.web.staff.test_browser import browser, open_page, server, shoot  # noqa: F401 (fixtures)
from tests.web.staff.test_register_browser import PHONE

pytestmark = pytest.mark.browser


def test_a_records_officer_finds_what_an_account_did_and_a_phone_shows_it_as_cards(
        open_page, tmp_path):  # noqa: F811 (the imported fixtures)
    open_page("ivy")  # ivy signs in: that is on record
    page = open_page("rhea")
    page.click("nav >> text=审计日志")
    assert "日志链校验通过" in page.inner_text("#chain")
    page.fill("input[name=actor]", "ivy")
    page.click("button:has-text('筛选')")
    rows = page.locator("#log tbody tr")
    assert rows.count() == 1
    assert "staff.login" in rows.first.inner_text() and "ivy" in rows.first.inner_text()
    shoot(page, "audit-log", tmp_path)

    phone = open_page("rhea", PHONE)
    phone.goto(page.url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = phone.locator("#log tbody tr").first.locator("td[data-label=哈希] abbr").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
