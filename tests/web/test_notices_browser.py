"""The public notices in a real headless Chromium on a phone-sized screen: a suspension and a
revocation made with ``certdesk status`` appear, newest first, and the certificate page leads
to its notices.

Set CERTDESK_DOC_SCREENSHOTS=1 to refresh docs/img/notices-zh.png.
"""

from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tests.web.test_browser import PHONE, browser, keep_screenshot, site  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.office, pytest.mark.browser]


def test_a_suspension_and_a_revocation_made_with_the_cli_are_announced(site, browser,  # noqa: F811
                                                                       tmp_path):
    base, env, cert = site
    main = cert["number"]
    for number, action, reason in ((main, "suspend", "未按期接受监督审核"),
                                   (f"{main}-3", "revoke", "场所不再满足认证要求")):
        done = run_cli("status", number, action, "--reason", reason, env=env)
        assert done.returncode == 0, done.stderr

    page = browser.new_page(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{base}/")
    page.click("#notices-link")
    notices = page.locator("li.notice")
    assert notices.count() == 2
    assert notices.nth(0).locator(".notice-action").inner_text() == "撤销"
    assert notices.nth(0).locator("dd.number").inner_text() == f"{main}-3"
    assert notices.nth(1).locator(".notice-action").inner_text() == "暂停"
    assert notices.nth(1).locator("dd.number a").count() == 4  # the main and its three subs
    assert "场所不再满足认证要求" not in page.content()  # reasons stay internal
    # nothing wider than the phone: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=tmp_path / "notices-zh.png", full_page=True)
    keep_screenshot(tmp_path / "notices-zh.png")

    page.goto(f"{base}/v/{main}")
    page.click("#notice-link a")
    assert page.url.endswith(f"/notices?number={main}")
    assert page.locator("li.notice").count() == 1
    assert problems == []
