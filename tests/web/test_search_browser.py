"""Public search on a phone in headless Chromium: from the home page to a certificate found
by its holder's credit code. UPDATE_DOC_SCREENSHOTS=1 writes docs/img/search-zh.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from certdesk.web import create_app
from tests.serving import serve_in_thread
from tests.web.conftest import HOLDER, MAIN
from tests.web.test_accessibility import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_a_visitor_finds_a_certificate_by_credit_code_from_the_home_page(seeded, tmp_path):
    from playwright.sync_api import sync_playwright

    with serve_in_thread(create_app(seeded.settings, seeded.engine, staff=False)) as base, \
            sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = chromium.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
        errors = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(base + "/")
        page.click("#search-link")
        page.get_by_label("组织名称或统一社会信用代码").fill("91110105ma01xb8h2n")
        page.click("button:has-text('查询')")
        assert "找到 8 张证书" in page.inner_text("#search-results")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        target = DOCS_IMG if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1" else tmp_path
        page.screenshot(path=str(target / "search-zh.png"), full_page=False)
        page.click(f"a[href='/v/{MAIN}']")
        assert page.inner_text("#status") == "有效"
        assert HOLDER in page.inner_text("main")
        chromium.close()
    assert errors == []
