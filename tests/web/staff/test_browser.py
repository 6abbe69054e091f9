"""The staff desk in a real browser (headless Chromium) against a real uvicorn server: one
client walked through the cycle, and a tablet-width check.

Set UPDATE_DOC_SCREENSHOTS=1 to refresh the screenshots in docs/img (laptop width); they
are taken on every run but only written there when asked, so a test run leaves the
repository unchanged.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path

import pytest

from tests.serving import serve_in_thread  # at collection on purpose: see its note
from tests.web.staff.conftest import CLIENT, MAIN, PASSWORD

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[3] / "docs" / "img"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LAPTOP = {"width": 1366, "height": 860}
TABLET = {"width": 820, "height": 1180}
R1 = "027329FWF0001R100"
CASE = Path(__file__).resolve().parents[3] / "examples" / "certification" / "case.json"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(staff_app, accounts):
    """uvicorn serving the staff desk on a free loopback port, in a thread of this process
    (so it shares the warm LibreOffice pool)."""
    with serve_in_thread(staff_app) as base:
        yield base


@pytest.fixture
def open_page(browser, server, tmp_path):
    """``open_page(account, viewport)``: a signed-in page; fails the test on any console
    error (a blocked inline script or style, a missing stylesheet) other than the 403 a
    test asks for."""
    contexts, errors = [], []

    def _open(name: str, viewport: dict = LAPTOP):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                and "status of 403" not in msg.text else None)
        page.goto(f"{server}/staff/")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('登录')")
        page.wait_for_url(f"{server}/staff/")
        return page

    yield _open
    for context in contexts:
        context.close()
    assert errors == []


def shoot(page, name: str, tmp_path: Path) -> None:
    target = DOCS_IMG if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1" else tmp_path
    page.screenshot(path=str(target / f"staff-{name}.png"), full_page=True)


def facts(page) -> tuple[str, str, str]:
    return (page.inner_text("#issue-date"), page.inner_text("#expiry-date"),
            page.inner_text("h1 .badge"))


def member_statuses(page) -> dict[str, str]:
    rows = page.locator("h2:has-text('主证书与分证书') + .scroll tbody tr")
    return {rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).locator("td").nth(5)
            .inner_text() for i in range(rows.count())}


def act(page, summary: str, fields: dict[str, str], button: str) -> None:
    """Open an action panel on the certificate page, fill it in and submit it."""
    panel = page.locator("details", has=page.locator(f"summary:has-text('{summary}')"))
    panel.locator("summary").click()
    for selector, value in fields.items():
        if selector.startswith("select"):
            panel.locator(selector).select_option(value)
        else:
            panel.locator(selector).fill(value)
    panel.locator(f"button:has-text('{button}')").click()
    page.wait_for_load_state()


@pytest.mark.office
def test_one_client_walks_from_initial_certification_to_recertification(open_page, server,
                                                                        tmp_path, today):
    page = open_page("ivy")

    # initial certification: R0 with a sub-certificate per site
    page.click("nav >> text=签发证书")
    shoot(page, "issue", tmp_path)
    upload = tmp_path / "客户.json"
    upload.write_text(json.dumps(CLIENT, ensure_ascii=False), encoding="utf-8")
    page.select_option("select[name=profile]", "xbht")
    page.set_input_files("input[name=file]", str(upload))
    page.click("button:has-text('上传并预览')")
    page.click("button:has-text('签发这 1 个组织')")
    page.wait_for_url(re.compile(rf"{server}/staff/jobs/\d+"))  # the batch became a job
    assert "已签发 1 张证书（含分证书共 3 份）" in page.inner_text("#job-result")
    shoot(page, "job", tmp_path)
    page.click(f"#job-result a:has-text('{MAIN}')")
    page.wait_for_url(f"{server}/staff/certificates/{MAIN}")
    assert facts(page) == ("2026-03-15", "2029-03-14", "有效")
    assert member_statuses(page) == {MAIN: "有效", f"{MAIN}-1": "有效", f"{MAIN}-2": "有效"}
    assert page.inner_text("#next-due") == "2027-03-14"

    # first surveillance
    today(date(2027, 2, 1))
    act(page, "记录监督审查", {"input[name=held]": "2027-02-01"}, "记录")
    assert "已记录第 1 次监督审查（2027-02-01）" in page.inner_text(".flash")
    assert "第 1 次：2027-02-01" in page.inner_text("main")

    # suspension: main and subs, until the body's usual period ends
    today(date(2027, 6, 1))
    act(page, "变更状态", {"select[name=action]": "suspend", "textarea[name=reason]": "未按期整改",
                          "input[name=on]": "2027-06-01"}, "提交并签发通知书")
    assert facts(page)[2] == "暂停"
    assert set(member_statuses(page).values()) == {"暂停"}
    assert "暂停：未按期整改（2027-06-01 起，至 2027-11-30）" in page.inner_text(".timeline")

    # restoration
    today(date(2027, 6, 20))
    act(page, "变更状态", {"select[name=action]": "restore", "textarea[name=reason]": "整改完成",
                          "input[name=on]": "2027-06-20"}, "提交并签发通知书")
    assert facts(page)[2] == "有效"
    assert set(member_statuses(page).values()) == {"有效"}

    # re-certification: R1, new dates from the previous expiry, the old one superseded
    today(date(2029, 2, 20))
    act(page, "再认证", {"input[name=decision]": "2029-02-20"}, "再认证并签发新证书")
    page.wait_for_url(f"{server}/staff/certificates/{R1}")
    assert facts(page) == ("2029-02-20", "2032-03-14", "有效")
    assert member_statuses(page) == {R1: "有效", f"{R1}-1": "有效", f"{R1}-2": "有效"}
    shoot(page, "certificate", tmp_path)
    page.goto(f"{server}/staff/certificates/{MAIN}")
    assert facts(page)[2] == "已换发"
    assert R1 in page.inner_text(".timeline")

    page.fill("form.quick input[name=q]", "恒信达")
    page.press("form.quick input[name=q]", "Enter")
    page.wait_for_load_state()
    assert page.locator("text=北京恒信达家电售后服务有限公司").count() >= 1
    shoot(page, "search", tmp_path)
    page.click("nav >> text=监督到期")
    page.fill("input[name=on]", "2029-12-01")
    page.click("button:has-text('查看')")
    assert R1 in page.inner_text("table")
    shoot(page, "due", tmp_path)

    admin = open_page("adam")
    admin.click("nav >> text=用户管理")
    shoot(admin, "users", tmp_path)
    admin.context.clear_cookies()
    admin.goto(f"{server}/staff/login")
    shoot(admin, "login", tmp_path)


@pytest.mark.office
def test_a_decision_maker_takes_the_initial_decision_from_a_case_file(open_page, server,
                                                                      tmp_path):
    page = open_page("dora")
    page.click("nav >> text=认证决定")
    page.select_option("select[name=profile]", "xbht")
    page.set_input_files("input[name=file]", str(CASE))
    shoot(page, "certify", tmp_path)
    page.click("button:has-text('校验并作出认证决定')")
    page.wait_for_url(re.compile(rf"{server}/staff/jobs/\d+"))
    assert "批准 1 项" in page.inner_text("#job-result")
    page.click(f"#job-result a:has-text('{MAIN}')")
    page.wait_for_url(f"{server}/staff/certificates/{MAIN}")
    assert facts(page) == ("2026-11-23", "2029-11-22", "有效")
    assert list(member_statuses(page)) == [MAIN, f"{MAIN}-1", f"{MAIN}-2", f"{MAIN}-3"]
    assert "认证决定：批准认证注册（2026-11-20，决定人员 孙丽、周强" in page.inner_text(".timeline")
    for reference in ("XBHT-PRG-20260920-001", "XBHT-PLAN-20260928-001",
                      "XBHT-RPT-20261020-001", "XBHT-NC-20261014-001", "XBHT-DEC-20261120-001"):
        assert reference in page.inner_text("main")


def test_the_certificate_page_fits_a_tablet_without_sideways_scrolling(open_page, server,
                                                                        certificate_row):
    page = open_page("rhea", TABLET)
    page.goto(f"{server}/staff/certificates/{MAIN}")
    assert page.inner_text("h1 .badge") == "有效"
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    assert page.locator("summary:has-text('上传档案')").is_visible()
    assert page.locator("summary:has-text('变更状态')").count() == 0  # not a records officer's


def test_a_role_without_the_right_sees_the_403_page(open_page, server):
    page = open_page("dora")
    assert page.locator("nav >> text=签发证书").count() == 0
    response = page.goto(f"{server}/staff/issue")
    assert response.status == 403
    assert "无权执行此操作" in page.inner_text("main")


def test_the_job_page_follows_a_queued_job_to_its_result_by_itself(open_page, server,
                                                                   staff_app, engine):
    from tests.web.staff.test_job_pages import ONE_SITE, queued_job

    job_id = queued_job(engine, data=json.dumps([ONE_SITE], ensure_ascii=False).encode())
    page = open_page("ivy")
    page.goto(f"{server}/staff/jobs/{job_id}")
    assert page.inner_text("#job-state") == "排队中" and page.locator("#job-result").count() == 0
    staff_app.state.staff_jobs.run(job_id)  # a worker takes it; the page's poll notices
    page.wait_for_selector("#job-result", timeout=30_000)
    assert page.inner_text("#job-state") == "已完成"
    assert "已签发 1 张证书" in page.inner_text("#job-result")
    assert page.inner_text("#job-count") == "1 / 1"
