"""The reporting pages in a real headless Chromium: from the home page's warning to a batch
made and marked sent, and a revoked certificate recorded returned — no console error (no
blocked script or style). UPDATE_DOC_SCREENSHOTS=1 writes the screenshots to docs/img."""

from __future__ import annotations

import pytest

from tests.web.staff.conftest import MAIN
from tests.web.staff.test_browser import browser, open_page, server, shoot  # noqa: F401 (fixtures)
from tests.web.staff.test_reporting import ledger  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def test_an_officer_reports_a_batch_and_records_a_return_in_the_browser(
        open_page, server, ledger, tmp_path):  # noqa: F811 (the imported fixtures)
    page = open_page("rhea")
    assert "2 项认监委报送已逾期" in page.inner_text("#warnings")
    page.click("#warnings >> text=去报送")
    assert page.locator("#pending tbody tr.overdue").count() == 2
    page.click("button:has-text('生成报送批次')")
    assert "已生成报送批次 1（2 项）" in page.inner_text(".flash")
    assert page.locator("#batches a:has-text('xlsx')").get_attribute("href") == \
        "/staff/reporting/batches/1.xlsx"
    assert page.locator("#batches tbody td").nth(2).inner_text() == "2"  # items in batch 1
    shoot(page, "reporting", tmp_path)
    page.click("#batches button:has-text('标记为已报送')")
    assert "批次 1 已标记为已报送：2 项" in page.inner_text(".flash")
    assert "rhea" in page.inner_text("#batches")

    page.click("nav >> text=证书收回")
    page.check(f"input[name=numbers][value='{MAIN}']")
    page.fill("input[name=on]", "2026-06-10")
    page.fill("input[name=how]", "邮寄收回原件")
    page.click("button:has-text('登记')")
    assert "已登记 1 张证书已收回" in page.inner_text(".flash")
    assert "邮寄收回原件" in page.inner_text("#closed")
    shoot(page, "returns", tmp_path)
    page.goto(f"{server}/staff/")
    assert page.locator("#warnings").count() == 0
