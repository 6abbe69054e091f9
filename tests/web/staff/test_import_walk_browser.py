"""Issue 17's walk in real Chromium with real LibreOffice: an issuing clerk uploads a GBK
CSV with Chinese headers and a blank row, reads the per-row preview (on a laptop and on a
phone; axe-core finds nothing serious), issues, finds the new certificates in the register
by "expiring within N days", exports that view to .xlsx (a job: its page offers the file)
and reads it back; a records officer's audit trail shows the batch under the clerk's
account.
UPDATE_DOC_SCREENSHOTS=1 writes the screenshots to docs/img."""

from __future__ import annotations

import re
from datetime import date

import pytest
from openpyxl import load_workbook

from tests.web.staff.conftest import CLIENT, MAIN, PASSWORD
from tests.web.staff.test_browser import LAPTOP, browser, server, shoot  # noqa: F401 (fixtures)
from tests.web.staff.test_register_browser import PHONE
from tests.web.test_accessibility import AXE, TAGS

pytestmark = [pytest.mark.browser, pytest.mark.office]

TODAY = date(2026, 3, 20)
SECOND = "杭州智联家居服务有限公司"
HEADER = "组织名称,统一社会信用代码,注册地址,认证范围,等级,决定日期,签发日期,场所地址,场所范围"


def _gbk_csv(path):
    """Two sites of one client (lines 2, 3), the blank line Excel leaves (4), a client with
    no sites decided earlier (5), and a wrong credit code (6); dates as Excel writes them
    (2026/3/10) or typed."""
    c = CLIENT
    head = f"{c['name']},{c['uscc']},{c['registered_address']},{c['scope']},五星级,2026/3/10,"
    lines = [HEADER, *(head + f"2026-03-15,{s['address']},{s['scope']}" for s in c["sites"]),
             ",,,,,,,,",
             # typed with an IME's full-width space: read without it, with a warning
             f"{SECOND.replace('智联', '　智联')},91330106MA2H3N7L5D,杭州市文三路90号,"
             "家居产品的维修,四星级,2026-03-01,,,",
             "坏公司,91110108MA01CD3E6X,北京市,维修,五星级,2026-03-12,,,"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def _sign_in(browser, server, name: str):  # noqa: F811
    # CSP off only so that axe-core can be injected; the desk runs no script of its own
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN", bypass_csp=True,
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server}/staff/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"{server}/staff/")
    return context, page


def _axe_findings(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("opts => axe.run(document, opts)",
                           {"runOnly": {"type": "tag", "values": TAGS}})
    return [f"{v['impact']}: {v['id']} {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_a_clerk_previews_a_gbk_file_issues_it_and_finds_the_batch_in_register_and_log(
        browser, server, tmp_path, today):  # noqa: F811 (the imported fixtures)
    today(TODAY)
    context, page = _sign_in(browser, server, "ivy")

    # upload: GBK, Chinese headers, a blank row
    page.click("nav >> text=签发证书")
    page.select_option("select[name=profile]", "xbht")
    page.set_input_files("input[name=file]", str(_gbk_csv(tmp_path / "机构.csv")))
    shoot(page, "import-upload", tmp_path)
    page.click("button:has-text('上传并预览')")
    page.wait_for_url(f"{server}/staff/issue/preview/*")

    # the per-row preview: real lines, the blank one not listed
    rows = page.locator("#preview tbody tr")
    assert [rows.nth(i).locator("td.line").inner_text() for i in range(rows.count())] == [
        "第 2 行", "第 5 行", "第 6 行"]
    assert [rows.nth(i).locator("td.state").inner_text() for i in range(3)] == [
        "可签发", "可签发", "有错误"]
    assert MAIN in rows.nth(0).inner_text() and "及分证书 2 份" in rows.nth(0).inner_text()
    assert SECOND in rows.nth(1).inner_text() and "空白已规范" in rows.nth(1).inner_text()
    assert "列 uscc" in rows.nth(2).inner_text()
    if AXE.is_file():
        assert _axe_findings(page) == []
    shoot(page, "import-preview", tmp_path)
    page.set_viewport_size(PHONE)  # each row a card, its state on screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for i in range(3):
        box = rows.nth(i).locator("td.state .badge").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    shoot(page, "import-preview-phone", tmp_path)
    page.set_viewport_size(LAPTOP)

    # issue exactly the two previewed rows
    page.click("button:has-text('签发这 2 个组织')")
    page.wait_for_url(re.compile(rf"{server}/staff/jobs/\d+"))  # the issue runs as a job
    page.wait_for_selector("#job-result")  # its page follows the progress to the result
    assert page.inner_text("#job-count") == "2 / 2"
    assert "已签发 2 张证书（含分证书共 4 份）" in page.inner_text("#job-result")
    issued = page.locator("#job-result .numbers a").all_inner_texts()
    assert len(issued) == 4 and MAIN in issued
    shoot(page, "import-issued", tmp_path)

    # the register: only what expires before 2029-03-01 — the client decided on 03-01
    page.click("nav >> text=证书登记")
    page.fill("input[name=expiring_within]", str((date(2029, 3, 1) - TODAY).days))
    page.click("button:has-text('筛选')")
    found = page.locator("#register tbody tr")
    assert found.count() == 1 and SECOND in found.first.inner_text()
    number = found.first.locator("td").nth(1).inner_text().strip()
    assert number in issued and number != MAIN
    shoot(page, "import-register", tmp_path)
    page.click("#export-xlsx")  # the export runs as a job: its page offers the file
    page.wait_for_url(re.compile(rf"{server}/staff/jobs/\d+"))
    page.wait_for_selector("#job-file")
    assert page.inner_text("#job-count") == "1 / 1"
    with page.expect_download() as got:
        page.click("#job-file")
    path = tmp_path / got.value.suggested_filename
    got.value.save_as(path)
    sheet = load_workbook(path)["证书登记"]
    header, *data = sheet.iter_rows(values_only=True)
    assert [(r[0], r[header.index("获证组织")]) for r in data] == [(number, SECOND)]
    context.close()

    # the audit trail: the batch, under the clerk's account
    context, page = _sign_in(browser, server, "rhea")
    page.click("nav >> text=审计日志")
    page.fill("input[name=actor]", "ivy")
    page.select_option("select[name=kind]", "certificate.issued")
    page.click("button:has-text('筛选')")
    entries = page.locator("#log tbody tr")
    logged = {entries.nth(i).locator("td[data-label=对象]").inner_text()
              for i in range(entries.count())}
    assert logged == set(issued)
    assert set(entries.locator("td[data-label=账户]").all_inner_texts()) == {"ivy"}
    shoot(page, "import-audit", tmp_path)
    context.close()
