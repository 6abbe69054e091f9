"""WCAG 2.1 AA on the staff desk's pages: axe-core in headless Chromium, signed in as an
admin (who sees every page); a serious or critical finding fails."""

from __future__ import annotations

import pytest

from tests.register.support import seed
from tests.web.staff.conftest import PASSWORD
from tests.web.staff.test_browser import browser, server  # noqa: F401 (fixtures)
from tests.web.test_accessibility import AXE, TAGS

pytestmark = pytest.mark.browser

PAGES = ("/staff/", "/staff/certificates", "/staff/certificates?expiring_within=30",
         "/staff/register/print", "/staff/search?q=恒信", "/staff/issue", "/staff/certify",
         "/staff/due", "/staff/reporting", "/staff/returns", "/staff/retention",
         "/staff/log", "/staff/jobs", "/staff/users", "/staff/password", "/staff/nowhere")


def test_the_staff_pages_have_no_serious_or_critical_accessibility_finding(
        browser, server, engine):  # noqa: F811 (the imported fixtures)
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (bash scripts/setup.sh --dev)")
    made = seed(engine)
    context = browser.new_context(bypass_csp=True, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server}/staff/login")
    assert page.locator("h1").count() == 1
    page.fill("input[name=name]", "adam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(f"{server}/staff/")
    found = {}
    for path in (*PAGES, f"/staff/certificates/{made['valid']}"):
        page.goto(server + path)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("opts => axe.run(document, opts)",
                               {"runOnly": {"type": "tag", "values": TAGS}})
        bad = [f"{v['impact']}: {v['id']} {[n['target'] for n in v['nodes']][:3]}"
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            found[path] = bad
        assert page.locator("h1").count() >= 1, path
    context.close()
    assert found == {}
